from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from pydantic import Field

from shared.events.envelope import EventPayload, EventType


class IntegrityPayload(EventPayload):
    id: UUID
    subject_type: str
    person_id: UUID | None
    organisation_id: UUID | None
    misconduct_type: str
    decision_document: str
    barred_from: date
    barred_until: date | None
    scope: list[str]
    lifted_at: datetime | None = None
    version: int


INTEGRITY_RECORDED = EventType(
    "registry.integrity.recorded", IntegrityPayload, description="A research-integrity decision was recorded."
)
INTEGRITY_LIFTED = EventType(
    "registry.integrity.lifted", IntegrityPayload, description="An integrity bar was lifted before its end."
)

EVENT_TYPES: list[EventType[Any]] = [INTEGRITY_RECORDED, INTEGRITY_LIFTED]


class MisconductFoundPayload(EventPayload):
    """Registry's copy of projects.project.misconduct_found (the fields it uses)."""

    project_id: UUID
    person_ids: list[UUID] = Field(default_factory=list)
    organisation_id: UUID | None = None
    misconduct_type: str
    description: str | None = None
    decision_document: str
    decided_on: date


MISCONDUCT_FOUND = EventType(
    "projects.project.misconduct_found",
    MisconductFoundPayload,
    description="Projects found misconduct in a project; registry records integrity entries.",
)
