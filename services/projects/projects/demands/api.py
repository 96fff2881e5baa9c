"""技术需求库 over HTTP: units register, staff publish and close; lists, details and exports."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Response, status
from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from projects.demands import service
from projects.demands.models import TechnologyDemand
from projects.demands.schemas import (
    FIELDS_ZH,
    KINDS_ZH,
    DemandAction,
    DemandIn,
    DemandKind,
    DemandOut,
    DemandState,
    TechField,
)
from projects.organisations.models import OrganisationView
from shared.auth import Principal
from shared.db import where_equal
from shared.excel import XLSX_MEDIA_TYPE, Column, export_xlsx
from shared.http.auth import PrincipalDep
from shared.http.deps import PageDep, SessionDep, UnitOfWorkDep
from shared.http.filters import only_filters
from shared.http.schemas import Page

router = APIRouter(prefix="/technology-demands", tags=["technology demands"])
FILTERS = ("kind", "state", "field", "unit_id", "year")


@dataclass(frozen=True)
class DemandFilters:
    kind: DemandKind | None
    state: DemandState | None
    field: TechField | None
    unit_id: UUID | None
    year: int | None

    def apply(self, stmt: Select[Any]) -> Select[Any]:
        return where_equal(
            stmt,
            (TechnologyDemand.kind, self.kind),
            (TechnologyDemand.state, self.state),
            (TechnologyDemand.field, self.field),
            (TechnologyDemand.unit_id, self.unit_id),
            (TechnologyDemand.year, self.year),
        )


def _filters(
    kind: DemandKind | None = None,
    state: DemandState | None = None,
    field: TechField | None = None,
    unit_id: UUID | None = None,
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
) -> DemandFilters:
    return DemandFilters(kind, state, field, unit_id, year)


FiltersDep = Annotated[DemandFilters, Depends(_filters)]


def out(demand: TechnologyDemand, unit_name: str | None, principal: Principal) -> DemandOut:
    return DemandOut(
        id=demand.id,
        code=demand.code,
        kind=demand.kind,
        kind_zh=KINDS_ZH[demand.kind],
        title=demand.title,
        field=demand.field,
        field_zh=FIELDS_ZH[demand.field],
        description=demand.description,
        budget_min_fen=demand.budget_min_fen,
        budget_max_fen=demand.budget_max_fen,
        deadline=demand.deadline,
        unit_id=demand.unit_id,
        unit_name=unit_name,
        year=demand.year,
        state=demand.state,
        state_zh=service.DEMAND_MACHINE.state_labels_zh[demand.state],
        allowed_actions=service.DEMAND_MACHINE.allowed_actions(demand.state, principal.roles),
        registered_by=demand.registered_by,
        registered_at=demand.registered_at,
        published_at=demand.published_at,
        closed_at=demand.closed_at,
        close_reason=demand.close_reason,
    )


def _joined(stmt: Select[Any]) -> Select[TechnologyDemand, str]:
    listed = stmt.subquery()
    return (
        select(TechnologyDemand, OrganisationView.name)
        .join(listed, listed.c.id == TechnologyDemand.id)
        .outerjoin(OrganisationView, OrganisationView.id == TechnologyDemand.unit_id)
    )


async def _one(session: AsyncSession, demand: TechnologyDemand, principal: Principal) -> DemandOut:
    stmt = select(TechnologyDemand.id).where(TechnologyDemand.id == demand.id)
    row, unit_name = (await session.execute(_joined(stmt))).one()
    return out(row, unit_name, principal)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=DemandOut,
    summary="A unit registers a technology demand (技术需求) or an application scenario (应用场景)",
)
async def register_demand(body: DemandIn, uow: UnitOfWorkDep, principal: PrincipalDep) -> DemandOut:
    demand = await service.register(uow, principal, body)
    await uow.commit()
    return await _one(uow.session, demand, principal)


@router.get(
    "",
    response_model=Page[DemandOut],
    summary="The demand register: published rows for everyone, a unit's own rows, all for staff",
    dependencies=[only_filters(*FILTERS)],
)
async def list_demands(
    session: SessionDep, principal: PrincipalDep, page: PageDep, filters: FiltersDep
) -> Page[DemandOut]:
    stmt = filters.apply(service.visible_to(select(TechnologyDemand.id), principal))
    total = (await session.execute(select(func.count()).select_from(stmt.subquery()))).scalar_one()
    rows = await session.execute(
        _joined(stmt).order_by(TechnologyDemand.registered_at.desc()).offset(page.offset).limit(page.size)
    )
    items = [out(d, name, principal) for d, name in rows.all()]
    return Page(items=items, total=total, page=page.page, size=page.size)


EXPORT_COLUMNS = [
    Column("code", "编号", 14),
    Column("kind_zh", "类别", 10),
    Column("title", "名称", 40),
    Column("field_zh", "技术领域", 12),
    Column("unit_name", "登记单位", 30),
    Column("budget_min_yuan", "预算下限（元）", 14),
    Column("budget_max_yuan", "预算上限（元）", 14),
    Column("deadline", "截止日期", 12),
    Column("state_zh", "状态", 12),
    Column("description", "描述", 60),
]


def export_row(d: DemandOut) -> dict[str, Any]:
    return d.model_dump() | {
        "budget_min_yuan": d.budget_min_fen / 100,
        "budget_max_yuan": d.budget_max_fen / 100,
    }


@router.get(
    "/export.xlsx",
    response_class=Response,
    responses={200: {"content": {XLSX_MEDIA_TYPE: {}}, "description": "技术需求库 (.xlsx)"}},
    summary="The filtered register as an Excel file (Chinese headers, amounts in yuan)",
    dependencies=[only_filters(*FILTERS)],
)
async def export_demands(session: SessionDep, principal: PrincipalDep, filters: FiltersDep) -> Response:
    stmt = filters.apply(service.visible_to(select(TechnologyDemand.id), principal))
    rows = await session.execute(_joined(stmt).order_by(TechnologyDemand.code).limit(100_000))
    items = [export_row(out(d, name, principal)) for d, name in rows.all()]
    return Response(
        export_xlsx(EXPORT_COLUMNS, items, sheet="技术需求库"),
        media_type=XLSX_MEDIA_TYPE,
        headers={"Content-Disposition": 'attachment; filename="technology-demands.xlsx"'},
    )


@router.get("/{demand_id}", response_model=DemandOut, summary="One technology demand or scenario")
async def get_demand(demand_id: UUID, session: SessionDep, principal: PrincipalDep) -> DemandOut:
    return await _one(session, await service.get(session, demand_id, principal), principal)


@router.post(
    "/{demand_id}/actions/{action}",
    response_model=DemandOut,
    summary="Staff publish (publish) or close (close, with the reason) a demand or scenario",
)
async def act_on_demand(
    demand_id: UUID, action: str, body: DemandAction, uow: UnitOfWorkDep, principal: PrincipalDep
) -> DemandOut:
    demand = await service.get(uow.session, demand_id, principal, for_update=True)
    await service.act(uow, demand, action, body.reason)
    await uow.commit()
    return await _one(uow.session, demand, principal)
