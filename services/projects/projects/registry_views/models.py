"""Projects' own copies of registry data it decides with, fed only by registry's events."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from sqlalchemy import Date, DateTime, Integer, String, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from projects.db import Base
from shared.clock import utcnow


class PersonView(Base):
    __tablename__ = "people"

    id: Mapped[UUID] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    birth_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    unit_id: Mapped[UUID | None] = mapped_column(nullable=True, index=True)
    title: Mapped[str | None] = mapped_column(String(40), nullable=True)
    version: Mapped[int] = mapped_column(Integer)
    synced_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class IntegrityView(Base):
    """Integrity records (科研失信记录) as registry published them; lifted ones keep lifted_at."""

    __tablename__ = "integrity_records"

    id: Mapped[UUID] = mapped_column(primary_key=True)
    subject_type: Mapped[str] = mapped_column(String(20))
    person_id: Mapped[UUID | None] = mapped_column(nullable=True, index=True)
    organisation_id: Mapped[UUID | None] = mapped_column(nullable=True, index=True)
    misconduct_type: Mapped[str] = mapped_column(String(60))
    decision_document: Mapped[str] = mapped_column(String(200))
    barred_from: Mapped[date] = mapped_column(Date)
    barred_until: Mapped[date | None] = mapped_column(Date, nullable=True)
    scope: Mapped[list[str]] = mapped_column(JSONB)
    lifted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    version: Mapped[int] = mapped_column(Integer)
    synced_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ClusterView(Base):
    """A laboratory cluster (实验室群) and its member units in the register, as registry published
    them: who may file joint projects (备案) for which units."""

    __tablename__ = "clusters"

    id: Mapped[UUID] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(30))
    member_unit_ids: Mapped[list[str]] = mapped_column(JSONB)
    version: Mapped[int] = mapped_column(Integer)
    synced_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    def has_member(self, unit_id: UUID | str) -> bool:
        return str(unit_id) in self.member_unit_ids


class GuidelineSuggestion(Base):
    """Directions a lab cluster suggested for next year's calls, shown to staff drafting calls."""

    __tablename__ = "guideline_suggestions"

    suggestion_id: Mapped[UUID] = mapped_column(primary_key=True)
    cluster_id: Mapped[UUID] = mapped_column()
    cluster_name: Mapped[str] = mapped_column(String(200))
    year: Mapped[int] = mapped_column(Integer, index=True)
    title: Mapped[str] = mapped_column(String(300))
    directions: Mapped[list[str]] = mapped_column(JSONB)
    field: Mapped[str | None] = mapped_column(String(60), nullable=True)
    rationale: Mapped[str | None] = mapped_column(Text, nullable=True)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
