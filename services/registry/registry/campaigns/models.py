from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from sqlalchemy import Date, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from registry.db import Base
from shared.clock import utcnow
from shared.ids import uuid7


class Campaign(Base):
    """A reorganisation campaign (优化重组工作, seed 000): a deadline and batches by field."""

    __tablename__ = "campaigns"

    id: Mapped[UUID] = mapped_column(primary_key=True, default=uuid7)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    deadline: Mapped[date] = mapped_column(Date)
    document_number: Mapped[str | None] = mapped_column(String(100))
    reason: Mapped[str] = mapped_column(Text)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    started_by: Mapped[str] = mapped_column(String(100))
    version: Mapped[int] = mapped_column(Integer, default=1)


class CampaignBatch(Base):
    """One batch (批次, 成熟一批，优化一批): the fields it covers and its due date."""

    __tablename__ = "campaign_batches"
    __table_args__ = (UniqueConstraint("campaign_id", "number"),)

    id: Mapped[UUID] = mapped_column(primary_key=True, default=uuid7)
    campaign_id: Mapped[UUID] = mapped_column(ForeignKey("campaigns.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    fields: Mapped[list[str]] = mapped_column(JSONB)
    due_on: Mapped[date] = mapped_column(Date)


class CampaignLab(Base):
    """A lab enrolled in a campaign's batch when it started; its outcome is read from the
    reorganisation steps (充实/调整/整合/撤销) the lab took after that."""

    __tablename__ = "campaign_labs"

    campaign_id: Mapped[UUID] = mapped_column(ForeignKey("campaigns.id"), primary_key=True)
    platform_id: Mapped[UUID] = mapped_column(ForeignKey("platforms.id"), primary_key=True)
    batch_number: Mapped[int] = mapped_column(Integer)
    field: Mapped[str] = mapped_column(String(30))
