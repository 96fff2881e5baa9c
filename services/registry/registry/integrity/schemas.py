from __future__ import annotations

from datetime import date
from typing import Literal, Self
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, model_validator

from registry.integrity.models import IntegrityRecord
from registry.reference import INTEGRITY_SCOPES, MISCONDUCT_TYPES, MisconductCode
from shared.errors import FieldIssue, ValidationFailed
from shared.timestamps import Timestamp

MisconductType = MisconductCode
Scope = Literal["applying", "reviewing", "all"]


class IntegrityCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    subject_type: Literal["person", "organisation"]
    person_id: UUID | None = None
    organisation_id: UUID | None = None
    misconduct_type: MisconductType = Field(description="失信行为类型")
    description: str | None = Field(default=None, max_length=4000)
    decision_document: str = Field(min_length=2, max_length=200, description="处理决定文号")
    decided_on: date | None = None
    barred_from: date = Field(description="限制开始日期")
    barred_until: date | None = Field(default=None, description="限制结束日期（含）；空表示永久")
    scope: list[Scope] = Field(min_length=1, description="限制范围")

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        issues = []
        if self.subject_type == "person" and self.person_id is None:
            issues.append(FieldIssue("person_id", "missing", "name the person", "请指定人员"))
        if self.subject_type == "organisation" and self.organisation_id is None:
            issues.append(FieldIssue("organisation_id", "missing", "name the unit", "请指定单位"))
        if self.barred_until is not None and self.barred_until < self.barred_from:
            issues.append(
                FieldIssue("barred_until", "period", "ends before it starts", "结束日期早于开始日期")
            )
        if issues:
            raise ValidationFailed(issues)
        return self


class LiftRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=2, max_length=2000)


class IntegrityOut(BaseModel):
    id: UUID
    subject_type: str
    person_id: UUID | None
    organisation_id: UUID | None
    misconduct_type: str
    misconduct_type_zh: str
    description: str | None
    decision_document: str
    decided_on: date | None
    barred_from: date
    barred_until: date | None
    scope: list[str]
    scope_zh: list[str]
    source: str
    lifted_at: Timestamp | None
    lift_reason: str | None
    version: int

    @classmethod
    def of(cls, r: IntegrityRecord) -> IntegrityOut:
        return cls(
            id=r.id,
            subject_type=r.subject_type,
            person_id=r.person_id,
            organisation_id=r.organisation_id,
            misconduct_type=r.misconduct_type,
            misconduct_type_zh=MISCONDUCT_TYPES.get(r.misconduct_type, r.misconduct_type),
            description=r.description,
            decision_document=r.decision_document,
            decided_on=r.decided_on,
            barred_from=r.barred_from,
            barred_until=r.barred_until,
            scope=list(r.scope),
            scope_zh=[INTEGRITY_SCOPES[s] for s in r.scope],
            source=r.source,
            lifted_at=r.lifted_at,
            lift_reason=r.lift_reason,
            version=r.version,
        )


class BarReason(BaseModel):
    """A record that bars the subject on the day asked about."""

    record_id: UUID
    misconduct_type: str
    misconduct_type_zh: str
    decision_document: str | None
    barred_from: date
    barred_until: date | None = Field(description="null: barred for good (终身)")
    scope: list[str]


class IntegrityCheckOut(BaseModel):
    """Whether a person (or unit) is barred on a day, and by which records."""

    person_id: UUID | None
    organisation_id: UUID | None
    on: date
    scope: Literal["applying", "reviewing"] | None
    barred: bool
    barred_zh: str = Field(description="处于限制期 / 无限制")
    reasons: list[BarReason]
