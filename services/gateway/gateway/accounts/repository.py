"""Queries on accounts and grants."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.accounts.models import Account, RoleGrant


def normalise_identifier(identifier: str) -> str:
    return identifier.strip().lower()


async def get(session: AsyncSession, account_id: UUID, *, for_update: bool = False) -> Account | None:
    stmt = select(Account).where(Account.id == account_id)
    if for_update:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def by_identifier(
    session: AsyncSession, identifier: str, *, for_update: bool = False
) -> Account | None:
    """The account whose user name, e-mail or phone is ``identifier``."""
    ident = normalise_identifier(identifier)
    stmt = select(Account).where(
        or_(Account.username == ident, Account.email == ident, Account.phone == ident)
    )
    if for_update:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt.limit(1))).scalar_one_or_none()


async def taken(session: AsyncSession, *, username: str, email: str | None, phone: str | None) -> str | None:
    """The first identifier field already used by another account, if any."""
    for field, column, value in (
        ("username", Account.username, username),
        ("email", Account.email, email),
        ("phone", Account.phone, phone),
    ):
        if value is not None and (await session.execute(select(Account.id).where(column == value))).first():
            return field
    return None


async def grants(session: AsyncSession, account_id: UUID) -> list[RoleGrant]:
    stmt = select(RoleGrant).where(RoleGrant.account_id == account_id).order_by(RoleGrant.role)
    return list((await session.execute(stmt)).scalars())


async def grants_for(session: AsyncSession, account_ids: Sequence[UUID]) -> dict[UUID, list[RoleGrant]]:
    out: dict[UUID, list[RoleGrant]] = {i: [] for i in account_ids}
    if account_ids:
        stmt = select(RoleGrant).where(RoleGrant.account_id.in_(account_ids)).order_by(RoleGrant.role)
        for grant in (await session.execute(stmt)).scalars():
            out[grant.account_id].append(grant)
    return out


async def any_active_administrator(session: AsyncSession) -> bool:
    stmt = (
        select(Account.id)
        .join(RoleGrant, RoleGrant.account_id == Account.id)
        .where(RoleGrant.role == "administrator", RoleGrant.status == "active", Account.status == "active")
        .limit(1)
    )
    return (await session.execute(stmt)).first() is not None


SORTS = {
    "username": Account.username,
    "-username": Account.username.desc(),
    "created_at": Account.created_at,
    "-created_at": Account.created_at.desc(),
}


async def list_page(
    session: AsyncSession,
    *,
    q: str | None,
    status: str | None,
    role: str | None,
    grant_status: str | None,
    unit_ids: Sequence[str] | None,
    sort: str,
    offset: int,
    limit: int,
) -> tuple[list[Account], int]:
    stmt = select(Account)
    if q:
        like = f"%{q.lower()}%"
        stmt = stmt.where(or_(Account.username.like(like), Account.display_name.like(f"%{q}%")))
    if status:
        stmt = stmt.where(Account.status == status)
    if role or grant_status:
        sub = select(RoleGrant.account_id)
        if role:
            sub = sub.where(RoleGrant.role == role)
        if grant_status:
            sub = sub.where(RoleGrant.status == grant_status)
        stmt = stmt.where(Account.id.in_(sub))
    if unit_ids is not None:
        stmt = stmt.where(Account.unit_id.in_(list(unit_ids)))
    total = (await session.execute(select(func.count()).select_from(stmt.subquery()))).scalar_one()
    rows = await session.execute(stmt.order_by(SORTS[sort], Account.id).offset(offset).limit(limit))
    return list(rows.scalars()), int(total)
