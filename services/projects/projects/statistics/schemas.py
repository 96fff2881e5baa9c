from __future__ import annotations

from pydantic import BaseModel, Field


class CategoryYear(BaseModel):
    year: int = Field(description="the call's year (a filed project: its start year)")
    plan_category: str
    plan_category_zh: str
    projects: int
    funding_fen: int = Field(description="财政经费（分）")
    external_funding_fen: int = Field(description="自筹/外部经费（分）")


class BasicResearchYear(BaseModel):
    """基础研究 of one year against the policy floor."""

    year: int
    funding_fen: int = Field(description="基础研究计划财政经费合计（分）")
    floor_fen: int = Field(description="policy basic_research_min_yearly_fen（分）")
    met: bool
    gap_fen: int = Field(description="what is missing to the floor, 0 when met（分）")


class PlanStatisticsOut(BaseModel):
    rows: list[CategoryYear]
    basic_research: list[BasicResearchYear]
    projects: int
    funding_fen: int = Field(description="财政经费合计（分）")
    floor_policy_key: str = "basic_research_min_yearly_fen"
