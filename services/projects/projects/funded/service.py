"""The project aggregate: loading, who sees it, and the one place a step is taken and recorded.

Every step — machine transitions and the recorded acts in between (a report filed, a change
requested, a tranche paid) — writes a ``project_steps`` row (the timeline) and an audit row;
transitions also emit ``projects.project.updated``. Never commits: the caller does.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import Select, false, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from projects.funded.events import PROJECT_UPDATED, ProjectUpdated
from projects.funded.machines import PROJECT_MACHINE, STAFF
from projects.funded.models import Project, ProjectStep
from shared.auth import Principal, Role
from shared.clock import utcnow
from shared.errors import Forbidden, NotFound
from shared.ids import uuid7
from shared.uow import UnitOfWork


def units_of(principal: Principal) -> set[str]:
    units = set(principal.scope("units"))
    if principal.unit_id:
        units.add(principal.unit_id)
    return units


def is_pi(principal: Principal, project: Project) -> bool:
    return principal.person_id is not None and str(project.pi_person_id) == principal.person_id


def is_unit_admin(principal: Principal, project: Project) -> bool:
    return principal.has_role(Role.host_unit_admin) and str(project.unit_id) in units_of(principal)


def is_recommender(principal: Principal, project: Project) -> bool:
    """谁推荐、谁负责: the competent department that recommended the project supervises it —
    it reads the timeline, reports, changes and evaluations; it takes no step of the project."""
    return (
        principal.has_role(Role.competent_department)
        and project.competent_department_id is not None
        and str(project.competent_department_id) in units_of(principal)
    )


def can_see(principal: Principal, project: Project) -> bool:
    if principal.has_role(*STAFF) or is_pi(principal, project) or is_unit_admin(principal, project):
        return True
    if is_recommender(principal, project):
        return True
    return principal.person_id is not None and principal.person_id in project.team_person_ids


def visible_to(stmt: Select[Any], principal: Principal) -> Select[Any]:
    """The rule of can_see, as SQL."""
    if principal.has_role(*STAFF):
        return stmt
    ors: list[Any] = []
    if principal.person_id:
        ors += [
            Project.pi_person_id == principal.person_id,
            Project.team_person_ids.contains([principal.person_id]),
        ]
    units = sorted(units_of(principal))
    if principal.has_role(Role.host_unit_admin) and units:
        ors.append(Project.unit_id.in_(units))
    if principal.has_role(Role.competent_department) and units:
        ors.append(Project.competent_department_id.in_(units))
    return stmt.where(or_(*ors)) if ors else stmt.where(false())


async def get(session: AsyncSession, project_id: UUID, *, for_update: bool = False) -> Project:
    stmt = select(Project).where(Project.id == project_id)
    if for_update:
        stmt = stmt.with_for_update()
    project = (await session.execute(stmt)).scalar_one_or_none()
    if project is None:
        raise NotFound(f"project {project_id} not found", "未找到该项目")
    return project


async def load(
    session: AsyncSession, project_id: UUID, principal: Principal, *, for_update: bool = False
) -> Project:
    project = await get(session, project_id, for_update=for_update)
    if not can_see(principal, project):
        raise NotFound(f"project {project_id} not found", "未找到该项目")
    return project


def require_pi(principal: Principal, project: Project) -> None:
    if not is_pi(principal, project):
        raise Forbidden("only the project lead does this", "仅项目负责人可执行此操作")


def require_staff(principal: Principal) -> None:
    if not principal.has_role(*STAFF):
        raise Forbidden("only department staff do this", "仅科技厅业务处室可执行此操作")


async def record_step(
    uow: UnitOfWork,
    project: Project,
    action: str,
    label_zh: str,
    *,
    reason: str | None = None,
    details: dict[str, Any] | None = None,
    from_state: str | None = None,
    to_state: str | None = None,
) -> None:
    now = utcnow()
    uow.session.add(
        ProjectStep(
            id=uuid7(),
            project_id=project.id,
            action=action,
            label_zh=label_zh,
            from_state=from_state,
            to_state=to_state,
            actor_id=uow.actor.id,
            actor_roles=sorted(uow.actor.roles),
            reason=reason,
            details=details or {},
            at=now,
        )
    )
    # Explicit flush: steps of one request keep their order in the timeline even at equal times.
    await uow.session.flush()
    await uow.record(
        f"project.{action}",
        entity_type="project",
        entity_id=project.id,
        changes={"state": [from_state, to_state], **(details or {})} if to_state else dict(details or {}),
        reason=reason,
    )


async def touched(uow: UnitOfWork, project: Project, action: str, reason: str | None) -> None:
    """The project changed: new version, and the snapshot other services keep."""
    project.version += 1
    project.updated_at = utcnow()
    await uow.emit(
        PROJECT_UPDATED,
        ProjectUpdated(
            project_id=project.id,
            code=project.code,
            action=action,
            state=project.state,
            result=project.result,
            organisation_mode=project.organisation_mode,
            pi_person_id=project.pi_person_id,
            unit_id=project.unit_id,
            team_person_ids=[UUID(p) for p in project.team_person_ids],
            end_date=project.end_date,
            funding_fen=project.funding_fen,
            diligent_exempt=project.diligent_exempt,
            reason=reason,
            version=project.version,
        ),
        subject=f"project/{project.id}",
    )


async def transition(
    uow: UnitOfWork,
    project: Project,
    action: str,
    *,
    reason: str | None = None,
    details: dict[str, Any] | None = None,
    result: str | None = None,
) -> None:
    """Apply one transition of the project machine, record it and emit the new state."""
    step = PROJECT_MACHINE.apply(project.state, action, uow.actor.roles)
    before = project.state
    project.state = step.target
    if result is not None:
        project.result = result
    await touched(uow, project, action, reason)
    await record_step(
        uow,
        project,
        action,
        step.label_zh,
        reason=reason,
        details=(details or {}) | ({"result": result} if result else {}),
        from_state=before,
        to_state=project.state,
    )
