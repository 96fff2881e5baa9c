from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import BigInteger, DateTime, Float, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from projects.db import Base
from shared.clock import utcnow


class Call(Base):
    """A call for applications (申报指南) of one programme and year, with its rules as data."""

    __tablename__ = "calls"
    __table_args__ = (UniqueConstraint("code", name="uq_calls_code"),)

    id: Mapped[UUID] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40))
    programme_code: Mapped[str] = mapped_column(String(40), index=True)
    plan_category: Mapped[str] = mapped_column(String(30))
    year: Mapped[int] = mapped_column(Integer, index=True)
    title: Mapped[str] = mapped_column(String(300))
    guideline: Mapped[str] = mapped_column(Text, default="")
    directions: Mapped[list[str]] = mapped_column(JSONB, default=list)
    organisation_mode: Mapped[str] = mapped_column(String(30))
    opens_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    closes_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    budget_fen: Mapped[int] = mapped_column(BigInteger)
    min_funding_fen: Mapped[int] = mapped_column(BigInteger)
    max_funding_fen: Mapped[int] = mapped_column(BigInteger)
    projects_to_fund: Mapped[int] = mapped_column(Integer)
    eligibility: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    limits: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    challenges: Mapped[list[dict[str, Any]]] = mapped_column(
        JSONB, server_default=text("'[]'::jsonb"), default=list
    )  # 榜单 (揭榜挂帅) or race tasks (赛马制)
    dedup_threshold: Mapped[float] = mapped_column(Float, default=0.6)
    # categories | lump_sum (包干制: seed 004 自治区自然科学基金项目实行经费“包干制”)
    budget_form: Mapped[str] = mapped_column(String(20), server_default="categories", default="categories")
    state: Mapped[str] = mapped_column(String(30), index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
