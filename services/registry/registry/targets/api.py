from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query

from registry.access import is_staff, require
from registry.codes import REGION_LABELS, Region
from registry.reference import FIELD_LABELS, PLATFORM_KINDS
from registry.targets import service
from registry.targets.definitions import DEFINITIONS, PLAN_START, TARGET_YEAR
from registry.targets.schemas import (
    FieldCount,
    RegionCount,
    TargetChangeIn,
    TargetChangeOut,
    TargetCount,
    TargetDetail,
    TargetHistoryOut,
    TargetSnapshot,
    TargetsOut,
)
from shared.clock import utcnow
from shared.errors import FieldIssue, ValidationFailed
from shared.http.auth import PrincipalDep
from shared.http.deps import SessionDep, UnitOfWorkDep
from shared.http.schemas import Page

router = APIRouter(prefix="/targets", tags=["targets"])
PURPOSES = {2023: ("mid_term", "中期评估"), TARGET_YEAR: ("final", "终期总结")}


def _counts(values: dict[str, int | None], tallies: dict[str, service.Tally]) -> list[TargetCount]:
    items = []
    for key, d in DEFINITIONS.items():
        target, tally = values[key], tallies.get(key, service.Tally())
        items.append(
            TargetCount(
                key=key,
                label_zh=d.label_zh,
                kind=d.kind,
                kind_zh=PLATFORM_KINDS[d.kind] if d.kind else None,
                level=d.level,
                target=target,
                target_year=TARGET_YEAR,
                count=tally.total,
                gap=max(target - tally.total, 0) if target is not None else None,
                attainment=round(tally.total / target, 3) if target else None,
            )
        )
    return items


def _details(values: dict[str, int | None], tallies: dict[str, service.Tally]) -> list[TargetDetail]:
    items = []
    for item in _counts(values, tallies):
        tally = tallies.get(item.key, service.Tally())
        items.append(
            TargetDetail(
                **item.model_dump(),
                source_zh=DEFINITIONS[item.key].source_zh,
                by_region=[
                    RegionCount(
                        region=r.value, region_zh=REGION_LABELS[r], count=tally.by_region.get(r.value, 0)
                    )
                    for r in Region
                ],
                by_field=[
                    FieldCount(field=f, field_zh=zh, count=tally.by_field.get(f, 0))
                    for f, zh in FIELD_LABELS.items()
                ],
            )
        )
    return items


@router.get(
    "",
    response_model=TargetsOut,
    summary="Seed 004 targets against the register as it was on a day (default today)",
)
async def targets(
    session: SessionDep,
    _: PrincipalDep,
    on: Annotated[date | None, Query(description="count as on this day (history)")] = None,
) -> TargetsOut:
    day = on or utcnow().date()
    if day > utcnow().date():
        raise ValidationFailed([FieldIssue("on", "future", "a past day or today", "应为今天或以前的日期")])
    values, tallies = await service.values_on(session, day), await service.counts_on(session, day)
    return TargetsOut(on=day, counted_states=list(service.COUNTED_STATES), items=_details(values, tallies))


@router.get(
    "/snapshots",
    response_model=Page[TargetSnapshot],
    summary="Year-end counts against the targets: 年度监测, 中期评估 (2023), 终期总结 (2025)",
)
async def snapshots(
    session: SessionDep,
    _: PrincipalDep,
    from_year: Annotated[int, Query(ge=2000, le=2100)] = PLAN_START,
    to_year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
) -> Page[TargetSnapshot]:
    today = utcnow().date()
    last = min(to_year or today.year, today.year)
    if last < from_year:
        raise ValidationFailed(
            [
                FieldIssue(
                    "to_year",
                    "before_from_year",
                    "to_year must not precede from_year",
                    "结束年度早于开始年度",
                )
            ]
        )
    result = []
    for year in range(from_year, last + 1):
        day = min(date(year, 12, 31), today)
        purpose, purpose_zh = PURPOSES.get(year, ("annual", "年度监测"))
        values, tallies = await service.values_on(session, day), await service.counts_on(session, day)
        result.append(
            TargetSnapshot(
                year=year,
                on=day,
                purpose=purpose,
                purpose_zh=purpose_zh,
                items=_counts(values, tallies),
            )
        )
    return Page.whole(result)


def _change_out(c: Any) -> TargetChangeOut:
    return TargetChangeOut(
        key=c.key,
        previous=c.previous,
        value=c.value,
        reason=c.reason,
        changed_at=c.changed_at,
        changed_by=c.changed_by,
    )


@router.put(
    "/{key}",
    response_model=TargetChangeOut,
    summary="Change a target (reason required; kept in its history and the audit log)",
)
async def change_target(
    key: str, body: TargetChangeIn, uow: UnitOfWorkDep, principal: PrincipalDep
) -> TargetChangeOut:
    require(is_staff(principal), "change targets", "调整发展目标")
    row = await service.change(uow, key, body.value, body.reason)
    out = _change_out(row)
    await uow.commit()
    return out


@router.get(
    "/{key}/history",
    response_model=TargetHistoryOut,
    summary="Every change of one target: before, after, who, when, why",
)
async def target_history(key: str, session: SessionDep, _: PrincipalDep) -> TargetHistoryOut:
    d = service.definition(key)
    return TargetHistoryOut(
        key=key,
        label_zh=d.label_zh,
        default=d.default,
        items=[_change_out(c) for c in await service.history(session, key)],
    )
