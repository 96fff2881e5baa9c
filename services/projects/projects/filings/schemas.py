from __future__ import annotations

from datetime import date
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from shared.timestamps import Timestamp

FILING_KINDS_ZH = {
    "cluster_joint": "实验室群与产业集群联合攻关项目",
    "national": "国家科技计划项目（央地协同）",
    "other_external": "其他外部资助项目",
}


class FilingCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["cluster_joint", "national", "other_external"]
    title: str = Field(min_length=2, max_length=300)
    funder: str = Field(min_length=2, max_length=200, description="资助方 / 联合攻关企业")
    external_code: str | None = Field(None, max_length=60)
    pi_person_id: UUID
    unit_id: UUID
    team_person_ids: list[UUID] = Field(default_factory=list, max_length=50)
    cluster_id: UUID | None = None
    start_date: date
    end_date: date
    external_funding_fen: int = Field(ge=0, le=10**14)
    self_funding_fen: int = Field(0, ge=0, le=10**14)
    documents: list[str] = Field(default_factory=list, max_length=20, description="合同、任务书文号")


class FilingAction(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str | None = Field(None, max_length=2000)


class FilingOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: UUID
    code: str
    kind: str
    title: str
    funder: str
    external_code: str | None
    pi_person_id: UUID
    unit_id: UUID
    team_person_ids: list[str]
    cluster_id: UUID | None
    start_date: date
    end_date: date
    external_funding_fen: int
    self_funding_fen: int
    state: str
    submitted_by: str
    submitted_at: Timestamp
    decided_by: str | None
    decision_reason: str | None
    project_id: UUID | None
