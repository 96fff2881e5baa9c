"""Events projects produces about calls, applications and projects (docs/events.md), and the
evaluation event it consumes (its own copy of that contract)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from pydantic import Field

from projects.applications.machines import APPLICATION_EVENT_NAMES
from shared.events.envelope import EventPayload, EventType


class CallPublished(EventPayload):
    id: UUID
    programme_code: str
    plan_category: str
    year: int
    title: str
    organisation_mode: str
    opens_at: datetime
    closes_at: datetime
    budget_fen: int
    version: int


class ApplicationChanged(EventPayload):
    id: UUID
    code: str
    call_id: UUID
    state: str
    applicant_person_id: UUID
    unit_id: UUID
    title: str
    action: str
    reason: str | None = None
    version: int


class ReadyForReview(EventPayload):
    application_id: UUID
    code: str
    call_id: UUID
    programme_code: str
    year: int
    title: str
    abstract: str
    keywords: list[str]
    discipline_codes: list[str]
    applicant_person_id: UUID
    applicant_unit_id: UUID
    team_person_ids: list[UUID]
    team_unit_ids: list[UUID]
    competent_department_id: UUID | None = None
    requested_funding_fen: int
    avoid_person_ids: list[UUID]
    review_due: date


class ProjectApproved(EventPayload):
    project_id: UUID
    code: str
    application_id: UUID
    call_id: UUID
    title: str
    organisation_mode: str
    pi_person_id: UUID
    unit_id: UUID
    team_person_ids: list[UUID]
    start_date: date
    end_date: date
    funding_fen: int


class ReviewCompleted(EventPayload):
    application_id: UUID
    call_id: UUID
    round_id: UUID
    score: float
    rank: int | None = None
    recommendation: str
    dispersion_flag: bool = False
    non_consensus: bool = False
    reviewer_count: int = 0
    anonymised_comments: list[str] = Field(default_factory=list)


CALL_PUBLISHED = EventType("projects.call.published", CallPublished)
APPLICATION_EVENTS: dict[str, EventType[ApplicationChanged]] = {
    name: EventType(f"projects.application.{name}", ApplicationChanged)
    for name in sorted(set(APPLICATION_EVENT_NAMES.values()))
}
READY_FOR_REVIEW = EventType("projects.application.ready_for_review", ReadyForReview)
PROJECT_APPROVED = EventType("projects.project.approved", ProjectApproved)
REVIEW_COMPLETED = EventType("evaluation.review.completed", ReviewCompleted)

PRODUCED: list[EventType[Any]] = [
    CALL_PUBLISHED,
    *APPLICATION_EVENTS.values(),
    READY_FOR_REVIEW,
    PROJECT_APPROVED,
]
