"""registry.platform.<verb>: one event type per lifecycle transition and reorganisation action."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from registry.platforms.machine import EVENT_VERBS
from shared.events.envelope import EventPayload, EventType


class PlatformEventPayload(EventPayload):
    id: UUID
    code: str
    name: str
    kind: str
    state: str
    host_unit_id: UUID
    co_builder_unit_ids: list[UUID]
    field: str
    sub_field: str
    region: str
    director_person_id: UUID | None
    action: str
    reason: str | None
    document_number: str | None
    merged_into_id: UUID | None
    version: int
    previous_kind: str | None = None
    previous_code: str | None = None


_BY_VERB: dict[str, EventType[PlatformEventPayload]] = {
    verb: EventType(
        f"registry.platform.{verb}",
        PlatformEventPayload,
        description=f"Platform step ({', '.join(a for a, v in EVENT_VERBS.items() if v == verb)}); "
        "full new state, ``action`` names the step.",
    )
    for verb in dict.fromkeys(EVENT_VERBS.values())
}
PLATFORM_EVENTS: dict[str, EventType[PlatformEventPayload]] = {
    action: _BY_VERB[verb] for action, verb in EVENT_VERBS.items()
}

EVENT_TYPES: list[EventType[Any]] = list(_BY_VERB.values())


class LabAssessmentFinalized(EventPayload):
    """Registry's copy of evaluation.lab_assessment.finalized."""

    assessment_id: UUID
    platform_id: UUID
    period: str
    grade: str  # excellent, good, qualified, unqualified
    score: float | None = None
    finalized_at: datetime
    remarks: str | None = None


LAB_ASSESSMENT_FINALIZED = EventType(
    "evaluation.lab_assessment.finalized",
    LabAssessmentFinalized,
    description="Evaluation finalized a laboratory's periodic assessment.",
)
