"""基地、人才、项目、资金一体化 (seed 004): an application and its project may name the platform
that undertakes it; stable support (稳定支持) names the lab it funds. Never commits."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from projects.catalogue.seed import ORGANISATION_MODES
from projects.funded.machines import PROJECT_MACHINE, STAFF
from projects.funded.models import Project
from projects.funded.service import units_of
from projects.platforms.models import PlatformView
from shared.auth import Principal, Role
from shared.errors import FieldIssue, Forbidden, NotFound, ValidationFailed

ENDED = ("revoked", "merged")
MODE_LABELS = ORGANISATION_MODES | {"filing": "备案"}


async def check_undertaking(
    session: AsyncSession, platform_id: UUID | None, unit_id: UUID, *, required: bool
) -> None:
    """The named platform is registered, not revoked or merged, and hosted or co-built by the unit."""
    if platform_id is None:
        if required:
            raise ValidationFailed(
                [
                    FieldIssue(
                        "platform_id",
                        "required",
                        "stable support names the platform (lab) it funds",
                        "稳定支持项目须填写所支持的平台（重点实验室等）",
                    )
                ]
            )
        return
    platform = await session.get(PlatformView, platform_id)
    issue: FieldIssue | None = None
    if platform is None:
        issue = FieldIssue("platform_id", "unknown", "not a registered platform", "不是已登记的创新平台")
    elif platform.state in ENDED:
        issue = FieldIssue(
            "platform_id",
            "ended",
            f"the platform is {platform.state}",
            "该平台已撤销或已被整合，不能承担项目",
        )
    elif str(unit_id) not in {str(platform.host_unit_id), *map(str, platform.co_builder_unit_ids)}:
        issue = FieldIssue(
            "platform_id",
            "not_the_unit",
            "the applicant unit neither hosts nor co-builds the platform",
            "申报单位不是该平台的依托单位或共建单位",
        )
    if issue is not None:
        raise ValidationFailed([issue])


def may_read_projects(principal: Principal, platform: PlatformView) -> bool:
    """Staff; the host unit's admin; the lab's director — by the token's ``platforms`` scope, or
    as the person registry appointed director (``director_person_id`` of its platform events)."""
    if principal.has_role(*STAFF):
        return True
    if principal.has_role(Role.host_unit_admin) and str(platform.host_unit_id) in units_of(principal):
        return True
    if not principal.has_role(Role.lab_director):
        return False
    appointed = platform.director_person_id is not None and principal.person_id == str(
        platform.director_person_id
    )
    return appointed or str(platform.id) in principal.scope("platforms")


async def require_project_reader(session: AsyncSession, platform_id: UUID, principal: Principal) -> None:
    platform = await session.get(PlatformView, platform_id)
    if platform is None:
        raise NotFound(f"platform {platform_id} not found", "未找到该平台")
    if not may_read_projects(principal, platform):
        raise Forbidden(
            "only staff, the host unit's admin and the lab's director list a platform's projects",
            "仅科技厅业务处室、依托单位管理员和该平台主任可查看平台承担的项目",
        )


async def projects_of(session: AsyncSession, platform_id: UUID) -> list[dict[str, Any]]:
    """The platform's projects, by code."""
    rows = (
        await session.execute(
            select(Project).where(Project.platform_id == platform_id).order_by(Project.code)
        )
    ).scalars()
    return [
        {
            "id": str(p.id),
            "code": p.code,
            "title": p.title,
            "organisation_mode": p.organisation_mode,
            "organisation_mode_zh": MODE_LABELS.get(p.organisation_mode, p.organisation_mode),
            "state": p.state,
            "state_zh": PROJECT_MACHINE.state_labels_zh.get(p.state, p.state),
            "funding_fen": p.funding_fen,
        }
        for p in rows
    ]


async def funding_of(session: AsyncSession, platform_id: UUID) -> dict[str, Any]:
    """How many projects the platform undertakes and their money, per organisation mode."""
    platform = await session.get(PlatformView, platform_id)
    if platform is None:
        raise NotFound(f"platform {platform_id} not found", "未找到该平台")
    by_mode = (
        await session.execute(
            select(Project.organisation_mode, func.count(), func.sum(Project.funding_fen))
            .where(Project.platform_id == platform_id)
            .group_by(Project.organisation_mode)
            .order_by(Project.organisation_mode)
        )
    ).all()
    rows = [
        {
            "organisation_mode": m,
            "organisation_mode_zh": MODE_LABELS.get(m, m),
            "projects": n,
            "funding_fen": int(f or 0),
        }
        for m, n, f in by_mode
    ]
    return {
        "platform": {
            "id": str(platform.id),
            "code": platform.code,
            "name": platform.name,
            "state": platform.state,
        },
        "projects": sum(r["projects"] for r in rows),
        "funding_fen": sum(r["funding_fen"] for r in rows),
        "by_mode": rows,
    }
