from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import BigInteger, Date, DateTime, String, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from projects.db import Base
from shared.clock import utcnow


class Filing(Base):
    """备案: an externally funded or cluster joint project filed with the department.

    Once accepted it is a project like the others for 限项 and reports, without review.
    """

    __tablename__ = "filings"
    __table_args__ = (UniqueConstraint("code", name="uq_filings_code"),)

    id: Mapped[UUID] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(30))  # cluster_joint | national | other_external
    title: Mapped[str] = mapped_column(String(300))
    funder: Mapped[str] = mapped_column(String(200))
    external_code: Mapped[str | None] = mapped_column(String(60), nullable=True)
    pi_person_id: Mapped[UUID] = mapped_column(index=True)
    unit_id: Mapped[UUID] = mapped_column(index=True)
    team_person_ids: Mapped[list[str]] = mapped_column(JSONB, default=list)
    cluster_id: Mapped[UUID | None] = mapped_column(nullable=True)
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    external_funding_fen: Mapped[int] = mapped_column(BigInteger)
    self_funding_fen: Mapped[int] = mapped_column(BigInteger)
    indicators: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    documents: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    state: Mapped[str] = mapped_column(String(20))  # submitted | filed | returned
    submitted_by: Mapped[str] = mapped_column(String(100))
    submitted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    decided_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    decision_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    project_id: Mapped[UUID | None] = mapped_column(nullable=True)
