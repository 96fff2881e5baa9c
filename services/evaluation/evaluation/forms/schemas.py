"""Review forms in and out."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from evaluation.codes import ASSESSMENT_TYPES
from shared.timestamps import Timestamp

AssessmentType = Literal[
    "application_review",
    "lab_assessment",
    "cluster_assessment",
    "mid_term",
    "acceptance",
    "performance",
    "milestone",
]
Code = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")]


class IndicatorIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: Code
    name_zh: str = Field(min_length=1, max_length=100)
    weight: float = Field(gt=0, le=100)
    min_score: float = Field(default=0, ge=0, le=1000)
    max_score: float = Field(default=100, gt=0, le=1000)
    comment_required: bool = False


class PolicyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    trim_from: int = Field(default=5, ge=3, le=50)
    dispersion_std: float = Field(default=12.0, ge=0, le=100)
    dispersion_spread: float = Field(default=30.0, ge=0, le=100)
    minority_share: float = Field(default=0.4, gt=0, le=0.5)
    min_reviewers: int = Field(default=3, ge=1, le=50)
    score_basis: Literal["trimmed_mean", "normalised"] = "trimmed_mean"
    z_min_items: int = Field(default=3, ge=2, le=1000)
    grade_bands: list[tuple[Annotated[float, Field(ge=0, le=100)], Code]] = Field(default=[], max_length=10)


class FormIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: Code
    name: str = Field(min_length=1, max_length=200)
    assessment_type: AssessmentType
    programme_code: str | None = Field(default=None, min_length=1, max_length=40)
    variant: Literal["free_exploration", "goal_oriented"] | None = None
    indicators: list[IndicatorIn] = Field(min_length=1, max_length=20)
    comment_min_length: int = Field(default=20, ge=0, le=2000)
    recommendation_required: bool = True
    policy: PolicyIn = PolicyIn()


class FormOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: UUID
    code: str
    name: str
    assessment_type: str
    assessment_type_zh: str = ""
    programme_code: str | None
    variant: str | None
    indicators: list[dict[str, Any]]
    comment_min_length: int
    recommendation_required: bool
    policy: dict[str, Any]
    active: bool
    version: int
    created_at: Timestamp

    @classmethod
    def of(cls, form: Any) -> FormOut:
        out = cls.model_validate(form)
        out.assessment_type_zh = ASSESSMENT_TYPES.get(form.assessment_type, form.assessment_type)
        return out
