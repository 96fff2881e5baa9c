from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Query, status
from pydantic import BaseModel
from sqlalchemy import and_, func, not_, select

from registry.clusters import service
from registry.clusters.machine import ACTION_LABELS, CLUSTER_MACHINE
from registry.clusters.models import Cluster, ClusterAssessment, ClusterWorkPlan, GuidelineSuggestion
from registry.clusters.schemas import (
    AssessmentIn,
    ClusterAction,
    ClusterCreate,
    ClusterOut,
    ClusterUpdate,
    GuidelineIn,
    GuidelineUpdate,
    WorkPlanIn,
)
from registry.db import kit
from registry.reference import FieldCode
from shared.auth import Principal, Role
from shared.clock import utcnow
from shared.errors import NotFound
from shared.http.auth import PrincipalDep, require_roles
from shared.http.deps import PageDep, SessionDep, UnitOfWorkDep
from shared.http.schemas import Page

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


@router.get("/lifecycle")
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
    state: str | None = None,
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
    occurred_at: datetime
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


@router.get("/{cluster_id}/assessments")
async def list_assessments(cluster_id: UUID, session: SessionDep, _: PrincipalDep) -> dict[str, Any]:
    rows = await session.execute(
        select(ClusterAssessment)
        .where(ClusterAssessment.cluster_id == cluster_id)
        .order_by(ClusterAssessment.year)
    )
    return {
        "items": [
            {
                "year": a.year,
                "result": a.result,
                "score": a.score,
                "required_measures": a.required_measures,
                "source": a.source,
                "achieved": a.achieved or {},
                "against_plan": a.against_plan,
            }
            for a in rows.scalars()
        ]
    }


class WorkPlanOut(BaseModel):
    year: int
    tasks: list[str]
    indicators: list[dict[str, Any]]
    version: int
    updated_by: str
    updated_at: datetime

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


@router.post("/{cluster_id}/guideline-suggestions", status_code=status.HTTP_201_CREATED)
async def suggest_guideline(
    cluster_id: UUID, body: GuidelineIn, uow: UnitOfWorkDep, principal: PrincipalDep
) -> dict[str, Any]:
    s = await service.suggest_guideline(uow, principal, await locked(uow, cluster_id), body)
    await uow.commit()
    return {"id": s.id, "cluster_id": s.cluster_id, "year": s.year, "title": s.title}


def _suggestion_out(s: GuidelineSuggestion) -> dict[str, Any]:
    return {
        "id": s.id,
        "cluster_id": s.cluster_id,
        "year": s.year,
        "title": s.title,
        "directions": s.directions,
        "field": s.field,
        "rationale": s.rationale,
        "version": s.version,
        "created_at": s.created_at,
        "created_by": s.created_by,
    }


@router.get("/{cluster_id}/guideline-suggestions", summary="The cluster's 指南建议, newest year first")
async def list_guidelines(cluster_id: UUID, session: SessionDep, _: PrincipalDep) -> dict[str, Any]:
    rows = await session.execute(
        select(GuidelineSuggestion)
        .where(GuidelineSuggestion.cluster_id == cluster_id)
        .order_by(GuidelineSuggestion.year.desc(), GuidelineSuggestion.id)
    )
    return {"items": [_suggestion_out(s) for s in rows.scalars()]}


@router.patch("/{cluster_id}/guideline-suggestions/{suggestion_id}")
async def revise_guideline(
    cluster_id: UUID,
    suggestion_id: UUID,
    body: GuidelineUpdate,
    uow: UnitOfWorkDep,
    principal: PrincipalDep,
) -> dict[str, Any]:
    c = await locked(uow, cluster_id)
    s = await uow.session.get(GuidelineSuggestion, suggestion_id, with_for_update=True)
    if s is None or s.cluster_id != c.id:
        raise NotFound("no such guideline suggestion of this cluster", "未找到该实验室群的指南建议")
    s = await service.revise_guideline(uow, principal, c, s, body)
    await uow.commit()
    return _suggestion_out(s)
