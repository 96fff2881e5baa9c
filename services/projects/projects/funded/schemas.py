from __future__ import annotations

from datetime import date
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from projects.applications.schemas import BudgetLine, IndicatorCategory
from projects.results.schemas import ResultIn
from shared.timestamps import Timestamp

MisconductType = Literal[
    "plagiarism",
    "fabrication",
    "falsification",
    "ghostwriting",
    "false_information",
    "funds_misuse",
    "review_misconduct",
    "duplicate_application",
]


class ProjectOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    code: str
    source: str
    application_id: UUID | None
    call_id: UUID | None
    challenge_id: str | None
    title: str
    organisation_mode: str
    organisation_mode_zh: str = ""
    pi_person_id: UUID
    unit_id: UUID
    competent_department_id: UUID | None = None
    team_person_ids: list[str]
    chief_expert_person_ids: list[str] = []
    platform_id: UUID | None = None
    start_date: date
    end_date: date
    funding_fen: int
    external_funding_fen: int
    long_cycle: bool
    non_consensus: bool
    funding_basis: dict[str, Any]
    state: str
    state_zh: str = ""
    result: str | None
    result_zh: str | None = None
    diligent_exempt: bool
    misconduct: bool
    fault_assessment: FaultAssessmentOut | None
    st_report: STReportOut | None = None
    version: int
    allowed_actions: list[str] = []


class FaultAssessmentOut(BaseModel):
    """容错认定 on the record: the finding, who made it (the department or the experts), when."""

    model_config = ConfigDict(extra="allow")

    outcome: Literal["diligent", "not_diligent", "misconduct"]
    by: str = Field(description="department | evaluation (the experts' verdict)")
    reason: str | None = None
    evidence: str | None = None
    decision_document: str | None = None
    misconduct_type: str | None = None
    person_ids: list[UUID] | None = None
    request_id: UUID | None = Field(None, description="by evaluation: the evaluation it came from")
    at: Timestamp
    actor_id: str


class STReportOut(BaseModel):
    """科技报告 as submitted by the lead."""

    title: str
    number: str
    sha256: str
    access: Literal["public", "delayed", "restricted"]
    submitted_by: str
    submitted_at: Timestamp


class TaskBookMilestone(BaseModel):
    model_config = ConfigDict(extra="forbid")
    due: date
    deliverable: str = Field(min_length=1, max_length=500)
    goals: list[str] = Field(default_factory=list, max_length=20)


class TaskBookIndicator(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: UUID | None = Field(None, description="an existing indicator; absent: a new one")
    name: str = Field(min_length=1, max_length=200)
    category: IndicatorCategory = IndicatorCategory.output
    unit: str = Field("", max_length=40)
    target: float = Field(ge=0, le=1e12)


class TaskBookUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    objectives: str | None = Field(None, max_length=50_000)
    milestones: list[TaskBookMilestone] | None = Field(None, max_length=50)
    budget: list[BudgetLine] | None = Field(None, max_length=20)
    indicators: list[TaskBookIndicator] | None = Field(None, max_length=50)


class ProjectAction(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str | None = Field(None, max_length=2000)
    result: Literal["excellent", "pass", "fail"] | None = Field(None, description="close_filed: 结题结论")
    integrity_override_reason: str | None = Field(
        None,
        max_length=2000,
        description="staff: go on although an integrity record bars the lead, a member or the unit",
    )


class EvaluationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["mid_term", "milestone", "acceptance", "performance"]
    due_date: date
    reason: str | None = Field(None, max_length=2000)


class IndicatorProgress(BaseModel):
    model_config = ConfigDict(extra="forbid")
    indicator_id: UUID
    value: float = Field(ge=0, le=1e12)
    note: str = Field("", max_length=2000)


class AnnualReportCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    year: int = Field(ge=2000, le=2100)
    summary: str = Field(min_length=10, max_length=50_000)
    spent_fen: int = Field(ge=0, le=10**14)
    progress: list[IndicatorProgress] = Field(default_factory=list, max_length=50)


class AnnualReportReview(BaseModel):
    model_config = ConfigDict(extra="forbid")
    comments: str | None = Field(None, max_length=5000, description="审核意见; required when returning")


class ChangeCreate(BaseModel):
    """A change request; which fields it needs depends on its kind."""

    model_config = ConfigDict(extra="forbid")
    kind: Literal["pi_change", "unit_change", "extension", "budget_adjustment", "termination"]
    reason: str = Field(min_length=2, max_length=5000)
    new_pi_person_id: UUID | None = None
    new_unit_id: UUID | None = None
    new_end_date: date | None = None
    budget: list[BudgetLine] | None = Field(None, max_length=20)


class ChangeAction(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str | None = Field(None, max_length=2000)


class ChangeOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: UUID
    project_id: UUID
    kind: str
    kind_zh: str = ""
    state: str
    details: dict[str, Any]
    reason: str
    requested_by: str
    requested_at: Timestamp
    endorsed_by: str | None
    decided_by: str | None
    decided_at: Timestamp | None
    decision_reason: str | None


class FaultAssessmentIn(BaseModel):
    """容错认定 of a failed or terminated project: did the team do its duty?"""

    model_config = ConfigDict(extra="forbid")
    outcome: Literal["diligent", "not_diligent", "misconduct"]
    reason: str = Field(min_length=2, max_length=5000)
    evidence: str = Field("", max_length=5000, description="专家评议意见、审计报告等")
    decision_document: str | None = Field(None, max_length=200)
    misconduct_type: MisconductType | None = None
    person_ids: list[UUID] | None = Field(
        None, max_length=50, description="misconduct: who; default the lead"
    )
    unit_responsible: bool = Field(False, description="misconduct: the unit is responsible too")


class STReportIn(BaseModel):
    """科技报告: the project's science and technology report, a deliverable of acceptance."""

    model_config = ConfigDict(extra="forbid")
    title: str = Field(min_length=2, max_length=300)
    number: str = Field(min_length=2, max_length=60, description="科技报告编号")
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="the report file's digest")
    access: Literal["public", "delayed", "restricted"] = Field(
        "public", description="公开 / 延期公开 / 限制公开"
    )
    results: list[ResultIn] = Field(
        default_factory=list,
        max_length=100,
        description="the results (科技成果) it lists; they enter the results register when acceptance passes",
    )


class PaymentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    voucher: str = Field(min_length=2, max_length=100, description="拨款凭证号")
    integrity_override_reason: str | None = Field(
        None,
        max_length=2000,
        description="staff: go on although an integrity record bars the lead, a member or the unit",
    )


class RaceRoundCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    label: str = Field(min_length=2, max_length=200)
    keep: int = Field(ge=1, le=10, description="teams that continue after this milestone")
    due_date: date


class DisbursementOut(BaseModel):
    """A tranche of the grant: how much, on what condition, and whether it was paid."""

    id: UUID
    seq: int
    amount_fen: int
    condition: str
    condition_zh: str
    state: str
    due_since: Timestamp | None
    paid_at: Timestamp | None
    voucher: str | None
    cancelled_reason: str | None


class AnnualReportOut(BaseModel):
    """年度进展报告 and its review."""

    id: UUID
    year: int
    summary: str
    spent_fen: int
    progress: list[dict[str, Any]]
    submitted_at: Timestamp
    state: str
    state_zh: str
    reviewed_at: Timestamp | None
    review_comments: str | None


class EvaluationOut(BaseModel):
    """An evaluation of the project requested from the evaluation service, and its verdict."""

    request_id: UUID
    kind: str
    state: str
    due_date: date
    result: str | None
    score: float | None
    diligent: bool | None
    remarks: str | None
    indicator_verdicts: list[dict[str, Any]]
    requested_at: Timestamp
    finalized_at: Timestamp | None


class RaceRoundOut(BaseModel):
    """赛马制: a milestone round over the racing teams."""

    id: UUID
    seq: int
    label: str
    keep: int
    state: str
    due_date: date
    outcome: list[dict[str, Any]]
    decided_at: Timestamp | None
    rule_zh: str


class PaymentOut(BaseModel):
    id: UUID
    state: str
    amount_fen: int
    voucher: str | None


class EvaluationRequested(BaseModel):
    request_id: UUID
    kind: str
    state: str
    project_state: str


class RaceRoundOpened(BaseModel):
    id: UUID
    seq: int
    state: str
    keep: int
    rule_zh: str


class TimelineEntry(BaseModel):
    at: Timestamp
    phase: str
    action: str
    label_zh: str
    actor_id: str
    actor_roles: list[str]
    reason: str | None
    from_state: str | None
    to_state: str | None
    details: dict[str, Any]


class TimelineOut(BaseModel):
    """The project's whole history, application to verdict."""

    project_id: UUID
    code: str
    items: list[TimelineEntry]


class PaymentTranche(BaseModel):
    """A line of the task book's payment plan: which share is paid on what condition."""

    seq: int
    percent: int
    condition: str
    label_zh: str
    amount_fen: int


class ChiefExpert(BaseModel):
    """首席专家 of the project, by name."""

    person_id: UUID
    name: str | None = Field(description="null while the person is not yet known to projects")


class TaskBookIndicatorOut(BaseModel):
    """考核指标 as the task book sets it, beside what the application promised."""

    id: UUID
    seq: int
    name: str
    category: str
    unit: str
    promised: float | None
    target: float
    source: str = Field(description="application | challenge | task_book | filing")


class TaskBookOut(BaseModel):
    """任务书: objectives, milestones, budget and payment plan, and its assessment indicators."""

    project_id: UUID
    state: str
    state_zh: str
    objectives: str
    milestones: list[dict[str, Any]]
    budget: list[dict[str, Any]]
    payment_plan: list[PaymentTranche]
    chief_experts: list[ChiefExpert]
    return_reason: str | None
    signed_at: Timestamp | None
    signed_by: str | None = Field(description="the signer's account id")
    signed_by_name: str | None = Field(
        description="the signer's name as it was when they signed, or the account id marked 〔未知〕"
    )
    version: int
    indicators: list[TaskBookIndicatorOut]


class IndicatorPoint(BaseModel):
    """One point on an indicator's path: the promise, the target, a report or a verdict."""

    stage: str
    stage_zh: str
    value: float | None
    verdict: str | None = None
    note: str | None = None
    at: Timestamp | None = None
    source_id: UUID | None = None


class IndicatorPath(BaseModel):
    """An indicator from promise to verdict, with its deviation."""

    id: UUID
    seq: int
    name: str
    category: str
    unit: str
    source: str
    promised: float | None
    target: float
    achieved: float | None
    verdict: str | None
    verdict_stage: str | None
    deviation_from_promise: float | None
    deviation_from_target: float | None
    path: list[IndicatorPoint]


class IndicatorsOut(BaseModel):
    """Every indicator of one project, in task-book order."""

    project_id: UUID
    items: list[IndicatorPath]


class StatisticsRow(BaseModel):
    organisation_mode: str
    organisation_mode_zh: str
    state: str
    state_zh: str
    projects: int
    funding_fen: int
    external_funding_fen: int


class StatisticsOut(BaseModel):
    """Counts and money by organisation mode and state, with the totals."""

    rows: list[StatisticsRow]
    projects: int
    funding_fen: int
