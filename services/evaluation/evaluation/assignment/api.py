"""REST of assignment beyond the runs: which items of a drawn round are still short of k."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter
from pydantic import BaseModel, Field

from evaluation.access import duty
from evaluation.assignment import service
from evaluation.rounds.models import ReviewRound
from shared.auth import Principal
from shared.errors import NotFound
from shared.http.deps import UnitOfWorkDep
from shared.http.schemas import Page

router = APIRouter(tags=["experts and assignment"])
Drawer = Annotated[Principal, duty("draw")]


class ShortItem(BaseModel):
    item_id: UUID
    code: str
    title: str
    live: int = Field(description="reviewers assigned or accepted now")
    k: int = Field(description="reviewers the round asks for")


@router.get("/rounds/{round_id}/short-items", response_model=Page[ShortItem])
async def short_items(round_id: UUID, uow: UnitOfWorkDep, _: Drawer) -> Page[ShortItem]:
    """Items with fewer than k live reviewers (after a partial assignment), until 补抽 fills them."""
    rnd = await uow.session.get(ReviewRound, round_id)
    if rnd is None:
        raise NotFound(f"round {round_id} not found", "未找到该评审轮次")
    if rnd.status not in ("drawn", "open"):
        return Page.whole([])
    return Page.whole([ShortItem(**row) for row in await service.short_items(uow, rnd)])
