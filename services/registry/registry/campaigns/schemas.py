from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from registry.reference import FieldCode


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
