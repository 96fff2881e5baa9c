from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Query, status
from pydantic import BaseModel, Field
from sqlalchemy import and_, func, not_, select

from registry.access import require
from registry.clusters import funds, reports, service
from registry.clusters.machine import ACTION_LABELS, CLUSTER_MACHINE, VETTING_LABELS
from registry.clusters.models import (
    Cluster,
    ClusterAssessment,
    ClusterWorkPlan,
    GuidelineSuggestion,
    MemberReport,
    OperatingFund,
)
from registry.clusters.schemas import (
    AssessmentIn,
    AssessmentOut,
    ClusterAction,
    ClusterCreate,
    ClusterOut,
    ClusterState,
    ClusterUpdate,
    GuidelineCreated,
    GuidelineIn,
    GuidelineOut,
    GuidelineUpdate,
    MemberReportIn,
    Period,
    VettingIn,
    WorkPlanIn,
)
from registry.contract import MachineOut
from registry.db import kit
from registry.reference import FieldCode
from shared.auth import Principal, Role
from shared.clock import utcnow
from shared.errors import NotFound
from shared.http.auth import PrincipalDep, require_roles
from shared.http.deps import PageDep, SessionDep, UnitOfWorkDep
from shared.http.schemas import Page
from shared.timestamps import Timestamp

router = APIRouter(prefix="/clusters", tags=["clusters"])
StaffDep = Annotated[Principal, Depends(require_roles(Role.department_staff, Role.administrator))]
Action = Literal[
    "define_structure",
    "select_service_organisations",
    "submit_plan",
    "establish",
    "open_rectification",
    "close_rectification",
    "require_restructure",
    "reorganise",
    "revoke",
]


async def locked(uow: UnitOfWorkDep, cluster_id: UUID) -> Cluster:
    c = await uow.session.get(Cluster, cluster_id, with_for_update=True)
    if c is None:
        raise NotFound("no such cluster", "未找到该实验室群")
    return c


@router.get("/lifecycle", response_model=MachineOut, summary="The build and assessment state machine")
async def lifecycle(_: PrincipalDep) -> dict[str, object]:
    return CLUSTER_MACHINE.describe()


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ClusterOut)
async def propose(body: ClusterCreate, uow: UnitOfWorkDep, _: StaffDep) -> ClusterOut:
    c = await service.propose(uow, body)
    await uow.commit()
    return ClusterOut.of(c)


@router.get("", response_model=Page[ClusterOut])
async def list_clusters(
    session: SessionDep,
    _: PrincipalDep,
    page: PageDep,
    field: FieldCode | None = None,
    state: ClusterState | None = None,
    rectification_overdue: Annotated[
        bool | None, Query(description="true: 整改期限已过仍在整改的实验室群 (staff's follow-up list)")
    ] = None,
    sort: Literal["name", "-updated_at"] = "name",
) -> Page[ClusterOut]:
    stmt = select(Cluster)
    if field:
        stmt = stmt.where(Cluster.field == field)
    if state:
        stmt = stmt.where(Cluster.state == state)
    if rectification_overdue is not None:
        overdue = and_(
            Cluster.state == "under_rectification",
            Cluster.rectification_until.is_not(None),
            Cluster.rectification_until < utcnow().date(),
        )
        stmt = stmt.where(overdue if rectification_overdue else not_(overdue))
    total = (await session.execute(select(func.count()).select_from(stmt.subquery()))).scalar_one()
    order = Cluster.name.asc() if sort == "name" else Cluster.updated_at.desc()
    rows = await session.execute(stmt.order_by(order, Cluster.id).offset(page.offset).limit(page.size))
    return Page(items=[ClusterOut.of(c) for c in rows.scalars()], total=total, page=page.page, size=page.size)


@router.get("/{cluster_id}", response_model=ClusterOut)
async def get_cluster(cluster_id: UUID, session: SessionDep, _: PrincipalDep) -> ClusterOut:
    c = await session.get(Cluster, cluster_id)
    if c is None:
        raise NotFound("no such cluster", "未找到该实验室群")
    return ClusterOut.of(c)


class ClusterHistoryEntry(BaseModel):
    occurred_at: Timestamp
    actor_id: str | None
    action: str
    action_zh: str
    from_state: str | None
    to_state: str | None
    reason: str | None
    details: dict[str, Any]


@router.get(
    "/{cluster_id}/history",
    response_model=Page[ClusterHistoryEntry],
    summary="Append-only history of the cluster's steps: who, when, what, why (oldest first)",
)
async def cluster_history(
    cluster_id: UUID, session: SessionDep, _: PrincipalDep, page: PageDep
) -> Page[ClusterHistoryEntry]:
    if await session.get(Cluster, cluster_id) is None:
        raise NotFound("no such cluster", "未找到该实验室群")
    t = kit.audit_log
    where = (t.c.entity_type == "cluster", t.c.entity_id == str(cluster_id))
    total = (await session.execute(select(func.count()).select_from(t).where(*where))).scalar_one()
    rows = (
        await session.execute(
            select(t).where(*where).order_by(t.c.occurred_at, t.c.id).offset(page.offset).limit(page.size)
        )
    ).mappings()
    items = []
    for r in rows:
        action = str(r["action"]).removeprefix("cluster.")
        changes = dict(r["changes"] or {})
        states = changes.pop("state", None)
        before, after = states if isinstance(states, list) and len(states) == 2 else (None, None)
        items.append(
            ClusterHistoryEntry(
                occurred_at=r["occurred_at"],
                actor_id=r["actor_id"],
                action=action,
                action_zh=ACTION_LABELS.get(action, action),
                from_state=before,
                to_state=after,
                reason=r["reason"],
                details=changes,
            )
        )
    return Page(items=items, total=total, page=page.page, size=page.size)


@router.patch("/{cluster_id}", response_model=ClusterOut)
async def update_cluster(
    cluster_id: UUID, body: ClusterUpdate, uow: UnitOfWorkDep, principal: PrincipalDep
) -> ClusterOut:
    c = await service.update(uow, principal, await locked(uow, cluster_id), body)
    await uow.commit()
    return ClusterOut.of(c)


@router.post("/{cluster_id}/actions/{action}", response_model=ClusterOut)
async def cluster_action(
    cluster_id: UUID, action: Action, body: ClusterAction, uow: UnitOfWorkDep, principal: PrincipalDep
) -> ClusterOut:
    c = await service.act(uow, principal, await locked(uow, cluster_id), action, body.reason)
    await uow.commit()
    return ClusterOut.of(c)


@router.post(
    "/{cluster_id}/assessments",
    response_model=ClusterOut,
    summary="Record an annual outcome (until evaluation sends it)",
)
async def record_assessment(
    cluster_id: UUID, body: AssessmentIn, uow: UnitOfWorkDep, _: StaffDep
) -> ClusterOut:
    c = await service.assess(uow, await locked(uow, cluster_id), body, finalized_at=utcnow(), source="staff")
    await uow.commit()
    return ClusterOut.of(c)


@router.get(
    "/{cluster_id}/assessments",
    response_model=Page[AssessmentOut],
    summary="The cluster's annual assessment outcomes, oldest year first",
)
async def list_assessments(cluster_id: UUID, session: SessionDep, _: PrincipalDep) -> Page[AssessmentOut]:
    rows = await session.execute(
        select(ClusterAssessment)
        .where(ClusterAssessment.cluster_id == cluster_id)
        .order_by(ClusterAssessment.year)
    )
    return Page.whole(
        [
            AssessmentOut(
                year=a.year,
                result=a.result,
                score=a.score,
                required_measures=list(a.required_measures or []),
                source=a.source,
                achieved=a.achieved or {},
                against_plan=a.against_plan,
            )
            for a in rows.scalars()
        ]
    )


class WorkPlanOut(BaseModel):
    year: int
    tasks: list[str]
    indicators: list[dict[str, Any]]
    version: int
    updated_by: str
    updated_at: Timestamp

    @classmethod
    def of(cls, p: ClusterWorkPlan) -> WorkPlanOut:
        return cls(
            year=p.year,
            tasks=list(p.tasks),
            indicators=list(p.indicators),
            version=p.version,
            updated_by=p.updated_by,
            updated_at=p.updated_at,
        )


@router.put(
    "/{cluster_id}/work-plans/{year}",
    response_model=WorkPlanOut,
    summary="The secretariat sets the year's work plan: tasks and indicators with targets",
)
async def record_work_plan(
    cluster_id: UUID,
    year: Annotated[int, Path(ge=2000, le=2100)],
    body: WorkPlanIn,
    uow: UnitOfWorkDep,
    principal: PrincipalDep,
) -> WorkPlanOut:
    p = await service.record_work_plan(uow, principal, await locked(uow, cluster_id), year, body)
    await uow.commit()
    return WorkPlanOut.of(p)


@router.get(
    "/{cluster_id}/work-plans",
    response_model=Page[WorkPlanOut],
    summary="The cluster's annual work plans, newest year first",
)
async def list_work_plans(
    cluster_id: UUID, session: SessionDep, _: PrincipalDep, page: PageDep
) -> Page[WorkPlanOut]:
    if await session.get(Cluster, cluster_id) is None:
        raise NotFound("no such cluster", "未找到该实验室群")
    where = ClusterWorkPlan.cluster_id == cluster_id
    total = (
        await session.execute(select(func.count()).select_from(ClusterWorkPlan).where(where))
    ).scalar_one()
    rows = await session.execute(
        select(ClusterWorkPlan)
        .where(where)
        .order_by(ClusterWorkPlan.year.desc())
        .offset(page.offset)
        .limit(page.size)
    )
    return Page(
        items=[WorkPlanOut.of(p) for p in rows.scalars()], total=total, page=page.page, size=page.size
    )


@router.get(
    "/{cluster_id}/work-plans/{year}",
    response_model=WorkPlanOut,
    summary="The cluster's work plan for one year",
)
async def get_work_plan(
    cluster_id: UUID, year: Annotated[int, Path(ge=2000, le=2100)], session: SessionDep, _: PrincipalDep
) -> WorkPlanOut:
    plan = (
        await session.execute(
            select(ClusterWorkPlan).where(
                ClusterWorkPlan.cluster_id == cluster_id, ClusterWorkPlan.year == year
            )
        )
    ).scalar_one_or_none()
    if plan is None:
        raise NotFound(f"no work plan for {year}", f"未找到该实验室群{year}年度工作计划")
    return WorkPlanOut.of(plan)


@router.post(
    "/{cluster_id}/guideline-suggestions",
    status_code=status.HTTP_201_CREATED,
    response_model=GuidelineCreated,
)
async def suggest_guideline(
    cluster_id: UUID, body: GuidelineIn, uow: UnitOfWorkDep, principal: PrincipalDep
) -> GuidelineCreated:
    s = await service.suggest_guideline(uow, principal, await locked(uow, cluster_id), body)
    await uow.commit()
    return GuidelineCreated(
        id=s.id,
        cluster_id=s.cluster_id,
        year=s.year,
        title=s.title,
        vetting_status=s.vetting_status,
        vetting_status_zh=VETTING_LABELS[s.vetting_status],
    )


def _suggestion_out(s: GuidelineSuggestion) -> GuidelineOut:
    return GuidelineOut(
        id=s.id,
        cluster_id=s.cluster_id,
        year=s.year,
        title=s.title,
        directions=list(s.directions),
        field=s.field,
        rationale=s.rationale,
        version=s.version,
        created_at=s.created_at,
        created_by=s.created_by,
        vetting_status=s.vetting_status,
        vetting_status_zh=VETTING_LABELS.get(s.vetting_status, s.vetting_status),
        vetting_comments=s.vetting_comments,
        sent_to_projects=s.emitted_version is not None,
    )


@router.get(
    "/{cluster_id}/guideline-suggestions",
    response_model=Page[GuidelineOut],
    summary="The cluster's 指南建议, newest year first",
)
async def list_guidelines(cluster_id: UUID, session: SessionDep, _: PrincipalDep) -> Page[GuidelineOut]:
    rows = await session.execute(
        select(GuidelineSuggestion)
        .where(GuidelineSuggestion.cluster_id == cluster_id)
        .order_by(GuidelineSuggestion.year.desc(), GuidelineSuggestion.id)
    )
    return Page.whole([_suggestion_out(s) for s in rows.scalars()])


@router.get(
    "/{cluster_id}/guideline-suggestions/{suggestion_id}",
    response_model=GuidelineOut,
    summary="One 指南建议 of the cluster",
)
async def get_guideline(
    cluster_id: UUID, suggestion_id: UUID, session: SessionDep, _: PrincipalDep
) -> GuidelineOut:
    s = await session.get(GuidelineSuggestion, suggestion_id)
    if s is None or s.cluster_id != cluster_id:
        raise NotFound("no such guideline suggestion of this cluster", "未找到该实验室群的指南建议")
    return _suggestion_out(s)


@router.patch("/{cluster_id}/guideline-suggestions/{suggestion_id}", response_model=GuidelineOut)
async def revise_guideline(
    cluster_id: UUID,
    suggestion_id: UUID,
    body: GuidelineUpdate,
    uow: UnitOfWorkDep,
    principal: PrincipalDep,
) -> GuidelineOut:
    c = await locked(uow, cluster_id)
    s = await uow.session.get(GuidelineSuggestion, suggestion_id, with_for_update=True)
    if s is None or s.cluster_id != c.id:
        raise NotFound("no such guideline suggestion of this cluster", "未找到该实验室群的指南建议")
    s = await service.revise_guideline(uow, principal, c, s, body)
    await uow.commit()
    return _suggestion_out(s)


class VettingOut(BaseModel):
    suggestion_id: UUID
    version: int
    vetting_status: str
    vetting_status_zh: str
    vetting_comments: str | None
    vetted_by_name: str | None = Field(description="专家委员会主任")
    vetted_at: Timestamp | None
    sent_to_projects: bool = Field(description="a passed version has been sent to projects")


@router.post(
    "/{cluster_id}/guideline-suggestions/{suggestion_id}/vetting",
    response_model=VettingOut,
    summary="The expert committee's vetting of a suggestion (专家委员会把关): 通过, 修改后通过, 不通过",
)
async def vet_guideline(
    cluster_id: UUID,
    suggestion_id: UUID,
    body: VettingIn,
    uow: UnitOfWorkDep,
    principal: PrincipalDep,
) -> VettingOut:
    c = await locked(uow, cluster_id)
    s = await uow.session.get(GuidelineSuggestion, suggestion_id, with_for_update=True)
    if s is None or s.cluster_id != c.id:
        raise NotFound("no such guideline suggestion of this cluster", "未找到该实验室群的指南建议")
    s = await service.vet_guideline(uow, principal, c, s, body)
    out = VettingOut(
        suggestion_id=s.id,
        version=s.version,
        vetting_status=s.vetting_status,
        vetting_status_zh=VETTING_LABELS[s.vetting_status],
        vetting_comments=s.vetting_comments,
        vetted_by_name=s.vetted_by_name,
        vetted_at=s.vetted_at,
        sent_to_projects=s.emitted_version is not None,
    )
    await uow.commit()
    return out


class MemberReportOut(BaseModel):
    id: UUID
    cluster_id: UUID
    period: str
    member_name: str
    unit_id: UUID | None
    talent: list[str]
    results: list[str]
    needs: list[str]
    resources: list[str]
    submitted_by: str
    submitted_at: Timestamp

    @classmethod
    def of(cls, r: MemberReport) -> MemberReportOut:
        return cls(
            id=r.id,
            cluster_id=r.cluster_id,
            period=r.period,
            member_name=r.member_name,
            unit_id=r.unit_id,
            talent=list(r.talent),
            results=list(r.results),
            needs=list(r.needs),
            resources=list(r.resources),
            submitted_by=r.submitted_by,
            submitted_at=r.submitted_at,
        )


class MissingReport(BaseModel):
    member_name: str
    unit_id: UUID | None
    province: str | None


@router.post(
    "/{cluster_id}/member-reports",
    status_code=status.HTTP_201_CREATED,
    response_model=MemberReportOut,
    summary="A member unit reports its talent, results, needs and resources for a period to the secretariat",
)
async def submit_member_report(
    cluster_id: UUID, body: MemberReportIn, uow: UnitOfWorkDep, principal: PrincipalDep
) -> MemberReportOut:
    r = await reports.submit(uow, principal, await locked(uow, cluster_id), body)
    out = MemberReportOut.of(r)
    await uow.commit()
    return out


async def _run_by(session: SessionDep, principal: Principal, cluster_id: UUID) -> Cluster:
    c = await session.get(Cluster, cluster_id)
    if c is None:
        raise NotFound("no such cluster", "未找到该实验室群")
    require(
        service.may_run_cluster(principal, c),
        "read this cluster's member reports",
        "查看该实验室群成员报送信息",
    )
    return c


@router.get(
    "/{cluster_id}/member-reports",
    response_model=Page[MemberReportOut],
    summary="The secretariat's list of member reports (newest period first)",
)
async def list_member_reports(
    cluster_id: UUID,
    session: SessionDep,
    principal: PrincipalDep,
    page: PageDep,
    period: Period | None = None,
) -> Page[MemberReportOut]:
    await _run_by(session, principal, cluster_id)
    where = [MemberReport.cluster_id == cluster_id]
    if period:
        where.append(MemberReport.period == period)
    total = (await session.execute(select(func.count()).select_from(MemberReport).where(*where))).scalar_one()
    rows = await session.execute(
        select(MemberReport)
        .where(*where)
        .order_by(MemberReport.period.desc(), MemberReport.member_name)
        .offset(page.offset)
        .limit(page.size)
    )
    return Page(
        items=[MemberReportOut.of(r) for r in rows.scalars()], total=total, page=page.page, size=page.size
    )


@router.get(
    "/{cluster_id}/member-reports/missing",
    response_model=Page[MissingReport],
    summary="Member units that have not reported for the period (未报送)",
)
async def list_missing_member_reports(
    cluster_id: UUID, period: Period, session: SessionDep, principal: PrincipalDep
) -> Page[MissingReport]:
    c = await _run_by(session, principal, cluster_id)
    rows = await session.execute(
        select(MemberReport.member_name).where(MemberReport.cluster_id == c.id, MemberReport.period == period)
    )
    reported = set(rows.scalars())
    return Page.whole(
        [
            MissingReport(member_name=m["name"], unit_id=m.get("unit_id"), province=m.get("province"))
            for m in reports.members(c)
            if m["name"] not in reported
        ]
    )


@router.get(
    "/{cluster_id}/member-reports/{report_id}",
    response_model=MemberReportOut,
    summary="One member unit's report (the secretariat's reading)",
)
async def get_member_report(
    cluster_id: UUID, report_id: UUID, session: SessionDep, principal: PrincipalDep
) -> MemberReportOut:
    await _run_by(session, principal, cluster_id)
    r = await session.get(MemberReport, report_id)
    if r is None or r.cluster_id != cluster_id:
        raise NotFound("no such member report of this cluster", "未找到该实验室群的成员报送信息")
    return MemberReportOut.of(r)


class OperatingFundOut(BaseModel):
    year: int
    organisation_name: str
    organisation_unit_id: UUID | None
    basis: str = Field(description="first_year 成立第一年 / assessment 按年度考核结果")
    assessment_year: int | None
    grade: str | None = Field(description="excellent / pass / fail (null in the first year)")
    grade_zh: str
    cluster_amount_fen: int = Field(description="the cluster's amount for the year, in fen")
    amount_fen: int = Field(description="this organisation's share, in fen")
    policy_values: dict[str, Any]
    recorded_by: str
    recorded_at: Timestamp

    @classmethod
    def of(cls, f: OperatingFund) -> OperatingFundOut:
        return cls(
            year=f.year,
            organisation_name=f.organisation_name,
            organisation_unit_id=f.organisation_unit_id,
            basis=f.basis,
            assessment_year=f.assessment_year,
            grade=f.grade,
            grade_zh=funds.GRADE_LABELS[f.grade or "first_year"],
            cluster_amount_fen=f.cluster_amount_fen,
            amount_fen=f.amount_fen,
            policy_values=dict(f.policy_values),
            recorded_by=f.recorded_by,
            recorded_at=f.recorded_at,
        )


@router.post(
    "/{cluster_id}/operating-funds/{year}",
    status_code=status.HTTP_201_CREATED,
    response_model=Page[OperatingFundOut],
    summary="Record the year's operating funds per service organisation (first year fixed, then by grade)",
)
async def record_operating_funds(
    cluster_id: UUID,
    year: Annotated[int, Path(ge=2000, le=2100)],
    uow: UnitOfWorkDep,
    _: StaffDep,
) -> Page[OperatingFundOut]:
    rows = await funds.record_year(uow, await locked(uow, cluster_id), year)
    out = Page.whole([OperatingFundOut.of(r) for r in rows])
    await uow.commit()
    return out


@router.get(
    "/{cluster_id}/operating-funds",
    response_model=Page[OperatingFundOut],
    summary="Operating funds recorded for the cluster's service organisations, newest year first",
)
async def list_operating_funds(
    cluster_id: UUID, session: SessionDep, _: PrincipalDep
) -> Page[OperatingFundOut]:
    if await session.get(Cluster, cluster_id) is None:
        raise NotFound("no such cluster", "未找到该实验室群")
    rows = await session.execute(
        select(OperatingFund)
        .where(OperatingFund.cluster_id == cluster_id)
        .order_by(OperatingFund.year.desc(), OperatingFund.organisation_name)
    )
    return Page.whole([OperatingFundOut.of(f) for f in rows.scalars()])
