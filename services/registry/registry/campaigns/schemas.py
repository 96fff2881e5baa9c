from __future__ import annotations

from datetime import date
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from registry.reference import FieldCode
from shared.timestamps import Timestamp


class BatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    fields: list[FieldCode] = Field(min_length=1, max_length=13, description="本批次领域")
    due_on: date = Field(description="本批次完成时间")


class CampaignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=4, max_length=200, description="工作名称")
    deadline: date = Field(description="总体完成期限（如2023-12-31）")
    batches: list[BatchIn] = Field(min_length=1, max_length=13, description="分批安排")
    document_number: str | None = Field(default=None, max_length=100, description="文件文号")
    reason: str = Field(min_length=2, max_length=2000, description="依据")


class Progress(BaseModel):
    labs: int
    done: int = Field(description="labs with an outcome other than 待优化重组")
    overdue: int
    outcomes: dict[str, int] = Field(description="labs per outcome code")
    share_done: float | None = Field(default=None, description="done / labs, 3 decimals")


class BatchOut(BaseModel):
    number: int
    fields: list[str]
    fields_zh: list[str]
    due_on: date
    progress: Progress


class FieldProgress(BaseModel):
    field: str
    field_zh: str
    progress: Progress


class CampaignSummary(BaseModel):
    """A reorganisation campaign (优化重组工作) as the list shows it."""

    id: UUID
    name: str
    deadline: date
    document_number: str | None
    reason: str
    started_at: Timestamp
    started_by: str


class CampaignOut(CampaignSummary):
    """A reorganisation campaign with its progress per batch and per field."""

    overdue: bool = Field(description="the deadline has passed with labs still pending")
    labs: int
    done: int
    outcome_labels: dict[str, str]
    outcomes_present: list[str]
    batches: list[BatchOut]
    fields: list[FieldProgress]


class CampaignLabOut(BaseModel):
    platform_id: UUID
    code: str
    name: str
    field: str
    batch: int
    outcome: Literal["pending", "strengthened", "adjusted", "merged", "revoked"]
    outcome_zh: str
    decided_at: Timestamp | None
    document_number: str | None
    overdue: bool
