"""Periodic lists over HTTP: staff freeze one; everyone signed in reads and downloads them."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Response, status
from sqlalchemy import func, select

from projects.funded.machines import STAFF
from projects.periodic_lists import service
from projects.periodic_lists.models import PeriodicList
from projects.periodic_lists.schemas import (
    KINDS_ZH,
    ListEntry,
    ListFreeze,
    ListKind,
    PeriodicListOut,
    PeriodicListSummary,
)
from shared.auth import Principal
from shared.excel import XLSX_MEDIA_TYPE, Column, export_xlsx
from shared.http.auth import PrincipalDep, require_roles
from shared.http.deps import PageDep, SessionDep, UnitOfWorkDep
from shared.http.filters import only_filters
from shared.http.schemas import Page

router = APIRouter(prefix="/periodic-lists", tags=["results"])
StaffDep = Annotated[Principal, Depends(require_roles(*STAFF))]


def _summary(listed: PeriodicList) -> dict[str, Any]:
    return {
        "id": listed.id,
        "code": listed.code,
        "kind": listed.kind,
        "kind_zh": KINDS_ZH[listed.kind],
        "period": listed.period,
        "year": listed.year,
        "starts_on": listed.starts_on,
        "ends_on": listed.ends_on,
        "title": listed.title,
        "note": listed.note,
        "entry_count": listed.entry_count,
        "frozen_by": listed.frozen_by,
        "frozen_at": listed.frozen_at,
    }


def _out(listed: PeriodicList) -> PeriodicListOut:
    return PeriodicListOut(**_summary(listed), entries=[ListEntry.model_validate(e) for e in listed.entries])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=PeriodicListOut,
    summary="Freeze the period's 成果清单 (verified results) or 应用场景清单 (published scenarios)",
)
async def freeze_periodic_list(body: ListFreeze, uow: UnitOfWorkDep, _: StaffDep) -> PeriodicListOut:
    listed = await service.freeze(uow, body)
    await uow.commit()
    return _out(listed)


@router.get(
    "",
    response_model=Page[PeriodicListSummary],
    summary="Frozen lists, newest period first",
    dependencies=[only_filters("kind", "year")],
)
async def list_periodic_lists(
    session: SessionDep,
    _: PrincipalDep,
    page: PageDep,
    kind: ListKind | None = None,
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
) -> Page[PeriodicListSummary]:
    stmt = select(PeriodicList)
    if kind is not None:
        stmt = stmt.where(PeriodicList.kind == kind)
    if year is not None:
        stmt = stmt.where(PeriodicList.year == year)
    total = (await session.execute(select(func.count()).select_from(stmt.subquery()))).scalar_one()
    rows = await session.execute(
        stmt.order_by(PeriodicList.starts_on.desc(), PeriodicList.code).offset(page.offset).limit(page.size)
    )
    items = [PeriodicListSummary(**_summary(x)) for x in rows.scalars()]
    return Page(items=items, total=total, page=page.page, size=page.size)


@router.get("/{list_id}", response_model=PeriodicListOut, summary="One frozen list with its entries")
async def get_periodic_list(list_id: UUID, session: SessionDep, _: PrincipalDep) -> PeriodicListOut:
    return _out(await service.get(session, list_id))


RESULT_COLUMNS = [
    Column("seq", "序号", 6),
    Column("code", "成果编号", 16),
    Column("title", "成果名称", 40),
    Column("category_zh", "成果类型", 12),
    Column("project_code", "项目编号", 16),
    Column("project_title", "项目名称", 36),
    Column("unit_name", "完成单位", 30),
    Column("people", "完成人", 24),
    Column("maturity_zh", "技术成熟度", 12),
    Column("transfer_status_zh", "转化状态", 12),
    Column("dated_at", "核验时间", 20),
]
SCENARIO_COLUMNS = [
    Column("seq", "序号", 6),
    Column("code", "场景编号", 16),
    Column("title", "场景名称", 40),
    Column("category_zh", "技术领域", 12),
    Column("unit_name", "发布单位", 30),
    Column("budget_min_yuan", "预算下限（元）", 14),
    Column("budget_max_yuan", "预算上限（元）", 14),
    Column("deadline", "截止日期", 12),
    Column("dated_at", "发布时间", 20),
]


@router.get(
    "/{list_id}/export.xlsx",
    response_class=Response,
    responses={200: {"content": {XLSX_MEDIA_TYPE: {}}, "description": "成果清单 / 应用场景清单 (.xlsx)"}},
    summary="The frozen list as an Excel file, as it was frozen",
)
async def export_periodic_list(list_id: UUID, session: SessionDep, _: PrincipalDep) -> Response:
    listed = await service.get(session, list_id)
    rows = [
        e.model_dump()
        | {
            "budget_min_yuan": None if e.budget_min_fen is None else e.budget_min_fen / 100,
            "budget_max_yuan": None if e.budget_max_fen is None else e.budget_max_fen / 100,
        }
        for e in _out(listed).entries
    ]
    columns = RESULT_COLUMNS if listed.kind == "results" else SCENARIO_COLUMNS
    return Response(
        export_xlsx(columns, rows, sheet=KINDS_ZH[listed.kind]),
        media_type=XLSX_MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{listed.code}.xlsx"'},
    )
