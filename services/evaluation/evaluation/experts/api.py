"""REST of the expert database (专家库): self-application, nomination, import/export, status,
declared conflicts, profile edits and re-confirmation; experts' own profile."""

from __future__ import annotations

from typing import Annotated, Any, Literal, get_args
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response, status
from sqlalchemy import func, select

from evaluation.access import ExpertDb
from evaluation.codes import EXPERT_STATUSES
from evaluation.experts import service, workbook
from evaluation.experts.models import Expert
from evaluation.experts.schemas import (
    DeclarationIn,
    DeclarationOut,
    ExpertImportReport,
    ExpertIn,
    ExpertOut,
    ExpertSelfEdit,
    ExpertStaffEdit,
    Nomination,
    SweepOut,
    Transition,
)
from evaluation.settings import EvaluationSettings
from shared.auth import Principal, Role
from shared.errors import Forbidden, NotFound
from shared.excel import XLSX_MEDIA_TYPE
from shared.http.auth import PrincipalDep
from shared.http.deps import PageDep, SessionDep, UnitOfWorkDep
from shared.http.filters import only_filters
from shared.http.schemas import Page

router = APIRouter(tags=["experts"])
ExpertStatus = Literal["applied", "active", "rejected", "suspended", "retired"]
assert set(get_args(ExpertStatus)) == set(EXPERT_STATUSES)


async def _expert(session: SessionDep, expert_id: UUID) -> Expert:
    e = await session.get(Expert, expert_id)
    if e is None:
        raise NotFound(f"expert {expert_id} not found", "未找到该专家")
    return e


def _own_or_staff(principal: Principal, e: Expert) -> None:
    if principal.person_id == str(e.person_id):
        return
    if principal.has_role(Role.department_staff) and principal.scope("duties") & {
        "expert_db",
        "request",
        "draw",
    }:
        return
    raise NotFound(f"expert {e.id} not found", "未找到该专家")  # no hint that it exists


@router.post("/experts/apply", status_code=status.HTTP_201_CREATED, response_model=ExpertOut)
async def apply(body: ExpertIn, uow: UnitOfWorkDep, principal: PrincipalDep) -> ExpertOut:
    """Self-application (自荐): the caller's verified registry identity is the expert."""
    if principal.person_id is None:
        raise Forbidden("only a verified registry person can apply", "需要实名核验的登记人员")
    e = await service.enrol(uow, person_id=UUID(principal.person_id), origin="self", data=body.data())
    await uow.commit()
    return ExpertOut.of(e)


@router.post("/experts", status_code=status.HTTP_201_CREATED, response_model=ExpertOut)
async def nominate(body: Nomination, uow: UnitOfWorkDep, _: ExpertDb) -> ExpertOut:
    """Nomination (推荐) by the expert-database staff."""
    e = await service.enrol(uow, person_id=body.person_id, origin="nominated", data=body.data())
    await uow.commit()
    return ExpertOut.of(e)


@router.post("/experts/import", status_code=status.HTTP_201_CREATED, response_model=ExpertImportReport)
async def import_experts(request: Request, uow: UnitOfWorkDep, _: ExpertDb) -> ExpertImportReport:
    """Nominate experts from an .xlsx body (Chinese headers as in the export); all or nothing."""
    experts = await workbook.import_experts(uow, await request.body())
    await uow.commit()
    return ExpertImportReport(
        rows=len(experts), created=len(experts), experts=[ExpertOut.of(e) for e in experts]
    )


@router.post(
    "/experts/{expert_id}/declarations", status_code=status.HTTP_201_CREATED, response_model=DeclarationOut
)
async def declare(
    expert_id: UUID, body: DeclarationIn, uow: UnitOfWorkDep, principal: PrincipalDep
) -> DeclarationOut:
    """An expert declares a conflict (or staff record one the applicant side declared)."""
    e = await _expert(uow.session, expert_id)
    own = principal.person_id == str(e.person_id)
    if not own and "expert_db" not in principal.scope("duties"):
        raise NotFound(f"expert {expert_id} not found", "未找到该专家")
    d = await service.declare(
        uow,
        e,
        person_id=body.person_id,
        unit_id=body.unit_id,
        declared_by="expert" if own else "staff",
        reason=body.reason,
    )
    await uow.commit()
    return DeclarationOut(id=d.id, expert_id=e.id)


def _settings(request: Request) -> EvaluationSettings:
    settings = request.app.state.runtime.settings
    assert isinstance(settings, EvaluationSettings)
    return settings


async def _mine(session: Any, principal: Principal) -> Expert:
    e: Expert | None = None
    if principal.person_id:
        q = select(Expert).where(Expert.person_id == principal.person_id)
        e = (await session.execute(q)).scalar_one_or_none()
    if e is None:
        raise NotFound("you are not in the expert database", "您不在专家库中")
    return e


@router.patch("/experts/me", response_model=ExpertOut)
async def edit_my_profile(body: ExpertSelfEdit, uow: UnitOfWorkDep, principal: PrincipalDep) -> ExpertOut:
    """The expert edits their disciplines, keywords, directions, availability windows and load."""
    e = await _mine(uow.session, principal)
    await service.edit_profile(uow, e, body.changes(), allowed=service.SELF_EDITABLE, reason=body.reason)
    await uow.commit()
    return ExpertOut.of(e)


@router.post("/experts/me/reconfirm", response_model=ExpertOut)
async def reconfirm_mine(request: Request, uow: UnitOfWorkDep, principal: PrincipalDep) -> ExpertOut:
    """The expert confirms their details are current (定期确认)."""
    e = await _mine(uow.session, principal)
    await service.reconfirm(uow, e, months=_settings(request).expert_confirm_months, by_expert=True)
    await uow.commit()
    return ExpertOut.of(e)


@router.post("/experts/reconfirmation-sweep", response_model=SweepOut)
async def reconfirmation_sweep(request: Request, uow: UnitOfWorkDep, _: ExpertDb) -> SweepOut:
    """Ask the experts whose confirmation lapses soon; list those already lapsed (not drawn)."""
    result = await service.reconfirmation_sweep(uow, notice_days=_settings(request).reconfirm_notice_days)
    await uow.commit()
    return SweepOut.model_validate(result)


@router.patch("/experts/{expert_id}", response_model=ExpertOut)
async def edit_profile(expert_id: UUID, body: ExpertStaffEdit, uow: UnitOfWorkDep, _: ExpertDb) -> ExpertOut:
    e = await _expert(uow.session, expert_id)
    await service.edit_profile(uow, e, body.changes(), allowed=service.STAFF_EDITABLE, reason=body.reason)
    await uow.commit()
    return ExpertOut.of(e)


@router.post("/experts/{expert_id}/{action}", response_model=ExpertOut)
async def change_status(
    expert_id: UUID,
    action: Literal["approve", "reject", "suspend", "reinstate", "retire", "reconfirm"],
    body: Transition,
    request: Request,
    uow: UnitOfWorkDep,
    _: ExpertDb,
) -> ExpertOut:
    e = await _expert(uow.session, expert_id)
    await service.transition(
        uow, e, action, body.reason, confirm_months=_settings(request).expert_confirm_months
    )
    await uow.commit()
    return ExpertOut.of(e)


@router.get("/experts/me", response_model=ExpertOut)
async def my_profile(session: SessionDep, principal: PrincipalDep) -> ExpertOut:
    e = (
        (
            await session.execute(select(Expert).where(Expert.person_id == principal.person_id))
        ).scalar_one_or_none()
        if principal.person_id
        else None
    )
    if e is None:
        raise NotFound("you are not in the expert database", "您不在专家库中")
    return ExpertOut.of(e)


@router.get("/experts/{expert_id}", response_model=ExpertOut)
async def get_expert(expert_id: UUID, session: SessionDep, principal: PrincipalDep) -> ExpertOut:
    e = await _expert(session, expert_id)
    _own_or_staff(principal, e)
    return ExpertOut.of(e)


async def _search(
    session: SessionDep,
    discipline: str | None,
    keyword: str | None,
    region: str | None,
    title: str | None,
    status_: str | None,
) -> Any:
    q = select(Expert)
    if discipline:
        q = q.where(func.array_to_string(Expert.disciplines, ",").op("~")(f"(^|,){discipline}"))
    if keyword:
        q = q.where(Expert.keywords.contains([keyword]) | Expert.directions.contains(keyword))
    if region:
        q = q.where(Expert.region == region)
    if title:
        q = q.where(Expert.title == title)
    if status_:
        q = q.where(Expert.status == status_)
    return q


@router.get(
    "/experts",
    response_model=Page[ExpertOut],
    dependencies=[only_filters("discipline", "keyword", "region", "title", "status", "sort")],
)
async def search_experts(
    session: SessionDep,
    principal: PrincipalDep,
    page: PageDep,
    discipline: Annotated[
        str | None, Query(max_length=20, pattern=r"^[A-Za-z0-9.]+$", description="code or parent code")
    ] = None,
    keyword: Annotated[str | None, Query(max_length=50)] = None,
    region: Annotated[str | None, Query(max_length=6)] = None,
    title: Annotated[str | None, Query(max_length=50)] = None,
    status_: Annotated[ExpertStatus | None, Query(alias="status")] = None,
    sort: Literal["name", "-credit_score", "created_at"] = "name",
) -> Page[ExpertOut]:
    if not (
        principal.has_role(Role.department_staff) and principal.scope("duties") & {"expert_db", "request"}
    ):
        raise Forbidden("requires the duty 'expert_db' or 'request'", "需要专家库管理或专家需求申请职责")
    q = await _search(session, discipline, keyword, region, title, status_)
    total = (await session.execute(select(func.count()).select_from(q.subquery()))).scalar_one()
    order: Any = {
        "name": Expert.name,
        "-credit_score": Expert.credit_score.desc(),
        "created_at": Expert.created_at,
    }[sort]
    rows: list[Expert] = list(
        (await session.execute(q.order_by(order, Expert.id).offset(page.offset).limit(page.size))).scalars()
    )
    return Page(items=[ExpertOut.of(e) for e in rows], total=total, page=page.page, size=page.size)


@router.get("/experts.xlsx", response_class=Response)
async def export_experts(uow: UnitOfWorkDep, _: ExpertDb) -> Response:
    return Response(await workbook.export_experts(uow), media_type=XLSX_MEDIA_TYPE)
