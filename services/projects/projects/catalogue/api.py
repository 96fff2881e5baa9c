from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from projects.catalogue import service
from projects.catalogue.models import Programme
from projects.catalogue.seed import (
    APPLICANT_FORMS,
    FUNDING_TYPES,
    ORGANISATION_MODES,
    PLAN_CATEGORIES,
    basis_of,
)
from shared.auth import Principal, Role
from shared.http.auth import PrincipalDep, require_roles
from shared.http.deps import SessionDep, UnitOfWorkDep

router = APIRouter(prefix="/catalogue", tags=["catalogue"])
StaffDep = Annotated[Principal, Depends(require_roles(Role.department_staff, Role.administrator))]


class ProgrammeUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, min_length=2, max_length=100)
    organisation_modes: list[str] | None = Field(None, max_length=10)
    funding_source: str | None = Field(None, min_length=2, max_length=100)
    funding_types: list[str] | None = Field(None, max_length=10)
    managing_office: str | None = Field(None, min_length=2, max_length=100)
    applicant_form: Literal["any", "enterprise_led_consortium"] | None = None
    long_cycle_allowed: bool | None = None
    active: bool | None = None
    reason: str = Field(min_length=2, max_length=500)


def _out(p: Programme) -> dict[str, Any]:
    d = p.as_dict()
    d["plan_category_zh"] = PLAN_CATEGORIES.get(p.plan_category, p.plan_category)
    d["organisation_modes_zh"] = [ORGANISATION_MODES.get(m, m) for m in p.organisation_modes]
    d["funding_types_zh"] = [FUNDING_TYPES.get(t, t) for t in p.funding_types]
    d["applicant_form_zh"] = APPLICANT_FORMS.get(p.applicant_form, p.applicant_form)
    # Where the default modes come from: the sentences of seed 003, verbatim.
    d["seed_basis"] = [
        {
            "modes": list(b.modes),
            "modes_zh": [ORGANISATION_MODES[m] for m in b.modes],
            "quote": b.quote,
            "where": f"科技计划体系优化改革方案（内科资字〔2024〕75号）{b.where}",
            "reading": b.reading or None,
        }
        for b in basis_of(p.code)
    ]
    return d


@router.get("/codes", summary="Code lists of the catalogue with Chinese labels")
async def codes(_: PrincipalDep) -> dict[str, list[dict[str, str]]]:
    return service.code_lists()


@router.get("/programmes", summary="The plan catalogue: five categories and their special programmes")
async def list_programmes(
    session: SessionDep, _: PrincipalDep, plan_category: str | None = None, active: bool | None = None
) -> dict[str, Any]:
    stmt = select(Programme).order_by(Programme.plan_category, Programme.code)
    if plan_category:
        stmt = stmt.where(Programme.plan_category == plan_category)
    if active is not None:
        stmt = stmt.where(Programme.active == active)
    items = [_out(p) for p in (await session.execute(stmt)).scalars()]
    categories = [
        {"code": code, "zh": zh, "programmes": [p for p in items if p["plan_category"] == code]}
        for code, zh in PLAN_CATEGORIES.items()
    ]
    return {"items": items, "total": len(items), "categories": [c for c in categories if c["programmes"]]}


@router.patch("/programmes/{code}", summary="Staff change a programme (recorded with the reason)")
async def update_programme(
    code: str, body: ProgrammeUpdate, uow: UnitOfWorkDep, _: StaffDep
) -> dict[str, Any]:
    patch = body.model_dump(exclude_unset=True, exclude={"reason"})
    programme = await service.update(
        uow, code, {k: v for k, v in patch.items() if v is not None}, body.reason
    )
    await uow.commit()
    return _out(programme)
