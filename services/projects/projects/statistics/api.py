"""Statistics by plan category and year, beside the projects' statistics (GET /projects/statistics)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from projects.funded.machines import STAFF
from projects.statistics import service
from projects.statistics.schemas import PlanStatisticsOut
from shared.auth import Principal
from shared.errors import FieldIssue, ValidationFailed
from shared.http.auth import require_roles
from shared.http.deps import SessionDep
from shared.http.filters import only_filters

router = APIRouter(prefix="/projects/statistics", tags=["projects"])
StaffDep = Annotated[Principal, Depends(require_roles(*STAFF))]


@router.get(
    "/plan-categories",
    response_model=PlanStatisticsOut,
    summary="Projects and funding per plan category and year; basic research against its yearly floor",
    dependencies=[only_filters("year_from", "year_to")],
)
async def plan_category_statistics(
    session: SessionDep,
    _: StaffDep,
    year_from: Annotated[int | None, Query(ge=2000, le=2100)] = None,
    year_to: Annotated[int | None, Query(ge=2000, le=2100)] = None,
) -> PlanStatisticsOut:
    if year_from is not None and year_to is not None and year_from > year_to:
        raise ValidationFailed(
            [FieldIssue("year_to", "before_start", "year_to is before year_from", "截止年度不能早于起始年度")]
        )
    return await service.by_plan_category(session, year_from, year_to)
