"""Shared instruments and open topics: who may change them, what is recorded. Never commits.

A platform's director, its host unit's admin and department staff manage a platform's
instruments and topics; a unit's own instruments (on no platform) are its admin's. Every change
writes an audit row and its ``registry.instrument.*`` / ``registry.topic.*`` event.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from sqlalchemy import ColumnElement, and_, or_, select

from registry.access import (
    acting_units,
    directed_platforms,
    is_staff,
    may_manage_unit,
    may_run_platform,
    require,
    scope_uuids,
)
from registry.platforms import repository as platforms
from registry.platforms.machine import PLATFORM_MACHINE
from registry.platforms.models import Platform
from registry.sharing import purchase_reviews
from registry.sharing.events import (
    INSTRUMENT_REGISTERED,
    INSTRUMENT_RETIRED,
    INSTRUMENT_UPDATED,
    TOPIC_CLOSED,
    TOPIC_OPENED,
    TOPIC_UPDATED,
    InstrumentChanged,
    InstrumentSnapshot,
    TopicChanged,
    TopicSnapshot,
)
from registry.sharing.models import Instrument, OpenTopic
from registry.sharing.schemas import (
    INSTRUMENT_STATUS,
    InstrumentIn,
    InstrumentRetire,
    InstrumentUpdate,
    TopicIn,
    TopicUpdate,
)
from shared.auth import Principal
from shared.clock import utcnow
from shared.errors import FieldIssue, StateConflict, ValidationFailed
from shared.ids import uuid7
from shared.uow import UnitOfWork

_INSTRUMENT_FIELDS = tuple(InstrumentSnapshot.model_fields)
_TOPIC_FIELDS = tuple(TopicSnapshot.model_fields)


def instrument_snapshot(i: Instrument) -> dict[str, Any]:
    return {k: getattr(i, k) for k in _INSTRUMENT_FIELDS}


def topic_snapshot(t: OpenTopic) -> dict[str, Any]:
    return {k: getattr(t, k) for k in _TOPIC_FIELDS}


def visible_instruments(principal: Principal) -> ColumnElement[bool] | None:
    """Which instruments a caller sees in the register (``None``: all, for staff).

    Those who manage an instrument (its unit's admin, its platform's director or host unit) see
    it whatever its state; everyone else, like partners in open data, only while it is open for
    sharing and in service: value, location and owner of the others are the unit's own business.
    """
    if is_staff(principal):
        return None
    shown: list[ColumnElement[bool]] = [
        and_(Instrument.open_for_sharing.is_(True), Instrument.status == "in_service")
    ]
    units = scope_uuids(acting_units(principal))
    if units:
        shown.append(Instrument.owner_unit_id.in_(units))
        shown.append(Instrument.platform_id.in_(select(Platform.id).where(Platform.host_unit_id.in_(units))))
    directed = scope_uuids(directed_platforms(principal))
    if directed:
        shown.append(Instrument.platform_id.in_(directed))
    return or_(*shown)


async def _may_run(uow: UnitOfWork, principal: Principal, platform_id: UUID) -> None:
    p = await platforms.get(uow.session, platform_id)
    if p is None:
        raise ValidationFailed(
            [FieldIssue("platform_id", "unknown_platform", "no such platform", "平台不存在")]
        )
    require(
        may_run_platform(principal, p.id, p.host_unit_id),
        "manage this platform's instruments and open topics",
        "管理该平台的仪器与开放课题",
    )
    if p.state in ("revoked", "merged"):
        raise PLATFORM_MACHINE.refuse(
            p.state,
            f"the platform is {p.state}; its instruments and topics are read-only",
            f"平台状态为「{PLATFORM_MACHINE.state_labels_zh[p.state]}」，其仪器与开放课题只读",
            roles=principal.roles,
        )


async def _may_manage_instrument(uow: UnitOfWork, principal: Principal, i: Instrument) -> None:
    if i.platform_id is not None:
        await _may_run(uow, principal, i.platform_id)
    else:
        require(may_manage_unit(principal, i.owner_unit_id), "manage this instrument", "管理该仪器")


def _plain(value: Any) -> Any:
    return value if value is None or isinstance(value, (int, str, bool, float)) else str(value)


async def register_instrument(uow: UnitOfWork, principal: Principal, data: InstrumentIn) -> Instrument:
    if data.platform_id is not None:
        await _may_run(uow, principal, data.platform_id)
    else:
        require(
            may_manage_unit(principal, data.owner_unit_id),
            "register instruments of that unit",
            "登记该单位仪器",
        )
    i = Instrument(id=uuid7(), **data.model_dump(), status="in_service", version=1)
    uow.session.add(i)
    await uow.session.flush()
    await purchase_reviews.open_if_duplicate(uow, i)
    event = await uow.emit(
        INSTRUMENT_REGISTERED, InstrumentSnapshot(**instrument_snapshot(i)), subject=f"instrument/{i.id}"
    )
    await uow.record(
        "instrument.registered",
        entity_type="instrument",
        entity_id=i.id,
        changes=data.model_dump(mode="json"),
        event=event,
    )
    return i


async def update_instrument(
    uow: UnitOfWork, principal: Principal, i: Instrument, patch: InstrumentUpdate
) -> Instrument:
    await _may_manage_instrument(uow, principal, i)
    if i.status == "retired":
        raise StateConflict(
            "the instrument is retired; its record is read-only",
            "仪器已报废/调出，档案只读",
            current_state=i.status,
            state_labels_zh=INSTRUMENT_STATUS,
        )
    requested = patch.model_dump(exclude_unset=True, exclude={"reason"})
    nullable = {"model", "location", "booking_contact"}
    changes = {
        k: [getattr(i, k), v]
        for k, v in requested.items()
        if (v is not None or k in nullable) and getattr(i, k) != v
    }
    if not changes:
        return i
    for k, (_, v) in changes.items():
        setattr(i, k, v)
    i.version += 1
    await uow.session.flush()
    if changes.keys() & {"category", "model", "value_fen"}:
        reviewed_before = i.purchase_review_state
        await purchase_reviews.review_after_change(uow, i)
        if i.purchase_review_state != reviewed_before:
            changes["purchase_review_state"] = [reviewed_before, i.purchase_review_state]
    event = await uow.emit(
        INSTRUMENT_UPDATED,
        InstrumentChanged(**instrument_snapshot(i), changed_fields=sorted(changes), reason=patch.reason),
        subject=f"instrument/{i.id}",
    )
    await uow.record(
        "instrument.updated",
        entity_type="instrument",
        entity_id=i.id,
        changes={k: [_plain(a), _plain(b)] for k, (a, b) in changes.items()},
        reason=patch.reason,
        event=event,
    )
    return i


async def retire_instrument(
    uow: UnitOfWork, principal: Principal, i: Instrument, req: InstrumentRetire
) -> Instrument:
    await _may_manage_instrument(uow, principal, i)
    if i.status == "retired":
        raise StateConflict(
            "the instrument is already retired",
            "仪器已报废/调出",
            current_state=i.status,
            state_labels_zh=INSTRUMENT_STATUS,
        )
    i.status = "retired"
    i.open_for_sharing = False
    i.retired_on = req.retired_on or utcnow().date()
    i.retirement_reason = req.reason
    i.version += 1
    await uow.session.flush()
    event = await uow.emit(
        INSTRUMENT_RETIRED,
        InstrumentChanged(
            **instrument_snapshot(i),
            changed_fields=["open_for_sharing", "retired_on", "status"],
            reason=req.reason,
        ),
        subject=f"instrument/{i.id}",
    )
    await uow.record(
        "instrument.retired",
        entity_type="instrument",
        entity_id=i.id,
        changes={"status": ["in_service", "retired"], "retired_on": [None, str(i.retired_on)]},
        reason=req.reason,
        event=event,
    )
    return i


async def open_topic(uow: UnitOfWork, principal: Principal, data: TopicIn) -> OpenTopic:
    await _may_run(uow, principal, data.platform_id)
    t = OpenTopic(id=uuid7(), **data.model_dump(), status="open", version=1)
    uow.session.add(t)
    await uow.session.flush()
    event = await uow.emit(TOPIC_OPENED, TopicSnapshot(**topic_snapshot(t)), subject=f"topic/{t.id}")
    await uow.record(
        "topic.opened",
        entity_type="open_topic",
        entity_id=t.id,
        changes=data.model_dump(mode="json"),
        event=event,
    )
    return t


TOPIC_STATUS = {"open": "进行中", "closed": "已结题"}


def _refuse_if_closed(t: OpenTopic) -> None:
    if t.status == "closed":
        raise StateConflict(
            "the topic is closed; its record is read-only",
            "开放课题已结题，档案只读",
            current_state=t.status,
            state_labels_zh=TOPIC_STATUS,
        )


async def update_topic(uow: UnitOfWork, principal: Principal, t: OpenTopic, patch: TopicUpdate) -> OpenTopic:
    await _may_run(uow, principal, t.platform_id)
    _refuse_if_closed(t)
    requested = patch.model_dump(exclude_unset=True, exclude={"reason"})
    nullable = {"principal_name", "principal_unit", "summary"}
    changes = {
        k: [getattr(t, k), v]
        for k, v in requested.items()
        if (v is not None or k in nullable) and getattr(t, k) != v
    }
    if not changes:
        return t
    for k, (_, v) in changes.items():
        setattr(t, k, v)
    t.version += 1
    await uow.session.flush()
    event = await uow.emit(
        TOPIC_UPDATED,
        TopicChanged(**topic_snapshot(t), changed_fields=sorted(changes), reason=patch.reason),
        subject=f"topic/{t.id}",
    )
    await uow.record(
        "topic.updated",
        entity_type="open_topic",
        entity_id=t.id,
        changes={k: [_plain(a), _plain(b)] for k, (a, b) in changes.items()},
        reason=patch.reason,
        event=event,
    )
    return t


async def close_topic(uow: UnitOfWork, principal: Principal, t: OpenTopic, reason: str | None) -> OpenTopic:
    await _may_run(uow, principal, t.platform_id)
    if t.status == "closed":
        return t
    t.status = "closed"
    t.version += 1
    await uow.session.flush()
    event = await uow.emit(
        TOPIC_CLOSED,
        TopicChanged(**topic_snapshot(t), changed_fields=["status"], reason=reason),
        subject=f"topic/{t.id}",
    )
    await uow.record(
        "topic.closed",
        entity_type="open_topic",
        entity_id=t.id,
        changes={"status": ["open", "closed"]},
        reason=reason,
        event=event,
    )
    return t


async def announce_moved(
    uow: UnitOfWork, instrument_ids: Sequence[str], topic_ids: Sequence[str], reason: str
) -> None:
    """整合 moved these to the surviving platform: one updated event each (audit is the merge's)."""
    if instrument_ids:
        rows = await uow.session.execute(
            select(Instrument)
            .where(Instrument.id.in_([UUID(i) for i in instrument_ids]))
            .order_by(Instrument.id)
        )
        for i in rows.scalars():
            i.version += 1
            await uow.emit(
                INSTRUMENT_UPDATED,
                InstrumentChanged(**instrument_snapshot(i), changed_fields=["platform_id"], reason=reason),
                subject=f"instrument/{i.id}",
            )
    if topic_ids:
        rows2 = await uow.session.execute(
            select(OpenTopic).where(OpenTopic.id.in_([UUID(t) for t in topic_ids])).order_by(OpenTopic.id)
        )
        for t in rows2.scalars():
            t.version += 1
            await uow.emit(
                TOPIC_UPDATED,
                TopicChanged(**topic_snapshot(t), changed_fields=["platform_id"], reason=reason),
                subject=f"topic/{t.id}",
            )
    await uow.session.flush()
