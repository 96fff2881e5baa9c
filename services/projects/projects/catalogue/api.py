from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from projects.catalogue import service
from projects.catalogue.models import Programme
from projects.catalogue.seed import (
    APPLICANT_FORMS,
    FUNDING_TYPES,
    ORGANISATION_MODES,
    PLAN_CATEGORIES,
    PlanCategory,
    basis_of,
)
from shared.auth import Principal, Role
from shared.http.auth import PrincipalDep, require_roles
from shared.http.deps import SessionDep, UnitOfWorkDep
from shared.http.schemas import Page

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


class CodeLabel(BaseModel):
    code: str
    zh: str


class CodeLists(BaseModel):
    """The catalogue's code lists with Chinese labels, in the order officials read them."""

    plan_categories: list[CodeLabel] = Field(description="the five plan categories (计划类别)")
    organisation_modes: list[CodeLabel] = Field(description="组织方式")
    funding_types: list[CodeLabel] = Field(description="资助方式")
    applicant_forms: list[CodeLabel] = Field(description="申报主体形式")


class SeedBasis(BaseModel):
    """Where a programme's default organisation modes come from: seed 003, verbatim."""

    modes: list[str]
    modes_zh: list[str]
    quote: str
    where: str
    reading: str | None


class ProgrammeOut(BaseModel):
    """A special programme (专项) of the catalogue, codes with their Chinese labels."""

    code: str
    name: str
    plan_category: str
    plan_category_zh: str
    organisation_modes: list[str]
    organisation_modes_zh: list[str]
    funding_source: str
    funding_types: list[str]
    funding_types_zh: list[str]
    managing_office: str
    applicant_form: str
    applicant_form_zh: str
    long_cycle_allowed: bool
    active: bool
    version: int
    seed_basis: list[SeedBasis]


def _out(p: Programme) -> ProgrammeOut:
    return ProgrammeOut(
        **p.as_dict(),
        plan_category_zh=PLAN_CATEGORIES.get(p.plan_category, p.plan_category),
        organisation_modes_zh=[ORGANISATION_MODES.get(m, m) for m in p.organisation_modes],
        funding_types_zh=[FUNDING_TYPES.get(t, t) for t in p.funding_types],
        applicant_form_zh=APPLICANT_FORMS.get(p.applicant_form, p.applicant_form),
        seed_basis=[
            SeedBasis(
                modes=list(b.modes),
                modes_zh=[ORGANISATION_MODES[m] for m in b.modes],
                quote=b.quote,
                where=f"科技计划体系优化改革方案（内科资字〔2024〕75号）{b.where}",
                reading=b.reading or None,
            )
            for b in basis_of(p.code)
        ],
    )


@router.get("/codes", response_model=CodeLists, summary="Code lists of the catalogue with Chinese labels")
async def codes(_: PrincipalDep) -> CodeLists:
    return CodeLists.model_validate(service.code_lists())


@router.get(
    "/programmes",
    response_model=Page[ProgrammeOut],
    summary="The plan catalogue: the special programmes of the five categories",
)
async def list_programmes(
    session: SessionDep,
    _: PrincipalDep,
    plan_category: Annotated[PlanCategory | None, Query(description="one plan category (计划类别)")] = None,
    active: bool | None = None,
) -> Page[ProgrammeOut]:
    stmt = select(Programme).order_by(Programme.plan_category, Programme.code)
    if plan_category:
        stmt = stmt.where(Programme.plan_category == plan_category)
    if active is not None:
        stmt = stmt.where(Programme.active == active)
    return Page.whole([_out(p) for p in (await session.execute(stmt)).scalars()])


@router.get("/programmes/{code}", response_model=ProgrammeOut, summary="One programme of the catalogue")
async def get_programme(code: str, session: SessionDep, _: PrincipalDep) -> ProgrammeOut:
    return _out(await service.get(session, code))


@router.patch(
    "/programmes/{code}",
    response_model=ProgrammeOut,
    summary="Staff change a programme (recorded with the reason)",
)
async def update_programme(code: str, body: ProgrammeUpdate, uow: UnitOfWorkDep, _: StaffDep) -> ProgrammeOut:
    patch = body.model_dump(exclude_unset=True, exclude={"reason"})
    programme = await service.update(
        uow, code, {k: v for k, v in patch.items() if v is not None}, body.reason
    )
    await uow.commit()
    return _out(programme)
