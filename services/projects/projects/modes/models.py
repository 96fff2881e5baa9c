from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import DateTime, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from projects.db import Base
from shared.clock import utcnow


class Designation(Base):
    """定向委托: staff name the undertaking unit and its lead directly, with the justification."""

    __tablename__ = "designations"
    __table_args__ = (UniqueConstraint("call_id", "pi_person_id", name="uq_designations_call_person"),)

    id: Mapped[UUID] = mapped_column(primary_key=True)
    call_id: Mapped[UUID] = mapped_column(ForeignKey("calls.id"), index=True)
    unit_id: Mapped[UUID] = mapped_column()
    pi_person_id: Mapped[UUID] = mapped_column()
    platform_id: Mapped[UUID | None] = mapped_column(nullable=True)  # the platform entrusted, if any
    justification: Mapped[str] = mapped_column(Text)
    designated_by: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
