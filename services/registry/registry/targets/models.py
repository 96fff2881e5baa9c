from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import DateTime, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from registry.db import Base
from shared.clock import utcnow
from shared.ids import uuid7


class TargetChange(Base):
    """One change of a development target (发展目标调整): the value before and after, and why.

    A target's value on a day is the default of seed 004 until its first change, then the
    ``value`` of the last change made by that day.
    """

    __tablename__ = "target_changes"
    __table_args__ = (Index("ix_target_changes_key_changed_at", "key", "changed_at"),)

    id: Mapped[UUID] = mapped_column(primary_key=True, default=uuid7)
    key: Mapped[str] = mapped_column(String(60))
    previous: Mapped[int | None] = mapped_column(Integer)
    value: Mapped[int | None] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text)
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    changed_by: Mapped[str] = mapped_column(String(100))
