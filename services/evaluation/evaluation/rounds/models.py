"""Review rounds, their items (from projects), assignments and assignment runs."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    Uuid,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from evaluation.db import Base
from shared.clock import utcnow
from shared.ids import uuid7

ACTIVE = ("assigned", "accepted")


class ReviewRound(Base):
    __tablename__ = "review_rounds"

    id: Mapped[UUID] = mapped_column(primary_key=True, default=uuid7)
    call_id: Mapped[UUID | None] = mapped_column(Uuid, unique=True)  # application reviews only
    kind: Mapped[str] = mapped_column(
        String(30), default="application_review", server_default="application_review"
    )
    period: Mapped[str | None] = mapped_column(String(20))  # assessments: e.g. 2021-2025, 2026
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20))
    review_starts: Mapped[date | None] = mapped_column(Date)  # first day experts review (availability)
    review_deadline: Mapped[date | None] = mapped_column(Date)
    budget_fen: Mapped[int | None] = mapped_column(BigInteger)  # overrides the call's budget
    k: Mapped[int] = mapped_column(Integer, default=5)
    max_load: Mapped[int] = mapped_column(Integer, default=20)
    reserve: Mapped[int] = mapped_column(Integer, default=3)
    # sparse candidates: the best N experts per item by discipline level, then keywords
    candidates_per_item: Mapped[int] = mapped_column(Integer, default=100, server_default=text("100"))
    rules: Mapped[dict[str, Any]] = mapped_column(JSONB)
    requested_by: Mapped[str | None] = mapped_column(String(100))
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class RoundItem(Base):
    """What a round reviews: an application ready for review (projects.application.ready_for_review),
    or the subject of an assessment (a lab, a cluster, a project evaluation request)."""

    __tablename__ = "round_items"

    id: Mapped[UUID] = mapped_column(primary_key=True)  # application id, request id or assessment id
    round_id: Mapped[UUID] = mapped_column(ForeignKey("review_rounds.id"), index=True)
    subject_id: Mapped[UUID | None] = mapped_column(Uuid, index=True)  # application, lab, cluster, project
    code: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(300))
    keywords: Mapped[list[str]] = mapped_column(ARRAY(String(50)))
    discipline_codes: Mapped[list[str]] = mapped_column(ARRAY(String(20)))
    # the people and units an expert must not be close to (for a lab: its director and host unit)
    applicant_person_id: Mapped[UUID | None] = mapped_column(Uuid)
    applicant_unit_id: Mapped[UUID | None] = mapped_column(Uuid)
    team_person_ids: Mapped[list[UUID]] = mapped_column(ARRAY(Uuid))
    team_unit_ids: Mapped[list[UUID]] = mapped_column(ARRAY(Uuid))
    competent_department_id: Mapped[UUID | None] = mapped_column(Uuid)
    avoid_person_ids: Mapped[list[UUID]] = mapped_column(ARRAY(Uuid))
    avoid_unit_ids: Mapped[list[UUID]] = mapped_column(
        ARRAY(Uuid), default=list, server_default=text("'{}'::uuid[]")
    )
    review_due: Mapped[date | None] = mapped_column(Date)
    programme_code: Mapped[str | None] = mapped_column(String(40))
    requested_funding_fen: Mapped[int | None] = mapped_column(BigInteger)
    orientation: Mapped[str | None] = mapped_column(String(30))  # labs: free_exploration / goal_oriented
    form_id: Mapped[UUID | None] = mapped_column(ForeignKey("review_forms.id"))
    details: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default=text("'{}'::jsonb"))


class CallView(Base):
    """Calls as evaluation knows them (projects.call.published); the budget sets the funding line."""

    __tablename__ = "calls"

    id: Mapped[UUID] = mapped_column(primary_key=True)
    programme_code: Mapped[str] = mapped_column(String(40))
    year: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(300))
    budget_fen: Mapped[int | None] = mapped_column(BigInteger)
    version: Mapped[int] = mapped_column(Integer)


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
    """An assignment run is a job: queued, then running under a lease that its worker renews.

    A worker that dies leaves its lease to run out; the next worker takes the run up again
    (``attempts`` counts the takes). Cancelling is asked on the row and honoured between stages.
    """

    __tablename__ = "assignment_runs"
    __table_args__ = (
        Index(
            "ix_assignment_runs_pending",
            "lease_until",
            postgresql_where=text("status IN ('queued', 'running')"),
        ),
    )

    id: Mapped[UUID] = mapped_column(primary_key=True, default=uuid7)
    round_id: Mapped[UUID] = mapped_column(ForeignKey("review_rounds.id"), index=True)
    mode: Mapped[str] = mapped_column(String(20))  # draw, optimal
    seed: Mapped[int | None] = mapped_column(Integer)
    commit: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    params: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default=text("'{}'::jsonb"))
    status: Mapped[str] = mapped_column(String(20))  # queued, running, done, failed, cancelled
    stage: Mapped[str | None] = mapped_column(String(30))
    progress: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))  # percent
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    worker: Mapped[str | None] = mapped_column(String(100))
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    objective: Mapped[float | None] = mapped_column(Float)
    shortfalls: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    assigned: Mapped[int | None] = mapped_column(Integer)
    preview: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONB)  # the rows a preview would write
    error: Mapped[str | None] = mapped_column(Text)
    started_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class AvoidanceRequest(Base):
    """申请回避: an applicant names experts (persons) or units that should not review the item."""

    __tablename__ = "avoidance_requests"

    id: Mapped[UUID] = mapped_column(primary_key=True, default=uuid7)
    item_id: Mapped[UUID] = mapped_column(ForeignKey("round_items.id"), index=True)
    person_id: Mapped[UUID | None] = mapped_column(Uuid)
    unit_id: Mapped[UUID | None] = mapped_column(Uuid)
    reason: Mapped[str] = mapped_column(String(500))
    requested_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class RoundDuty(Base):
    """Who acted in which duty for a round (职责分离): one person, one duty per round.

    A row is written the first time a principal acts in a duty for the round; a principal
    already recorded in another duty for the same round is refused.
    """

    __tablename__ = "round_duties"

    round_id: Mapped[UUID] = mapped_column(ForeignKey("review_rounds.id"), primary_key=True)
    duty: Mapped[str] = mapped_column(String(20), primary_key=True)  # expert_db, request, draw, results
    actor_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    first_action: Mapped[str] = mapped_column(String(50))
    acted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
