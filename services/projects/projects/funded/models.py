"""The project after approval (立项): task book, indicators, money, reports, changes,
evaluations, and every step of its life for the timeline."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from projects.db import Base
from shared.clock import utcnow


class Project(Base):
    """An approved (立项) or filed (备案) project, from its task book to the final verdict."""

    __tablename__ = "projects"
    __table_args__ = (UniqueConstraint("application_id", name="uq_projects_application"),)

    id: Mapped[UUID] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    source: Mapped[str] = mapped_column(String(20), server_default="application")  # application | filing
    application_id: Mapped[UUID | None] = mapped_column(ForeignKey("applications.id"), nullable=True)
    call_id: Mapped[UUID | None] = mapped_column(ForeignKey("calls.id"), nullable=True)
    challenge_id: Mapped[str | None] = mapped_column(String(40), nullable=True)  # 榜单 / 赛道
    title: Mapped[str] = mapped_column(String(300))
    organisation_mode: Mapped[str] = mapped_column(String(30))
    pi_person_id: Mapped[UUID] = mapped_column(index=True)
    unit_id: Mapped[UUID] = mapped_column()
    # 谁推荐、谁负责 (seed 003): the department that recommended it supervises it (reads, never acts).
    competent_department_id: Mapped[UUID | None] = mapped_column(nullable=True, index=True)
    team_person_ids: Mapped[list[str]] = mapped_column(JSONB, default=list)
    platform_id: Mapped[UUID | None] = mapped_column(nullable=True, index=True)  # undertaking platform
    # 首席专家 of a major project (首席专家负责制): named in the task book, counted in 限项.
    chief_expert_person_ids: Mapped[list[str]] = mapped_column(
        JSONB, server_default=text("'[]'::jsonb"), default=list
    )
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    funding_fen: Mapped[int] = mapped_column(BigInteger)
    external_funding_fen: Mapped[int] = mapped_column(BigInteger, server_default="0", default=0)
    long_cycle: Mapped[bool] = mapped_column(Boolean, server_default="false", default=False)  # 长周期
    non_consensus: Mapped[bool] = mapped_column(Boolean, server_default="false", default=False)  # 非共识
    funding_basis: Mapped[dict[str, Any]] = mapped_column(
        JSONB, server_default=text("'{}'::jsonb"), default=dict
    )
    state: Mapped[str] = mapped_column(String(30))
    result: Mapped[str | None] = mapped_column(String(20), nullable=True)  # excellent|pass|fail|terminated
    diligent_exempt: Mapped[bool] = mapped_column(Boolean, server_default="false", default=False)  # 尽职免责
    misconduct: Mapped[bool] = mapped_column(Boolean, server_default="false", default=False)
    fault_assessment: Mapped[dict[str, Any] | None] = mapped_column(JSONB, nullable=True)  # 容错认定
    st_report: Mapped[dict[str, Any] | None] = mapped_column(JSONB, nullable=True)  # 科技报告 (acceptance)
    version: Mapped[int] = mapped_column(Integer, server_default="1", default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class TaskBook(Base):
    """任务书: objectives, milestones, budget and payment plan the project is held to."""

    __tablename__ = "task_books"

    project_id: Mapped[UUID] = mapped_column(ForeignKey("projects.id"), primary_key=True)
    state: Mapped[str] = mapped_column(String(20))  # draft | submitted | returned | signed
    objectives: Mapped[str] = mapped_column(Text, default="")
    milestones: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    budget: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    payment_plan: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    return_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    signed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    signed_by: Mapped[str | None] = mapped_column(String(100), nullable=True)  # the account id
    # the signer's name of the moment (token's name, else the registered person's)
    signed_by_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    version: Mapped[int] = mapped_column(Integer, default=1)


class Indicator(Base):
    """考核指标: what the application promised, what the task book set, in one row."""

    __tablename__ = "project_indicators"
    __table_args__ = (UniqueConstraint("project_id", "seq", name="uq_project_indicators_seq"),)

    id: Mapped[UUID] = mapped_column(primary_key=True)
    project_id: Mapped[UUID] = mapped_column(ForeignKey("projects.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(20))  # output | economic | social | technical
    unit: Mapped[str] = mapped_column(String(40))
    promised: Mapped[float | None] = mapped_column(Float, nullable=True)  # in the application / 榜单
    target: Mapped[float] = mapped_column(Float)  # in the task book
    source: Mapped[str] = mapped_column(String(20))  # application | challenge | task_book | filing


class IndicatorRecord(Base):
    """One point on an indicator's path: a reported value or a verdict, with where it came from."""

    __tablename__ = "indicator_records"

    id: Mapped[UUID] = mapped_column(primary_key=True)
    indicator_id: Mapped[UUID] = mapped_column(ForeignKey("project_indicators.id"), index=True)
    stage: Mapped[str] = mapped_column(
        String(40)
    )  # annual_report | mid_term | milestone | acceptance | performance
    value: Mapped[float | None] = mapped_column(Float, nullable=True)
    verdict: Mapped[str | None] = mapped_column(String(40), nullable=True)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    source_id: Mapped[UUID | None] = mapped_column(nullable=True)
    actor_id: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class AnnualReport(Base):
    """年度进展报告: progress against each indicator and money spent in one year."""

    __tablename__ = "annual_reports"
    __table_args__ = (UniqueConstraint("project_id", "year", name="uq_annual_reports_project_year"),)

    id: Mapped[UUID] = mapped_column(primary_key=True)
    project_id: Mapped[UUID] = mapped_column(ForeignKey("projects.id"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    summary: Mapped[str] = mapped_column(Text)
    spent_fen: Mapped[int] = mapped_column(BigInteger)
    progress: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    submitted_by: Mapped[str] = mapped_column(String(100))
    submitted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # submitted → accepted (审核通过) | returned (退回修改, the lead submits the year again)
    state: Mapped[str] = mapped_column(String(20), server_default="submitted", default="submitted")
    reviewed_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    review_comments: Mapped[str | None] = mapped_column(Text, nullable=True)


class Disbursement(Base):
    """One tranche of the grant (拨款): scheduled, due once its condition is met, then paid."""

    __tablename__ = "disbursements"
    __table_args__ = (UniqueConstraint("project_id", "seq", name="uq_disbursements_seq"),)

    id: Mapped[UUID] = mapped_column(primary_key=True)
    project_id: Mapped[UUID] = mapped_column(ForeignKey("projects.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    condition: Mapped[str] = mapped_column(
        String(20)
    )  # signing | mid_term | milestone | delivery | verification
    state: Mapped[str] = mapped_column(String(20))  # scheduled | due | paid | cancelled
    due_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    paid_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    paid_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    voucher: Mapped[str | None] = mapped_column(String(100), nullable=True)
    cancelled_reason: Mapped[str | None] = mapped_column(Text, nullable=True)


class ProjectChange(Base):
    """A change needing approval (变更): PI, unit, extension, budget adjustment, termination."""

    __tablename__ = "project_changes"

    id: Mapped[UUID] = mapped_column(primary_key=True)
    project_id: Mapped[UUID] = mapped_column(ForeignKey("projects.id"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    state: Mapped[str] = mapped_column(String(20))  # requested | endorsed | approved | rejected | withdrawn
    details: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    reason: Mapped[str] = mapped_column(Text)
    requested_by: Mapped[str] = mapped_column(String(100))
    requested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    endorsed_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    decided_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    decision_reason: Mapped[str | None] = mapped_column(Text, nullable=True)


class ProjectEvaluation(Base):
    """An evaluation run in the evaluation service: mid-term, milestone, acceptance, performance."""

    __tablename__ = "project_evaluations"

    id: Mapped[UUID] = mapped_column(primary_key=True)  # the request_id of the events
    project_id: Mapped[UUID] = mapped_column(ForeignKey("projects.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    state: Mapped[str] = mapped_column(String(20))  # requested | finalized
    round_id: Mapped[UUID | None] = mapped_column(ForeignKey("race_rounds.id"), nullable=True, index=True)
    due_date: Mapped[date] = mapped_column(Date)
    requested_by: Mapped[str] = mapped_column(String(100))
    requested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    result: Mapped[str | None] = mapped_column(String(20), nullable=True)
    score: Mapped[float | None] = mapped_column(Float, nullable=True)
    diligent: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    remarks: Mapped[str | None] = mapped_column(Text, nullable=True)
    indicator_verdicts: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    finalized_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class RaceRound(Base):
    """A 赛马制 milestone round over the teams racing on one task: the weaker are stopped."""

    __tablename__ = "race_rounds"
    __table_args__ = (UniqueConstraint("call_id", "challenge_id", "seq", name="uq_race_rounds_seq"),)

    id: Mapped[UUID] = mapped_column(primary_key=True)
    call_id: Mapped[UUID] = mapped_column(ForeignKey("calls.id"))
    challenge_id: Mapped[str] = mapped_column(String(40))
    seq: Mapped[int] = mapped_column(Integer)
    label: Mapped[str] = mapped_column(String(200))
    keep: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(20))  # open | decided
    due_date: Mapped[date] = mapped_column(Date)
    outcome: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class ProjectStep(Base):
    """Every step of a project's life after approval: who, when, what, why (the timeline)."""

    __tablename__ = "project_steps"

    id: Mapped[UUID] = mapped_column(primary_key=True)
    project_id: Mapped[UUID] = mapped_column(ForeignKey("projects.id"), index=True)
    action: Mapped[str] = mapped_column(String(40))
    label_zh: Mapped[str] = mapped_column(String(60))
    from_state: Mapped[str | None] = mapped_column(String(30), nullable=True)
    to_state: Mapped[str | None] = mapped_column(String(30), nullable=True)
    actor_id: Mapped[str] = mapped_column(String(100))
    actor_roles: Mapped[list[str]] = mapped_column(JSONB, default=list)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    details: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
