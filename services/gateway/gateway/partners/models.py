"""Partner systems (合作平台, e.g. a 蒙科聚-style regional S&T service platform)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import CheckConstraint, DateTime, Integer, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from gateway.db import Base
from shared.clock import utcnow
from shared.ids import uuid7


class PartnerClient(Base):
    """An OAuth2 client (client credentials grant) with the scopes an operator granted it."""

    __tablename__ = "partner_clients"
    __table_args__ = (CheckConstraint("status IN ('active', 'disabled')", name="status"),)

    id: Mapped[UUID] = mapped_column(primary_key=True, default=uuid7)
    client_id: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    secret_hash: Mapped[str] = mapped_column(String(64), comment="SHA-256 of a 256-bit random secret")
    scopes: Mapped[list[Any]] = mapped_column(JSONB, default=list)
    allowed_event_types: Mapped[list[Any]] = mapped_column(
        JSONB, default=list, comment="event type patterns its webhooks may subscribe to"
    )
    rate_limit_per_minute: Mapped[int] = mapped_column(Integer, default=120)
    status: Mapped[str] = mapped_column(String(20), default="active")
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
