from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from sqlalchemy import Boolean, CheckConstraint, Date, DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from registry.db import Base
from shared.clock import utcnow
from shared.ids import uuid7


class Person(Base):
    """A researcher, director or expert known to the department (人员).

    The resident ID number is kept for department staff; everyone else sees it masked, and
    other services only ever get its SHA-256 digest (``id_number_digest``) to match identities.
    """

    __tablename__ = "people"
    __table_args__ = (
        CheckConstraint("gender IN ('male', 'female')", name="gender"),
        Index("ix_people_name", "name"),
        Index("ix_people_unit_id_name", "unit_id", "name"),
    )

    id: Mapped[UUID] = mapped_column(primary_key=True, default=uuid7)
    name: Mapped[str] = mapped_column(String(100))
    gender: Mapped[str] = mapped_column(String(6))
    birth_date: Mapped[date] = mapped_column(Date)
    id_number: Mapped[str] = mapped_column(String(18))
    id_number_digest: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str | None] = mapped_column(String(40))
    discipline: Mapped[str | None] = mapped_column(String(100))
    unit_id: Mapped[UUID | None] = mapped_column(ForeignKey("organisations.id"))
    full_time: Mapped[bool] = mapped_column(Boolean, default=True)
    phone: Mapped[str | None] = mapped_column(String(30))
    email: Mapped[str | None] = mapped_column(String(200))
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    created_by: Mapped[str] = mapped_column(String(100))
    updated_by: Mapped[str] = mapped_column(String(100))
