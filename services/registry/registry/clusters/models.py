from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from registry.db import Base
from shared.clock import utcnow
from shared.ids import uuid7

DOCUMENT_KINDS = {
    "lead_platform_ids": "array",
    "vice_directors": "array",
    "expert_committee": "object",
    "member_units": "array",
    "secretariat": "object",
    "service_organisations": "array",
    "required_measures": "array",
}


class Cluster(Base):
    """A laboratory cluster (实验室群). People and units may be from outside the province, so
    roles are kept as small documents ({name, unit, person_id?, province?}) rather than links."""

    __tablename__ = "clusters"
    # The documents are never a JSON null (a null once made every read of the register fail).
    __table_args__ = tuple(
        CheckConstraint(f"jsonb_typeof({column}) = '{kind}'", name=f"{column}_is_{kind}")
        for column, kind in DOCUMENT_KINDS.items()
    )

    id: Mapped[UUID] = mapped_column(primary_key=True, default=uuid7)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    field: Mapped[str] = mapped_column(String(30))
    direction: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(30))
    lead_platform_ids: Mapped[list[str]] = mapped_column(JSONB, default=list)
    director: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    vice_directors: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    expert_committee: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    member_units: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    secretariat: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    service_organisations: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    industry_cluster: Mapped[str | None] = mapped_column(String(200))
    work_plan: Mapped[str | None] = mapped_column(Text)
    plan_document: Mapped[str | None] = mapped_column(String(200))
    approval_document: Mapped[str | None] = mapped_column(String(200))
    rectification_until: Mapped[date | None] = mapped_column(Date)
    required_measures: Mapped[list[str]] = mapped_column(JSONB, default=list)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


class ClusterAssessment(Base):
    """One annual assessment outcome (年度考核), from evaluation or entered by staff."""

    __tablename__ = "cluster_assessments"
    __table_args__ = (UniqueConstraint("cluster_id", "year"),)

    id: Mapped[UUID] = mapped_column(primary_key=True, default=uuid7)
    cluster_id: Mapped[UUID] = mapped_column(ForeignKey("clusters.id"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    result: Mapped[str] = mapped_column(String(10))
    score: Mapped[float | None] = mapped_column()
    required_measures: Mapped[list[str]] = mapped_column(JSONB, default=list)
    source: Mapped[str] = mapped_column(String(100))
    finalized_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    achieved: Mapped[dict[str, float]] = mapped_column(JSONB, default=dict, server_default="{}")
    against_plan: Mapped[dict[str, Any] | None] = mapped_column(JSONB)


class ClusterWorkPlan(Base):
    """The year's work plan the secretariat sets (年度工作计划、目标任务和考核指标, seed 002 三(四)):
    the tasks and the indicators with their targets the annual assessment is compared with."""

    __tablename__ = "cluster_work_plans"
    __table_args__ = (UniqueConstraint("cluster_id", "year"),)

    id: Mapped[UUID] = mapped_column(primary_key=True, default=uuid7)
    cluster_id: Mapped[UUID] = mapped_column(ForeignKey("clusters.id"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    tasks: Mapped[list[str]] = mapped_column(JSONB)
    indicators: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_by: Mapped[str] = mapped_column(String(100))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


class GuidelineSuggestion(Base):
    """A guideline suggestion a cluster proposes for next year's calls (指南建议)."""

    __tablename__ = "guideline_suggestions"

    id: Mapped[UUID] = mapped_column(primary_key=True, default=uuid7)
    cluster_id: Mapped[UUID] = mapped_column(ForeignKey("clusters.id"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(300))
    directions: Mapped[list[str]] = mapped_column(JSONB)
    field: Mapped[str] = mapped_column(String(30))
    rationale: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_by: Mapped[str] = mapped_column(String(100))
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), onupdate=utcnow)
    # 专家委员会把关 (seed 002 三(三)): drafted by the secretariat, vetted by the committee chair;
    # only a passed suggestion reaches projects. Rows from before vetting existed were emitted.
    vetting_status: Mapped[str] = mapped_column(
        String(30), default="pending_vetting", server_default="passed"
    )
    vetting_comments: Mapped[str | None] = mapped_column(Text)
    vetted_by_name: Mapped[str | None] = mapped_column(String(100))
    vetted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    vetting_recorded_by: Mapped[str | None] = mapped_column(String(100))
    emitted_version: Mapped[int | None] = mapped_column(Integer)


class MemberReport(Base):
    """What one member unit reports to the secretariat for a period (定期梳理人才、成果、需求、
    资源等信息并提供给秘书处, seed 002 三(二)). Members are the cluster's member-unit entries,
    named as listed (units from outside the province have no register id)."""

    __tablename__ = "cluster_member_reports"
    __table_args__ = (UniqueConstraint("cluster_id", "period", "member_name"),)

    id: Mapped[UUID] = mapped_column(primary_key=True, default=uuid7)
    cluster_id: Mapped[UUID] = mapped_column(ForeignKey("clusters.id"), index=True)
    period: Mapped[str] = mapped_column(String(10))
    member_name: Mapped[str] = mapped_column(String(200))
    unit_id: Mapped[UUID | None] = mapped_column()
    talent: Mapped[list[str]] = mapped_column(JSONB)
    results: Mapped[list[str]] = mapped_column(JSONB)
    needs: Mapped[list[str]] = mapped_column(JSONB)
    resources: Mapped[list[str]] = mapped_column(JSONB)
    submitted_by: Mapped[str] = mapped_column(String(100))
    submitted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class OperatingFund(Base):
    """The year's operating funds for a service organisation (运行经费, seed 002 五(二)): a fixed
    amount in the cluster's first year, then by the latest annual assessment's grade."""

    __tablename__ = "cluster_operating_funds"
    __table_args__ = (UniqueConstraint("cluster_id", "year", "organisation_name"),)

    id: Mapped[UUID] = mapped_column(primary_key=True, default=uuid7)
    cluster_id: Mapped[UUID] = mapped_column(ForeignKey("clusters.id"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    organisation_name: Mapped[str] = mapped_column(String(200))
    organisation_unit_id: Mapped[UUID | None] = mapped_column()
    basis: Mapped[str] = mapped_column(String(20))
    assessment_year: Mapped[int | None] = mapped_column(Integer)
    grade: Mapped[str | None] = mapped_column(String(20))
    cluster_amount_fen: Mapped[int] = mapped_column(BigInteger)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    policy_values: Mapped[dict[str, Any]] = mapped_column(JSONB)
    recorded_by: Mapped[str] = mapped_column(String(100))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
