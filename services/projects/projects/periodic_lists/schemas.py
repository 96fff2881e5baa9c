"""Periodic lists in and out."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from shared.timestamps import Timestamp


class ListKind(StrEnum):
    results = "results"  # 成果清单: verified results
    scenarios = "scenarios"  # 应用场景清单: published application scenarios


KINDS_ZH = {"results": "科技成果清单", "scenarios": "应用场景清单"}
PERIOD_PATTERN = r"^20\d{2}(-H[12]|-Q[1-4])?$"  # 2000-2099


class ListFreeze(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: ListKind
    period: str = Field(
        pattern=PERIOD_PATTERN,
        description="the year (2027), a half (2027-H1) or a quarter (2027-Q3), in Beijing dates",
    )
    title: str | None = Field(None, min_length=2, max_length=200, description="defaults to the period's name")
    note: str | None = Field(None, max_length=2000)


class ListEntry(BaseModel):
    """One row of a frozen list, as it stood when the list was frozen."""

    seq: int
    id: UUID = Field(description="the result's or scenario's id")
    code: str
    title: str
    category_zh: str = Field(description="成果类型 (results) or 技术领域 (scenarios)")
    unit_name: str | None
    project_code: str | None = Field(description="results: the project")
    project_title: str | None
    people: list[str] = Field(description="results: 完成人")
    maturity_zh: str | None
    transfer_status_zh: str | None
    budget_min_fen: int | None = Field(description="scenarios: 预算下限（分）")
    budget_max_fen: int | None = Field(description="scenarios: 预算上限（分）")
    deadline: date | None
    dated_at: Timestamp = Field(description="when the result was verified / the scenario published")


class PeriodicListSummary(BaseModel):
    id: UUID
    code: str
    kind: ListKind
    kind_zh: str
    period: str
    year: int
    starts_on: date
    ends_on: date
    title: str
    note: str | None
    entry_count: int
    frozen_by: str
    frozen_at: Timestamp


class PeriodicListOut(PeriodicListSummary):
    entries: list[ListEntry]
