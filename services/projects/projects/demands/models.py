"""技术需求库: one row per registered technology demand or application scenario."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from sqlalchemy import BigInteger, Date, DateTime, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from projects.db import Base
from shared.clock import utcnow


class TechnologyDemand(Base):
    """A demand (技术需求) an enterprise registers, or an application scenario (应用场景) a unit
    opens for new technology; staff publish it and close it."""

    __tablename__ = "technology_demands"
    __table_args__ = (UniqueConstraint("code", name="uq_technology_demands_code"),)

    id: Mapped[UUID] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40))  # XQ2027-0001 (需求) / CJ2027-0001 (场景)
    kind: Mapped[str] = mapped_column(String(20), index=True)  # demand | scenario
    title: Mapped[str] = mapped_column(String(300))
    field: Mapped[str] = mapped_column(String(30), index=True)  # the 13 fields of seed 000
    description: Mapped[str] = mapped_column(Text)
    budget_min_fen: Mapped[int] = mapped_column(BigInteger)
    budget_max_fen: Mapped[int] = mapped_column(BigInteger)
    deadline: Mapped[date] = mapped_column(Date)
    unit_id: Mapped[UUID] = mapped_column(index=True)
    year: Mapped[int] = mapped_column(Integer, index=True)
    state: Mapped[str] = mapped_column(String(20), index=True)  # registered | published | closed
    registered_by: Mapped[str] = mapped_column(String(100))
    registered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    close_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
