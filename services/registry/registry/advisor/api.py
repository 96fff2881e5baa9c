from __future__ import annotations

from datetime import date
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from registry.access import acting_units, is_staff, require
from registry.advisor.schemas import AdviceOut
from registry.advisor.service import AdviceFilter, Rule, advise
from registry.codes import Region
from registry.reference import FieldCode
from shared.auth import Principal, Role
from shared.clock import utcnow
from shared.http.auth import PrincipalDep
from shared.http.deps import SessionDep

router = APIRouter(prefix="/reorganisation", tags=["reorganisation"])


def visible_to(principal: Principal) -> tuple[frozenset[str] | None, frozenset[str] | None]:
    """Staff see every lab; a host unit's admin the labs of its units; a municipal bureau
    (competent department with ``scopes['regions']``, 盟市科技局) the labs of its 盟市."""
    if is_staff(principal):
        return None, None
    require(
        principal.has_role(Role.host_unit_admin, Role.competent_department),
        "read the reorganisation advice",
        "查看优化重组建议",
    )
    regions = principal.scope("regions") if principal.has_role(Role.competent_department) else frozenset()
    return acting_units(principal), regions


@router.get(
    "/advice",
    response_model=AdviceOut,
    summary="Findings that call for 充实/调整/整合/撤销, each with rule and evidence",
    description="Department staff see every lab; a host unit's admin its own labs; a municipal bureau "
    "(competent department with scopes.regions) the labs of its 盟市.",
)
async def advice(
    session: SessionDep,
    principal: PrincipalDep,
    field: FieldCode | None = None,
    region: Region | None = None,
    host_unit_id: UUID | None = None,
    rule: Annotated[Rule | None, Query(description="only labs with this finding")] = None,
    on: Annotated[date | None, Query(description="review date (default today)")] = None,
) -> JSONResponse:
    units, regions = visible_to(principal)
    result = await advise(
        session,
        AdviceFilter(field, region.value if region else None, host_unit_id, units, regions),
        on or utcnow().date(),
    )
    if rule is not None:
        result["labs"] = [lab for lab in result["labs"] if any(f["rule"] == rule for f in lab["findings"])]
    # Already plain JSON values: skip FastAPI's per-value encoder (and the response model's
    # validation, which only documents the answer here), which dominate on large registers.
    return JSONResponse(result)
