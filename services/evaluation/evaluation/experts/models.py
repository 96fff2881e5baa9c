"""Experts (专家库) and what evaluation knows about people, integrity and collaborations."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Index, Integer, String, Text, Uuid
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from evaluation.db import Base
from shared.clock import utcnow
from shared.ids import uuid7

OUT_OF_PROVINCE = "out"  # region code of experts from outside Inner Mongolia (区外专家)


class PersonView(Base):
    """Registry people as evaluation knows them (registry.person.*): the verified identities."""

    __tablename__ = "people"

    id: Mapped[UUID] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    id_number_digest: Mapped[str] = mapped_column(String(64), index=True)
    unit_id: Mapped[UUID | None] = mapped_column(Uuid)
    title: Mapped[str | None] = mapped_column(String(50))
    discipline: Mapped[str | None] = mapped_column(String(20))
    # the person's department (院系/部门) where registry carries one: the same_department rule
    department_id: Mapped[UUID | None] = mapped_column(Uuid)
    version: Mapped[int] = mapped_column(Integer)
    synced_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class IntegrityView(Base):
    """Integrity records (registry.integrity.*): a person barred from reviewing may not be assigned."""

    __tablename__ = "integrity_records"

    id: Mapped[UUID] = mapped_column(primary_key=True)
    person_id: Mapped[UUID | None] = mapped_column(Uuid, index=True)
    organisation_id: Mapped[UUID | None] = mapped_column(Uuid)
    scope: Mapped[list[str]] = mapped_column(ARRAY(String(20)))
    barred_from: Mapped[date | None] = mapped_column(Date)
    barred_until: Mapped[date | None] = mapped_column(Date)
    lifted: Mapped[bool] = mapped_column(Boolean, default=False)
    version: Mapped[int] = mapped_column(Integer)


class Collaboration(Base):
    """An approved project's people (projects.project.approved): co-applicants are collaborators."""

    __tablename__ = "collaborations"
    __table_args__ = (Index("ix_collaborations_person_ids", "person_ids", postgresql_using="gin"),)

    project_id: Mapped[UUID] = mapped_column(primary_key=True)
    application_id: Mapped[UUID | None] = mapped_column(Uuid)  # its application's review item
    person_ids: Mapped[list[UUID]] = mapped_column(ARRAY(Uuid))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)


class Expert(Base):
    __tablename__ = "experts"

    id: Mapped[UUID] = mapped_column(primary_key=True, default=uuid7)
    person_id: Mapped[UUID] = mapped_column(Uuid, unique=True)
    name: Mapped[str] = mapped_column(String(100))
    unit_id: Mapped[UUID | None] = mapped_column(Uuid, index=True)
    # unified social credit code of the unit: a unit is the same unit under any of its ids
    unit_credit_code: Mapped[str | None] = mapped_column(String(18))
    region: Mapped[str] = mapped_column(String(6))
    title: Mapped[str] = mapped_column(String(50))
    disciplines: Mapped[list[str]] = mapped_column(ARRAY(String(20)))
    keywords: Mapped[list[str]] = mapped_column(ARRAY(String(50)))
    directions: Mapped[str] = mapped_column(Text, default="")
    availability: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    max_load: Mapped[int] = mapped_column(Integer, default=20)
    status: Mapped[str] = mapped_column(String(20), index=True)
    origin: Mapped[str] = mapped_column(String(20))
    credit_score: Mapped[int] = mapped_column(Integer, default=100)
    confirmed_until: Mapped[date | None] = mapped_column(Date)
    reconfirm_requested_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


class Declaration(Base):
    """A declared conflict (either side): the expert must not review items of this person or unit."""

    __tablename__ = "conflict_declarations"

    id: Mapped[UUID] = mapped_column(primary_key=True, default=uuid7)
    expert_id: Mapped[UUID] = mapped_column(ForeignKey("experts.id"), index=True)
    person_id: Mapped[UUID | None] = mapped_column(Uuid)
    unit_id: Mapped[UUID | None] = mapped_column(Uuid)
    declared_by: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
