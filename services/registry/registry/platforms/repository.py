from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from uuid import UUID

from sqlalchemy import Integer, Select, cast, delete, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from registry import paging, search
from registry.platforms.models import (
    DirectorAppointment,
    Platform,
    PlatformCodeAlias,
    PlatformCodeCounter,
    PlatformHistory,
    PlatformMember,
    PlatformOutput,
)
from registry.sharing.models import Instrument, OpenTopic

SORTS = paging.sorts(
    ("code", Platform.code, False),
    ("name", Platform.name, False),
    ("approved_on", Platform.approved_on, True),
    ("updated_at", Platform.updated_at, False),
)


@dataclass(frozen=True)
class PlatformFilter:
    q: str | None = None
    kind: str | None = None
    state: str | None = None
    field: str | None = None
    sub_field: str | None = None
    region: str | None = None
    host_unit_id: UUID | None = None
    lab_type: str | None = None
    industry_chain: str | None = None
    host_unit_ids: frozenset[str] | None = None  # a host-unit admin's own list
    ids: frozenset[str] | None = None


async def get(session: AsyncSession, platform_id: UUID, *, for_update: bool = False) -> Platform | None:
    stmt = select(Platform).where(Platform.id == platform_id)
    if for_update:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def by_code(session: AsyncSession, code: str) -> Platform | None:
    """The platform with this code now, or the one that carried it before a change of kind."""
    found = (await session.execute(select(Platform).where(Platform.code == code))).scalar_one_or_none()
    if found is not None:
        return found
    return (
        await session.execute(
            select(Platform)
            .join(PlatformCodeAlias, PlatformCodeAlias.platform_id == Platform.id)
            .where(PlatformCodeAlias.code == code)
        )
    ).scalar_one_or_none()


async def open_appointment(session: AsyncSession, platform_id: UUID) -> DirectorAppointment | None:
    return (
        await session.execute(
            select(DirectorAppointment)
            .where(DirectorAppointment.platform_id == platform_id, DirectorAppointment.ended_on.is_(None))
            .order_by(DirectorAppointment.started_on.desc())
            .limit(1)
            .with_for_update()
        )
    ).scalar_one_or_none()


async def appointments(session: AsyncSession, platform_id: UUID) -> list[DirectorAppointment]:
    rows = await session.execute(
        select(DirectorAppointment)
        .where(DirectorAppointment.platform_id == platform_id)
        .order_by(DirectorAppointment.started_on, DirectorAppointment.id)
    )
    return list(rows.scalars())


async def former_codes(session: AsyncSession, platform_id: UUID) -> list[str]:
    rows = await session.execute(
        select(PlatformCodeAlias.code)
        .where(PlatformCodeAlias.platform_id == platform_id)
        .order_by(PlatformCodeAlias.retired_at)
    )
    return list(rows.scalars())


async def former_codes_of(session: AsyncSession, platform_ids: Sequence[UUID]) -> dict[UUID, list[str]]:
    found: dict[UUID, list[str]] = {}
    if not platform_ids:
        return found
    rows = await session.execute(
        select(PlatformCodeAlias.platform_id, PlatformCodeAlias.code)
        .where(PlatformCodeAlias.platform_id.in_(platform_ids))
        .order_by(PlatformCodeAlias.retired_at)
    )
    for platform_id, code in rows:
        found.setdefault(platform_id, []).append(code)
    return found


async def code_taken(session: AsyncSession, code: str) -> bool:
    return await session.get(PlatformCodeAlias, code) is not None


async def lock_pair(session: AsyncSession, a: UUID, b: UUID) -> dict[UUID, Platform]:
    """Both rows locked in id order, so two merges touching the same pair cannot deadlock."""
    rows = await session.execute(
        select(Platform).where(Platform.id.in_([a, b])).order_by(Platform.id).with_for_update()
    )
    return {p.id: p for p in rows.scalars()}


CODE_PATTERN = re.compile(r"^([A-Z]{3})-(\d{4})-(\d{3,5})$")


async def allocate_codes(
    session: AsyncSession, prefix: str, year: int, count: int = 1, *, at_least: int = 0
) -> list[str]:
    """``count`` fresh codes of one series, e.g. ZDS-2026-007, … (after ``at_least``); the series
    row stays locked until the caller's transaction ends, so concurrent registrations queue on it
    instead of colliding."""
    last = await _bump(session, prefix, year, increment=count, at_least=at_least + count)
    return [f"{prefix}-{year}-{n:03d}" for n in range(last - count + 1, last + 1)]


async def reserve_code(session: AsyncSession, code: str) -> None:
    """An explicitly given code: later allocations of its series continue after it."""
    match = CODE_PATTERN.match(code)
    if match is not None:
        await _bump(session, match[1], int(match[2]), at_least=int(match[3]))


async def _bump(
    session: AsyncSession, prefix: str, year: int, *, increment: int = 0, at_least: int = 0
) -> int:
    stem = f"{prefix}-{year}-"
    # The first use of a series starts after the highest code already registered in it.
    highest = (
        select(func.coalesce(func.max(cast(func.split_part(Platform.code, "-", 3), Integer)), 0))
        .where(Platform.code.like(f"{stem}%"), Platform.code.regexp_match(r"^[A-Z]{3}-\d{4}-\d+$"))
        .scalar_subquery()
    )
    await session.execute(
        pg_insert(PlatformCodeCounter)
        .values(prefix=prefix, year=year, last_number=highest)
        .on_conflict_do_nothing(index_elements=["prefix", "year"])
    )
    bumped = await session.execute(
        update(PlatformCodeCounter)
        .where(PlatformCodeCounter.prefix == prefix, PlatformCodeCounter.year == year)
        .values(last_number=func.greatest(PlatformCodeCounter.last_number + increment, at_least))
        .returning(PlatformCodeCounter.last_number)
    )
    return int(bumped.scalar_one())


def filtered(f: PlatformFilter) -> Select[Platform]:
    stmt = select(Platform)
    if f.q:
        former = select(PlatformCodeAlias.platform_id).where(
            PlatformCodeAlias.code.icontains(f.q.strip(), autoescape=True)
        )
        stmt = stmt.where(
            or_(search.contains(Platform.search_text, Platform.search_bigrams, f.q), Platform.id.in_(former))
        )
    for column, value in (
        (Platform.kind, f.kind),
        (Platform.state, f.state),
        (Platform.field, f.field),
        (Platform.sub_field, f.sub_field),
        (Platform.region, f.region),
        (Platform.host_unit_id, f.host_unit_id),
        (Platform.lab_type, f.lab_type),
        (Platform.industry_chain, f.industry_chain),
    ):
        if value is not None:
            stmt = stmt.where(column == value)
    if f.host_unit_ids is not None:
        stmt = stmt.where(Platform.host_unit_id.in_([UUID(u) for u in f.host_unit_ids]))
    if f.ids is not None:
        stmt = stmt.where(Platform.id.in_([UUID(i) for i in f.ids]))
    return stmt


async def list_page(
    session: AsyncSession, f: PlatformFilter, *, sort: str, request: paging.PageRequest
) -> paging.Fetched[Platform]:
    return await paging.fetch(
        session, filtered(f), sort=sort, keys=SORTS, id_column=Platform.id, request=request
    )


async def all_matching(session: AsyncSession, f: PlatformFilter, *, sort: str, limit: int) -> list[Platform]:
    rows = await session.execute(filtered(f).order_by(*SORTS[sort].order_by(Platform.id)).limit(limit))
    return list(rows.scalars())


async def history(session: AsyncSession, platform_id: UUID) -> list[PlatformHistory]:
    rows = await session.execute(
        select(PlatformHistory)
        .where(PlatformHistory.platform_id == platform_id)
        .order_by(PlatformHistory.occurred_at, PlatformHistory.id)
    )
    return list(rows.scalars())


async def members(session: AsyncSession, platform_id: UUID) -> list[PlatformMember]:
    rows = await session.execute(
        select(PlatformMember).where(PlatformMember.platform_id == platform_id).order_by(PlatformMember.id)
    )
    return list(rows.scalars())


async def member(session: AsyncSession, platform_id: UUID, person_id: UUID) -> PlatformMember | None:
    stmt = select(PlatformMember).where(
        PlatformMember.platform_id == platform_id, PlatformMember.person_id == person_id
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def outputs(session: AsyncSession, platform_ids: Sequence[UUID]) -> dict[UUID, list[PlatformOutput]]:
    result: dict[UUID, list[PlatformOutput]] = {i: [] for i in platform_ids}
    if not platform_ids:
        return result
    rows = await session.execute(
        select(PlatformOutput)
        .where(PlatformOutput.platform_id.in_(platform_ids))
        .order_by(PlatformOutput.year)
    )
    for o in rows.scalars():
        result[o.platform_id].append(o)
    return result


async def move_members(session: AsyncSession, source: UUID, target: UUID) -> list[str]:
    """Members of ``source`` join ``target`` (keeping their role); those already there stay once."""
    moving = await members(session, source)
    if moving:
        await session.execute(
            pg_insert(PlatformMember)
            .values(
                [
                    {
                        "platform_id": target,
                        "person_id": m.person_id,
                        "role": m.role,
                        "joined_on": m.joined_on,
                    }
                    for m in moving
                ]
            )
            .on_conflict_do_nothing(index_elements=["platform_id", "person_id"])
        )
        await session.execute(delete(PlatformMember).where(PlatformMember.platform_id == source))
    return [str(m.person_id) for m in moving]


async def move_instruments(session: AsyncSession, source: UUID, target: UUID) -> list[str]:
    rows = await session.execute(
        update(Instrument)
        .where(Instrument.platform_id == source)
        .values(platform_id=target)
        .returning(Instrument.id)
    )
    return [str(i) for i in rows.scalars()]


async def move_open_topics(session: AsyncSession, source: UUID, target: UUID) -> list[str]:
    rows = await session.execute(
        update(OpenTopic)
        .where(OpenTopic.platform_id == source, OpenTopic.status == "open")
        .values(platform_id=target)
        .returning(OpenTopic.id)
    )
    return [str(i) for i in rows.scalars()]
