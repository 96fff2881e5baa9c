"""Large instruments open for sharing and open research topics (seed 001)."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Query, status
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import UnaryExpression, func, select

from registry.access import may_manage_unit, may_run_platform, require
from registry.platforms import repository as platforms
from registry.reference import INSTRUMENT_CATEGORIES, InstrumentCategoryCode
from registry.sharing.models import Instrument, OpenTopic
from shared.errors import FieldIssue, NotFound, ValidationFailed
from shared.http.auth import PrincipalDep
from shared.http.deps import PageDep, SessionDep, UnitOfWorkDep
from shared.http.schemas import Page

instruments_router = APIRouter(prefix="/instruments", tags=["instruments"])
topics_router = APIRouter(prefix="/topics", tags=["topics"])
Category = InstrumentCategoryCode


class InstrumentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    platform_id: UUID | None = None
    owner_unit_id: UUID
    name: str = Field(min_length=2, max_length=200, description="仪器名称")
    category: Category = Field(description="仪器类别")
    model: str | None = Field(default=None, max_length=100, description="型号")
    value_fen: int = Field(ge=0, le=10**14, description="原值（分）")
    location: str | None = Field(default=None, max_length=200)
    open_for_sharing: bool = True
    booking_contact: str | None = Field(default=None, max_length=100)
    annual_service_hours: int = Field(default=0, ge=0, le=8784)


class InstrumentOut(InstrumentIn):
    model_config = ConfigDict(from_attributes=True, extra="ignore")

    id: UUID
    category_zh: str = ""
    version: int


class TopicIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    platform_id: UUID
    year: int = Field(ge=2000, le=2100)
    title: str = Field(min_length=4, max_length=300, description="课题名称")
    principal_name: str | None = Field(default=None, max_length=100)
    principal_unit: str | None = Field(default=None, max_length=200)
    funding_fen: int = Field(default=0, ge=0, le=10**14)
    summary: str | None = Field(default=None, max_length=4000)


class TopicOut(TopicIn):
    model_config = ConfigDict(from_attributes=True, extra="ignore")

    id: UUID
    status: str


async def _check_platform(session: SessionDep, principal: PrincipalDep, platform_id: UUID) -> None:
    p = await platforms.get(session, platform_id)
    if p is None:
        raise ValidationFailed(
            [FieldIssue("platform_id", "unknown_platform", "no such platform", "平台不存在")]
        )
    require(
        may_run_platform(principal, p.id, p.host_unit_id),
        "manage this platform's sharing",
        "管理该平台的仪器与开放课题",
    )


def _instrument_out(i: Instrument) -> InstrumentOut:
    out = InstrumentOut.model_validate(i)
    return out.model_copy(update={"category_zh": INSTRUMENT_CATEGORIES[i.category]})


@instruments_router.post("", status_code=status.HTTP_201_CREATED, response_model=InstrumentOut)
async def add_instrument(body: InstrumentIn, uow: UnitOfWorkDep, principal: PrincipalDep) -> InstrumentOut:
    if body.platform_id is not None:
        await _check_platform(uow.session, principal, body.platform_id)
    else:
        require(
            may_manage_unit(principal, body.owner_unit_id),
            "register instruments of that unit",
            "登记该单位仪器",
        )
    i = Instrument(**body.model_dump(), version=1)
    uow.session.add(i)
    await uow.session.flush()
    await uow.record(
        "instrument.registered",
        entity_type="instrument",
        entity_id=i.id,
        changes=body.model_dump(mode="json"),
    )
    await uow.commit()
    return _instrument_out(i)


class InstrumentUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    location: str | None = Field(default=None, max_length=200)
    open_for_sharing: bool | None = None
    booking_contact: str | None = Field(default=None, max_length=100)
    annual_service_hours: int | None = Field(default=None, ge=0, le=8784)
    reason: str | None = Field(default=None, max_length=500)


@instruments_router.patch("/{instrument_id}", response_model=InstrumentOut)
async def update_instrument(
    instrument_id: UUID, body: InstrumentUpdate, uow: UnitOfWorkDep, principal: PrincipalDep
) -> InstrumentOut:
    """Sharing status, booking contact, service hours: the platform's director, host unit or staff."""
    i = await uow.session.get(Instrument, instrument_id, with_for_update=True)
    if i is None:
        raise NotFound("no such instrument", "未找到该仪器")
    if i.platform_id is not None:
        await _check_platform(uow.session, principal, i.platform_id)
    else:
        require(may_manage_unit(principal, i.owner_unit_id), "edit this instrument", "修改该仪器信息")
    requested = body.model_dump(exclude_unset=True, exclude={"reason"})
    changes = {k: [getattr(i, k), v] for k, v in requested.items() if v is not None and getattr(i, k) != v}
    if changes:
        for k, (_, v) in changes.items():
            setattr(i, k, v)
        i.version += 1
        await uow.session.flush()
        await uow.record(
            "instrument.updated",
            entity_type="instrument",
            entity_id=i.id,
            changes=changes,
            reason=body.reason,
        )
        await uow.commit()
    return _instrument_out(i)


@instruments_router.get("", response_model=Page[InstrumentOut])
async def list_instruments(
    session: SessionDep,
    _: PrincipalDep,
    page: PageDep,
    platform_id: UUID | None = None,
    owner_unit_id: UUID | None = None,
    category: Category | None = None,
    open_for_sharing: bool | None = None,
    q: Annotated[str | None, Query(max_length=100)] = None,
    sort: Literal["name", "-value_fen", "-annual_service_hours"] = "name",
) -> Page[InstrumentOut]:
    stmt = select(Instrument)
    for column, value in (
        (Instrument.platform_id, platform_id),
        (Instrument.owner_unit_id, owner_unit_id),
        (Instrument.category, category),
        (Instrument.open_for_sharing, open_for_sharing),
    ):
        if value is not None:
            stmt = stmt.where(column == value)
    if q:
        stmt = stmt.where(Instrument.name.ilike(f"%{q}%"))
    order: dict[str, UnaryExpression[Any]] = {
        "name": Instrument.name.asc(),
        "-value_fen": Instrument.value_fen.desc(),
        "-annual_service_hours": Instrument.annual_service_hours.desc(),
    }
    total = (await session.execute(select(func.count()).select_from(stmt.subquery()))).scalar_one()
    rows = await session.execute(
        stmt.order_by(order[sort], Instrument.id).offset(page.offset).limit(page.size)
    )
    return Page(
        items=[_instrument_out(i) for i in rows.scalars()], total=total, page=page.page, size=page.size
    )


@topics_router.post("", status_code=status.HTTP_201_CREATED, response_model=TopicOut)
async def add_topic(body: TopicIn, uow: UnitOfWorkDep, principal: PrincipalDep) -> TopicOut:
    await _check_platform(uow.session, principal, body.platform_id)
    t = OpenTopic(**body.model_dump(), status="open")
    uow.session.add(t)
    await uow.session.flush()
    await uow.record(
        "topic.opened", entity_type="open_topic", entity_id=t.id, changes=body.model_dump(mode="json")
    )
    await uow.commit()
    return TopicOut.model_validate(t)


@topics_router.post("/{topic_id}/close", response_model=TopicOut)
async def close_topic(topic_id: UUID, uow: UnitOfWorkDep, principal: PrincipalDep) -> TopicOut:
    t = await uow.session.get(OpenTopic, topic_id, with_for_update=True)
    if t is None:
        raise NotFound("no such open topic", "未找到该开放课题")
    await _check_platform(uow.session, principal, t.platform_id)
    if t.status != "closed":
        t.status = "closed"
        await uow.record(
            "topic.closed", entity_type="open_topic", entity_id=t.id, changes={"status": ["open", "closed"]}
        )
        await uow.commit()
    return TopicOut.model_validate(t)


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
    return Page(
        items=[TopicOut.model_validate(t) for t in rows.scalars()],
        total=total,
        page=page.page,
        size=page.size,
    )
