"""Score sheets, panel decisions and finalized results."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Boolean, DateTime, Float, ForeignKey, Integer, String, Text, Uuid
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from evaluation.db import Base
from shared.clock import utcnow
from shared.ids import uuid7


class ReviewSheet(Base):
    """An expert's score sheet for one assignment: draft, submitted or recused."""

    __tablename__ = "review_sheets"

    id: Mapped[UUID] = mapped_column(primary_key=True, default=uuid7)
    assignment_id: Mapped[UUID] = mapped_column(Uuid, unique=True)
    round_id: Mapped[UUID] = mapped_column(Uuid, index=True)
    item_id: Mapped[UUID] = mapped_column(Uuid, index=True)
    expert_id: Mapped[UUID] = mapped_column(Uuid, index=True)
    form_id: Mapped[UUID] = mapped_column(ForeignKey("review_forms.id"))
    status: Mapped[str] = mapped_column(String(20))
    scores: Mapped[dict[str, float]] = mapped_column(JSONB, default=dict)
    indicator_comments: Mapped[dict[str, str]] = mapped_column(JSONB, default=dict)
    comment: Mapped[str] = mapped_column(Text, default="")  # returned to the applicant, anonymised
    confidential_comment: Mapped[str] = mapped_column(Text, default="")  # for the review office only
    recommendation: Mapped[str | None] = mapped_column(String(30))
    total: Mapped[float | None] = mapped_column(Float)
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


class PanelDecision(Base):
    """The panel's word on a flagged item (会议评审): a note, and a score or recommendation it sets."""

    __tablename__ = "panel_decisions"

    item_id: Mapped[UUID] = mapped_column(primary_key=True)
    round_id: Mapped[UUID] = mapped_column(Uuid, index=True)
    note: Mapped[str] = mapped_column(Text)
    score: Mapped[float | None] = mapped_column(Float)
    recommendation: Mapped[str | None] = mapped_column(String(30))
    decided_by: Mapped[str] = mapped_column(String(100))
    decided_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ReviewResult(Base):
    """A finalized result of one item; never changed once written (its event has gone out)."""

    __tablename__ = "review_results"

    item_id: Mapped[UUID] = mapped_column(primary_key=True)
    round_id: Mapped[UUID] = mapped_column(Uuid, index=True)
    kind: Mapped[str] = mapped_column(String(30))
    score: Mapped[float] = mapped_column(Float)
    mean_score: Mapped[float] = mapped_column(Float)
    trimmed_mean: Mapped[float] = mapped_column(Float)
    normalised_score: Mapped[float | None] = mapped_column(Float)
    rank: Mapped[int | None] = mapped_column(Integer)
    recommendation: Mapped[str | None] = mapped_column(String(30))
    result: Mapped[str | None] = mapped_column(String(30))  # grade / pass-fail for assessments
    computed_result: Mapped[str | None] = mapped_column(String(30))  # what the bands gave
    dispersion_flag: Mapped[bool] = mapped_column(Boolean)
    non_consensus: Mapped[bool] = mapped_column(Boolean)
    reviewer_count: Mapped[int] = mapped_column(Integer)
    indicator_means: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    anonymised_comments: Mapped[list[str]] = mapped_column(JSONB)
    above_funding_line: Mapped[bool | None] = mapped_column(Boolean)
    details: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    reason: Mapped[str | None] = mapped_column(Text)
    finalized_by: Mapped[str] = mapped_column(String(100))
    finalized_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
