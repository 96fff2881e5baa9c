"""Freezing a periodic list: the verified results (成果清单) or the published application
scenarios (应用场景清单) of a period, copied into one snapshot. Never commits.

One list per kind and period: a frozen list is the department's record of what it announced, so
it is never redone; what arrives later belongs to the next period's list.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from projects.demands.models import TechnologyDemand
from projects.demands.schemas import FIELDS_ZH
from projects.funded.models import Project
from projects.organisations.models import OrganisationView
from projects.periodic_lists.models import PeriodicList
from projects.periodic_lists.schemas import KINDS_ZH, ListEntry, ListFreeze
from projects.results.models import ProjectResult
from projects.results.schemas import KINDS_ZH as RESULT_KINDS_ZH
from projects.results.schemas import MATURITY_ZH, TRANSFER_ZH
from shared.clock import utcnow
from shared.errors import Conflict, NotFound
from shared.ids import uuid7
from shared.timestamps import BEIJING
from shared.uow import UnitOfWork

PREFIXES = {"results": "CGQD", "scenarios": "CJQD"}
QUARTERS_ZH = {"1": "第一季度", "2": "第二季度", "3": "第三季度", "4": "第四季度"}


def bounds(period: str) -> tuple[date, date, str]:
    """First and last day of ``2027``, ``2027-H1`` or ``2027-Q3``, and the period's Chinese name."""
    year = int(period[:4])
    if len(period) == 4:
        return date(year, 1, 1), date(year, 12, 31), f"{year}年度"
    part, n = period[5], int(period[6])
    months = 6 if part == "H" else 3
    first = date(year, (n - 1) * months + 1, 1)
    after = date(year + 1, 1, 1) if n * months == 12 else date(year, n * months + 1, 1)
    name = f"{year}年{'上半年' if n == 1 else '下半年'}" if part == "H" else f"{year}年{QUARTERS_ZH[str(n)]}"
    return first, after - timedelta(days=1), name


def _window(first: date, last: date) -> tuple[datetime, datetime]:
    return (
        datetime.combine(first, time.min, BEIJING),
        datetime.combine(last + timedelta(days=1), time.min, BEIJING),
    )


async def _results(session: AsyncSession, first: date, last: date) -> list[ListEntry]:
    start, end = _window(first, last)
    rows = await session.execute(
        select(ProjectResult, Project.code, Project.title, OrganisationView.name)
        .join(Project, Project.id == ProjectResult.project_id)
        .outerjoin(OrganisationView, OrganisationView.id == ProjectResult.unit_id)
        .where(
            ProjectResult.state == "verified",
            ProjectResult.decided_at >= start,
            ProjectResult.decided_at < end,
        )
        .order_by(ProjectResult.decided_at, ProjectResult.code)
    )
    return [
        ListEntry(
            seq=seq,
            id=r.id,
            code=r.code,
            title=r.title,
            category_zh=RESULT_KINDS_ZH[r.kind],
            unit_name=unit_name,
            project_code=project_code,
            project_title=project_title,
            people=r.people,
            maturity_zh=MATURITY_ZH[r.maturity],
            transfer_status_zh=TRANSFER_ZH[r.transfer_status],
            budget_min_fen=None,
            budget_max_fen=None,
            deadline=None,
            dated_at=r.decided_at,
        )
        for seq, (r, project_code, project_title, unit_name) in enumerate(rows.all(), start=1)
    ]


async def _scenarios(session: AsyncSession, first: date, last: date) -> list[ListEntry]:
    start, end = _window(first, last)
    rows = await session.execute(
        select(TechnologyDemand, OrganisationView.name)
        .outerjoin(OrganisationView, OrganisationView.id == TechnologyDemand.unit_id)
        .where(
            TechnologyDemand.kind == "scenario",
            TechnologyDemand.state == "published",
            TechnologyDemand.published_at >= start,
            TechnologyDemand.published_at < end,
        )
        .order_by(TechnologyDemand.published_at, TechnologyDemand.code)
    )
    return [
        ListEntry(
            seq=seq,
            id=d.id,
            code=d.code,
            title=d.title,
            category_zh=FIELDS_ZH[d.field],
            unit_name=unit_name,
            project_code=None,
            project_title=None,
            people=[],
            maturity_zh=None,
            transfer_status_zh=None,
            budget_min_fen=d.budget_min_fen,
            budget_max_fen=d.budget_max_fen,
            deadline=d.deadline,
            dated_at=d.published_at or d.registered_at,
        )
        for seq, (d, unit_name) in enumerate(rows.all(), start=1)
    ]


async def freeze(uow: UnitOfWork, data: ListFreeze) -> PeriodicList:
    kind = data.kind.value
    existing = (
        await uow.session.execute(
            select(PeriodicList.id).where(PeriodicList.kind == kind, PeriodicList.period == data.period)
        )
    ).scalar_one_or_none()
    if existing is not None:
        raise Conflict(
            f"the {kind} list of {data.period} is already frozen",
            f"{data.period}的{KINDS_ZH[kind]}已经固定，不能重新生成",
            code="already_frozen",
            extra={"existing_id": str(existing)},
        )
    first, last, period_zh = bounds(data.period)
    entries = await (_results if kind == "results" else _scenarios)(uow.session, first, last)
    if not entries:
        what = "核验通过的科技成果" if kind == "results" else "已发布的应用场景"
        raise Conflict(
            f"nothing to list for {data.period}",
            f"{period_zh}没有{what}，无需生成清单",
            code="nothing_to_list",
        )
    listed = PeriodicList(
        id=uuid7(),
        code=f"{PREFIXES[kind]}-{data.period}",
        kind=kind,
        period=data.period,
        year=first.year,
        starts_on=first,
        ends_on=last,
        title=data.title or f"{period_zh}{KINDS_ZH[kind]}",
        note=data.note,
        entries=[e.model_dump(mode="json") for e in entries],
        entry_count=len(entries),
        frozen_by=uow.actor.id,
        frozen_at=utcnow(),
    )
    uow.session.add(listed)
    await uow.session.flush()
    changes: dict[str, Any] = {"code": listed.code, "entries": [e.code for e in entries]}
    await uow.record(
        "periodic_list.frozen",
        entity_type="periodic_list",
        entity_id=listed.id,
        changes=changes,
        reason=data.note,
    )
    return listed


async def get(session: AsyncSession, list_id: Any) -> PeriodicList:
    found = await session.get(PeriodicList, list_id)
    if found is None:
        raise NotFound(f"periodic list {list_id} not found", "未找到该清单")
    return found
