from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Query, status
from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from projects.funded.machines import STAFF
from projects.supervision import service
from projects.supervision.models import SpotCheck
from projects.supervision.schemas import (
    OUTCOMES_ZH,
    FindingIn,
    SpotCheckClose,
    SpotCheckCreate,
    SpotCheckItemOut,
    SpotCheckOut,
)
from shared.auth import Principal
from shared.http.auth import require_roles
from shared.http.deps import PageDep, SessionDep, UnitOfWorkDep
from shared.http.schemas import Page


class Redraw(BaseModel):
    """The sample drawn again from the recorded population and seed: does it match the record?"""

    code: str
    seed: int
    sample: list[str]
    matches: bool


router = APIRouter(prefix="/spot-checks", tags=["supervision"])
StaffDep = Annotated[Principal, Depends(require_roles(*STAFF))]


async def _out(session: AsyncSession, check: SpotCheck) -> SpotCheckOut:
    items = [
        SpotCheckItemOut(
            project_id=p.id,
            code=p.code,
            title=p.title,
            seq=i.seq,
            outcome=i.outcome,
            outcome_zh=OUTCOMES_ZH.get(i.outcome) if i.outcome else None,
            findings=i.findings,
            rectification_due=i.rectification_due,
            recorded_by=i.recorded_by,
            recorded_at=i.recorded_at,
        )
        for i, p in await service.items_of(session, check)
    ]
    return SpotCheckOut(
        id=check.id,
        code=check.code,
        year=check.year,
        title=check.title,
        programme_code=check.programme_code,
        seed=check.seed,
        sample_size=check.sample_size,
        population_size=len(check.population),
        population=check.population,
        sample=check.sample,
        rule=check.rule,
        state=check.state,
        state_zh=service.STATES_ZH[check.state],
        created_by=check.created_by,
        created_at=check.created_at,
        closed_at=check.closed_at,
        summary=check.summary,
        items=items,
    )


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=SpotCheckOut,
    summary="Draw an annual spot check (抽查) of running projects: a seeded, recorded sample",
)
async def draw_spot_check(body: SpotCheckCreate, uow: UnitOfWorkDep, _: StaffDep) -> SpotCheckOut:
    check = await service.create(uow, body)
    await uow.commit()
    return await _out(uow.session, check)


@router.get("", response_model=Page[SpotCheckOut], summary="Spot checks, newest first")
async def list_spot_checks(
    session: SessionDep,
    _: StaffDep,
    page: PageDep,
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
) -> Page[SpotCheckOut]:
    stmt = select(SpotCheck)
    if year is not None:
        stmt = stmt.where(SpotCheck.year == year)
    total = (await session.execute(select(func.count()).select_from(stmt.subquery()))).scalar_one()
    rows = (
        await session.execute(stmt.order_by(SpotCheck.code.desc()).offset(page.offset).limit(page.size))
    ).scalars()
    return Page(items=[await _out(session, c) for c in rows], total=total, page=page.page, size=page.size)


@router.get("/{check_id}", response_model=SpotCheckOut)
async def get_spot_check(check_id: UUID, session: SessionDep, _: StaffDep) -> SpotCheckOut:
    return await _out(session, await service.get(session, check_id))


@router.get(
    "/{check_id}/redraw",
    response_model=Redraw,
    summary="Draw the sample again from the record: is it the same?",
)
async def redraw(check_id: UUID, session: SessionDep, _: StaffDep) -> dict[str, Any]:
    check = await service.get(session, check_id)
    again = service.draw(check.population, check.seed, check.sample_size)
    return {"code": check.code, "seed": check.seed, "sample": again, "matches": again == check.sample}


@router.put(
    "/{check_id}/findings/{project_id}",
    response_model=SpotCheckOut,
    summary="Record what the check found at one sampled project",
)
async def record_finding(
    check_id: UUID, project_id: UUID, body: FindingIn, uow: UnitOfWorkDep, _: StaffDep
) -> SpotCheckOut:
    check = await service.get(uow.session, check_id, for_update=True)
    await service.record_finding(uow, check, project_id, body)
    await uow.commit()
    return await _out(uow.session, check)


@router.post(
    "/{check_id}/close", response_model=SpotCheckOut, summary="Close the spot check with its summary"
)
async def close_spot_check(
    check_id: UUID, body: SpotCheckClose, uow: UnitOfWorkDep, _: StaffDep
) -> SpotCheckOut:
    check = await service.get(uow.session, check_id, for_update=True)
    await service.close(uow, check, body.summary)
    await uow.commit()
    return await _out(uow.session, check)
