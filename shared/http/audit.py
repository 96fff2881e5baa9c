"""``GET /audit``: the audit trail of one object (可回溯), for the department's supervisors.

Every service mounts the same route over its own ``audit_log``: who acted, when, what they did,
why, the event the step emitted, and, for a step applied from another service's event, that
event's id and the person who acted at its source. Supervisors are department staff holding
the ``supervision`` duty (监督) in the token's ``duties`` scope; nobody else reads the trail.
"""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field
from sqlalchemy import func, select

from shared.auth import Principal, Role
from shared.errors import Forbidden
from shared.http.auth import PrincipalDep
from shared.http.deps import PageDep, RuntimeDep
from shared.http.filters import only_filters
from shared.http.schemas import Page
from shared.timestamps import Timestamp

SUPERVISION = "supervision"


async def supervisor(principal: PrincipalDep) -> Principal:
    if not (principal.has_role(Role.department_staff) and SUPERVISION in principal.scope("duties")):
        raise Forbidden(
            "the audit trail is read by the department's supervisors (duty 'supervision')",
            "审计记录仅供厅监督人员查阅（需要“监督”职责）",
            extra={"required_duties": [SUPERVISION]},
        )
    return principal


class AuditEntry(BaseModel):
    id: UUID
    occurred_at: Timestamp
    actor_id: str | None = Field(description="user id, or 'event:<type>' for a step applied from an event")
    actor_roles: list[str]
    action: str
    entity_type: str
    entity_id: str
    changes: dict[str, Any]
    reason: str | None
    request_id: str | None
    event_id: UUID | None = Field(description="the event this step emitted")
    cause_event_id: UUID | None = Field(
        description="the event (of this or another service) the step was applied from"
    )
    cause_actor_id: str | None = Field(description="who acted at that event's source")


router = APIRouter(tags=["audit"])


@router.get(
    "/audit",
    response_model=Page[AuditEntry],
    summary="The audit trail of one object, oldest first",
    dependencies=[only_filters("entity_type", "entity_id")],
)
async def audit_trail(
    runtime: RuntimeDep,
    page: PageDep,
    _: Annotated[Principal, Depends(supervisor)],
    entity_type: Annotated[str, Query(min_length=1, max_length=100)],
    entity_id: Annotated[str, Query(min_length=1, max_length=100)],
) -> Page[AuditEntry]:
    t = runtime.tables.audit_log
    where = (t.c.entity_type == entity_type, t.c.entity_id == entity_id)
    async with runtime.sessionmaker() as session:
        total = (await session.execute(select(func.count()).select_from(t).where(*where))).scalar_one()
        rows = (
            (
                await session.execute(
                    select(t)
                    .where(*where)
                    .order_by(t.c.occurred_at, t.c.id)
                    .offset(page.offset)
                    .limit(page.size)
                )
            )
            .mappings()
            .all()
        )
    return Page(
        items=[AuditEntry.model_validate(dict(r)) for r in rows], total=total, page=page.page, size=page.size
    )
