from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Query, status

from projects.filings import service
from projects.filings.models import Filing
from projects.filings.schemas import FilingAction, FilingCreate, FilingOut
from shared.auth import Principal, Role
from shared.errors import NotFound
from shared.http.auth import PrincipalDep, require_roles
from shared.http.deps import PageDep, SessionDep, UnitOfWorkDep
from shared.http.schemas import Page

router = APIRouter(prefix="/filings", tags=["filings"])
StaffDep = Annotated[Principal, Depends(require_roles(Role.department_staff, Role.administrator))]


@router.post(
    "", status_code=status.HTTP_201_CREATED, response_model=FilingOut, summary="File a project (备案)"
)
async def file_project(body: FilingCreate, uow: UnitOfWorkDep, principal: PrincipalDep) -> FilingOut:
    filing = await service.submit(uow, principal, body)
    await uow.commit()
    return FilingOut.model_validate(filing)


@router.get("", response_model=Page[FilingOut], summary="Filings the caller may see, newest first")
async def list_filings(
    session: SessionDep,
    principal: PrincipalDep,
    page: PageDep,
    state: Annotated[Literal["submitted", "filed", "returned"] | None, Query()] = None,
) -> Page[FilingOut]:
    rows, total = await service.listing(session, principal, state, offset=page.offset, limit=page.size)
    return Page(
        items=[FilingOut.model_validate(f) for f in rows], total=total, page=page.page, size=page.size
    )


@router.get("/{filing_id}", response_model=FilingOut, summary="One filing, if the caller may see it")
async def get_filing(filing_id: UUID, session: SessionDep, principal: PrincipalDep) -> FilingOut:
    filing = await session.get(Filing, filing_id)
    if filing is None or not service.can_see(principal, filing):
        raise NotFound("filing not found", "未找到该备案")
    return FilingOut.model_validate(filing)


@router.post("/{filing_id}/actions/{action}", response_model=FilingOut, summary="Accept or return a filing")
async def decide(
    filing_id: UUID,
    action: Literal["accept", "return"],
    body: FilingAction,
    uow: UnitOfWorkDep,
    principal: StaffDep,
) -> FilingOut:
    filing = await service.get(uow.session, filing_id)
    if not service.can_see(principal, filing):
        raise NotFound("filing not found", "未找到该备案")
    filing = await service.decide(uow, filing, action, body.reason)
    await uow.commit()
    return FilingOut.model_validate(filing)
