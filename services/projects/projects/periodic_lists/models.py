"""成果清单 / 应用场景清单: a frozen snapshot per kind and period."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Date, DateTime, Integer, String, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from projects.db import Base
from shared.clock import utcnow


class PeriodicList(Base):
    """The entries are copied in when the list is frozen, names and labels included: the list
    reads the same years later, whatever happens to the results, scenarios or units after."""

    __tablename__ = "periodic_lists"
    __table_args__ = (
        UniqueConstraint("code", name="uq_periodic_lists_code"),
        UniqueConstraint("kind", "period", name="uq_periodic_lists_kind_period"),
    )

    id: Mapped[UUID] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40))  # CGQD-2027 / CJQD-2027-H1
    kind: Mapped[str] = mapped_column(String(20), index=True)  # results | scenarios
    period: Mapped[str] = mapped_column(String(10))  # 2027 | 2027-H1 | 2027-Q3
    year: Mapped[int] = mapped_column(Integer, index=True)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    title: Mapped[str] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    entries: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    entry_count: Mapped[int] = mapped_column(Integer)
    frozen_by: Mapped[str] = mapped_column(String(100))
    frozen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
