from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import (
    BigInteger,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from projects.db import Base
from shared.clock import utcnow


class Application(Base):
    """One application (项目申报书) to a call, from draft to the funding decision."""

    __tablename__ = "applications"
    __table_args__ = (
        UniqueConstraint("code", name="uq_applications_code"),
        Index("ix_applications_queue", "state", "unit_id", "updated_at"),
        Index("ix_applications_call_state", "call_id", "state"),
        # work-queue lists: keyset order (sort column, id) for the orders and filters officials use
        Index("ix_applications_updated", "updated_at", "id"),
        Index("ix_applications_state_updated", "state", "updated_at", "id"),
        Index(
            "ix_applications_submitted",
            text("submitted_at DESC NULLS LAST"),
            text("id DESC"),
        ),
        Index("ix_applications_call_state_funding", "call_id", "state", "requested_funding_fen", "id"),
        Index("ix_applications_department_queue", "competent_department_id", "state", "updated_at", "id"),
        # title search: two-character grams (Chinese has no word breaks), confirmed by LIKE
        Index("ix_applications_title_bigrams", text("projects_bigrams(title)"), postgresql_using="gin"),
    )

    id: Mapped[UUID] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40))
    call_id: Mapped[UUID] = mapped_column(ForeignKey("calls.id"))
    year: Mapped[int] = mapped_column(Integer)
    programme_code: Mapped[str] = mapped_column(String(40))
    applicant_person_id: Mapped[UUID] = mapped_column(index=True)
    applicant_user_id: Mapped[str] = mapped_column(String(100), index=True)
    unit_id: Mapped[UUID] = mapped_column()
    competent_department_id: Mapped[UUID | None] = mapped_column(nullable=True, index=True)
    title: Mapped[str] = mapped_column(String(300))
    abstract: Mapped[str] = mapped_column(Text, default="")
    content: Mapped[str] = mapped_column(Text, default="")
    keywords: Mapped[list[str]] = mapped_column(JSONB, default=list)
    discipline_codes: Mapped[list[str]] = mapped_column(JSONB, default=list)
    team: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    budget: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    requested_funding_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    matching_fund_fen: Mapped[int] = mapped_column(BigInteger, default=0)  # the applicant's own (自筹)
    # What the competent department commits when it recommends (谁推荐、谁筹措匹配资金): on the
    # recommendation seal, never in the sealed content, so the earlier seals stay valid.
    recommended_matching_fund_fen: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    plan: Mapped[str] = mapped_column(Text, default="")
    milestones: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    attachments: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    declared_projects: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    avoid_person_ids: Mapped[list[str]] = mapped_column(JSONB, default=list)
    challenge_id: Mapped[str | None] = mapped_column(String(40), nullable=True)  # 揭榜 / 赛马: which task
    indicators: Mapped[list[dict[str, Any]]] = mapped_column(
        JSONB, server_default=text("'[]'::jsonb"), default=list
    )  # promised assessment indicators
    results: Mapped[list[dict[str, Any]]] = mapped_column(
        JSONB, server_default=text("'[]'::jsonb"), default=list
    )  # 后补助: results achieved before applying
    verification: Mapped[dict[str, Any] | None] = mapped_column(JSONB, nullable=True)  # 后补助 核验
    consortium: Mapped[dict[str, Any] | None] = mapped_column(JSONB, nullable=True)  # 创新联合体
    ethics_review: Mapped[dict[str, Any] | None] = mapped_column(JSONB, nullable=True)  # 科研伦理审查
    follow_on: Mapped[dict[str, Any] | None] = mapped_column(JSONB, nullable=True)  # 滚动 / 继续支持
    platform_id: Mapped[UUID | None] = mapped_column(nullable=True)  # the platform undertaking it
    state: Mapped[str] = mapped_column(String(30))
    revision: Mapped[int] = mapped_column(Integer, default=1)
    version: Mapped[int] = mapped_column(Integer, default=1)
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    formal_report: Mapped[dict[str, Any] | None] = mapped_column(JSONB, nullable=True)
    review: Mapped[dict[str, Any] | None] = mapped_column(JSONB, nullable=True)
    review_score: Mapped[float | None] = mapped_column(Float, nullable=True)
    decision_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    approved_funding_fen: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ApplicationStep(Base):
    """Every step of an application's life: who, when, from which state to which, why."""

    __tablename__ = "application_steps"

    id: Mapped[UUID] = mapped_column(primary_key=True)
    application_id: Mapped[UUID] = mapped_column(ForeignKey("applications.id"), index=True)
    action: Mapped[str] = mapped_column(String(40))
    from_state: Mapped[str] = mapped_column(String(30))
    to_state: Mapped[str] = mapped_column(String(30))
    actor_id: Mapped[str] = mapped_column(String(100))
    # the actor's name as the token gave it at the time (null: unknown, e.g. the system)
    actor_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    actor_roles: Mapped[list[str]] = mapped_column(JSONB, default=list)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    comments: Mapped[str | None] = mapped_column(Text, nullable=True)
    revision: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ApplicationVersion(Base):
    """The exact content submitted at each submission: kept when returned and resubmitted."""

    __tablename__ = "application_versions"
    __table_args__ = (Index("ix_application_versions_digest", "digest"),)  # printed verification code

    application_id: Mapped[UUID] = mapped_column(ForeignKey("applications.id"), primary_key=True)
    revision: Mapped[int] = mapped_column(Integer, primary_key=True)
    digest: Mapped[str] = mapped_column(String(64))
    content: Mapped[dict[str, Any]] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Seal(Base):
    """A signed statement over exactly one content digest: pledge, endorsement, recommendation."""

    __tablename__ = "seals"

    id: Mapped[UUID] = mapped_column(primary_key=True)
    application_id: Mapped[UUID] = mapped_column(ForeignKey("applications.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[str] = mapped_column(String(100))
    # the signatory's name when sealing (the token's name, else the person's registered name)
    actor_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    unit_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    revision: Mapped[int] = mapped_column(Integer)
    digest: Mapped[str] = mapped_column(String(64))
    statement: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class DedupSignature(Base):
    """LSH band keys of a submitted application's MinHash signature (查重 index over all years):
    one row per application, the keys in one GIN-indexed array, looked up with ``&&``."""

    __tablename__ = "dedup_signatures"
    # fastupdate off: each row goes into the index at once (the indexer writes off the request
    # path); a pending list would be scanned linearly by every check until the next vacuum
    __table_args__ = (
        Index(
            "ix_dedup_signatures_bands",
            "bands",
            postgresql_using="gin",
            postgresql_with={"fastupdate": "off"},
        ),
    )

    application_id: Mapped[UUID] = mapped_column(ForeignKey("applications.id"), primary_key=True)
    revision: Mapped[int] = mapped_column(Integer)
    bands: Mapped[list[int]] = mapped_column(ARRAY(BigInteger))
    indexed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class DedupPending(Base):
    """Submitted texts waiting for their signature: filled by submit (one small row, in the same
    transaction), emptied by the background indexer or by a 查重 check that needs the index now."""

    __tablename__ = "dedup_pending"

    application_id: Mapped[UUID] = mapped_column(ForeignKey("applications.id"), primary_key=True)
    revision: Mapped[int] = mapped_column(Integer)
    queued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Job(Base):
    """A long job (查重 sweep, bulk formal review): progress, heartbeat, lease, cancellation."""

    __tablename__ = "jobs"

    id: Mapped[UUID] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    call_id: Mapped[UUID] = mapped_column(ForeignKey("calls.id"), index=True)
    state: Mapped[str] = mapped_column(String(20))
    total: Mapped[int] = mapped_column(Integer, default=0)
    done: Mapped[int] = mapped_column(Integer, default=0)
    result: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    cancel_requested: Mapped[bool] = mapped_column(default=False)
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
