from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from projects.modes.schemas import VerificationRecord
from shared.timestamps import Timestamp


class TeamRole(StrEnum):
    lead = "lead"  # 负责人
    chief_expert = "chief_expert"  # 首席专家 (重大项目首席专家负责制, seed 003/004)
    core = "core"  # 骨干
    participant = "participant"  # 参与


TEAM_ROLE_ZH = {"lead": "负责人", "chief_expert": "首席专家", "core": "骨干", "participant": "参与人员"}


class BudgetCategory(StrEnum):
    equipment = "equipment"
    business = "business"
    labour = "labour"
    indirect = "indirect"
    lump_sum = "lump_sum"  # 包干制: one line, no categories


BUDGET_CATEGORY_ZH = {
    "equipment": "设备费",
    "business": "业务费",
    "labour": "劳务费",
    "indirect": "间接费用",
    "lump_sum": "包干经费",
}


class TeamMember(BaseModel):
    model_config = ConfigDict(extra="forbid")
    person_id: UUID
    name: str = Field(max_length=100)
    role: TeamRole
    unit_id: UUID | None = None


class BudgetLine(BaseModel):
    model_config = ConfigDict(extra="forbid")
    category: BudgetCategory
    amount_fen: int = Field(ge=0, le=10**13)
    note: str = Field("", max_length=500)


class Milestone(BaseModel):
    model_config = ConfigDict(extra="forbid")
    due: date
    deliverable: str = Field(max_length=500)


class Attachment(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(max_length=200)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    size: int = Field(ge=0, le=500 * 1024 * 1024)
    media_type: str = Field("application/pdf", max_length=100)


class DeclaredProject(BaseModel):
    """A national, municipal or other project the applicant declares (counts toward 限项)."""

    model_config = ConfigDict(extra="forbid")
    title: str = Field(max_length=300)
    source: str = Field(max_length=60, description="national / municipal / other")
    role: TeamRole
    running: bool = True
    ends_on: date | None = None


class IndicatorCategory(StrEnum):
    output = "output"  # 成果产出
    economic = "economic"  # 经济效益
    social = "social"  # 社会效益
    technical = "technical"  # 技术指标


class PromisedIndicator(BaseModel):
    """An indicator the application promises; it becomes a 考核指标 of the task book."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    category: IndicatorCategory
    unit: str = Field("", max_length=40)
    promised: float = Field(ge=0, le=1e12)


class AchievedResult(BaseModel):
    """后补助: a result achieved before applying, with the money the unit spent on it."""

    model_config = ConfigDict(extra="forbid")
    title: str = Field(min_length=2, max_length=300)
    evidence: str = Field("", max_length=2000)
    spent_fen: int = Field(ge=0, le=10**14)


class Consortium(BaseModel):
    """创新联合体: member units applying together under the applicant unit as lead (牵头单位);
    重点产业链专项 requires one led by an enterprise (seed 003)."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=2, max_length=200)
    member_unit_ids: list[UUID] = Field(min_length=1, max_length=30, description="besides the lead unit")
    agreement: str = Field(min_length=2, max_length=200, description="共建协议: document reference")


class EthicsReview(BaseModel):
    """科研伦理审查: the ethics committee's approval of research on people, animals or AI."""

    model_config = ConfigDict(extra="forbid")
    committee: str = Field(min_length=2, max_length=200, description="伦理委员会")
    approval_number: str = Field(min_length=2, max_length=100, description="审查批件号")
    approved_on: date
    document_sha256: str | None = Field(None, pattern=r"^[0-9a-f]{64}$")


class FollowOn(BaseModel):
    """滚动支持 after an excellent result, or 容错继续支持 of a diligent failed project (seed 004:
    对…履行了勤勉和忠实义务的,经组织专家评议,确有重大探索价值的,继续支持其选择不同技术路线开展研究)."""

    model_config = ConfigDict(extra="forbid")
    kind: Literal["rolling", "continued"]
    project_id: UUID = Field(description="the earlier project, led by the same applicant")
    route_change: str | None = Field(
        None, max_length=5000, description="continued: the different technical route taken now"
    )


class ApplicationFields(BaseModel):
    model_config = ConfigDict(extra="forbid")

    competent_department_id: UUID | None = None
    title: str | None = Field(None, min_length=2, max_length=300)
    abstract: str | None = Field(None, max_length=3000)
    content: str | None = Field(None, max_length=200_000)
    keywords: list[str] | None = Field(None, max_length=10)
    discipline_codes: list[str] | None = Field(None, max_length=5)
    team: list[TeamMember] | None = Field(None, max_length=50)
    budget: list[BudgetLine] | None = Field(None, max_length=20)
    matching_fund_fen: int | None = Field(None, ge=0, le=10**14)
    plan: str | None = Field(None, max_length=50_000)
    milestones: list[Milestone] | None = Field(None, max_length=50)
    attachments: list[Attachment] | None = Field(None, max_length=50)
    declared_projects: list[DeclaredProject] | None = Field(None, max_length=50)
    avoid_person_ids: list[UUID] | None = Field(None, max_length=3)
    challenge_id: str | None = Field(None, max_length=40, description="揭榜挂帅 / 赛马制: the task taken")
    indicators: list[PromisedIndicator] | None = Field(None, max_length=50)
    results: list[AchievedResult] | None = Field(None, max_length=50, description="后补助: results achieved")
    consortium: Consortium | None = Field(None, description="创新联合体 applying, led by the applicant unit")
    ethics_review: EthicsReview | None = Field(None, description="科研伦理审查 where the call requires it")
    follow_on: FollowOn | None = Field(None, description="滚动支持 / 容错继续支持 of an earlier project")
    platform_id: UUID | None = Field(None, description="the key lab or other platform that undertakes it")


class ApplicationCreate(ApplicationFields):
    call_id: UUID
    unit_id: UUID
    title: str = Field(min_length=2, max_length=300)


class ApplicationAction(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str | None = Field(None, max_length=2000)
    comments: str | None = Field(None, max_length=5000)
    pledge_accepted: bool = Field(False, description="submit: 科研诚信承诺书 accepted")
    matching_fund_fen: int | None = Field(None, ge=0, le=10**14, description="recommend: 匹配资金")
    commitment: str | None = Field(None, max_length=2000, description="recommend: 推荐承诺")
    funding_fen: int | None = Field(None, ge=0, le=10**14, description="approve: amount granted")
    review_due: date | None = None
    start_date: date | None = None
    end_date: date | None = None
    long_cycle: bool = Field(False, description="approve: 长周期 project (longer term)")
    funding_basis: Literal["review", "non_consensus"] = Field(
        "review", description="approve: 非共识 funds on a minority of strong expert opinions"
    )
    supporting_experts: int | None = Field(None, ge=0, le=100, description="非共识: experts strongly for")
    justification: str | None = Field(None, max_length=5000, description="一事一议: why decided individually")
    decision_document: str | None = Field(None, max_length=200, description="一事一议: 会议纪要 etc.")
    integrity_override_reason: str | None = Field(
        None,
        max_length=2000,
        description="staff: go on although an integrity record bars the lead, a member or the unit",
    )


class ApplicationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    code: str
    call_id: UUID
    year: int
    programme_code: str
    applicant_person_id: UUID
    unit_id: UUID
    competent_department_id: UUID | None
    title: str
    abstract: str
    content: str
    keywords: list[str]
    discipline_codes: list[str]
    team: list[dict[str, Any]]
    budget: list[dict[str, Any]]
    requested_funding_fen: int
    matching_fund_fen: int = Field(description="fen: the applicant's own matching funds (自筹经费)")
    recommended_matching_fund_fen: int | None = Field(
        None, description="fen: the matching funds the competent department committed (推荐单位匹配资金)"
    )
    plan: str
    milestones: list[dict[str, Any]]
    attachments: list[dict[str, Any]]
    declared_projects: list[dict[str, Any]]
    state: str
    state_zh: str = ""
    revision: int
    version: int
    submitted_at: Timestamp | None
    formal_report: FormalReport | None
    review: dict[str, Any] | None
    review_score: float | None
    decision_reason: str | None
    approved_funding_fen: int | None
    challenge_id: str | None = None
    indicators: list[dict[str, Any]] = []
    results: list[dict[str, Any]] = []
    verification: VerificationRecord | None = Field(None, description="后补助: the results verified")
    consortium: dict[str, Any] | None = None
    ethics_review: dict[str, Any] | None = None
    follow_on: dict[str, Any] | None = None
    platform_id: UUID | None = None
    allowed_actions: list[str] = []


class ApplicationRow(BaseModel):
    """One line of a work-queue list (no long texts)."""

    model_config = ConfigDict(from_attributes=True)

    id: UUID
    code: str
    call_id: UUID
    year: int
    title: str
    applicant_person_id: UUID
    unit_id: UUID
    competent_department_id: UUID | None
    requested_funding_fen: int
    state: str
    state_zh: str = ""
    review_score: float | None
    submitted_at: Timestamp | None
    updated_at: Timestamp


class CheckResult(BaseModel):
    """One automatic formal-review check: the rule, the value checked, the evidence, the verdict."""

    model_config = ConfigDict(extra="allow")

    check: str
    rule: str
    rule_zh: str
    value: Any = None
    evidence: Any = None
    passed: bool
    index_pending: int | None = Field(None, description="duplicates: texts not yet indexed")


class FormalReport(BaseModel):
    """形式审查 report: every check with its evidence; passed when all passed."""

    checked_at: Timestamp
    submission_date: date
    passed: bool
    checks: list[CheckResult]


class StepOut(BaseModel):
    """One step of an application: who, when, from which state to which, why."""

    model_config = ConfigDict(from_attributes=True)

    action: str
    from_state: str | None
    to_state: str
    actor_id: str
    actor_name: str = Field("", description="the actor's name, or the account id marked 〔未知〕")
    actor_roles: list[str]
    reason: str | None
    comments: str | None
    revision: int
    at: Timestamp


class VersionOut(BaseModel):
    """A submitted version: its full text and digest."""

    model_config = ConfigDict(from_attributes=True)

    revision: int
    digest: str
    content: dict[str, Any]
    created_at: Timestamp


class SealOut(BaseModel):
    """A seal (承诺 / 依托单位审核 / 推荐) on a revision and digest; valid while the text is unchanged."""

    id: UUID
    kind: str
    kind_zh: str = ""
    actor_id: str
    actor_name: str = Field("", description="the signatory's name, or the account id marked 〔未知〕")
    unit_id: UUID | None
    unit_name: str | None = Field(None, description="the sealing unit's name, or its id marked 〔未知〕")
    at: Timestamp
    revision: int
    digest: str
    statement: dict[str, Any]
    valid: bool


class SealsOut(BaseModel):
    current_digest: str
    revision: int
    items: list[SealOut]


class FundingRow(BaseModel):
    rank: int
    application_id: UUID
    code: str
    title: str
    review_score: float | None
    recommendation: str | None
    requested_fen: int
    cumulative_fen: int
    requested_yuan: float
    cumulative_yuan: float
    above_line: bool
    state: str
    state_zh: str


class FundingTable(BaseModel):
    """立项排序: ranked by score, with the funding line drawn by number and budget."""

    call_id: UUID
    budget_fen: int
    projects_to_fund: int
    rule: str
    rule_zh: str
    rows: list[FundingRow]


class PrintedSeal(BaseModel):
    kind: str
    kind_zh: str
    at: Timestamp
    valid: bool


class PrintedCheck(BaseModel):
    """What a verification code printed on paper proves; nothing beyond what the paper shows."""

    code: str
    found: bool
    application_code: str | None = None
    revision: int | None = None
    digest: str | None = None
    submitted_at: Timestamp | None = None
    latest_revision: int | None = None
    is_latest_revision: bool | None = None
    state: str | None = None
    state_zh: str | None = None
    seals: list[PrintedSeal] = []
