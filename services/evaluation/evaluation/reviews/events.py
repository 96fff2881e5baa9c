"""evaluation.review.completed: one application's review result, without reviewer identities."""

from __future__ import annotations

from uuid import UUID

from pydantic import Field

from shared.events.envelope import EventPayload, EventType


class IndicatorScore(EventPayload):
    code: str
    name_zh: str
    mean: float


class ReviewCompleted(EventPayload):
    application_id: UUID
    call_id: UUID
    round_id: UUID
    score: float
    rank: int | None
    recommendation: str
    dispersion_flag: bool
    non_consensus: bool
    reviewer_count: int
    anonymised_comments: list[str]
    indicator_scores: list[IndicatorScore] = Field(default_factory=list)
    above_funding_line: bool | None = None
    tie_note: str | None = None


REVIEW_COMPLETED = EventType(
    "evaluation.review.completed",
    ReviewCompleted,
    description="An application's expert review is final: score, rank, recommendation, anonymised comments.",
)
