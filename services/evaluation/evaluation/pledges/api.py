"""The pledge over HTTP: the expert reads and signs it; the review office sees who signed."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Response, status
from sqlalchemy import func, select

from evaluation.access import Office
from evaluation.experts.models import Expert
from evaluation.pledges import service
from evaluation.pledges.models import ReviewPledge
from evaluation.pledges.schemas import PledgeIn, PledgeOut, SignedPledgeOut
from evaluation.reviews.service import load_round
from shared.http.auth import PrincipalDep
from shared.http.deps import PageDep, UnitOfWorkDep
from shared.http.filters import only_filters
from shared.http.schemas import Page

router = APIRouter(tags=["reviews"])


def _out(round_id: UUID, pledge: ReviewPledge | None) -> PledgeOut:
    return PledgeOut(
        round_id=round_id,
        signed=pledge is not None,
        signed_at=pledge.signed_at if pledge else None,
        text_version=pledge.text_version if pledge else service.TEXT_VERSION,
        text=pledge.text if pledge else service.TEXT,
    )


@router.get(
    "/rounds/{round_id}/pledge",
    response_model=PledgeOut,
    summary="The round's integrity and confidentiality pledge (诚信和保密承诺) and whether I signed it",
)
async def get_my_pledge(round_id: UUID, uow: UnitOfWorkDep, principal: PrincipalDep) -> PledgeOut:
    expert = await service.expert_in_round(uow.session, round_id, principal.person_id)
    return _out(round_id, await service.signed(uow.session, round_id, expert.id))


@router.post(
    "/rounds/{round_id}/pledge",
    response_model=PledgeOut,
    status_code=status.HTTP_201_CREATED,
    summary="Sign the round's pledge before reading its applications (201; 200 if already signed)",
)
async def sign_pledge(
    round_id: UUID, body: PledgeIn, uow: UnitOfWorkDep, principal: PrincipalDep, response: Response
) -> PledgeOut:
    pledge, new = await service.sign(uow, round_id, principal.person_id, body.text_version)
    await uow.commit()
    if not new:
        response.status_code = status.HTTP_200_OK
    return _out(round_id, pledge)


@router.get(
    "/rounds/{round_id}/pledges",
    response_model=Page[SignedPledgeOut],
    summary="Who signed the round's pledge, and when",
    dependencies=[only_filters()],
)
async def list_round_pledges(
    round_id: UUID, uow: UnitOfWorkDep, _: Office, page: PageDep
) -> Page[SignedPledgeOut]:
    await load_round(uow.session, round_id)
    total = (
        await uow.session.execute(
            select(func.count()).select_from(ReviewPledge).where(ReviewPledge.round_id == round_id)
        )
    ).scalar_one()
    rows = await uow.session.execute(
        select(ReviewPledge, Expert.name)
        .join(Expert, Expert.id == ReviewPledge.expert_id)
        .where(ReviewPledge.round_id == round_id)
        .order_by(ReviewPledge.signed_at, ReviewPledge.id)
        .offset(page.offset)
        .limit(page.size)
    )
    items = [
        SignedPledgeOut(
            round_id=p.round_id,
            expert_id=p.expert_id,
            expert_name=name,
            text_version=p.text_version,
            signed_at=p.signed_at,
        )
        for p, name in rows.all()
    ]
    return Page(items=items, total=total, page=page.page, size=page.size)
