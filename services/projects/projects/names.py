"""Names for ids on documents and exports, from projects' own read models (fed by registry events).

Where a name is not known yet, the id is shown with a clear marker, never a blank.
"""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from projects.organisations.models import OrganisationView
from projects.registry_views.models import PersonView
from shared.auth import Principal

UNKNOWN = "〔未知〕"


def unknown(value: object) -> str:
    """The id where no name is known, marked so nobody reads it as a name."""
    return f"{UNKNOWN}{value}"


def _ids(values: Iterable[UUID | str | None]) -> list[UUID]:
    out = []
    for v in values:
        if v is None:
            continue
        try:
            out.append(v if isinstance(v, UUID) else UUID(str(v)))
        except ValueError:
            continue
    return sorted(set(out))


async def people(session: AsyncSession, ids: Iterable[UUID | str | None]) -> dict[str, str]:
    wanted = _ids(ids)
    if not wanted:
        return {}
    rows = await session.execute(select(PersonView.id, PersonView.name).where(PersonView.id.in_(wanted)))
    return {str(i): n for i, n in rows}


async def units(session: AsyncSession, ids: Iterable[UUID | str | None]) -> dict[str, str]:
    wanted = _ids(ids)
    if not wanted:
        return {}
    rows = await session.execute(
        select(OrganisationView.id, OrganisationView.name).where(OrganisationView.id.in_(wanted))
    )
    return {str(i): n for i, n in rows}


def name_of(names: dict[str, str], value: UUID | str | None) -> str:
    """The name, the marked id where unknown, '' where there is no id."""
    if value is None:
        return ""
    return names.get(str(value)) or unknown(value)


async def actor_name(session: AsyncSession, principal: Principal | None) -> str | None:
    """The caller's display name: the token's name, else the registered person's name."""
    if principal is None:
        return None
    if principal.name:
        return principal.name
    if principal.person_id:
        return (await people(session, [principal.person_id])).get(principal.person_id)
    return None
