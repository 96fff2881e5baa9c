from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse
from sqlalchemy import func, select

from registry.advisor.service import RULES, AdviceFilter, advise
from registry.codes import REGION_LABELS, Region
from registry.platforms.models import Platform
from registry.reference import FIELD_LABELS, PLATFORM_KINDS, TARGETS_2025, FieldCode
from shared.clock import utcnow
from shared.http.auth import PrincipalDep
from shared.http.deps import SessionDep

router = APIRouter(prefix="/reorganisation", tags=["reorganisation"])
targets_router = APIRouter(prefix="/targets", tags=["targets"])
COUNTED_STATES = ("under_construction", "operating", "under_rectification")


@router.get("/advice", summary="Findings that call for 充实/调整/整合/撤销, each with rule and evidence")
async def advice(
    session: SessionDep,
    _: PrincipalDep,
    field: FieldCode | None = None,
    region: Region | None = None,
    host_unit_id: UUID | None = None,
    rule: Annotated[str | None, Query(description="only labs with this finding")] = None,
    on: Annotated[date | None, Query(description="review date (default today)")] = None,
) -> JSONResponse:
    result = await advise(
        session, AdviceFilter(field, region.value if region else None, host_unit_id), on or utcnow().date()
    )
    if rule is not None and rule in RULES:
        result["labs"] = [lab for lab in result["labs"] if any(f["rule"] == rule for f in lab["findings"])]
    # Already plain JSON values: skip FastAPI's per-value encoder, which dominates on large registers.
    return JSONResponse(result)


@targets_router.get("", summary="2025 targets (seed 004) against current counts per kind, 盟市 and field")
async def targets(session: SessionDep, _: PrincipalDep) -> dict[str, Any]:
    rows = (
        await session.execute(
            select(Platform.kind, Platform.region, Platform.field, func.count())
            .where(Platform.state.in_(COUNTED_STATES))
            .group_by(Platform.kind, Platform.region, Platform.field)
        )
    ).all()
    per_kind: dict[str, int] = {}
    per_region: dict[str, dict[str, int]] = {}
    per_field: dict[str, dict[str, int]] = {}
    for kind, region, field_code, n in rows:
        per_kind[kind] = per_kind.get(kind, 0) + n
        per_region.setdefault(kind, {}).setdefault(region, 0)
        per_region[kind][region] += n
        per_field.setdefault(kind, {}).setdefault(field_code, 0)
        per_field[kind][field_code] += n
    items = []
    for kind, zh in PLATFORM_KINDS.items():
        target = TARGETS_2025.get(kind)
        current = per_kind.get(kind, 0)
        items.append(
            {
                "kind": kind,
                "kind_zh": zh,
                "target_2025": target,
                "current": current,
                "gap": max(target - current, 0) if target is not None else None,
                "attainment": round(current / target, 3) if target else None,
                "by_region": [
                    {
                        "region": r.value,
                        "region_zh": REGION_LABELS[r],
                        "count": per_region.get(kind, {}).get(r.value, 0),
                    }
                    for r in Region
                ],
                "by_field": [
                    {"field": f, "field_zh": FIELD_LABELS[f], "count": per_field.get(kind, {}).get(f, 0)}
                    for f in FIELD_LABELS
                ],
            }
        )
    return {"counted_states": list(COUNTED_STATES), "items": items}
