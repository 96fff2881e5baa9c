from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Query, status
from sqlalchemy import func, select

from registry.integrity import service
from registry.integrity.models import IntegrityRecord
from registry.integrity.schemas import (
    IntegrityCheckOut,
    IntegrityCreate,
    IntegrityOut,
    LiftRequest,
    MisconductType,
)
from shared.auth import Principal, Role
from shared.errors import FieldIssue, NotFound, ValidationFailed
from shared.http.auth import PrincipalDep, require_roles
from shared.http.deps import PageDep, SessionDep, UnitOfWorkDep
from shared.http.schemas import Page

router = APIRouter(prefix="/integrity", tags=["integrity"])
StaffDep = Annotated[Principal, Depends(require_roles(Role.department_staff, Role.administrator))]


@router.post("", status_code=status.HTTP_201_CREATED, response_model=IntegrityOut)
async def record_integrity(body: IntegrityCreate, uow: UnitOfWorkDep, _: StaffDep) -> IntegrityOut:
    r = await service.record(uow, body)
    await uow.commit()
    return IntegrityOut.of(r)


@router.get(
    "/check",
    response_model=IntegrityCheckOut,
    summary="Is this person (or unit) barred on that date, and why?",
)
async def check(
    session: SessionDep,
    _: PrincipalDep,
    on: date,
    person: UUID | None = None,
    organisation: UUID | None = None,
    scope: Literal["applying", "reviewing"] | None = None,
) -> dict[str, Any]:
    if person is None and organisation is None:
        raise ValidationFailed(
            [FieldIssue("person", "missing", "name a person or an organisation", "请指定人员或单位")]
        )
    return await service.check(session, person_id=person, organisation_id=organisation, on=on, scope=scope)


@router.get("", response_model=Page[IntegrityOut])
async def list_records(
    session: SessionDep,
    _: StaffDep,
    page: PageDep,
    person_id: UUID | None = None,
    organisation_id: UUID | None = None,
    misconduct_type: MisconductType | None = None,
    active_on: Annotated[date | None, Query(description="only bars in force on this date")] = None,
) -> Page[IntegrityOut]:
    stmt = select(IntegrityRecord)
    if person_id:
        stmt = stmt.where(IntegrityRecord.person_id == person_id)
    if organisation_id:
        stmt = stmt.where(IntegrityRecord.organisation_id == organisation_id)
    if misconduct_type:
        stmt = stmt.where(IntegrityRecord.misconduct_type == misconduct_type)
    if active_on:
        stmt = stmt.where(
            IntegrityRecord.barred_from <= active_on,
            (IntegrityRecord.barred_until.is_(None)) | (IntegrityRecord.barred_until >= active_on),
            IntegrityRecord.lifted_at.is_(None) | (func.date(IntegrityRecord.lifted_at) > active_on),
        )
    total = (await session.execute(select(func.count()).select_from(stmt.subquery()))).scalar_one()
    rows = await session.execute(
        stmt.order_by(IntegrityRecord.barred_from.desc(), IntegrityRecord.id)
        .offset(page.offset)
        .limit(page.size)
    )
    return Page(
        items=[IntegrityOut.of(r) for r in rows.scalars()], total=total, page=page.page, size=page.size
    )


@router.get("/{record_id}", response_model=IntegrityOut, summary="One integrity record (staff)")
async def get_record(record_id: UUID, session: SessionDep, _: StaffDep) -> IntegrityOut:
    r = await session.get(IntegrityRecord, record_id)
    if r is None:
        raise NotFound("no such integrity record", "未找到该诚信记录")
    return IntegrityOut.of(r)


@router.post("/{record_id}/lift", response_model=IntegrityOut)
async def lift(record_id: UUID, body: LiftRequest, uow: UnitOfWorkDep, _: StaffDep) -> IntegrityOut:
    r = await uow.session.get(IntegrityRecord, record_id, with_for_update=True)
    if r is None:
        raise NotFound("no such integrity record", "未找到该诚信记录")
    r = await service.lift(uow, r, body.reason)
    await uow.commit()
    return IntegrityOut.of(r)
