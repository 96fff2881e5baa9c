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
    "platform_assessment",
    "cluster_assessment",
    "mid_term",
    "acceptance",
    "performance",
    "milestone",
]
Code = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
Variant = Literal[
    "free_exploration",
    "goal_oriented",
    "technology_innovation_centre",
    "clinical_research_centre",
    "new_rd_institution",
    "academician_workstation",
    "pilot_base",
]


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
    variant: Variant | None = Field(
        default=None, description="key labs: the orientation; other platforms: the platform kind"
    )
    indicators: list[IndicatorIn] = Field(min_length=1, max_length=20)
    comment_min_length: int = Field(default=20, ge=0, le=2000)
    recommendation_required: bool = True
    policy: PolicyIn = PolicyIn()


class IndicatorOut(BaseModel):
    code: str
    name_zh: str
    weight: float
    min_score: float
    max_score: float
    comment_required: bool


class PolicyOut(BaseModel):
    """How the form's sheets are aggregated (去掉最高最低分、离散度、等级分数线); a form stored
    before a setting existed answers that setting's default."""

    trim_from: int = Field(default=5, description="from this many reviewers on, drop the highest and lowest")
    dispersion_std: float = 12.0
    dispersion_spread: float = 30.0
    minority_share: float = 0.4
    min_reviewers: int = 3
    score_basis: str = "trimmed_mean"
    z_min_items: int = 3
    grade_bands: list[tuple[float, str]] = Field(
        default=[], description="[lowest score, result code], highest first"
    )


class FormOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: UUID
    code: str
    name: str
    assessment_type: str
    assessment_type_zh: str = ""
    programme_code: str | None
    variant: str | None
    indicators: list[IndicatorOut]
    comment_min_length: int
    recommendation_required: bool
    policy: PolicyOut
    active: bool
    version: int
    created_at: Timestamp

    @classmethod
    def of(cls, form: Any) -> FormOut:
        out = cls.model_validate(form)
        out.assessment_type_zh = ASSESSMENT_TYPES.get(form.assessment_type, form.assessment_type)
        return out
