"""The reorganisation advice as SPAs read it: findings per lab, each with its rule and evidence."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from pydantic import BaseModel, Field

from registry.advisor.service import Rule


class LabRef(BaseModel):
    platform_id: UUID
    code: str
    name: str


class Finding(BaseModel):
    rule: Rule
    rule_zh: str
    suggested_action: str = Field(description="adjust, revoke, merge or open_rectification")
    suggested_action_zh: str = Field(description="调整, 撤销, 整合, 整改")
    evidence: dict[str, Any] = Field(description="the facts the rule read (ages, terms, years, scores …)")


class FlaggedLab(LabRef):
    field: str
    sub_field: str
    region: str
    host_unit_id: UUID
    findings: list[Finding]


class RuleCount(BaseModel):
    rule: Rule
    rule_zh: str
    labs: int = Field(description="labs with this finding")


class MergePair(BaseModel):
    a: LabRef
    b: LabRef
    score: float = Field(description="Dice similarity of the research directions")
    matching_phrases: list[str]


class GroupedLab(LabRef):
    output_last_3_years: int


class SuggestedSurvivor(GroupedLab):
    why: str


class MergeGroup(BaseModel):
    """Labs of one sub-field with near-identical directions (每个细分领域保留一家)."""

    field: str
    sub_field: str
    sub_field_zh: str
    platforms: list[GroupedLab]
    pairs: list[MergePair]
    suggested_survivor: SuggestedSurvivor


class AdviceOut(BaseModel):
    reviewed_on: date
    policy: dict[str, Any] = Field(description="the policy values the review used")
    labs_reviewed: int
    summary: list[RuleCount]
    labs: list[FlaggedLab] = Field(description="labs with at least one finding")
    merge_groups: list[MergeGroup]
