"""科技成果库 over HTTP: units report, staff verify, everyone allowed lists and exports."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Response, status
from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from projects.funded.models import Project
from projects.organisations.models import OrganisationView
from projects.results import service
from projects.results.models import ProjectResult
from projects.results.schemas import (
    KINDS_ZH,
    MATURITY_ZH,
    SOURCES_ZH,
    TRANSFER_ZH,
    Maturity,
    ResultDecision,
    ResultKind,
    ResultOut,
    ResultReport,
    ResultSource,
    ResultState,
    TransferStatus,
)
from shared.auth import Principal
from shared.db import where_equal
from shared.excel import XLSX_MEDIA_TYPE, Column, export_xlsx
from shared.http.auth import PrincipalDep
from shared.http.deps import PageDep, SessionDep, UnitOfWorkDep
from shared.http.filters import only_filters
from shared.http.schemas import Page

router = APIRouter(prefix="/results", tags=["results"])
FILTERS = ("state", "kind", "maturity", "transfer_status", "source", "project_id", "unit_id", "year")


@dataclass(frozen=True)
class ResultFilters:
    state: ResultState | None
    kind: ResultKind | None
    maturity: Maturity | None
    transfer_status: TransferStatus | None
    source: ResultSource | None
    project_id: UUID | None
    unit_id: UUID | None
    year: int | None

    def apply(self, stmt: Select[Any]) -> Select[Any]:
        return where_equal(
            stmt,
            (ProjectResult.state, self.state),
            (ProjectResult.kind, self.kind),
            (ProjectResult.maturity, self.maturity),
            (ProjectResult.transfer_status, self.transfer_status),
            (ProjectResult.source, self.source),
            (ProjectResult.project_id, self.project_id),
            (ProjectResult.unit_id, self.unit_id),
            (ProjectResult.year, self.year),
        )


def _filters(
    state: ResultState | None = None,
    kind: ResultKind | None = None,
    maturity: Maturity | None = None,
    transfer_status: TransferStatus | None = None,
    source: ResultSource | None = None,
    project_id: UUID | None = None,
    unit_id: UUID | None = None,
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
) -> ResultFilters:
    return ResultFilters(state, kind, maturity, transfer_status, source, project_id, unit_id, year)


FiltersDep = Annotated[ResultFilters, Depends(_filters)]


def _joined(stmt: Select[Any]) -> Select[ProjectResult, str, str, str]:
    listed = stmt.subquery()
    return (
        select(ProjectResult, Project.code, Project.title, OrganisationView.name)
        .join(listed, listed.c.id == ProjectResult.id)
        .join(Project, Project.id == ProjectResult.project_id)
        .outerjoin(OrganisationView, OrganisationView.id == ProjectResult.unit_id)
    )


def _out(row: Any, principal: Principal) -> ResultOut:
    r, project_code, project_title, unit_name = row
    return ResultOut(
        id=r.id,
        code=r.code,
        project_id=r.project_id,
        project_code=project_code,
        project_title=project_title,
        title=r.title,
        kind=r.kind,
        kind_zh=KINDS_ZH[r.kind],
        unit_id=r.unit_id,
        unit_name=unit_name,
        people=r.people,
        maturity=r.maturity,
        maturity_zh=MATURITY_ZH[r.maturity],
        transfer_status=r.transfer_status,
        transfer_status_zh=TRANSFER_ZH[r.transfer_status],
        summary=r.summary,
        year=r.year,
        source=r.source,
        source_zh=SOURCES_ZH[r.source],
        evaluation_id=r.evaluation_id,
        state=r.state,
        state_zh=service.RESULT_MACHINE.state_labels_zh[r.state],
        allowed_actions=service.RESULT_MACHINE.allowed_actions(r.state, principal.roles),
        reported_by=r.reported_by,
        reported_at=r.reported_at,
        decided_by=r.decided_by,
        decided_at=r.decided_at,
        decision_reason=r.decision_reason,
    )


async def _one(session: AsyncSession, result: ProjectResult, principal: Principal) -> ResultOut:
    row = (
        await session.execute(_joined(select(ProjectResult.id).where(ProjectResult.id == result.id)))
    ).one()
    return _out(row, principal)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=ResultOut,
    summary="A host unit's admin reports a result (科技成果) of one of the unit's projects",
)
async def report_result(body: ResultReport, uow: UnitOfWorkDep, principal: PrincipalDep) -> ResultOut:
    result = await service.report(uow, principal, body)
    await uow.commit()
    return await _one(uow.session, result, principal)


@router.get(
    "",
    response_model=Page[ResultOut],
    summary="The results register (科技成果库), newest first",
    dependencies=[only_filters(*FILTERS)],
)
async def list_results(
    session: SessionDep, principal: PrincipalDep, page: PageDep, filters: FiltersDep
) -> Page[ResultOut]:
    stmt = filters.apply(service.visible_to(select(ProjectResult.id), principal))
    total = (await session.execute(select(func.count()).select_from(stmt.subquery()))).scalar_one()
    rows = await session.execute(
        _joined(stmt).order_by(ProjectResult.code.desc()).offset(page.offset).limit(page.size)
    )
    return Page(
        items=[_out(row, principal) for row in rows.all()], total=total, page=page.page, size=page.size
    )


EXPORT_COLUMNS = [
    Column("code", "成果编号", 16),
    Column("title", "成果名称", 40),
    Column("kind_zh", "成果类型", 12),
    Column("project_code", "项目编号", 16),
    Column("project_title", "项目名称", 36),
    Column("unit_name", "完成单位", 30),
    Column("people", "完成人", 24),
    Column("maturity_zh", "技术成熟度", 12),
    Column("transfer_status_zh", "转化状态", 12),
    Column("year", "填报年度", 10),
    Column("source_zh", "来源", 10),
    Column("state_zh", "核验状态", 12),
]


@router.get(
    "/export.xlsx",
    response_class=Response,
    responses={200: {"content": {XLSX_MEDIA_TYPE: {}}, "description": "科技成果库 (.xlsx)"}},
    summary="The filtered register as an Excel file (Chinese headers and labels)",
    dependencies=[only_filters(*FILTERS)],
)
async def export_results(session: SessionDep, principal: PrincipalDep, filters: FiltersDep) -> Response:
    stmt = filters.apply(service.visible_to(select(ProjectResult.id), principal))
    rows = await session.execute(_joined(stmt).order_by(ProjectResult.code).limit(100_000))
    items = [_out(row, principal).model_dump() for row in rows.all()]
    return Response(
        export_xlsx(EXPORT_COLUMNS, items, sheet="科技成果库"),
        media_type=XLSX_MEDIA_TYPE,
        headers={"Content-Disposition": 'attachment; filename="results.xlsx"'},
    )


@router.get("/{result_id}", response_model=ResultOut, summary="One result of the register")
async def get_result(result_id: UUID, session: SessionDep, principal: PrincipalDep) -> ResultOut:
    return await _one(session, await service.get(session, result_id, principal), principal)


@router.post(
    "/{result_id}/actions/{action}",
    response_model=ResultOut,
    summary="Staff verify (verify) or reject (reject, with the reason) a reported result; the unit "
    "that reported a rejected result corrects and resubmits it (resubmit, with 更正说明)",
)
async def act_on_result(
    result_id: UUID, action: str, body: ResultDecision, uow: UnitOfWorkDep, principal: PrincipalDep
) -> ResultOut:
    result = await service.get(uow.session, result_id, principal, for_update=True)
    await service.act(uow, principal, result, action, body.reason, body.correction)
    await uow.commit()
    return await _one(uow.session, result, principal)
