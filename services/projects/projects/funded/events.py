"""Events about a project's life (docs/events.md, projects), and projects' copy of the
evaluation result it consumes."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from pydantic import Field

from shared.events.envelope import EventPayload, EventType


class IndicatorForEvaluation(EventPayload):
    id: UUID
    name: str
    unit: str
    promised: float | None
    target: float
    reported: float | None


class EvaluationRequested(EventPayload):
    request_id: UUID
    project_id: UUID
    code: str
    kind: str  # mid_term | acceptance | performance | milestone
    title: str
    organisation_mode: str
    pi_person_id: UUID
    unit_id: UUID
    team_person_ids: list[UUID]
    team_unit_ids: list[UUID]
    due_date: date
    indicators: list[IndicatorForEvaluation]


class MisconductFound(EventPayload):
    project_id: UUID
    person_ids: list[UUID]
    organisation_id: UUID | None = None
    misconduct_type: str
    description: str | None = None
    decision_document: str
    decided_on: date


class ProjectUpdated(EventPayload):
    """A project's state after each step of its life (task book, changes, verdicts)."""

    project_id: UUID
    code: str
    action: str
    state: str
    result: str | None
    organisation_mode: str
    pi_person_id: UUID
    unit_id: UUID
    team_person_ids: list[UUID]
    end_date: date
    funding_fen: int
    diligent_exempt: bool
    reason: str | None = None
    version: int


class ProjectFiled(EventPayload):
    project_id: UUID
    code: str
    filing_id: UUID
    kind: str
    title: str
    funder: str
    pi_person_id: UUID
    unit_id: UUID
    team_person_ids: list[UUID]
    start_date: date
    end_date: date
    external_funding_fen: int


class IndicatorVerdict(EventPayload):
    id: UUID
    achieved: float | bool | None = None
    verdict: str | None = None


class ProjectEvaluationFinalized(EventPayload):
    request_id: UUID
    project_id: UUID
    kind: str
    result: str  # excellent | pass | fail | terminated
    score: float | None = None
    diligent: bool = False
    finalized_at: datetime
    remarks: str | None = None
    indicator_verdicts: list[IndicatorVerdict] = Field(default_factory=list)


EVALUATION_REQUESTED = EventType("projects.evaluation.requested", EvaluationRequested)
MISCONDUCT_FOUND = EventType("projects.project.misconduct_found", MisconductFound)
PROJECT_UPDATED = EventType("projects.project.updated", ProjectUpdated)
PROJECT_FILED = EventType("projects.project.filed", ProjectFiled)
PROJECT_EVALUATION_FINALIZED = EventType(
    "evaluation.project_evaluation.finalized", ProjectEvaluationFinalized
)

PRODUCED: list[EventType[Any]] = [EVALUATION_REQUESTED, MISCONDUCT_FOUND, PROJECT_UPDATED, PROJECT_FILED]
