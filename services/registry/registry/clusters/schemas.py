from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from registry.clusters.machine import CLUSTER_MACHINE, STATE_LABELS
from registry.clusters.models import Cluster
from registry.reference import FIELD_LABELS, FieldCode
from shared.clock import utcnow
from shared.timestamps import Timestamp


class RoleHolder(BaseModel):
    """Someone holding a cluster role; ``person_id`` when they are in the register."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=2, max_length=100)
    unit: str | None = Field(default=None, max_length=200)
    person_id: UUID | None = None
    province: str = Field(default="内蒙古", max_length=20, description="区外人员填所在省份")


class MemberUnit(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=2, max_length=200)
    unit_id: UUID | None = None
    kind: str | None = Field(default=None, max_length=40, description="高校/院所/企业/医院…")
    province: str = Field(default="内蒙古", max_length=20)


class ServiceOrganisation(MemberUnit):
    """A service organisation (服务机构) and what it does for the cluster; one may serve several."""

    duties: list[str] = Field(
        default_factory=list,
        max_length=20,
        description="职责，如资源数据采集、对接活动、成员沟通协调",
    )


class Committee(BaseModel):
    model_config = ConfigDict(extra="forbid")

    chair: RoleHolder | None = None
    members: list[RoleHolder] = Field(default_factory=list, max_length=60)


class Secretariat(BaseModel):
    model_config = ConfigDict(extra="forbid")

    secretary_general: RoleHolder | None = None
    deputies: list[RoleHolder] = Field(default_factory=list, max_length=10)
    liaisons: list[RoleHolder] = Field(default_factory=list, max_length=40)


class ClusterFields(BaseModel):
    """The cluster's documents. A field left out is kept as it is; the lists and the committee
    and secretariat are never null (send ``[]`` or ``{}`` to empty them), as they are stored."""

    model_config = ConfigDict(extra="forbid")

    lead_platform_ids: list[UUID] = Field(default_factory=list, max_length=10)
    director: RoleHolder | None = None
    vice_directors: list[RoleHolder] = Field(default_factory=list, max_length=10)
    expert_committee: Committee = Field(default_factory=Committee)
    member_units: list[MemberUnit] = Field(default_factory=list, max_length=200)
    secretariat: Secretariat = Field(default_factory=Secretariat)
    service_organisations: list[ServiceOrganisation] = Field(default_factory=list, max_length=20)
    work_plan: str | None = Field(default=None, max_length=4000, description="组建工作计划")
    industry_cluster: str | None = Field(default=None, max_length=200)
    plan_document: str | None = Field(default=None, max_length=200)
    approval_document: str | None = Field(default=None, max_length=200)


class ClusterCreate(ClusterFields):
    """The intent (组建意向). Every part the seed lists is required; one left out is named in
    the 422 together with all the others, so they are optional here and checked by the rules."""

    name: str | None = Field(default=None, min_length=4, max_length=200, description="实验室群名称")
    field: FieldCode | None = Field(default=None, description="领域方向")
    direction: str | None = Field(default=None, min_length=4, max_length=2000, description="研究方向")


class ClusterUpdate(ClusterFields):
    reason: str | None = Field(default=None, max_length=500)


class ClusterAction(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=2, max_length=2000)
    document_number: str | None = Field(default=None, max_length=100)


class AssessmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    year: int = Field(ge=2000, le=2100)
    result: Literal["pass", "fail"]
    score: float | None = Field(default=None, ge=0, le=100)
    required_measures: list[str] = Field(
        default_factory=list, max_length=20, description="整改措施，如更换群主任、更换服务机构"
    )
    achieved: dict[str, float] = Field(
        default_factory=dict,
        max_length=40,
        description="完成值, by indicator code of the year's work plan",
    )


class Indicator(BaseModel):
    """One assessment indicator (考核指标) with the year's target."""

    model_config = ConfigDict(extra="forbid")

    code: str = Field(pattern=r"^[a-z][a-z0-9_]{1,39}$", description="如 joint_projects")
    name: str = Field(min_length=2, max_length=100, description="如 联合攻关项目数")
    target: float = Field(ge=0, description="目标值")
    unit: str | None = Field(default=None, max_length=20, description="如 项、人、万元")


class WorkPlanIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tasks: list[Annotated[str, Field(min_length=2, max_length=500)]] = Field(
        min_length=1, max_length=50, description="目标任务"
    )
    indicators: list[Indicator] = Field(min_length=1, max_length=40, description="考核指标")
    reason: str | None = Field(default=None, max_length=500, description="why (kept in history)")


class GuidelineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    year: int = Field(ge=2000, le=2100)
    title: str = Field(min_length=4, max_length=300)
    directions: list[str] = Field(min_length=1, max_length=20)
    field: FieldCode
    rationale: str = Field(min_length=4, max_length=4000)


class GuidelineUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    year: int | None = Field(default=None, ge=2000, le=2100)
    title: str | None = Field(default=None, min_length=4, max_length=300)
    directions: list[str] | None = Field(default=None, min_length=1, max_length=20)
    field: FieldCode | None = None
    rationale: str | None = Field(default=None, min_length=4, max_length=4000)
    reason: str | None = Field(default=None, max_length=500, description="why (kept in history)")


class VettingIn(BaseModel):
    """The expert committee's outcome on a suggestion (专家委员会把关意见)."""

    model_config = ConfigDict(extra="forbid")

    outcome: Literal["passed", "passed_with_changes", "rejected"] = Field(
        description="passed 通过 / passed_with_changes 修改后通过 / rejected 不通过"
    )
    comments: str | None = Field(default=None, max_length=4000, description="把关意见")


Period = Annotated[
    str, Field(pattern=r"^\d{4}(-(H[12]|Q[1-4]))?$", description="报送周期: 2026, 2026-H1 or 2026-Q3")
]
Entry = Annotated[str, Field(min_length=2, max_length=500)]


class MemberReportIn(BaseModel):
    """One member unit's report for a period: talent, results, needs and resources."""

    model_config = ConfigDict(extra="forbid")

    period: Period
    member_name: str = Field(min_length=2, max_length=200, description="成员单位名称, as listed")
    talent: list[Entry] = Field(default_factory=list, max_length=100, description="人才")
    results: list[Entry] = Field(default_factory=list, max_length=100, description="成果")
    needs: list[Entry] = Field(default_factory=list, max_length=100, description="需求")
    resources: list[Entry] = Field(default_factory=list, max_length=100, description="资源")


def rectification_overdue(c: Cluster, today: date) -> bool:
    return (
        c.state == "under_rectification"
        and c.rectification_until is not None
        and c.rectification_until < today
    )


def _records(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


class ClusterOut(BaseModel):
    id: UUID
    name: str
    field: str
    field_zh: str
    direction: str
    state: str
    state_zh: str
    allowed_actions: list[str]
    lead_platform_ids: list[str]
    director: dict[str, Any] | None
    vice_directors: list[dict[str, Any]]
    expert_committee: dict[str, Any]
    member_units: list[dict[str, Any]]
    secretariat: dict[str, Any]
    service_organisations: list[dict[str, Any]]
    industry_cluster: str | None
    work_plan: str | None
    plan_document: str | None
    approval_document: str | None
    rectification_until: date | None
    rectification_overdue: bool = Field(description="整改期限已过而整改仍未通过")
    required_measures: list[str]
    version: int
    updated_at: Timestamp

    @classmethod
    def of(cls, c: Cluster, today: date | None = None) -> ClusterOut:
        return cls(
            id=c.id,
            name=c.name,
            field=c.field,
            field_zh=FIELD_LABELS.get(c.field, c.field),
            direction=c.direction,
            state=c.state,
            state_zh=STATE_LABELS.get(c.state, c.state),
            allowed_actions=CLUSTER_MACHINE.allowed_actions(c.state),
            # A stored JSON null (rows written before nulls were refused) reads as empty.
            lead_platform_ids=[str(i) for i in c.lead_platform_ids or []],
            director=c.director if isinstance(c.director, dict) else None,
            vice_directors=_records(c.vice_directors),
            expert_committee=c.expert_committee if isinstance(c.expert_committee, dict) else {},
            member_units=_records(c.member_units),
            secretariat=c.secretariat if isinstance(c.secretariat, dict) else {},
            service_organisations=_records(c.service_organisations),
            industry_cluster=c.industry_cluster,
            work_plan=c.work_plan,
            plan_document=c.plan_document,
            approval_document=c.approval_document,
            rectification_until=c.rectification_until,
            rectification_overdue=rectification_overdue(c, today or utcnow().date()),
            required_measures=[str(m) for m in c.required_measures or []],
            version=c.version,
            updated_at=c.updated_at,
        )


#: The states a cluster's list may be filtered by (``STATE_LABELS`` of clusters.machine).
ClusterState = Literal[
    "intent",
    "structure",
    "service_organisations",
    "plan",
    "established",
    "under_rectification",
    "restructuring",
    "revoked",
]


class AssessmentOut(BaseModel):
    """One annual assessment outcome (年度考核)."""

    year: int
    result: str
    score: float | None
    required_measures: list[str]
    source: str = Field(description="'staff', or the evaluation event it came from")
    achieved: dict[str, float] = Field(description="indicator: value achieved")
    against_plan: dict[str, Any] | None = Field(
        description="the achieved values against the year's work plan"
    )


class GuidelineCreated(BaseModel):
    id: UUID
    cluster_id: UUID
    year: int
    title: str
    vetting_status: str
    vetting_status_zh: str


class GuidelineOut(BaseModel):
    """A guideline suggestion (指南建议) with where its vetting stands."""

    id: UUID
    cluster_id: UUID
    year: int
    title: str
    directions: list[str]
    field: str
    rationale: str
    version: int
    created_at: Timestamp
    created_by: str
    vetting_status: str
    vetting_status_zh: str
    vetting_comments: str | None
    sent_to_projects: bool = Field(description="a passed version has been sent to projects")
