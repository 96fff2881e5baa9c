from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Computed,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from registry.db import Base
from registry.reference import FIELDS, LAB_TYPES, PLATFORM_KINDS
from shared.clock import utcnow
from shared.ids import uuid7

SEARCH_TEXT = "(((((name)::text || ' '::text) || (code)::text) || ' '::text) || (research_directions)::text)"


def _in(column: str, values: list[str]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Platform(Base):
    """An innovation platform (创新平台): key lab, technology innovation centre, … (8 kinds)."""

    __tablename__ = "platforms"
    __table_args__ = (
        CheckConstraint(_in("kind", list(PLATFORM_KINDS)), name="kind"),
        CheckConstraint(_in("field", list(FIELDS)), name="field"),
        CheckConstraint(_in("lab_type", list(LAB_TYPES)), name="lab_type"),
        Index("ix_platforms_kind_state_region", "kind", "state", "region"),
        Index("ix_platforms_field_sub_field", "field", "sub_field"),
        Index("ix_platforms_host_unit_id", "host_unit_id"),
        Index("ix_platforms_name", "name"),
        # Substring search on names, codes and directions (q=…): the character pairs of the
        # query must all be among the row's (GIN), then the substring itself is checked.
        Index(
            "ix_platforms_search_bigrams",
            "search_bigrams",
            postgresql_using="gin",
            postgresql_with={"fastupdate": "off"},
        ),
    )

    id: Mapped[UUID] = mapped_column(primary_key=True, default=uuid7)
    code: Mapped[str] = mapped_column(String(30), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(40))
    state: Mapped[str] = mapped_column(String(30))
    host_unit_id: Mapped[UUID] = mapped_column(ForeignKey("organisations.id"))
    co_builder_unit_ids: Mapped[list[str]] = mapped_column(JSONB, default=list)
    lab_type: Mapped[str] = mapped_column(String(30))
    field: Mapped[str] = mapped_column(String(30))
    sub_field: Mapped[str] = mapped_column(String(40))
    industry_chain: Mapped[str | None] = mapped_column(String(40))
    research_directions: Mapped[list[str]] = mapped_column(JSONB, default=list)
    region: Mapped[str] = mapped_column(String(6))
    approved_on: Mapped[date | None] = mapped_column(Date)
    approval_document: Mapped[str | None] = mapped_column(String(100))
    director_person_id: Mapped[UUID | None] = mapped_column(ForeignKey("people.id"))
    director_term_start: Mapped[date | None] = mapped_column(Date)
    director_term_end: Mapped[date | None] = mapped_column(Date)
    director_full_time: Mapped[bool] = mapped_column(Boolean, default=True)
    # Start of the present director's uninterrupted tenure (from ``director_appointments``):
    # consecutive terms are counted from it with the ``director_term_years`` policy value.
    director_since: Mapped[date | None] = mapped_column(Date)
    # [{person_id, term_start, term_end, full_time}]
    deputy_directors: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    # {chair_person_id, member_person_ids: [...]}
    academic_committee: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    staff_count: Mapped[int] = mapped_column(Integer, default=0)
    annual_funding_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    kind_attributes: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    merged_into_id: Mapped[UUID | None] = mapped_column(ForeignKey("platforms.id"))
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    # What ``q`` searches and its character pairs, kept by the database itself.
    # Deferred: only queried, never loaded with the row.
    search_text: Mapped[str] = mapped_column(Text, Computed(SEARCH_TEXT, persisted=True), deferred=True)
    search_bigrams: Mapped[list[str]] = mapped_column(
        ARRAY(Text), Computed(f"registry_bigrams({SEARCH_TEXT})", persisted=True), deferred=True
    )


class PlatformCodeCounter(Base):
    """The last number given in each readable-code series (ZDS-2026-…), locked while allocating.

    Registering a platform bumps its series' row in the same transaction; concurrent
    registrations of one kind and year queue on that row lock and never share a number.
    """

    __tablename__ = "platform_code_counters"

    prefix: Mapped[str] = mapped_column(String(3), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_number: Mapped[int] = mapped_column(Integer)


class PlatformOutput(Base):
    """What a platform produced in one year (年度产出)."""

    __tablename__ = "platform_outputs"

    platform_id: Mapped[UUID] = mapped_column(ForeignKey("platforms.id"), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    papers: Mapped[int] = mapped_column(Integer, default=0)
    patents: Mapped[int] = mapped_column(Integer, default=0)
    standards: Mapped[int] = mapped_column(Integer, default=0)
    awards: Mapped[int] = mapped_column(Integer, default=0)
    transferred_results: Mapped[int] = mapped_column(Integer, default=0)
    national_projects: Mapped[int] = mapped_column(Integer, default=0)

    @property
    def total(self) -> int:
        return (
            self.papers
            + self.patents
            + self.standards
            + self.awards
            + self.transferred_results
            + self.national_projects
        )


class PlatformMember(Base):
    """A person on a platform's team (团队成员)."""

    __tablename__ = "platform_members"
    __table_args__ = (UniqueConstraint("platform_id", "person_id"),)

    id: Mapped[UUID] = mapped_column(primary_key=True, default=uuid7)
    platform_id: Mapped[UUID] = mapped_column(ForeignKey("platforms.id"), index=True)
    person_id: Mapped[UUID] = mapped_column(ForeignKey("people.id"), index=True)
    role: Mapped[str] = mapped_column(String(30))
    joined_on: Mapped[date | None] = mapped_column(Date)


class PlatformHistory(Base):
    """Append-only record of every transition and action on a platform (沿革)."""

    __tablename__ = "platform_history"

    id: Mapped[UUID] = mapped_column(primary_key=True, default=uuid7)
    platform_id: Mapped[UUID] = mapped_column(ForeignKey("platforms.id"), index=True)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    actor_id: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(40))
    from_state: Mapped[str | None] = mapped_column(String(30))
    to_state: Mapped[str] = mapped_column(String(30))
    reason: Mapped[str | None] = mapped_column(Text)
    document_number: Mapped[str | None] = mapped_column(String(100))
    attachments: Mapped[list[str]] = mapped_column(JSONB, default=list)
    details: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    related_platform_id: Mapped[UUID | None] = mapped_column(ForeignKey("platforms.id"))


class PlatformAssessment(Base):
    """A finalized assessment of a platform, as evaluation announced it (评估结果)."""

    __tablename__ = "platform_assessments"

    id: Mapped[UUID] = mapped_column(primary_key=True)
    platform_id: Mapped[UUID] = mapped_column(ForeignKey("platforms.id"), index=True)
    period: Mapped[str] = mapped_column(String(20))
    grade: Mapped[str] = mapped_column(String(20))
    score: Mapped[float | None] = mapped_column()
    finalized_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    remarks: Mapped[str | None] = mapped_column(Text)


class PlatformCodeAlias(Base):
    """A code the platform carried before a change of kind (原编号): lookups by it still find it."""

    __tablename__ = "platform_code_aliases"

    code: Mapped[str] = mapped_column(String(30), primary_key=True)
    platform_id: Mapped[UUID] = mapped_column(ForeignKey("platforms.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    retired_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class DirectorAppointment(Base):
    """One director's uninterrupted tenure of a platform (主任任职记录).

    A reappointment of the same person continues the tenure; a new person opens a new one.
    Consecutive terms are counted from ``started_on`` with the ``director_term_years`` policy.
    """

    __tablename__ = "director_appointments"
    __table_args__ = (Index("ix_director_appointments_platform_id_open", "platform_id", "ended_on"),)

    id: Mapped[UUID] = mapped_column(primary_key=True, default=uuid7)
    platform_id: Mapped[UUID] = mapped_column(ForeignKey("platforms.id"))
    person_id: Mapped[UUID] = mapped_column(ForeignKey("people.id"))
    started_on: Mapped[date] = mapped_column(Date)
    ended_on: Mapped[date | None] = mapped_column(Date)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    recorded_by: Mapped[str] = mapped_column(String(100))


class SupportCandidate(Base):
    """A lab put on the support-candidate list (支持候选) by an excellent assessment (优秀)."""

    __tablename__ = "support_candidates"

    id: Mapped[UUID] = mapped_column(primary_key=True, default=uuid7)
    platform_id: Mapped[UUID] = mapped_column(ForeignKey("platforms.id"), index=True)
    assessment_id: Mapped[UUID] = mapped_column(ForeignKey("platform_assessments.id"), unique=True)
    listed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class RevocationCase(Base):
    """A 撤销（取消资格）case: failed again while under rectification; staff decide it."""

    __tablename__ = "revocation_cases"
    __table_args__ = (
        CheckConstraint("status IN ('open', 'revoked', 'dismissed')", name="status"),
        Index(
            "uq_revocation_cases_platform_id_open",
            "platform_id",
            unique=True,
            postgresql_where="status = 'open'",
        ),
    )

    id: Mapped[UUID] = mapped_column(primary_key=True, default=uuid7)
    platform_id: Mapped[UUID] = mapped_column(ForeignKey("platforms.id"))
    status: Mapped[str] = mapped_column(String(20), default="open")
    # The assessments it cites: the one that opened the rectification and the one failed in it.
    assessment_ids: Mapped[list[str]] = mapped_column(JSONB, default=list)
    opened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    opened_reason: Mapped[str] = mapped_column(Text)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decided_by: Mapped[str | None] = mapped_column(String(100))
    decision_reason: Mapped[str | None] = mapped_column(Text)
    decision_document: Mapped[str | None] = mapped_column(String(100))
    version: Mapped[int] = mapped_column(Integer, default=1)
