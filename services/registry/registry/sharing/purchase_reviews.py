"""新购大型科研仪器查重评议 (seed 001 强化新购大型科研仪器查重评议). Never commits.

A large instrument registered with the category and model of one already open for sharing in
the same 盟市 (the owner unit's region) opens a purchase review: the instruments it duplicates
are its evidence, and department staff record whether the purchase is justified. How large is
large is the ``instrument_purchase_review_min_fen`` policy value.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from registry.access import acting_units, directed_platforms, is_staff, require, scope_uuids
from registry.organisations.models import Organisation
from registry.platforms.models import Platform
from registry.policy.service import current as current_policy
from registry.sharing.events import INSTRUMENT_UPDATED, InstrumentChanged, InstrumentSnapshot
from registry.sharing.models import Instrument, InstrumentPurchaseReview
from registry.sharing.schemas import PURCHASE_REVIEW_ACTIONS, PURCHASE_REVIEW_STATES, PurchaseDecisionIn
from shared.auth import Principal, Role
from shared.clock import utcnow
from shared.errors import StateConflict
from shared.ids import uuid7
from shared.uow import UnitOfWork

# More matches than this add nothing to the decision; the review names the first ones by name.
EVIDENCE_LIMIT = 50


def _same_model(model: str) -> str:
    return " ".join(model.split()).lower()


async def _duplicates(uow: UnitOfWork, i: Instrument) -> tuple[str, list[dict[str, Any]]] | None:
    """The 盟市 and the shared instruments a large instrument duplicates; ``None`` if none."""
    if not i.model or not i.model.strip():
        return None
    minimum = int((await current_policy(uow.session))["instrument_purchase_review_min_fen"])
    if i.value_fen < minimum:
        return None
    owner = await uow.session.get(Organisation, i.owner_unit_id)
    if owner is None:
        return None
    rows = await uow.session.execute(
        select(Instrument, Organisation.name)
        .join(Organisation, Organisation.id == Instrument.owner_unit_id)
        .where(
            Organisation.region == owner.region,
            Instrument.id != i.id,
            Instrument.category == i.category,
            func.lower(func.regexp_replace(func.trim(Instrument.model), r"\s+", " ", "g"))
            == _same_model(i.model),
            Instrument.open_for_sharing.is_(True),
            Instrument.status == "in_service",
        )
        .order_by(Instrument.annual_service_hours.desc(), Instrument.name, Instrument.id)
        .limit(EVIDENCE_LIMIT)
    )
    evidence: list[dict[str, Any]] = [
        {
            "instrument_id": str(other.id),
            "name": other.name,
            "model": other.model,
            "owner_unit_id": str(other.owner_unit_id),
            "owner_unit_name": unit_name,
            "platform_id": str(other.platform_id) if other.platform_id else None,
            "location": other.location,
            "value_fen": other.value_fen,
            "annual_service_hours": other.annual_service_hours,
            "booking_contact": other.booking_contact,
        }
        for other, unit_name in rows
    ]
    return (owner.region, evidence) if evidence else None


async def latest_review(session: AsyncSession, instrument_id: UUID) -> InstrumentPurchaseReview | None:
    return (
        await session.execute(
            select(InstrumentPurchaseReview)
            .where(InstrumentPurchaseReview.instrument_id == instrument_id)
            .order_by(InstrumentPurchaseReview.opened_at.desc(), InstrumentPurchaseReview.id.desc())
            .limit(1)
        )
    ).scalar_one_or_none()


async def open_if_duplicate(
    uow: UnitOfWork, i: Instrument, *, after_change: bool = False
) -> InstrumentPurchaseReview | None:
    """Open the review when an instrument duplicates shared ones; else nothing.

    Called at registration and, with ``after_change``, when a correction of the category, the
    model or the value made the instrument a duplicate it was not (or not under that category and
    model) before: a review decided for the old category and model decided nothing about the new.
    """
    found = await _duplicates(uow, i)
    if found is None:
        return None
    region, evidence = found
    review = InstrumentPurchaseReview(
        id=uuid7(),
        instrument_id=i.id,
        region=region,
        category=i.category,
        model=(i.model or "").strip(),
        evidence=evidence,
        state="pending",
        version=1,
    )
    uow.session.add(review)
    i.purchase_review_state = "pending"
    await uow.session.flush()
    why = f"同一盟市已有{len(evidence)}台同类同型号仪器开放共享"
    await uow.record(
        "instrument.purchase_review_opened",
        entity_type="instrument_purchase_review",
        entity_id=review.id,
        changes={
            "instrument_id": str(i.id),
            "region": region,
            "category": i.category,
            "model": review.model,
            "duplicates": [e["instrument_id"] for e in evidence],
        },
        reason=f"登记信息变更后，{why}" if after_change else why,
    )
    return review


async def review_after_change(uow: UnitOfWork, i: Instrument) -> InstrumentPurchaseReview | None:
    """After the category, model or value changed: a pending review follows the instrument's new
    category and model (fresh evidence); otherwise a new match opens a new review. A review
    already covering this category and model is not opened twice."""
    latest = await latest_review(uow.session, i.id)
    same = (
        latest is not None
        and latest.category == i.category
        and _same_model(latest.model) == _same_model(i.model or "")
    )
    if latest is not None and same:
        return None
    if latest is not None and latest.state == "pending":
        found = await _duplicates(uow, i)
        if found is None:
            return None
        before = {"category": latest.category, "model": latest.model}
        latest.region, latest.evidence = found
        latest.category, latest.model = i.category, (i.model or "").strip()
        latest.version += 1
        await uow.session.flush()
        await uow.record(
            "instrument.purchase_review_refreshed",
            entity_type="instrument_purchase_review",
            entity_id=latest.id,
            changes={
                "category": [before["category"], latest.category],
                "model": [before["model"], latest.model],
                "duplicates": [e["instrument_id"] for e in latest.evidence],
            },
            reason="仪器类别或型号变更，查重证据按变更后的类别型号重新比对",
        )
        return latest
    return await open_if_duplicate(uow, i, after_change=True)


def visible_reviews(principal: Principal) -> ColumnElement[bool] | None:
    """Staff see every review (``None``); a unit's admin and a lab's director those of the
    instruments they manage; a municipal bureau (盟市科技局) those of its 盟市."""
    if is_staff(principal):
        return None
    shown: list[ColumnElement[bool]] = []
    if principal.has_role(Role.competent_department) and principal.scope("regions"):
        shown.append(InstrumentPurchaseReview.region.in_(sorted(principal.scope("regions"))))
    units = scope_uuids(acting_units(principal))
    if units:
        shown.append(Instrument.owner_unit_id.in_(units))
        shown.append(Instrument.platform_id.in_(select(Platform.id).where(Platform.host_unit_id.in_(units))))
    directed = scope_uuids(directed_platforms(principal))
    if directed:
        shown.append(Instrument.platform_id.in_(directed))
    return or_(*shown) if shown else Instrument.id.is_(None)


async def decide(
    uow: UnitOfWork,
    principal: Principal,
    review: InstrumentPurchaseReview,
    instrument: Instrument,
    data: PurchaseDecisionIn,
) -> InstrumentPurchaseReview:
    """Department staff record the review's outcome with the reason (评议意见); once only.

    The outcome goes on the instrument's record. A purchase not approved (不同意购置) is not an
    instrument the 盟市 has to share: it leaves the sharing register (open data withdraws it) and
    is no evidence against the next purchase; its unit is pointed to the existing ones.
    """
    require(is_staff(principal), "decide instrument purchase reviews", "作出新购仪器查重评议结论")
    if "decide" not in PURCHASE_REVIEW_ACTIONS[review.state]:
        raise StateConflict(
            f"the review is already decided ({review.state})",
            f"该查重评议已有结论：{PURCHASE_REVIEW_STATES[review.state]}",
            current_state=review.state,
            state_labels_zh=PURCHASE_REVIEW_STATES,
            allowed=PURCHASE_REVIEW_ACTIONS[review.state],
            action_labels_zh={"decide": "作出评议结论"},
        )
    before = review.state
    review.state = data.outcome
    review.decision_reason = data.reason
    review.decided_by = uow.actor.id
    review.decided_at = utcnow()
    review.version += 1
    await uow.session.flush()
    await uow.record(
        "instrument.purchase_review_decided",
        entity_type="instrument_purchase_review",
        entity_id=review.id,
        changes={"state": [before, review.state], "instrument_id": str(review.instrument_id)},
        reason=data.reason,
    )
    if instrument.status == "retired":
        return review
    changes: dict[str, list[Any]] = {
        "purchase_review_state": [instrument.purchase_review_state, review.state]
    }
    instrument.purchase_review_state = review.state
    if review.state == "not_approved" and instrument.open_for_sharing:
        changes["open_for_sharing"] = [True, False]
        instrument.open_for_sharing = False
    instrument.version += 1
    await uow.session.flush()
    snapshot = {k: getattr(instrument, k) for k in InstrumentSnapshot.model_fields}
    event = await uow.emit(
        INSTRUMENT_UPDATED,
        InstrumentChanged(**snapshot, changed_fields=sorted(changes), reason=data.reason),
        subject=f"instrument/{instrument.id}",
    )
    await uow.record(
        "instrument.purchase_decided",
        entity_type="instrument",
        entity_id=instrument.id,
        changes=changes,
        reason=data.reason,
        event=event,
    )
    return review
