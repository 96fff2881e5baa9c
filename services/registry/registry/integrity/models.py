from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from sqlalchemy import CheckConstraint, Date, DateTime, Index, Integer, String, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from registry.db import Base
from shared.clock import utcnow
from shared.ids import uuid7


class IntegrityRecord(Base):
    """A research-integrity decision (科研诚信记录) barring a person or unit for a period.

    Person and unit ids are not foreign keys: records also arrive from other services'
    decisions, and a decision must be kept even when the register does not know the subject yet.
    """

    __tablename__ = "integrity_records"
    __table_args__ = (
        CheckConstraint("subject_type IN ('person', 'organisation')", name="subject_type"),
        CheckConstraint("barred_until IS NULL OR barred_until >= barred_from", name="period"),
        Index("ix_integrity_records_person_id", "person_id"),
        Index("ix_integrity_records_organisation_id", "organisation_id"),
    )

    id: Mapped[UUID] = mapped_column(primary_key=True, default=uuid7)
    subject_type: Mapped[str] = mapped_column(String(20))
    person_id: Mapped[UUID | None] = mapped_column()
    organisation_id: Mapped[UUID | None] = mapped_column()
    misconduct_type: Mapped[str] = mapped_column(String(40))
    description: Mapped[str | None] = mapped_column(Text)
    decision_document: Mapped[str] = mapped_column(String(200))
    decided_on: Mapped[date | None] = mapped_column(Date)
    barred_from: Mapped[date] = mapped_column(Date)
    barred_until: Mapped[date | None] = mapped_column(Date)
    scope: Mapped[list[str]] = mapped_column(JSONB)
    source: Mapped[str] = mapped_column(String(100), default="manual")
    lifted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    lift_reason: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_by: Mapped[str] = mapped_column(String(100))
