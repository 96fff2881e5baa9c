"""Projects and funding per plan category and year; basic research's total against the floor.

A project counts in its call's year and plan category, the way the department budgets; a filed
project (备案, no call) counts in its start year as 备案项目. Never writes.
"""

from __future__ import annotations

from sqlalchemy import Integer, cast, func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from projects.calls.models import Call
from projects.catalogue.seed import PLAN_CATEGORIES
from projects.funded.models import Project
from projects.policy.service import current
from projects.statistics.schemas import BasicResearchYear, CategoryYear, PlanStatisticsOut

BASIC = "basic_research"
FLOOR_KEY = "basic_research_min_yearly_fen"
CATEGORIES_ZH = PLAN_CATEGORIES | {"filing": "备案项目"}


async def by_plan_category(
    session: AsyncSession, year_from: int | None, year_to: int | None
) -> PlanStatisticsOut:
    year_col = func.coalesce(Call.year, cast(func.extract("year", Project.start_date), Integer))
    category = func.coalesce(Call.plan_category, literal("filing"))
    stmt = (
        select(
            year_col.label("year"),
            category.label("category"),
            func.count(),
            func.coalesce(func.sum(Project.funding_fen), 0),
            func.coalesce(func.sum(Project.external_funding_fen), 0),
        )
        .select_from(Project)
        .outerjoin(Call, Call.id == Project.call_id)
        .group_by(year_col, category)
        .order_by(year_col, category)
    )
    if year_from is not None:
        stmt = stmt.where(year_col >= year_from)
    if year_to is not None:
        stmt = stmt.where(year_col <= year_to)
    rows = [
        CategoryYear(
            year=int(y),
            plan_category=c,
            plan_category_zh=CATEGORIES_ZH.get(c, c),
            projects=n,
            funding_fen=int(fen),
            external_funding_fen=int(ext),
        )
        for y, c, n, fen, ext in (await session.execute(stmt)).all()
    ]
    floor = int((await current(session))[FLOOR_KEY])
    if year_from is not None and year_to is not None:
        years: list[int] = list(range(year_from, year_to + 1))
    else:
        years = sorted({r.year for r in rows})
    basic: dict[int, int] = {r.year: r.funding_fen for r in rows if r.plan_category == BASIC}
    return PlanStatisticsOut(
        rows=rows,
        basic_research=[
            BasicResearchYear(
                year=y,
                funding_fen=basic.get(y, 0),
                floor_fen=floor,
                met=basic.get(y, 0) >= floor,
                gap_fen=max(0, floor - basic.get(y, 0)),
            )
            for y in years
        ],
        projects=sum(r.projects for r in rows),
        funding_fen=sum(r.funding_fen for r in rows),
    )
