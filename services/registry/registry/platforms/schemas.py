from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal, Self
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from registry.codes import REGION_LABELS, Region
from registry.contract import MachineOut
from registry.platforms import kinds
from registry.platforms.machine import PLATFORM_MACHINE, STATE_LABELS
from registry.platforms.models import Platform, PlatformAssessment, PlatformOutput
from registry.platforms.tenure import terms_served
from registry.reference import (
    ASSESSMENT_GRADES,
    FIELD_LABELS,
    INDUSTRY_CHAINS,
    LAB_TYPES,
    PLATFORM_KINDS,
    SUB_FIELD_LABELS,
    SUB_FIELD_PARENT,
    FieldCode,
    IndustryChainCode,
    KindCode,
    LabTypeCode,
    MemberRoleCode,
    SubFieldCode,
)
from shared.clock import utcnow
from shared.errors import FieldIssue, ValidationFailed
from shared.timestamps import Timestamp

Kind = KindCode
LabType = LabTypeCode
IndustryChain = IndustryChainCode
MemberRole = MemberRoleCode
StateCode = Literal["proposed", "under_construction", "operating", "under_rectification", "revoked", "merged"]
Direction = Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=200)]
PlatformName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=4, max_length=200)]


class DirectorIn(BaseModel):
    """A director or deputy with their term (任期)."""

    model_config = ConfigDict(extra="forbid")

    person_id: UUID
    term_start: date
    term_end: date
    full_time: bool = True

    @model_validator(mode="after")
    def _term_order(self) -> Self:
        if self.term_end <= self.term_start:
            raise ValidationFailed(
                [
                    FieldIssue(
                        "term_end",
                        "term_order",
                        "the term must end after it starts",
                        "任期结束日期应晚于开始日期",
                    )
                ]
            )
        return self


class Committee(BaseModel):
    model_config = ConfigDict(extra="forbid")

    chair_person_id: UUID | None = None
    member_person_ids: list[UUID] = Field(default_factory=list, max_length=60)


def _check_sub_field(field: str | None, sub_field: str | None) -> None:
    if field and sub_field and SUB_FIELD_PARENT.get(sub_field) != field:
        raise ValidationFailed(
            [
                FieldIssue(
                    "sub_field",
                    "sub_field_of_other_field",
                    f"'{sub_field}' is not a sub-field of '{field}'",
                    f"「{SUB_FIELD_LABELS.get(sub_field, sub_field)}」"
                    f"不属于「{FIELD_LABELS.get(field, field)}」领域",
                )
            ]
        )


class PlatformCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: PlatformName = Field(description="平台名称")
    kind: Kind = Field(description="平台类别")
    host_unit_id: UUID = Field(description="依托单位")
    co_builder_unit_ids: list[UUID] = Field(default_factory=list, max_length=20, description="共建单位")
    lab_type: LabType = Field(description="实验室类型")
    field: FieldCode = Field(description="领域")
    sub_field: SubFieldCode = Field(description="细分领域")
    industry_chain: IndustryChain | None = Field(default=None, description="产业链")
    research_directions: list[Direction] = Field(min_length=1, max_length=12, description="研究方向")
    region: Region = Field(description="所在盟市")
    approved_on: date | None = Field(default=None, description="批准日期")
    approval_document: str | None = Field(default=None, max_length=100, description="批准文号")
    director: DirectorIn | None = Field(default=None, description="主任")
    deputy_directors: list[DirectorIn] = Field(default_factory=list, max_length=6, description="副主任")
    academic_committee: Committee = Field(default_factory=Committee, description="学术委员会")
    staff_count: int = Field(default=0, ge=0, le=100_000, description="固定人员数")
    annual_funding_fen: int = Field(default=0, ge=0, le=10**14, description="年度经费（分）")
    kind_attributes: dict[str, Any] = Field(
        default_factory=dict,
        description="类别特有属性 (checked against the kind's schema: registry.platforms.kinds)",
    )
    initial_state: Literal["proposed", "under_construction", "operating"] = Field(
        default="proposed", description="registering an existing platform: its present state"
    )
    code: str | None = Field(
        default=None, pattern=r"^[A-Z]{3}-\d{4}-\d{3,4}$", description="readable code; generated if absent"
    )

    @model_validator(mode="after")
    def _sub_field_belongs(self) -> Self:
        _check_sub_field(self.field, self.sub_field)
        self.kind_attributes = kinds.validate(self.kind, self.kind_attributes)
        return self


class PlatformUpdate(BaseModel):
    """Registered details; directions and director change through 充实/调整 actions instead."""

    model_config = ConfigDict(extra="forbid")

    name: PlatformName | None = None
    co_builder_unit_ids: list[UUID] | None = Field(default=None, max_length=20)
    lab_type: LabType | None = None
    industry_chain: IndustryChain | None = None
    approved_on: date | None = None
    approval_document: str | None = Field(default=None, max_length=100)
    academic_committee: Committee | None = None
    staff_count: int | None = Field(default=None, ge=0, le=100_000)
    annual_funding_fen: int | None = Field(default=None, ge=0, le=10**14)
    kind_attributes: dict[str, Any] | None = Field(
        default=None, description="replaces the kind-specific attributes; checked against the platform's kind"
    )
    reason: str | None = Field(default=None, max_length=500)


class ActionRequest(BaseModel):
    """One lifecycle step or reorganisation action, with its justification (依据)."""

    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=2, max_length=2000, description="理由")
    document_number: str | None = Field(default=None, max_length=100, description="文件文号")
    attachments: list[str] = Field(default_factory=list, max_length=20, description="附件引用")
    into_id: UUID | None = Field(default=None, description="整合: the surviving platform")
    research_directions: list[Direction] | None = Field(default=None, min_length=1, max_length=12)
    director: DirectorIn | None = None
    deputy_directors: list[DirectorIn] | None = Field(default=None, max_length=6)
    sub_field: SubFieldCode | None = None
    kind: Kind | None = Field(default=None, description="晋升/降级/变更类别: the new kind")
    kind_attributes: dict[str, Any] | None = Field(
        default=None, description="晋升/降级/变更类别: the new kind's attributes (checked against its schema)"
    )
    approved_on: date | None = Field(
        default=None, description="晋升/降级/变更类别: date of the approval document (default today)"
    )
    duplicates_reviewed: bool = Field(
        default=False,
        description="批准建设: staff reviewed the labs with duplicate directions and approve anyway",
    )


class MemberIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    person_id: UUID
    role: MemberRole = "core_member"
    joined_on: date | None = None


class OutputIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    papers: int = Field(default=0, ge=0, le=100_000)
    patents: int = Field(default=0, ge=0, le=100_000)
    standards: int = Field(default=0, ge=0, le=100_000)
    awards: int = Field(default=0, ge=0, le=100_000)
    transferred_results: int = Field(default=0, ge=0, le=100_000)
    national_projects: int = Field(default=0, ge=0, le=100_000)


class OutputOut(OutputIn):
    year: int
    total: int

    @classmethod
    def of(cls, o: PlatformOutput) -> OutputOut:
        return cls(
            year=o.year,
            papers=o.papers,
            patents=o.patents,
            standards=o.standards,
            awards=o.awards,
            transferred_results=o.transferred_results,
            national_projects=o.national_projects,
            total=o.total,
        )


class PlatformOut(BaseModel):
    id: UUID
    code: str
    name: str
    kind: str
    kind_zh: str
    state: str
    state_zh: str
    allowed_actions: list[str]
    host_unit_id: UUID
    co_builder_unit_ids: list[str]
    lab_type: str
    lab_type_zh: str
    field: str
    field_zh: str
    sub_field: str
    sub_field_zh: str
    industry_chain: str | None
    industry_chain_zh: str | None
    research_directions: list[str]
    region: str
    region_zh: str
    approved_on: date | None
    approval_document: str | None
    director_person_id: UUID | None
    director_term_start: date | None
    director_term_end: date | None
    director_full_time: bool
    director_since: date | None = Field(description="任职起始 (uninterrupted tenure of the present director)")
    director_terms_served: int | None = Field(
        description="连任届数: derived from the appointments and the director_term_years policy value"
    )
    deputy_directors: list[dict[str, Any]]
    academic_committee: dict[str, Any]
    staff_count: int
    annual_funding_fen: int
    kind_attributes: dict[str, Any]
    merged_into_id: UUID | None
    former_codes: list[str] = Field(default_factory=list, description="原编号 (before a change of kind)")
    version: int
    created_at: Timestamp
    updated_at: Timestamp

    @classmethod
    def of(cls, p: Platform, former_codes: list[str] | None = None, *, term_years: int) -> PlatformOut:
        return cls(
            id=p.id,
            code=p.code,
            name=p.name,
            kind=p.kind,
            kind_zh=PLATFORM_KINDS[p.kind],
            state=p.state,
            state_zh=STATE_LABELS[p.state],
            allowed_actions=PLATFORM_MACHINE.allowed_actions(p.state),
            host_unit_id=p.host_unit_id,
            co_builder_unit_ids=list(p.co_builder_unit_ids),
            lab_type=p.lab_type,
            lab_type_zh=LAB_TYPES[p.lab_type],
            field=p.field,
            field_zh=FIELD_LABELS[p.field],
            sub_field=p.sub_field,
            sub_field_zh=SUB_FIELD_LABELS.get(p.sub_field, p.sub_field),
            industry_chain=p.industry_chain,
            industry_chain_zh=INDUSTRY_CHAINS.get(p.industry_chain) if p.industry_chain else None,
            research_directions=list(p.research_directions),
            region=p.region,
            region_zh=REGION_LABELS[Region(p.region)],
            approved_on=p.approved_on,
            approval_document=p.approval_document,
            director_person_id=p.director_person_id,
            director_term_start=p.director_term_start,
            director_term_end=p.director_term_end,
            director_full_time=p.director_full_time,
            director_since=p.director_since,
            director_terms_served=terms_served(p.director_since, utcnow().date(), term_years),
            deputy_directors=list(p.deputy_directors),
            academic_committee=dict(p.academic_committee),
            staff_count=p.staff_count,
            annual_funding_fen=p.annual_funding_fen,
            kind_attributes=dict(p.kind_attributes),
            merged_into_id=p.merged_into_id,
            former_codes=list(former_codes or []),
            version=p.version,
            created_at=p.created_at,
            updated_at=p.updated_at,
        )


class PlatformRef(BaseModel):
    id: UUID
    code: str
    name: str
    kind: str
    kind_zh: str
    state: str
    state_zh: str
    field: str
    field_zh: str
    sub_field: str
    region: str
    host_unit_id: UUID

    @classmethod
    def of(cls, p: Platform) -> PlatformRef:
        return cls(
            id=p.id,
            code=p.code,
            name=p.name,
            kind=p.kind,
            kind_zh=PLATFORM_KINDS[p.kind],
            state=p.state,
            state_zh=STATE_LABELS[p.state],
            field=p.field,
            field_zh=FIELD_LABELS[p.field],
            sub_field=p.sub_field,
            region=p.region,
            host_unit_id=p.host_unit_id,
        )


class AssessmentOut(BaseModel):
    """A finalized assessment as evaluation announced it (评估结果)."""

    id: UUID
    period: str
    grade: str
    grade_zh: str
    score: float | None
    finalized_at: Timestamp
    remarks: str | None

    @classmethod
    def of(cls, a: PlatformAssessment) -> AssessmentOut:
        return cls(
            id=a.id,
            period=a.period,
            grade=a.grade,
            grade_zh=ASSESSMENT_GRADES.get(a.grade, a.grade),
            score=a.score,
            finalized_at=a.finalized_at,
            remarks=a.remarks,
        )


class SupportCandidateOut(BaseModel):
    """A lab on the support-candidate list (支持候选) with the assessment that put it there."""

    id: UUID
    listed_at: Timestamp
    platform: PlatformRef
    evidence: AssessmentOut


class RevocationCaseOut(BaseModel):
    """A 撤销（取消资格）case and the assessments it cites."""

    id: UUID
    status: Literal["open", "revoked", "dismissed"]
    status_zh: str
    allowed_actions: list[str]
    platform: PlatformRef
    assessments: list[AssessmentOut]
    opened_at: Timestamp
    opened_reason: str
    decided_at: Timestamp | None
    decided_by: str | None
    decision_reason: str | None
    decision_document: str | None
    version: int


CASE_STATUS_LABELS = {"open": "待决定", "revoked": "已撤销", "dismissed": "终止（保留资格）"}


class CaseDecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decision: Literal["revoke", "dismiss"] = Field(
        description="revoke: 撤销（取消资格）; dismiss: 保留，继续整改"
    )
    reason: str = Field(min_length=2, max_length=2000, description="理由")
    document_number: str | None = Field(default=None, max_length=100, description="文件文号")


class PlatformMachineOut(MachineOut):
    action_labels: dict[str, str] = Field(description="every action's Chinese label (充实, 调整 …)")


class HistoryEntryOut(BaseModel):
    """One step of a platform's append-only history (沿革)."""

    occurred_at: Timestamp
    actor_id: str
    action: str
    action_zh: str
    from_state: str | None
    to_state: str
    reason: str | None
    document_number: str | None
    attachments: list[str]
    details: dict[str, Any]
    related_platform_id: UUID | None


class DuplicateMatch(BaseModel):
    platform_id: UUID
    code: str
    name: str
    kind: str
    kind_zh: str
    state: str
    state_zh: str
    research_directions: list[str]
    score: float = Field(description="Dice similarity of the research directions' character bigrams")
    matching_phrases: list[str]


class DuplicatesOut(BaseModel):
    """Labs of the same sub-field whose research directions duplicate this one's (唯一性)."""

    platform_id: UUID
    code: str
    threshold: float = Field(description="the policy's merge_similarity_threshold")
    matches: list[DuplicateMatch] = Field(description="most similar first")


class AppointmentOut(BaseModel):
    person_id: UUID
    started_on: date
    ended_on: date | None
    terms_served: int | None
    recorded_at: Timestamp
    recorded_by: str


class AppointmentsOut(BaseModel):
    """Director appointment history (主任任职记录), oldest first."""

    term_years: int = Field(description="years per director term (policy director_term_years)")
    items: list[AppointmentOut]


class MemberOut(BaseModel):
    person_id: UUID
    role: str
    joined_on: date | None
