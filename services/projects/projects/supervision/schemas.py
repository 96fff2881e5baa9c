from __future__ import annotations

from datetime import date
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from shared.timestamps import Timestamp

OUTCOMES_ZH = {"compliant": "未发现问题", "issues": "发现问题，限期整改", "serious": "发现严重问题"}


class SpotCheckCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    year: int = Field(ge=2020, le=2100)
    title: str = Field(min_length=2, max_length=200)
    sample_size: int = Field(ge=1, le=10_000)
    programme_code: str | None = Field(None, max_length=40, description="only this programme's projects")
    seed: int | None = Field(
        None, ge=0, le=2**31 - 1, description="the drawing's seed; drawn at random (and recorded) if omitted"
    )


class FindingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    outcome: Literal["compliant", "issues", "serious"]
    findings: str = Field(min_length=2, max_length=5000)
    rectification_due: date | None = Field(None, description="issues / serious: 整改期限")


class SpotCheckClose(BaseModel):
    model_config = ConfigDict(extra="forbid")
    summary: str = Field(min_length=2, max_length=5000)


class SpotCheckItemOut(BaseModel):
    project_id: UUID
    code: str
    title: str
    seq: int
    outcome: str | None
    outcome_zh: str | None
    findings: str | None
    rectification_due: date | None
    recorded_by: str | None
    recorded_at: Timestamp | None


class SpotCheckOut(BaseModel):
    id: UUID
    code: str
    year: int
    title: str
    programme_code: str | None
    seed: int
    sample_size: int
    population_size: int
    population: list[str]
    sample: list[str]
    rule: str
    state: str
    state_zh: str
    created_by: str
    created_at: Timestamp
    closed_at: Timestamp | None
    summary: str | None
    items: list[SpotCheckItemOut]
