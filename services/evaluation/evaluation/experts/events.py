"""Events evaluation reads (its own copies of the contracts) and the expert events it writes."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from pydantic import Field

from shared.events.envelope import EventPayload, EventType


class PersonSnapshot(EventPayload):
    id: UUID
    name: str
    id_number_digest: str
    unit_id: UUID | None = None
    title: str | None = None
    discipline: str | None = None
    department_id: UUID | None = None  # 院系/部门, where registry carries it
    version: int


class IntegritySnapshot(EventPayload):
    id: UUID
    subject_type: str
    person_id: UUID | None = None
    organisation_id: UUID | None = None
    barred_from: date | None = None
    barred_until: date | None = None
    scope: list[str]
    lifted_at: str | None = None
    version: int


class ProjectApproved(EventPayload):
    project_id: UUID
    application_id: UUID | None = None
    pi_person_id: UUID
    unit_id: UUID
    team_person_ids: list[UUID]
    start_date: date
    end_date: date


class ApplicationReady(EventPayload):
    application_id: UUID
    code: str
    call_id: UUID
    title: str
    keywords: list[str]
    discipline_codes: list[str]
    applicant_person_id: UUID
    applicant_unit_id: UUID
    team_person_ids: list[UUID]
    team_unit_ids: list[UUID]
    competent_department_id: UUID | None = None
    avoid_person_ids: list[UUID] = Field(default_factory=list)
    review_due: date | None = None
    programme_code: str | None = None
    requested_funding_fen: int | None = None


class CallPublished(EventPayload):
    id: UUID
    programme_code: str
    year: int
    title: str
    budget_fen: int | None = None
    version: int


class ExpertChanged(EventPayload):
    id: UUID
    person_id: UUID
    unit_id: UUID | None
    status: str
    version: int


PERSON_REGISTERED = EventType("registry.person.registered", PersonSnapshot)
PERSON_UPDATED = EventType("registry.person.updated", PersonSnapshot)
INTEGRITY_RECORDED = EventType("registry.integrity.recorded", IntegritySnapshot)
INTEGRITY_LIFTED = EventType("registry.integrity.lifted", IntegritySnapshot)
PROJECT_APPROVED = EventType("projects.project.approved", ProjectApproved)
APPLICATION_READY = EventType("projects.application.ready_for_review", ApplicationReady)
CALL_PUBLISHED = EventType("projects.call.published", CallPublished)

EXPERT_EVENTS = {
    action: EventType(f"evaluation.expert.{action}", ExpertChanged)
    for action in (
        "applied",
        "approved",
        "rejected",
        "suspended",
        "retired",
        "reconfirmed",
        "updated",
        "reconfirmation_requested",
    )
}
