"""Technology demands and application scenarios in and out, with Chinese labels."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from shared.timestamps import Timestamp


class DemandKind(StrEnum):
    demand = "demand"  # 技术需求
    scenario = "scenario"  # 应用场景


KINDS_ZH = {"demand": "技术需求", "scenario": "应用场景"}


class TechField(StrEnum):
    """The 13 fields of seed 000, as registry codes them."""

    math_physics = "math_physics"
    chemistry = "chemistry"
    astronomy_space = "astronomy_space"
    earth_science = "earth_science"
    environment = "environment"
    biology = "biology"
    medicine = "medicine"
    agriculture = "agriculture"
    information = "information"
    materials = "materials"
    manufacturing = "manufacturing"
    engineering = "engineering"
    energy = "energy"


FIELDS_ZH = {
    "math_physics": "数理",
    "chemistry": "化学",
    "astronomy_space": "天文与空间",
    "earth_science": "地球科学",
    "environment": "环境",
    "biology": "生物",
    "medicine": "医药",
    "agriculture": "农牧业",
    "information": "信息",
    "materials": "材料",
    "manufacturing": "制造",
    "engineering": "工程",
    "energy": "能源",
}


class DemandState(StrEnum):
    registered = "registered"
    published = "published"
    closed = "closed"


class DemandIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: DemandKind = Field(description="demand 技术需求 (enterprises) or scenario 应用场景")
    unit_id: UUID = Field(description="the registering unit; a demand's unit is an enterprise")
    title: str = Field(min_length=2, max_length=300)
    field: TechField = Field(description="技术领域")
    description: str = Field(min_length=10, max_length=20_000, description="需求描述 / 场景描述")
    budget_min_fen: int = Field(ge=0, le=10**14, description="预算下限（分）")
    budget_max_fen: int = Field(ge=0, le=10**14, description="预算上限（分）")
    deadline: date = Field(description="需求截止日期")


class DemandAction(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str | None = Field(None, max_length=2000, description="why; required to close")


class DemandOut(BaseModel):
    id: UUID
    code: str
    kind: DemandKind
    kind_zh: str
    title: str
    field: TechField
    field_zh: str
    description: str
    budget_min_fen: int = Field(description="预算下限（分）")
    budget_max_fen: int = Field(description="预算上限（分）")
    deadline: date
    unit_id: UUID
    unit_name: str | None
    year: int
    state: DemandState
    state_zh: str
    allowed_actions: list[str]
    registered_by: str
    registered_at: Timestamp
    published_at: Timestamp | None
    closed_at: Timestamp | None
    close_reason: str | None
