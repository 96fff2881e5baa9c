from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Query, status
from sqlalchemy import func, select

from projects.applications import jobs
from projects.applications.machines import CALL_MACHINE, CallState
from projects.calls import service
from projects.calls.models import Call
from projects.calls.schemas import CallAction, CallCreate, CallOut, CallUpdate, GuidelineSuggestionOut, JobOut
from projects.contract import MachineOut
from projects.registry_views.models import GuidelineSuggestion
from shared.auth import Principal, Role
from shared.errors import NotFound
from shared.http.auth import PrincipalDep, require_roles
from shared.http.deps import PageDep, RuntimeDep, SessionDep, UnitOfWorkDep
from shared.http.schemas import Page

router = APIRouter(prefix="/calls", tags=["calls"])
StaffDep = Annotated[Principal, Depends(require_roles(Role.department_staff, Role.administrator))]
STAFF = (Role.department_staff, Role.administrator)


def call_out(call: Call, principal: Principal) -> CallOut:
    return CallOut(
        **{k: getattr(call, k) for k in CallOut.model_fields if hasattr(call, k) and k != "open_now"},
        state_zh=CALL_MACHINE.state_labels_zh[call.state],
        open_now=service.open_now(call),
        allowed_actions=CALL_MACHINE.allowed_actions(call.state, principal.roles),
    )


@router.get("/machine", response_model=MachineOut, summary="The call state machine with Chinese labels")
async def machine(_: PrincipalDep) -> dict[str, object]:
    return CALL_MACHINE.describe()


@router.get(
    "/guideline-suggestions",
    response_model=Page[GuidelineSuggestionOut],
    summary="Directions lab clusters suggested (for staff drafting calls)",
)
async def suggestions(
    session: SessionDep, _: StaffDep, page: PageDep, year: int | None = Query(None, ge=2000, le=2100)
) -> Page[Any]:
    stmt = select(GuidelineSuggestion)
    if year is not None:
        stmt = stmt.where(GuidelineSuggestion.year == year)
    total = (await session.execute(select(func.count()).select_from(stmt.subquery()))).scalar_one()
    rows = (
        await session.execute(
            stmt.order_by(GuidelineSuggestion.received_at.desc()).offset(page.offset).limit(page.size)
        )
    ).scalars()
    items = [GuidelineSuggestionOut.model_validate(r) for r in rows]
    return Page(items=items, total=total, page=page.page, size=page.size)


@router.get(
    "/guideline-suggestions/{suggestion_id}",
    response_model=GuidelineSuggestionOut,
    summary="One direction a lab cluster suggested",
)
async def get_suggestion(suggestion_id: UUID, session: SessionDep, _: StaffDep) -> GuidelineSuggestionOut:
    found = await session.get(GuidelineSuggestion, suggestion_id)
    if found is None:
        raise NotFound("no such guideline suggestion", "未找到该指南建议")
    return GuidelineSuggestionOut.model_validate(found)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=CallOut)
async def create_call(body: CallCreate, uow: UnitOfWorkDep, principal: StaffDep) -> CallOut:
    call = await service.create(uow, body)
    await uow.commit()
    return call_out(call, principal)


@router.get("", response_model=Page[CallOut])
async def list_calls(
    session: SessionDep,
    principal: PrincipalDep,
    page: PageDep,
    year: int | None = Query(None, ge=2000, le=2100),
    programme_code: str | None = Query(None, max_length=40),
    state: CallState | None = Query(None, description="one state of the call machine"),
    q: str | None = Query(None, max_length=100),
    sort: Literal["closes_at", "-closes_at", "year", "-year", "code", "-code"] = "-closes_at",
) -> Page[CallOut]:
    stmt = select(Call)
    if not principal.has_role(*STAFF):
        stmt = stmt.where(Call.state != "draft")  # drafts are the department's own
    if year is not None:
        stmt = stmt.where(Call.year == year)
    if programme_code:
        stmt = stmt.where(Call.programme_code == programme_code)
    if state:
        stmt = stmt.where(Call.state == state)
    if q:
        stmt = stmt.where(Call.title.contains(q, autoescape=True))
    column = getattr(Call, sort.lstrip("-"))
    total = (await session.execute(select(func.count()).select_from(stmt.subquery()))).scalar_one()
    rows = (
        await session.execute(
            stmt.order_by(column.desc() if sort.startswith("-") else column, Call.id)
            .offset(page.offset)
            .limit(page.size)
        )
    ).scalars()
    return Page(items=[call_out(c, principal) for c in rows], total=total, page=page.page, size=page.size)


async def _visible(session: SessionDep, call_id: UUID, principal: Principal) -> Call:
    call = await service.get(session, call_id)
    if call.state == "draft" and not principal.has_role(*STAFF):
        raise NotFound(f"call {call_id} not found", "未找到该指南")
    return call


@router.get("/{call_id}", response_model=CallOut)
async def get_call(call_id: UUID, session: SessionDep, principal: PrincipalDep) -> CallOut:
    return call_out(await _visible(session, call_id, principal), principal)


@router.patch("/{call_id}", response_model=CallOut)
async def update_call(call_id: UUID, body: CallUpdate, uow: UnitOfWorkDep, principal: StaffDep) -> CallOut:
    call = await service.update(uow, await service.get(uow.session, call_id, for_update=True), body)
    await uow.commit()
    return call_out(call, principal)


@router.post("/{call_id}/actions/{action}", response_model=CallOut)
async def act_on_call(
    call_id: UUID, action: str, body: CallAction, uow: UnitOfWorkDep, principal: StaffDep
) -> CallOut:
    call = await service.act(
        uow, principal, await service.get(uow.session, call_id, for_update=True), action, body.reason
    )
    await uow.commit()
    return call_out(call, principal)


@router.post(
    "/{call_id}/jobs",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=JobOut,
    summary="Start a long job over the call",
)
async def start_job(
    call_id: UUID,
    kind: Annotated[str, Query(max_length=40)],
    uow: UnitOfWorkDep,
    runtime: RuntimeDep,
    _: StaffDep,
) -> dict[str, Any]:
    call = await service.get(uow.session, call_id)
    job = await jobs.start(uow, call, kind)
    await uow.commit()
    uow.after_commit(lambda: jobs.launch(runtime.sessionmaker, runtime.tables, job.id))
    return jobs.as_dict(job)


@router.get("/{call_id}/jobs/{job_id}", response_model=JobOut, summary="A job's progress")
async def get_job(call_id: UUID, job_id: UUID, session: SessionDep, _: StaffDep) -> dict[str, Any]:
    job = await jobs.get(session, job_id)
    if jobs.expire_if_stale(job):
        await session.commit()
    return jobs.as_dict(job)


@router.post("/{call_id}/jobs/{job_id}/cancel", response_model=JobOut, summary="Ask a running job to stop")
async def cancel_job(call_id: UUID, job_id: UUID, uow: UnitOfWorkDep, _: StaffDep) -> dict[str, Any]:
    job = await jobs.get(uow.session, job_id)
    if job.state == "running":
        job.cancel_requested = True
        await uow.record(
            f"job.{job.kind}.cancel_requested",
            entity_type="call",
            entity_id=call_id,
            changes={"job_id": str(job_id)},
        )
    await uow.commit()
    return jobs.as_dict(job)
