"""Review rounds, their items (from projects), assignments and assignment runs."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Date, DateTime, Float, ForeignKey, Index, Integer, String, Text, Uuid, text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from evaluation.db import Base
from shared.clock import utcnow
from shared.ids import uuid7

ACTIVE = ("assigned", "accepted")


class ReviewRound(Base):
    __tablename__ = "review_rounds"

    id: Mapped[UUID] = mapped_column(primary_key=True, default=uuid7)
    call_id: Mapped[UUID] = mapped_column(Uuid, unique=True)
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20))
    k: Mapped[int] = mapped_column(Integer, default=5)
    max_load: Mapped[int] = mapped_column(Integer, default=20)
    reserve: Mapped[int] = mapped_column(Integer, default=3)
    rules: Mapped[dict[str, Any]] = mapped_column(JSONB)
    requested_by: Mapped[str | None] = mapped_column(String(100))
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class RoundItem(Base):
    """An application ready for review (projects.application.ready_for_review)."""

    __tablename__ = "round_items"

    id: Mapped[UUID] = mapped_column(primary_key=True)  # the application id
    round_id: Mapped[UUID] = mapped_column(ForeignKey("review_rounds.id"), index=True)
    code: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(300))
    keywords: Mapped[list[str]] = mapped_column(ARRAY(String(50)))
    discipline_codes: Mapped[list[str]] = mapped_column(ARRAY(String(20)))
    applicant_person_id: Mapped[UUID] = mapped_column(Uuid)
    applicant_unit_id: Mapped[UUID] = mapped_column(Uuid)
    team_person_ids: Mapped[list[UUID]] = mapped_column(ARRAY(Uuid))
    team_unit_ids: Mapped[list[UUID]] = mapped_column(ARRAY(Uuid))
    competent_department_id: Mapped[UUID | None] = mapped_column(Uuid)
    avoid_person_ids: Mapped[list[UUID]] = mapped_column(ARRAY(Uuid))
    review_due: Mapped[date | None] = mapped_column(Date)


class Assignment(Base):
    __tablename__ = "assignments"
    __table_args__ = (
        Index(
            "uq_assignments_live_pair",
            "item_id",
            "expert_id",
            unique=True,
            postgresql_where=text("status IN ('assigned', 'accepted')"),
        ),
    )

    id: Mapped[UUID] = mapped_column(primary_key=True, default=uuid7)
    # references are checked per statement by the 回避 trigger (a row-level foreign key would
    # cost a lookup per row: half a million for a national round); rows here are never deleted
    round_id: Mapped[UUID] = mapped_column(Uuid, index=True)
    item_id: Mapped[UUID] = mapped_column(Uuid, index=True)
    expert_id: Mapped[UUID] = mapped_column(Uuid, index=True)
    run_id: Mapped[UUID | None] = mapped_column(Uuid)
    status: Mapped[str] = mapped_column(String(20))  # assigned, accepted, declined, voided, reserve
    reserve_rank: Mapped[int | None] = mapped_column(Integer)
    affinity: Mapped[float] = mapped_column(Float, default=0.0)
    discipline_score: Mapped[float] = mapped_column(Float, default=0.0)
    keyword_score: Mapped[float] = mapped_column(Float, default=0.0)
    candidate_rank: Mapped[int | None] = mapped_column(Integer)
    rules_checked: Mapped[list[str]] = mapped_column(ARRAY(String(30)))
    reason: Mapped[str | None] = mapped_column(Text)
    replaces_id: Mapped[UUID | None] = mapped_column(Uuid)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class AssignmentRun(Base):
    __tablename__ = "assignment_runs"

    id: Mapped[UUID] = mapped_column(primary_key=True, default=uuid7)
    round_id: Mapped[UUID] = mapped_column(ForeignKey("review_rounds.id"), index=True)
    mode: Mapped[str] = mapped_column(String(20))  # draw, optimal
    seed: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20))  # succeeded, failed, preview
    objective: Mapped[float | None] = mapped_column(Float)
    shortfalls: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    started_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
