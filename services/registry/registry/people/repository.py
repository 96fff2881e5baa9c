from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from sqlalchemy import Select, UnaryExpression, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from registry.people.models import Person

SORTS: dict[str, UnaryExpression[Any]] = {
    "name": Person.name.asc(),
    "-name": Person.name.desc(),
    "birth_date": Person.birth_date.asc(),
    "-birth_date": Person.birth_date.desc(),
    "created_at": Person.created_at.asc(),
    "-created_at": Person.created_at.desc(),
}


@dataclass(frozen=True)
class PersonFilter:
    q: str | None = None
    unit_id: UUID | None = None
    title: str | None = None
    full_time: bool | None = None
    id_number_digest: str | None = None


async def get(session: AsyncSession, person_id: UUID, *, for_update: bool = False) -> Person | None:
    stmt = select(Person).where(Person.id == person_id)
    if for_update:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def find_by_digest(session: AsyncSession, digest: str) -> Person | None:
    return (
        await session.execute(select(Person).where(Person.id_number_digest == digest))
    ).scalar_one_or_none()


async def get_many(session: AsyncSession, ids: set[UUID]) -> dict[UUID, Person]:
    if not ids:
        return {}
    return {p.id: p for p in (await session.execute(select(Person).where(Person.id.in_(ids)))).scalars()}


def _filtered(f: PersonFilter) -> Select[Person]:
    stmt = select(Person)
    if f.q:
        stmt = stmt.where(Person.name.ilike(f"%{f.q}%"))
    if f.unit_id:
        stmt = stmt.where(Person.unit_id == f.unit_id)
    if f.title:
        stmt = stmt.where(Person.title == f.title)
    if f.full_time is not None:
        stmt = stmt.where(Person.full_time == f.full_time)
    if f.id_number_digest:
        stmt = stmt.where(Person.id_number_digest == f.id_number_digest)
    return stmt


async def list_page(
    session: AsyncSession, f: PersonFilter, *, sort: str, offset: int, limit: int
) -> tuple[list[Person], int]:
    stmt = _filtered(f)
    total = (await session.execute(select(func.count()).select_from(stmt.subquery()))).scalar_one()
    rows = await session.execute(stmt.order_by(SORTS[sort], Person.id).offset(offset).limit(limit))
    return list(rows.scalars()), int(total)


async def existing_digests(session: AsyncSession, digests: set[str]) -> set[str]:
    found: set[str] = set()
    ordered = sorted(digests)
    for start in range(0, len(ordered), 5000):
        rows = await session.execute(
            select(Person.id_number_digest).where(Person.id_number_digest.in_(ordered[start : start + 5000]))
        )
        found.update(rows.scalars())
    return found
