from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from registry import paging
from registry.organisations.models import Organisation

SORTS = paging.sorts(
    ("name", Organisation.name, False),
    ("created_at", Organisation.created_at, False),
    ("updated_at", Organisation.updated_at, False),
)


@dataclass(frozen=True)
class OrganisationFilter:
    q: str | None = None
    type: str | None = None
    region: str | None = None
    credit_code: str | None = None


async def get(session: AsyncSession, org_id: UUID, *, for_update: bool = False) -> Organisation | None:
    stmt = select(Organisation).where(Organisation.id == org_id)
    if for_update:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def find_by_credit_code(session: AsyncSession, code: str) -> Organisation | None:
    stmt = select(Organisation).where(Organisation.credit_code == code)
    return (await session.execute(stmt)).scalar_one_or_none()


def _filtered(f: OrganisationFilter) -> Select[Organisation]:
    stmt = select(Organisation)
    if f.q:
        stmt = stmt.where(Organisation.name.ilike(f"%{f.q}%"))
    if f.type:
        stmt = stmt.where(Organisation.type == f.type)
    if f.region:
        stmt = stmt.where(Organisation.region == f.region)
    if f.credit_code:
        stmt = stmt.where(Organisation.credit_code == f.credit_code)
    return stmt


async def list_page(
    session: AsyncSession, f: OrganisationFilter, *, sort: str, request: paging.PageRequest
) -> paging.Fetched[Organisation]:
    return await paging.fetch(
        session, _filtered(f), sort=sort, keys=SORTS, id_column=Organisation.id, request=request
    )


async def names_of(session: AsyncSession, ids: set[UUID]) -> dict[UUID, str]:
    """Unit names by id, for sheets that show a unit's name beside its code."""
    if not ids:
        return {}
    rows = await session.execute(select(Organisation.id, Organisation.name).where(Organisation.id.in_(ids)))
    return {i: n for i, n in rows}
