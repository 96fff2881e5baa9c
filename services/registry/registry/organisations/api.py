from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Query, status
from sqlalchemy import select

from registry.codes import OrganisationType, Region
from registry.listing import PageRequestDep, list_page
from registry.organisations import repository, service
from registry.organisations.models import Organisation
from registry.organisations.schemas import (
    OrganisationCreate,
    OrganisationHistoryEntry,
    OrganisationOut,
    OrganisationUpdate,
)
from shared.auth import Principal, Role
from shared.errors import NotFound
from shared.http.auth import PrincipalDep, require_roles
from shared.http.deps import RuntimeDep, SessionDep, UnitOfWorkDep
from shared.http.schemas import Page

router = APIRouter(prefix="/organisations", tags=["organisations"])

StaffDep = Annotated[Principal, Depends(require_roles(Role.department_staff, Role.administrator))]
Sort = Literal["name", "-name", "created_at", "-created_at", "updated_at", "-updated_at"]


async def load_organisation(org_id: UUID, session: SessionDep, _: PrincipalDep) -> Organisation:
    org = await repository.get(session, org_id)
    if org is None:
        raise NotFound(f"organisation {org_id} not found", "未找到该单位")
    return org


OrganisationDep = Annotated[Organisation, Depends(load_organisation)]


@router.post("", status_code=status.HTTP_201_CREATED, response_model=OrganisationOut)
async def register_organisation(body: OrganisationCreate, uow: UnitOfWorkDep, _: StaffDep) -> OrganisationOut:
    """Enter a unit in the register (科技厅业务处室 or administrator)."""
    org = await service.register(uow, body)
    await uow.commit()
    return OrganisationOut.of(org)


@router.get("", response_model=Page[OrganisationOut])
async def list_organisations(
    session: SessionDep,
    _: PrincipalDep,
    page: PageRequestDep,
    q: Annotated[str | None, Query(max_length=100, description="part of the name")] = None,
    type: OrganisationType | None = None,
    region: Region | None = None,
    credit_code: Annotated[str | None, Query(max_length=18)] = None,
    sort: Sort = "name",
) -> Page[OrganisationOut]:
    fetched = await repository.list_page(
        session,
        repository.OrganisationFilter(
            q=q,
            type=type.value if type else None,
            region=region.value if region else None,
            credit_code=credit_code.upper() if credit_code else None,
        ),
        sort=sort,
        request=page,
    )
    return list_page(fetched, page, [OrganisationOut.of(o) for o in fetched.rows])


@router.get("/{org_id}", response_model=OrganisationOut)
async def get_organisation(org: OrganisationDep) -> OrganisationOut:
    return OrganisationOut.of(org)


@router.patch("/{org_id}", response_model=OrganisationOut)
async def update_organisation(
    org_id: UUID, body: OrganisationUpdate, uow: UnitOfWorkDep, principal: PrincipalDep
) -> OrganisationOut:
    org = await repository.get(uow.session, org_id, for_update=True)
    if org is None:
        raise NotFound(f"organisation {org_id} not found", "未找到该单位")
    org = await service.update(uow, principal, org, body)
    await uow.commit()
    return OrganisationOut.of(org)


@router.get(
    "/{org_id}/history",
    response_model=Page[OrganisationHistoryEntry],
    summary="Every change to this unit: who, when, what, why",
)
async def organisation_history(
    org: OrganisationDep, session: SessionDep, runtime: RuntimeDep
) -> Page[OrganisationHistoryEntry]:
    a = runtime.tables.audit_log
    rows = (
        await session.execute(
            select(a.c.occurred_at, a.c.actor_id, a.c.action, a.c.changes, a.c.reason, a.c.request_id)
            .where(a.c.entity_type == "organisation", a.c.entity_id == str(org.id))
            .order_by(a.c.occurred_at, a.c.id)
        )
    ).mappings()
    return Page.whole([OrganisationHistoryEntry(**r) for r in rows])
