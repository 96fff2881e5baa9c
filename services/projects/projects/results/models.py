"""科技成果库: one row per result (achievement) of a project, with its verification."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from projects.db import Base
from shared.clock import utcnow


class ProjectResult(Base):
    """A result a project produced, as its unit or its acceptance reported it; staff verify it.

    The unit and the people are copied from the report, not looked up later: the register keeps
    what was reported and verified even when the project's unit changes afterwards."""

    __tablename__ = "project_results"
    __table_args__ = (UniqueConstraint("code", name="uq_project_results_code"),)

    id: Mapped[UUID] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40))  # CG2027-00001
    project_id: Mapped[UUID] = mapped_column(ForeignKey("projects.id"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(30), index=True)
    unit_id: Mapped[UUID] = mapped_column(index=True)
    people: Mapped[list[str]] = mapped_column(JSONB, default=list)  # 完成人, in their order
    maturity: Mapped[str] = mapped_column(String(30))  # 技术成熟度
    transfer_status: Mapped[str] = mapped_column(String(30), index=True)  # 转化状态
    summary: Mapped[str] = mapped_column(Text, default="")
    year: Mapped[int] = mapped_column(Integer, index=True)  # the year it was reported
    source: Mapped[str] = mapped_column(String(20))  # acceptance | unit
    evaluation_id: Mapped[UUID | None] = mapped_column(nullable=True)  # the acceptance it came from
    state: Mapped[str] = mapped_column(String(20), index=True)  # reported | verified | rejected
    reported_by: Mapped[str] = mapped_column(String(100))
    reported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    decided_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    decision_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
