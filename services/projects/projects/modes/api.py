from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, status
from pydantic import BaseModel

from projects.applications import service as applications
from projects.calls import service as calls
from projects.modes import service
from projects.modes.models import Designation
from projects.modes.rules import RULES
from projects.modes.schemas import DesignationCreate, DesignationOut, VerificationIn, VerificationOut
from shared.auth import Principal, Role
from shared.errors import NotFound
from shared.http.auth import PrincipalDep, require_roles
from shared.http.deps import SessionDep, UnitOfWorkDep
from shared.http.schemas import Page


class PaymentTranche(BaseModel):
    percent: float
    condition: str
    zh: str


class ModeOut(BaseModel):
    """What an organisation mode does differently (seed 003)."""

    code: str
    zh: str
    differs_zh: str
    open_call: bool
    expert_review: bool
    challenge_required: bool
    parallel_teams: bool
    results_required: bool
    verification_required: bool
    justification_required: bool
    single_matter: bool
    payment_plan: list[PaymentTranche]


router = APIRouter(tags=["organisation modes"])
StaffDep = Annotated[Principal, Depends(require_roles(Role.department_staff, Role.administrator))]


@router.get("/modes", response_model=Page[ModeOut], summary="What each organisation mode does differently")
async def modes(_: PrincipalDep) -> Page[Any]:
    return Page.whole(
        [
            {
                "code": r.code,
                "zh": r.label_zh,
                "differs_zh": r.differs_zh,
                "open_call": r.open_call,
                "expert_review": r.expert_review,
                "challenge_required": r.challenge_required,
                "parallel_teams": r.parallel_teams,
                "results_required": r.results_required,
                "verification_required": r.verification_required,
                "justification_required": r.justification_required,
                "single_matter": r.single_matter,
                "payment_plan": [
                    {"percent": t.percent, "condition": t.condition, "zh": t.label_zh} for t in r.payment_plan
                ],
            }
            for r in RULES.values()
        ]
    )


@router.post(
    "/calls/{call_id}/designations",
    status_code=status.HTTP_201_CREATED,
    response_model=DesignationOut,
    summary="定向委托 / 一事一议: designate the undertaking unit and lead",
)
async def designate(
    call_id: UUID, body: DesignationCreate, uow: UnitOfWorkDep, _: StaffDep
) -> DesignationOut:
    call = await calls.get(uow.session, call_id)
    designation = await service.designate(uow, call, body)
    await uow.commit()
    return DesignationOut.model_validate(designation)


@router.get("/calls/{call_id}/designations", response_model=Page[DesignationOut])
async def designations(call_id: UUID, session: SessionDep, _: StaffDep) -> Page[Any]:
    return Page.whole(
        [DesignationOut.model_validate(d) for d in await service.designations(session, call_id)]
    )


@router.get(
    "/calls/{call_id}/designations/{designation_id}",
    response_model=DesignationOut,
    summary="One designation of the call",
)
async def get_designation(
    call_id: UUID, designation_id: UUID, session: SessionDep, _: StaffDep
) -> DesignationOut:
    designation = await session.get(Designation, designation_id)
    if designation is None or designation.call_id != call_id:
        raise NotFound("no such designation of this call", "该指南无此定向委托")
    return DesignationOut.model_validate(designation)


@router.post(
    "/applications/{app_id}/verification",
    response_model=VerificationOut,
    summary="后补助: record the verification of the results",
)
async def verify(
    app_id: UUID, body: VerificationIn, uow: UnitOfWorkDep, principal: StaffDep
) -> dict[str, Any]:
    app = await applications.get(uow.session, app_id, for_update=True)
    call = await calls.get(uow.session, app.call_id)
    app = await service.verify(uow, app, call, body)
    await uow.commit()
    return {"application_id": str(app.id), "verification": app.verification}
