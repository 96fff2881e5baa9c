from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from registry.db import Base
from shared.clock import utcnow
from shared.ids import uuid7


class Instrument(Base):
    """A large research instrument open for sharing (大型科研仪器, seed 001)."""

    __tablename__ = "instruments"
    __table_args__ = (
        Index("ix_instruments_owner_unit_id", "owner_unit_id"),
        CheckConstraint("status IN ('in_service', 'retired')", name="status"),
        CheckConstraint(
            "purchase_review_state IS NULL OR "
            "purchase_review_state IN ('pending', 'approved', 'not_approved')",
            name="purchase_review_state",
        ),
    )

    id: Mapped[UUID] = mapped_column(primary_key=True, default=uuid7)
    platform_id: Mapped[UUID | None] = mapped_column(ForeignKey("platforms.id"), index=True)
    owner_unit_id: Mapped[UUID] = mapped_column(ForeignKey("organisations.id"))
    name: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(30))
    model: Mapped[str | None] = mapped_column(String(100))
    value_fen: Mapped[int] = mapped_column(BigInteger)
    location: Mapped[str | None] = mapped_column(String(200))
    open_for_sharing: Mapped[bool] = mapped_column(Boolean, default=True)
    booking_contact: Mapped[str | None] = mapped_column(String(100))
    annual_service_hours: Mapped[int] = mapped_column(Integer, default=0)
    # Retired (报废/调出) instruments stay on record, closed for sharing.
    status: Mapped[str] = mapped_column(String(12), default="in_service", server_default="in_service")
    retired_on: Mapped[date | None] = mapped_column(Date)
    retirement_reason: Mapped[str | None] = mapped_column(Text)
    # Where its latest 查重评议 stands; a purchase not approved is closed for sharing.
    purchase_review_state: Mapped[str | None] = mapped_column(String(20))
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), onupdate=utcnow)


class OpenTopic(Base):
    """An open research topic a platform funds in a year (开放课题)."""

    __tablename__ = "open_topics"

    id: Mapped[UUID] = mapped_column(primary_key=True, default=uuid7)
    platform_id: Mapped[UUID] = mapped_column(ForeignKey("platforms.id"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(300))
    principal_name: Mapped[str | None] = mapped_column(String(100))
    principal_unit: Mapped[str | None] = mapped_column(String(200))
    funding_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    status: Mapped[str] = mapped_column(String(10), default="open")
    summary: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), onupdate=utcnow)


PURCHASE_REVIEW_STATE_CODES = ["pending", "approved", "not_approved"]


class InstrumentPurchaseReview(Base):
    """新购大型科研仪器查重评议 (seed 001): a new instrument of the same category and model as one
    already open for sharing in its 盟市, waiting for (or with) the department's decision.

    The matching instruments are kept as they stood when the review opened: the evidence the
    decision was taken on, whatever happens to them later.
    """

    __tablename__ = "instrument_purchase_reviews"
    __table_args__ = (
        CheckConstraint(
            "state IN (" + ", ".join(repr(s) for s in PURCHASE_REVIEW_STATE_CODES) + ")", name="state"
        ),
        Index("ix_instrument_purchase_reviews_state", "state"),
    )

    id: Mapped[UUID] = mapped_column(primary_key=True, default=uuid7)
    instrument_id: Mapped[UUID] = mapped_column(ForeignKey("instruments.id"), index=True)
    region: Mapped[str] = mapped_column(String(6))
    category: Mapped[str] = mapped_column(String(30))
    model: Mapped[str] = mapped_column(String(100))
    evidence: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    state: Mapped[str] = mapped_column(String(20), default="pending")
    decision_reason: Mapped[str | None] = mapped_column(Text)
    decided_by: Mapped[str | None] = mapped_column(String(100))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    opened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)
