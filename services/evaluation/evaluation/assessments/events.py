"""Assessment events: what evaluation reads from registry and projects, and what it finalizes."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from pydantic import Field

from shared.events.envelope import EventPayload, EventType

# ----------------------------------------------------------------- read (evaluation's copies)


class PlatformSnapshot(EventPayload):
    id: UUID
    code: str
    name: str
    kind: str
    state: str
    host_unit_id: UUID
    co_builder_unit_ids: list[UUID] = Field(default_factory=list)
    field: str = ""
    sub_field: str = ""
    region: str = ""
    director_person_id: UUID | None = None
    version: int


class ClusterSnapshot(EventPayload):
    id: UUID
    name: str
    state: str
    version: int


class IndicatorPromise(EventPayload):
    id: str
    name: str
    unit: str | None = None
    promised: float | str | None = None
    reported: float | str | None = None


class EvaluationRequested(EventPayload):
    request_id: UUID
    project_id: UUID
    code: str
    kind: str  # mid_term, acceptance, performance, milestone
    title: str
    pi_person_id: UUID
    unit_id: UUID
    team_person_ids: list[UUID] = Field(default_factory=list)
    team_unit_ids: list[UUID] = Field(default_factory=list)
    due_date: date | None = None
    indicators: list[IndicatorPromise] = Field(default_factory=list)


PLATFORM_VERBS = (
    "proposed",
    "construction_started",
    "accepted",
    "rectification_opened",
    "rectification_closed",
    "revoked",
    "merged",
    "absorbed",
    "strengthened",
    "adjusted",
    "reclassified",
    "updated",
)
CLUSTER_VERBS = (
    "proposed",
    "structure_defined",
    "service_organisations_selected",
    "plan_submitted",
    "established",
    "rectification_opened",
    "rectification_closed",
    "restructure_required",
    "reorganised",
    "revoked",
    "assessed",
    "updated",
)
PLATFORM_EVENTS = [EventType(f"registry.platform.{verb}", PlatformSnapshot) for verb in PLATFORM_VERBS]
CLUSTER_EVENTS = [EventType(f"registry.cluster.{verb}", ClusterSnapshot) for verb in CLUSTER_VERBS]
EVALUATION_REQUESTED = EventType("projects.evaluation.requested", EvaluationRequested)

# ----------------------------------------------------------------- written


class LabAssessmentFinalized(EventPayload):
    assessment_id: UUID
    platform_id: UUID
    period: str
    grade: str  # excellent, good, qualified, unqualified
    score: float
    finalized_at: datetime
    remarks: str | None = None
    orientation: str | None = None
    indicator_scores: list[dict[str, Any]] = Field(default_factory=list)


class ClusterAssessmentFinalized(EventPayload):
    assessment_id: UUID
    cluster_id: UUID
    year: int
    result: str  # pass, fail
    score: float
    finalized_at: datetime
    required_measures: list[str] = Field(default_factory=list)
    remarks: str | None = None


class IndicatorVerdict(EventPayload):
    id: str
    achieved: bool
    verdict: str  # achieved, partly_achieved, not_achieved


class ProjectEvaluationFinalized(EventPayload):
    request_id: UUID
    project_id: UUID
    kind: str
    result: str  # excellent, pass, fail, terminated
    score: float
    diligent: bool
    finalized_at: datetime
    remarks: str | None = None
    indicator_verdicts: list[IndicatorVerdict] = Field(default_factory=list)


LAB_ASSESSMENT_FINALIZED = EventType(
    "evaluation.lab_assessment.finalized",
    LabAssessmentFinalized,
    description="A platform's periodic assessment is final (graded 优秀/良好/合格/不合格): a key "
    "laboratory's, or since platform assessments that of a technology innovation centre, clinical "
    "research centre, new R&D institution, academician workstation or pilot base (orientation unset).",
)
CLUSTER_ASSESSMENT_FINALIZED = EventType(
    "evaluation.cluster_assessment.finalized",
    ClusterAssessmentFinalized,
    description="A laboratory cluster's annual assessment is final (合格/不合格).",
)
PROJECT_EVALUATION_FINALIZED = EventType(
    "evaluation.project_evaluation.finalized",
    ProjectEvaluationFinalized,
    description="A project's mid-term, acceptance, performance or milestone evaluation is final.",
)
