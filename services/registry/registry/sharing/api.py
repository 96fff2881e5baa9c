"""Large instruments open for sharing and open research topics (seed 001)."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Query, status
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from registry import paging
from registry.codes import Region
from registry.listing import PageRequestDep, list_page
from registry.sharing import purchase_reviews, service
from registry.sharing.models import Instrument, InstrumentPurchaseReview, OpenTopic
from registry.sharing.schemas import (
    Category,
    InstrumentIn,
    InstrumentOut,
    InstrumentRegisteredOut,
    InstrumentRetire,
    InstrumentUpdate,
    PurchaseDecisionIn,
    PurchaseReviewOut,
    TopicClose,
    TopicIn,
    TopicOut,
    TopicUpdate,
)
from shared.db import where_equal
from shared.errors import NotFound
from shared.http.auth import PrincipalDep
from shared.http.deps import PageDep, SessionDep, UnitOfWorkDep
from shared.http.schemas import Page

instruments_router = APIRouter(prefix="/instruments", tags=["instruments"])
topics_router = APIRouter(prefix="/topics", tags=["topics"])
purchase_reviews_router = APIRouter(prefix="/instrument-purchase-reviews", tags=["instruments"])


async def _instrument(uow: UnitOfWorkDep, instrument_id: UUID) -> Instrument:
    i = await uow.session.get(Instrument, instrument_id, with_for_update=True)
    if i is None:
        raise NotFound("no such instrument", "未找到该仪器")
    return i


async def _topic(uow: UnitOfWorkDep, topic_id: UUID) -> OpenTopic:
    t = await uow.session.get(OpenTopic, topic_id, with_for_update=True)
    if t is None:
        raise NotFound("no such open topic", "未找到该开放课题")
    return t


@instruments_router.post("", status_code=status.HTTP_201_CREATED, response_model=InstrumentRegisteredOut)
async def add_instrument(
    body: InstrumentIn, uow: UnitOfWorkDep, principal: PrincipalDep
) -> InstrumentRegisteredOut:
    """Registers the instrument; one of the category and model of an instrument already open for
    sharing in the owner's 盟市 also opens a purchase review (查重评议), answered with it."""
    i = await service.register_instrument(uow, principal, body)
    review = await purchase_reviews.latest_review(uow.session, i.id)
    await uow.commit()
    out = InstrumentRegisteredOut.model_validate(InstrumentOut.of(i).model_dump())
    if review is not None:
        out.purchase_review = PurchaseReviewOut.of(review, i)
    return out


@instruments_router.patch("/{instrument_id}", response_model=InstrumentOut)
async def update_instrument(
    instrument_id: UUID, body: InstrumentUpdate, uow: UnitOfWorkDep, principal: PrincipalDep
) -> InstrumentOut:
    """Sharing status, booking contact, service hours: the platform's director, host unit or staff.

    A corrected category, model or value that makes the instrument a duplicate of one already
    shared in its 盟市 opens a purchase review (查重评议), as registration does; the record then
    says ``purchase_review_state: pending`` and the review is listed under its instrument_id."""
    i = await service.update_instrument(uow, principal, await _instrument(uow, instrument_id), body)
    await uow.commit()
    return InstrumentOut.of(i)


@instruments_router.post(
    "/{instrument_id}/retire",
    response_model=InstrumentOut,
    summary="报废/调出: closed for sharing, kept on record",
)
async def retire_instrument(
    instrument_id: UUID, body: InstrumentRetire, uow: UnitOfWorkDep, principal: PrincipalDep
) -> InstrumentOut:
    i = await service.retire_instrument(uow, principal, await _instrument(uow, instrument_id), body)
    await uow.commit()
    return InstrumentOut.of(i)


@instruments_router.get("/{instrument_id}", response_model=InstrumentOut)
async def get_instrument(instrument_id: UUID, session: SessionDep, principal: PrincipalDep) -> InstrumentOut:
    """An instrument not open for sharing is 404 to those who do not manage it."""
    stmt = select(Instrument).where(Instrument.id == instrument_id)
    shown = service.visible_instruments(principal)
    if shown is not None:
        stmt = stmt.where(shown)
    i = (await session.execute(stmt)).scalar_one_or_none()
    if i is None:
        raise NotFound("no such instrument", "未找到该仪器")
    return InstrumentOut.of(i)


INSTRUMENT_SORTS = paging.sorts(
    ("name", Instrument.name, False),
    ("value_fen", Instrument.value_fen, False),
    ("annual_service_hours", Instrument.annual_service_hours, False),
)
InstrumentSort = Literal[
    "name", "-name", "value_fen", "-value_fen", "annual_service_hours", "-annual_service_hours"
]


@instruments_router.get("", response_model=Page[InstrumentOut])
async def list_instruments(
    session: SessionDep,
    principal: PrincipalDep,
    page: PageRequestDep,
    platform_id: UUID | None = None,
    owner_unit_id: UUID | None = None,
    category: Category | None = None,
    open_for_sharing: bool | None = None,
    status_: Annotated[
        Literal["in_service", "retired", "all"], Query(alias="status", description="default: in service")
    ] = "in_service",
    q: Annotated[str | None, Query(max_length=100)] = None,
    sort: InstrumentSort = "name",
) -> Page[InstrumentOut]:
    """Staff see every instrument; others those open for sharing and the ones they manage."""
    stmt = select(Instrument)
    shown = service.visible_instruments(principal)
    if shown is not None:
        stmt = stmt.where(shown)
    stmt = where_equal(
        stmt,
        (Instrument.platform_id, platform_id),
        (Instrument.owner_unit_id, owner_unit_id),
        (Instrument.category, category),
        (Instrument.open_for_sharing, open_for_sharing),
        (Instrument.status, None if status_ == "all" else status_),
    )
    if q:
        stmt = stmt.where(Instrument.name.ilike(f"%{q}%"))
    fetched: paging.Fetched[Instrument] = await paging.fetch(
        session, stmt, sort=sort, keys=INSTRUMENT_SORTS, id_column=Instrument.id, request=page
    )
    return list_page(fetched, page, [InstrumentOut.of(i) for i in fetched.rows])


@topics_router.post("", status_code=status.HTTP_201_CREATED, response_model=TopicOut)
async def add_topic(body: TopicIn, uow: UnitOfWorkDep, principal: PrincipalDep) -> TopicOut:
    t = await service.open_topic(uow, principal, body)
    await uow.commit()
    return TopicOut.of(t)


@topics_router.patch("/{topic_id}", response_model=TopicOut)
async def update_topic(
    topic_id: UUID, body: TopicUpdate, uow: UnitOfWorkDep, principal: PrincipalDep
) -> TopicOut:
    t = await service.update_topic(uow, principal, await _topic(uow, topic_id), body)
    await uow.commit()
    return TopicOut.of(t)


@topics_router.post("/{topic_id}/close", response_model=TopicOut)
async def close_topic(
    topic_id: UUID, uow: UnitOfWorkDep, principal: PrincipalDep, body: TopicClose | None = None
) -> TopicOut:
    t = await service.close_topic(uow, principal, await _topic(uow, topic_id), body.reason if body else None)
    await uow.commit()
    return TopicOut.of(t)


@topics_router.get("", response_model=Page[TopicOut])
async def list_topics(
    session: SessionDep,
    _: PrincipalDep,
    page: PageDep,
    platform_id: UUID | None = None,
    year: Annotated[int | None, Query(ge=1900, le=2200)] = None,
    status_: Annotated[Literal["open", "closed"] | None, Query(alias="status")] = None,
) -> Page[TopicOut]:
    stmt = select(OpenTopic)
    if platform_id:
        stmt = stmt.where(OpenTopic.platform_id == platform_id)
    if year:
        stmt = stmt.where(OpenTopic.year == year)
    if status_:
        stmt = stmt.where(OpenTopic.status == status_)
    total = (await session.execute(select(func.count()).select_from(stmt.subquery()))).scalar_one()
    rows = await session.execute(
        stmt.order_by(OpenTopic.year.desc(), OpenTopic.id).offset(page.offset).limit(page.size)
    )
    return Page(items=[TopicOut.of(t) for t in rows.scalars()], total=total, page=page.page, size=page.size)


@topics_router.get("/{topic_id}", response_model=TopicOut)
async def get_topic(topic_id: UUID, session: SessionDep, _: PrincipalDep) -> TopicOut:
    """One open research topic (开放课题), as the list shows it."""
    t = await session.get(OpenTopic, topic_id)
    if t is None:
        raise NotFound("no such open topic", "未找到该开放课题")
    return TopicOut.of(t)


ReviewState = Literal["pending", "approved", "not_approved"]


@purchase_reviews_router.get(
    "",
    response_model=Page[PurchaseReviewOut],
    summary="新购大型科研仪器查重评议: the instruments flagged as duplicate purchases, oldest first",
)
async def list_purchase_reviews(
    session: SessionDep,
    principal: PrincipalDep,
    page: PageDep,
    state: ReviewState | None = None,
    region: Region | None = None,
    category: Category | None = None,
    instrument_id: UUID | None = None,
) -> Page[PurchaseReviewOut]:
    """Staff see every review; a unit's admin and a lab's director those of their instruments,
    a municipal bureau those of its 盟市."""
    stmt = select(InstrumentPurchaseReview, Instrument).join(
        Instrument, Instrument.id == InstrumentPurchaseReview.instrument_id
    )
    shown = purchase_reviews.visible_reviews(principal)
    if shown is not None:
        stmt = stmt.where(shown)
    stmt = where_equal(
        stmt,
        (InstrumentPurchaseReview.state, state),
        (InstrumentPurchaseReview.region, region.value if region else None),
        (InstrumentPurchaseReview.category, category),
        (InstrumentPurchaseReview.instrument_id, instrument_id),
    )
    total = (await session.execute(select(func.count()).select_from(stmt.subquery()))).scalar_one()
    rows = await session.execute(
        stmt.order_by(InstrumentPurchaseReview.opened_at, InstrumentPurchaseReview.id)
        .offset(page.offset)
        .limit(page.size)
    )
    return Page(
        items=[PurchaseReviewOut.of(review, i) for review, i in rows.all()],
        total=total,
        page=page.page,
        size=page.size,
    )


async def _load_review(
    session: AsyncSession, principal: Any, review_id: UUID, *, lock: bool = False
) -> tuple[InstrumentPurchaseReview, Instrument]:
    stmt = (
        select(InstrumentPurchaseReview, Instrument)
        .join(Instrument, Instrument.id == InstrumentPurchaseReview.instrument_id)
        .where(InstrumentPurchaseReview.id == review_id)
    )
    shown = purchase_reviews.visible_reviews(principal)
    if shown is not None:
        stmt = stmt.where(shown)
    if lock:
        stmt = stmt.with_for_update(of=InstrumentPurchaseReview)
    row = (await session.execute(stmt)).one_or_none()
    if row is None:
        raise NotFound("no such instrument purchase review", "未找到该新购仪器查重评议")
    return row[0], row[1]


@purchase_reviews_router.get("/{review_id}", response_model=PurchaseReviewOut)
async def get_purchase_review(
    review_id: UUID, session: SessionDep, principal: PrincipalDep
) -> PurchaseReviewOut:
    review, i = await _load_review(session, principal, review_id)
    return PurchaseReviewOut.of(review, i)


@purchase_reviews_router.post(
    "/{review_id}/decision",
    response_model=PurchaseReviewOut,
    summary="Record the review's outcome (查重评议结论): approved 同意购置 or not_approved, with the reason; "
    "not approved takes the instrument out of the sharing register",
)
async def decide_purchase_review(
    review_id: UUID, body: PurchaseDecisionIn, uow: UnitOfWorkDep, principal: PrincipalDep
) -> PurchaseReviewOut:
    review, i = await _load_review(uow.session, principal, review_id, lock=True)
    i = await _instrument(uow, i.id)
    review = await purchase_reviews.decide(uow, principal, review, i, body)
    await uow.commit()
    return PurchaseReviewOut.of(review, i)
