"""Seed 004's targets against the register, as SPAs and the monitoring reports read them."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.timestamps import Timestamp


class TargetChangeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    value: int | None = Field(ge=0, le=100_000, description="目标数量; null: no number (若干)")
    reason: str = Field(min_length=2, max_length=2000, description="调整理由")


class RegionCount(BaseModel):
    region: str
    region_zh: str
    count: int


class FieldCount(BaseModel):
    field: str
    field_zh: str
    count: int


class TargetCount(BaseModel):
    """One target and how far the register has come."""

    key: str
    label_zh: str
    kind: str | None = Field(description="platform kind counted; null: laboratory clusters")
    kind_zh: str | None
    level: str | None = Field(description="the kind's level counted (国家/自治区), if one")
    target: int | None = Field(description="null: the seed sets no number (若干)")
    target_year: int
    count: int
    gap: int | None = Field(description="how many are still missing (0 once reached)")
    attainment: float | None = Field(description="count / target, 3 decimals")


class TargetDetail(TargetCount):
    source_zh: str = Field(description="the seed's wording")
    by_region: list[RegionCount]
    by_field: list[FieldCount]


class TargetsOut(BaseModel):
    on: date
    counted_states: list[str] = Field(description="platform states that count towards a target")
    items: list[TargetDetail]


class TargetSnapshot(BaseModel):
    """Year-end counts: 年度监测, 中期评估 (2023) or 终期总结 (2025)."""

    year: int
    on: date
    purpose: Literal["annual", "mid_term", "final"]
    purpose_zh: str
    items: list[TargetCount]


class TargetChangeOut(BaseModel):
    key: str
    previous: int | None
    value: int | None
    reason: str
    changed_at: Timestamp
    changed_by: str


class TargetHistoryOut(BaseModel):
    """Every change of one target, oldest first."""

    key: str
    label_zh: str
    default: int | None = Field(description="seed 004's value")
    items: list[TargetChangeOut]
