"""The REST face of a service's policy values (``shared.policy``): list, change, history."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.auth import Principal, Role
from shared.http.auth import PrincipalDep, require_roles
from shared.http.deps import RuntimeDep, SessionDep, UnitOfWorkDep
from shared.http.schemas import Page
from shared.policy import PolicyDefinition
from shared.timestamps import Timestamp
from shared.uow import UnitOfWork

StaffDep = Annotated[Principal, Depends(require_roles(Role.department_staff, Role.administrator))]


class PolicyChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    value: int | float | bool
    reason: str = Field(min_length=2, max_length=500, description="why (kept in history)")


class PolicyValueOut(BaseModel):
    """One policy value the department may change, with its default, bounds and unit."""

    key: str
    value: int | float | bool
    default: int | float | bool = Field(description="the seed's value")
    minimum: float | None
    maximum: float | None
    unit: str
    zh: str = Field(description="Chinese label")
    description: str


class PolicyChanged(BaseModel):
    key: str
    value: int | float | bool = Field(description="the value in force now")


class PolicyHistoryEntry(BaseModel):
    occurred_at: Timestamp
    actor_id: str | None
    changes: dict[str, Any] = Field(description="key: [before, after]")
    reason: str | None


def policy_router(
    definitions: dict[str, PolicyDefinition],
    current: Callable[[AsyncSession], Awaitable[dict[str, Any]]],
    change: Callable[[UnitOfWork, str, Any, str], Awaitable[Any]],
) -> APIRouter:
    router = APIRouter(prefix="/policy", tags=["policy"])

    @router.get(
        "",
        response_model=Page[PolicyValueOut],
        summary="Every policy value with its default, bounds, unit and Chinese label",
    )
    async def list_policy(session: SessionDep, _: PrincipalDep) -> Page[PolicyValueOut]:
        values = await current(session)
        return Page.whole([PolicyValueOut(**d.as_dict(values[d.key])) for d in definitions.values()])

    @router.put(
        "/{key}",
        response_model=PolicyChanged,
        summary="Change one policy value (department staff); recorded with the reason",
    )
    async def change_policy(key: str, body: PolicyChange, uow: UnitOfWorkDep, _: StaffDep) -> PolicyChanged:
        value = await change(uow, key, body.value, body.reason)
        await uow.commit()
        return PolicyChanged(key=key, value=value)

    @router.get(
        "/{key}/history",
        response_model=Page[PolicyHistoryEntry],
        summary="Who changed this value, when and why",
    )
    async def policy_history(
        key: str, session: SessionDep, runtime: RuntimeDep, _: PrincipalDep
    ) -> Page[PolicyHistoryEntry]:
        a = runtime.tables.audit_log
        rows = (
            await session.execute(
                select(a.c.occurred_at, a.c.actor_id, a.c.changes, a.c.reason)
                .where(a.c.entity_type == "policy", a.c.entity_id == key)
                .order_by(a.c.occurred_at, a.c.id)
            )
        ).mappings()
        return Page.whole([PolicyHistoryEntry(**r) for r in rows])

    return router
