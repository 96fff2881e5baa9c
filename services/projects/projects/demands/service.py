"""技术需求库: units register demands and scenarios, staff publish and close them. Never commits.

A published row is public to every signed-in user (that is what publishing is for); before
publishing and after closing only staff and the registering unit's admins read it.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import Select, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from projects.demands.models import TechnologyDemand
from projects.demands.schemas import KINDS_ZH, DemandIn
from projects.funded.machines import STAFF
from projects.funded.service import units_of
from projects.numbering import next_code
from projects.organisations.models import OrganisationView
from shared.auth import Principal, Role
from shared.clock import utcnow
from shared.errors import FieldIssue, Forbidden, NotFound, ValidationFailed
from shared.ids import uuid7
from shared.statemachine import StateMachine, Transition
from shared.timestamps import beijing
from shared.uow import UnitOfWork

DEMAND_MACHINE = StateMachine(
    "technology_demand",
    (
        Transition.of("publish", ["registered"], "published", "发布", STAFF),
        Transition.of("close", ["registered", "published"], "closed", "关闭", STAFF),
    ),
    state_labels_zh={"registered": "已登记待发布", "published": "已发布", "closed": "已关闭"},
    terminal=frozenset({"closed"}),
)
PREFIXES = {"demand": "XQ", "scenario": "CJ"}


def visible_to(stmt: Select[Any], principal: Principal) -> Select[Any]:
    if principal.has_role(*STAFF):
        return stmt
    ors: list[Any] = [TechnologyDemand.state == "published"]
    units = sorted(units_of(principal))
    if principal.has_role(Role.host_unit_admin) and units:
        ors.append(TechnologyDemand.unit_id.in_(units))
    return stmt.where(or_(*ors))


async def get(
    session: AsyncSession, demand_id: UUID, principal: Principal, *, for_update: bool = False
) -> TechnologyDemand:
    stmt = visible_to(select(TechnologyDemand).where(TechnologyDemand.id == demand_id), principal)
    found: TechnologyDemand | None = (
        await session.execute(stmt.with_for_update() if for_update else stmt)
    ).scalar_one_or_none()
    if found is None:
        raise NotFound(f"technology demand {demand_id} not found", "未找到该技术需求或应用场景")
    return found


async def register(uow: UnitOfWork, principal: Principal, data: DemandIn) -> TechnologyDemand:
    if not (principal.has_role(Role.host_unit_admin) and str(data.unit_id) in units_of(principal)):
        raise Forbidden(
            "a unit's admin registers the unit's own demands and scenarios",
            "仅单位管理员可登记本单位的技术需求或应用场景",
        )
    issues: list[FieldIssue] = []
    unit = await uow.session.get(OrganisationView, data.unit_id)
    if unit is None:
        issues.append(FieldIssue("unit_id", "unknown", "not a registered unit", "该单位未在系统中登记"))
    elif data.kind == "demand" and unit.type != "enterprise":
        issues.append(
            FieldIssue(
                "unit_id",
                "not_enterprise",
                "technology demands are registered by enterprises; other units open application scenarios",
                "技术需求由企业登记；其他单位可登记应用场景",
            )
        )
    if data.budget_max_fen < data.budget_min_fen:
        issues.append(
            FieldIssue(
                "budget_max_fen",
                "below_minimum",
                "the budget's upper bound is below its lower bound",
                "预算上限不能低于预算下限",
            )
        )
    today = beijing(utcnow()).date()
    if data.deadline <= today:
        issues.append(FieldIssue("deadline", "past", "the deadline lies in the past", "截止日期须晚于今天"))
    if issues:
        raise ValidationFailed(issues)
    now = utcnow()
    year = beijing(now).year
    demand = TechnologyDemand(
        id=uuid7(),
        code=await next_code(uow.session, TechnologyDemand.code, f"{PREFIXES[data.kind]}{year}-", 4),
        kind=data.kind.value,
        title=data.title,
        field=data.field.value,
        description=data.description,
        budget_min_fen=data.budget_min_fen,
        budget_max_fen=data.budget_max_fen,
        deadline=data.deadline,
        unit_id=data.unit_id,
        year=year,
        state="registered",
        registered_by=uow.actor.id,
        registered_at=now,
    )
    uow.session.add(demand)
    await uow.session.flush()
    await uow.record(
        "technology_demand.registered",
        entity_type="technology_demand",
        entity_id=demand.id,
        changes={
            "code": demand.code,
            "kind": demand.kind,
            "title": demand.title,
            "unit_id": str(data.unit_id),
        },
        reason=f"登记{KINDS_ZH[demand.kind]}",
    )
    return demand


async def act(uow: UnitOfWork, demand: TechnologyDemand, action: str, reason: str | None) -> TechnologyDemand:
    transition = DEMAND_MACHINE.apply(demand.state, action, uow.actor.roles)
    if action == "close" and not (reason and reason.strip()):
        raise ValidationFailed([FieldIssue("reason", "required", "closing says why", "关闭须说明理由")])
    before = demand.state
    demand.state = transition.target
    now = utcnow()
    if action == "publish":
        demand.published_at = now
    else:
        demand.closed_at = now
        demand.close_reason = reason
    await uow.record(
        f"technology_demand.{transition.target}",
        entity_type="technology_demand",
        entity_id=demand.id,
        changes={"state": [before, transition.target]},
        reason=reason,
    )
    return demand
