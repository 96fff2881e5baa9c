from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from registry.access import is_staff, require
from registry.codes import REGION_LABELS, Region
from registry.reference import FIELD_LABELS, PLATFORM_KINDS
from registry.targets import service
from registry.targets.definitions import DEFINITIONS, PLAN_START, TARGET_YEAR
from shared.clock import utcnow
from shared.errors import FieldIssue, ValidationFailed
from shared.http.auth import PrincipalDep
from shared.http.deps import SessionDep, UnitOfWorkDep

router = APIRouter(prefix="/targets", tags=["targets"])
PURPOSES = {2023: ("mid_term", "中期评估"), TARGET_YEAR: ("final", "终期总结")}


class TargetChangeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    value: int | None = Field(ge=0, le=100_000, description="目标数量; null: no number (若干)")
    reason: str = Field(min_length=2, max_length=2000, description="调整理由")


def _items(
    values: dict[str, int | None], tallies: dict[str, service.Tally], *, detail: bool
) -> list[dict[str, Any]]:
    items = []
    for key, d in DEFINITIONS.items():
        target, tally = values[key], tallies.get(key, service.Tally())
        item: dict[str, Any] = {
            "key": key,
            "label_zh": d.label_zh,
            "kind": d.kind,
            "kind_zh": PLATFORM_KINDS[d.kind] if d.kind else None,
            "level": d.level,
            "target": target,
            "target_year": TARGET_YEAR,
            "count": tally.total,
            "gap": max(target - tally.total, 0) if target is not None else None,
            "attainment": round(tally.total / target, 3) if target else None,
        }
        if detail:
            item["source_zh"] = d.source_zh
            item["by_region"] = [
                {"region": r.value, "region_zh": REGION_LABELS[r], "count": tally.by_region.get(r.value, 0)}
                for r in Region
            ]
            item["by_field"] = [
                {"field": f, "field_zh": zh, "count": tally.by_field.get(f, 0)}
                for f, zh in FIELD_LABELS.items()
            ]
        items.append(item)
    return items


@router.get("", summary="Seed 004 targets against the register as it was on a day (default today)")
async def targets(
    session: SessionDep,
    _: PrincipalDep,
    on: Annotated[date | None, Query(description="count as on this day (history)")] = None,
) -> dict[str, Any]:
    day = on or utcnow().date()
    if day > utcnow().date():
        raise ValidationFailed([FieldIssue("on", "future", "a past day or today", "应为今天或以前的日期")])
    values, tallies = await service.values_on(session, day), await service.counts_on(session, day)
    return {
        "on": day.isoformat(),
        "counted_states": list(service.COUNTED_STATES),
        "items": _items(values, tallies, detail=True),
    }


@router.get(
    "/snapshots", summary="Year-end counts against the targets: 年度监测, 中期评估 (2023), 终期总结 (2025)"
)
async def snapshots(
    session: SessionDep,
    _: PrincipalDep,
    from_year: Annotated[int, Query(ge=2000, le=2100)] = PLAN_START,
    to_year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
) -> dict[str, Any]:
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
            {
                "year": year,
                "on": day.isoformat(),
                "purpose": purpose,
                "purpose_zh": purpose_zh,
                "items": _items(values, tallies, detail=False),
            }
        )
    return {"items": result}


def _change_out(c: Any) -> dict[str, Any]:
    return {
        "key": c.key,
        "previous": c.previous,
        "value": c.value,
        "reason": c.reason,
        "changed_at": c.changed_at,
        "changed_by": c.changed_by,
    }


@router.put("/{key}", summary="Change a target (reason required; kept in its history and the audit log)")
async def change_target(
    key: str, body: TargetChangeIn, uow: UnitOfWorkDep, principal: PrincipalDep
) -> dict[str, Any]:
    require(is_staff(principal), "change targets", "调整发展目标")
    row = await service.change(uow, key, body.value, body.reason)
    out = _change_out(row)
    await uow.commit()
    return out


@router.get("/{key}/history", summary="Every change of one target: before, after, who, when, why")
async def target_history(key: str, session: SessionDep, _: PrincipalDep) -> dict[str, Any]:
    d = service.definition(key)
    return {
        "key": key,
        "label_zh": d.label_zh,
        "default": d.default,
        "items": [_change_out(c) for c in await service.history(session, key)],
    }
