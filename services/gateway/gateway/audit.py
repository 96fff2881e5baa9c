"""The gateway's audit log for security operators: sign-ins, failures (also for identifiers
no account has), role changes and every administrative action, with who, when and from where."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import AwareDatetime
from sqlalchemy import ColumnElement, func, select

from gateway.accounts.schemas import AuditEntryOut
from shared.auth import Principal, Role
from shared.http.auth import require_roles
from shared.http.deps import PageDep, RuntimeDep, SessionDep
from shared.http.schemas import Page

router = APIRouter(prefix="/admin/audit", tags=["operations"])
AdminDep = Annotated[Principal, Depends(require_roles(Role.administrator))]
Name = Annotated[str | None, Query(max_length=100, pattern=r"^[A-Za-z0-9_:\-]+$")]


class AuditRecordOut(AuditEntryOut):
    entity_type: str
    entity_id: str


@router.get("", response_model=Page[AuditRecordOut], summary="Audit log, newest first, with filters")
async def audit_log(
    session: SessionDep,
    runtime: RuntimeDep,
    _: AdminDep,
    page: PageDep,
    action: Name = None,
    entity_type: Name = None,
    entity_id: Name = None,
    actor_id: Name = None,
    since: Annotated[AwareDatetime | None, Query()] = None,
    until: Annotated[AwareDatetime | None, Query()] = None,
) -> Page[AuditRecordOut]:
    a = runtime.tables.audit_log
    where: list[ColumnElement[bool]] = []
    for column, value in ((a.c.action, action), (a.c.entity_type, entity_type), (a.c.entity_id, entity_id)):
        if value is not None:
            where.append(column == value)
    if actor_id is not None:
        where.append(a.c.actor_id == actor_id)
    if since is not None:
        where.append(a.c.occurred_at >= since)
    if until is not None:
        where.append(a.c.occurred_at < until)
    total = (await session.execute(select(func.count()).select_from(a).where(*where))).scalar_one()
    rows = await session.execute(
        select(
            a.c.occurred_at,
            a.c.actor_id,
            a.c.action,
            a.c.entity_type,
            a.c.entity_id,
            a.c.changes,
            a.c.reason,
            a.c.request_id,
        )
        .where(*where)
        .order_by(a.c.occurred_at.desc(), a.c.id.desc())
        .offset(page.offset)
        .limit(page.size)
    )
    items: list[Any] = [AuditRecordOut(**r) for r in rows.mappings()]
    return Page(items=items, total=total, page=page.page, size=page.size)
