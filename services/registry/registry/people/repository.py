from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from registry import paging, search
from registry.access import scope_uuids
from registry.people.models import Person
from shared.db import equals_any

SORTS = paging.sorts(
    ("name", Person.name, False),
    ("birth_date", Person.birth_date, False),
    ("created_at", Person.created_at, False),
)


@dataclass(frozen=True)
class PersonFilter:
    q: str | None = None
    unit_id: UUID | None = None
    title: str | None = None
    full_time: bool | None = None
    id_number_hmac: str | None = None
    unit_ids: frozenset[str] | None = None  # only people of these units (None: any)


async def get(session: AsyncSession, person_id: UUID, *, for_update: bool = False) -> Person | None:
    stmt = select(Person).where(Person.id == person_id)
    if for_update:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def find_by_hmac(session: AsyncSession, digest: str) -> Person | None:
    return (await session.execute(select(Person).where(Person.id_number_hmac == digest))).scalar_one_or_none()


async def get_many(session: AsyncSession, ids: set[UUID]) -> dict[UUID, Person]:
    if not ids:
        return {}
    return {p.id: p for p in (await session.execute(select(Person).where(Person.id.in_(ids)))).scalars()}


def _filtered(f: PersonFilter) -> Select[Person]:
    stmt = select(Person)
    if f.q:
        stmt = stmt.where(search.contains(Person.name, Person.name_bigrams, f.q))
    if f.unit_id:
        stmt = stmt.where(Person.unit_id == f.unit_id)
    if f.title:
        stmt = stmt.where(Person.title == f.title)
    if f.full_time is not None:
        stmt = stmt.where(Person.full_time == f.full_time)
    if f.id_number_hmac:
        stmt = stmt.where(Person.id_number_hmac == f.id_number_hmac)
    if f.unit_ids is not None:
        stmt = stmt.where(Person.unit_id.in_(scope_uuids(f.unit_ids)))
    return stmt


async def list_page(
    session: AsyncSession, f: PersonFilter, *, sort: str, request: paging.PageRequest
) -> paging.Fetched[Person]:
    return await paging.fetch(
        session, _filtered(f), sort=sort, keys=SORTS, id_column=Person.id, request=request
    )


async def all_matching(session: AsyncSession, f: PersonFilter, *, sort: str, limit: int) -> list[Person]:
    rows = await session.execute(_filtered(f).order_by(*SORTS[sort].order_by(Person.id)).limit(limit))
    return list(rows.scalars())


async def ids_by_hmac(session: AsyncSession, digests: set[str]) -> dict[str, UUID]:
    """Registered people among these keyed digests: digest → person id (one array parameter)."""
    if not digests:
        return {}
    rows = await session.execute(
        select(Person.id_number_hmac, Person.id).where(
            equals_any(Person.id_number_hmac, sorted(digests), "digests")
        )
    )
    return {digest: person_id for digest, person_id in rows}
