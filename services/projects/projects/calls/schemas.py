from __future__ import annotations

from datetime import date
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from shared.timestamps import Timestamp


class Eligibility(BaseModel):
    """Who may apply (data of the call; every rule is checked with evidence at formal review)."""

    model_config = ConfigDict(extra="forbid")

    unit_types: list[str] = Field(default_factory=list, description="empty: any unit type")
    regions: list[str] = Field(default_factory=list, description="region codes; empty: any")
    max_applicant_age: int | None = Field(None, ge=18, le=100)
    applicant_titles: list[str] = Field(default_factory=list, description="empty: any title")
    enterprise_matching_ratio: float = Field(0, ge=0, le=10, description="matching fund ÷ grant, enterprises")
    must_be_registered_unit: bool = True
    ethics_review_required: bool = Field(
        False,
        description="科研伦理: medicine, life sciences, AI calls — an application records its ethics review",
    )


class Limits(BaseModel):
    """限项: how many running projects and applications a person may hold, by role."""

    model_config = ConfigDict(extra="forbid")

    lead_running_max: int = Field(1, ge=0, le=20, description="负责人 running projects")
    chief_expert_running_max: int = Field(1, ge=0, le=20, description="首席专家 running projects")
    core_running_max: int = Field(2, ge=0, le=20, description="骨干 running projects")
    participant_running_max: int = Field(3, ge=0, le=20, description="参与 running projects")
    lead_applications_per_year: int = Field(1, ge=0, le=20, description="负责人 applications per call year")
    member_applications_per_year: int = Field(2, ge=0, le=20, description="as team member per call year")
    failed_bar_years: int = Field(
        3, ge=0, le=10, description="years a failed lead may not lead (尽职免责 exempt)"
    )


class ChallengeGoal(BaseModel):
    """One goal of a 榜单: it becomes an assessment indicator of the team that takes it."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    unit: str = Field("", max_length=40)
    target: float = Field(ge=0, le=1e12)
    category: str = Field("technical", pattern="^(output|economic|social|technical)$")


class Challenge(BaseModel):
    """A 揭榜挂帅 榜单 or a 赛马制 task: goals, reward, how many teams run in parallel."""

    model_config = ConfigDict(extra="forbid")
    id: str = Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_-]+$")
    title: str = Field(min_length=2, max_length=300)
    goals: list[ChallengeGoal] = Field(min_length=1, max_length=30)
    reward_fen: int = Field(
        0,
        ge=0,
        le=10**14,
        description="fen. 揭榜挂帅: the 榜单's reward, which is the whole grant of the team that takes "
        "it: the mode's start-up share on signing, the rest on delivery (GET /modes)",
    )
    teams: int = Field(1, ge=1, le=10, description="赛马制: teams funded in parallel")
    deadline: date | None = None


class CallCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    programme_code: str = Field(max_length=40)
    year: int = Field(ge=2020, le=2100)
    title: str = Field(min_length=2, max_length=300)
    guideline: str = Field("", max_length=100_000)
    directions: list[str] = Field(default_factory=list, max_length=200)
    organisation_mode: str = Field("open_competition", max_length=30)
    opens_at: Timestamp
    closes_at: Timestamp
    budget_fen: int = Field(ge=0, le=10**14)
    min_funding_fen: int = Field(0, ge=0, le=10**14)
    max_funding_fen: int = Field(ge=0, le=10**14)
    projects_to_fund: int = Field(ge=0, le=100_000)
    eligibility: Eligibility = Field(default_factory=Eligibility)
    limits: Limits = Field(default_factory=Limits)
    dedup_threshold: float = Field(0.6, gt=0, le=1, description="查重 Jaccard threshold")
    budget_form: Literal["categories", "lump_sum"] = Field(
        "categories",
        description="lump_sum: 包干制 — one budget line without categories (basic research calls)",
    )
    challenges: list[Challenge] = Field(
        default_factory=list, max_length=100, description="揭榜挂帅 榜单 / 赛马制 tasks"
    )


class CallUpdate(BaseModel):
    """Changes to a call; a published call may change only its window and text, with a reason."""

    model_config = ConfigDict(extra="forbid")

    title: str | None = Field(None, min_length=2, max_length=300)
    guideline: str | None = Field(None, max_length=100_000)
    directions: list[str] | None = Field(None, max_length=200)
    opens_at: Timestamp | None = None
    closes_at: Timestamp | None = None
    budget_fen: int | None = Field(None, ge=0, le=10**14)
    min_funding_fen: int | None = Field(None, ge=0, le=10**14)
    max_funding_fen: int | None = Field(None, ge=0, le=10**14)
    projects_to_fund: int | None = Field(None, ge=0, le=100_000)
    eligibility: Eligibility | None = None
    limits: Limits | None = None
    dedup_threshold: float | None = Field(None, gt=0, le=1)
    reason: str | None = Field(None, max_length=500)


class CallAction(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str | None = Field(None, max_length=2000)


class CallOut(BaseModel):
    id: UUID
    code: str
    programme_code: str
    plan_category: str
    year: int
    title: str
    guideline: str
    directions: list[str]
    organisation_mode: str
    opens_at: Timestamp
    closes_at: Timestamp
    budget_fen: int
    min_funding_fen: int
    max_funding_fen: int
    projects_to_fund: int
    eligibility: dict[str, Any]
    limits: dict[str, Any]
    dedup_threshold: float
    challenges: list[dict[str, Any]] = []
    budget_form: str = "categories"
    state: str
    state_zh: str
    open_now: bool
    allowed_actions: list[str]
    version: int


class GuidelineSuggestionOut(BaseModel):
    """A direction a lab cluster suggested for next year's guideline."""

    model_config = ConfigDict(from_attributes=True)

    suggestion_id: UUID
    cluster_id: UUID
    cluster_name: str
    year: int
    title: str
    directions: list[str]
    field: str | None
    rationale: str | None
    received_at: Timestamp


class JobOut(BaseModel):
    """A long job over a call (e.g. 查重 of every application) and how far it has come."""

    id: UUID
    kind: str
    kind_zh: str
    call_id: UUID
    state: str
    state_zh: str
    total: int
    done: int
    progress: float = Field(description="done ÷ total, 0 to 1")
    result: dict[str, Any] | None
    error: str | None
    cancel_requested: bool
    heartbeat_at: Timestamp | None
    lease_until: Timestamp | None
    created_by: str | None
    created_at: Timestamp
    finished_at: Timestamp | None
