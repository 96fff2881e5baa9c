"""Annual spot checks (抽查) over running projects: the sample, how it was drawn, the findings."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from sqlalchemy import Date, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from projects.db import Base
from shared.clock import utcnow


class SpotCheck(Base):
    """One drawing: the population as it stood (project codes, sorted), the seed and the size,
    so that anyone can draw the same sample again from the record."""

    __tablename__ = "spot_checks"
    __table_args__ = (UniqueConstraint("code", name="uq_spot_checks_code"),)

    id: Mapped[UUID] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40))
    year: Mapped[int] = mapped_column(Integer, index=True)
    title: Mapped[str] = mapped_column(String(200))
    programme_code: Mapped[str | None] = mapped_column(String(40), nullable=True)
    seed: Mapped[int] = mapped_column(Integer)
    sample_size: Mapped[int] = mapped_column(Integer)
    population: Mapped[list[str]] = mapped_column(JSONB)  # project codes, sorted
    sample: Mapped[list[str]] = mapped_column(JSONB)  # project codes, in drawing order
    rule: Mapped[str] = mapped_column(String(300))
    state: Mapped[str] = mapped_column(String(20))  # open | closed
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    summary: Mapped[str | None] = mapped_column(Text, nullable=True)


class SpotCheckItem(Base):
    """One sampled project and what the check found there."""

    __tablename__ = "spot_check_items"
    __table_args__ = (UniqueConstraint("spot_check_id", "project_id", name="uq_spot_check_items_project"),)

    id: Mapped[UUID] = mapped_column(primary_key=True)
    spot_check_id: Mapped[UUID] = mapped_column(ForeignKey("spot_checks.id"), index=True)
    project_id: Mapped[UUID] = mapped_column(ForeignKey("projects.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    outcome: Mapped[str | None] = mapped_column(String(20), nullable=True)
    findings: Mapped[str | None] = mapped_column(Text, nullable=True)
    rectification_due: Mapped[date | None] = mapped_column(Date, nullable=True)
    recorded_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    recorded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
