"""Review forms (评审表) as data: weighted indicators, score ranges, comments, aggregation policy."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Boolean, DateTime, Index, Integer, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from evaluation.db import Base
from shared.clock import utcnow
from shared.ids import uuid7


class ReviewForm(Base):
    """One version of a form; a changed form is a new row, so every sheet keeps its own form."""

    __tablename__ = "review_forms"
    __table_args__ = (Index("ix_review_forms_lookup", "assessment_type", "programme_code", "variant"),)

    id: Mapped[UUID] = mapped_column(primary_key=True, default=uuid7)
    code: Mapped[str] = mapped_column(String(60))
    name: Mapped[str] = mapped_column(String(200))
    assessment_type: Mapped[str] = mapped_column(String(30))
    programme_code: Mapped[str | None] = mapped_column(String(40))  # None: every programme
    variant: Mapped[str | None] = mapped_column(String(30))  # e.g. free_exploration / goal_oriented
    indicators: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    comment_min_length: Mapped[int] = mapped_column(Integer, default=20)
    recommendation_required: Mapped[bool] = mapped_column(Boolean, default=True)
    policy: Mapped[dict[str, Any]] = mapped_column(JSONB)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
