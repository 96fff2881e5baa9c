"""新购大型科研仪器查重评议 (seed 001 强化新购大型科研仪器查重评议). Never commits.

A large instrument registered with the category and model of one already open for sharing in
the same 盟市 (the owner unit's region) opens a purchase review: the instruments it duplicates
are its evidence, and department staff record whether the purchase is justified. How large is
large is the ``instrument_purchase_review_min_fen`` policy value.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, func, or_, select

from registry.access import acting_units, directed_platforms, is_staff, require, scope_uuids
from registry.organisations.models import Organisation
from registry.platforms.models import Platform
from registry.policy.service import current as current_policy
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


async def open_if_duplicate(uow: UnitOfWork, i: Instrument) -> InstrumentPurchaseReview | None:
    """Open the review when a just-registered instrument duplicates shared ones; else nothing."""
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
    if not evidence:
        return None
    review = InstrumentPurchaseReview(
        id=uuid7(),
        instrument_id=i.id,
        region=owner.region,
        category=i.category,
        model=i.model.strip(),
        evidence=evidence,
        state="pending",
        version=1,
    )
    uow.session.add(review)
    await uow.session.flush()
    await uow.record(
        "instrument.purchase_review_opened",
        entity_type="instrument_purchase_review",
        entity_id=review.id,
        changes={
            "instrument_id": str(i.id),
            "region": owner.region,
            "category": i.category,
            "model": review.model,
            "duplicates": [e["instrument_id"] for e in evidence],
        },
        reason=f"同一盟市已有{len(evidence)}台同类同型号仪器开放共享",
    )
    return review


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
    uow: UnitOfWork, principal: Principal, review: InstrumentPurchaseReview, data: PurchaseDecisionIn
) -> InstrumentPurchaseReview:
    """Department staff record the review's outcome with the reason (评议意见); once only."""
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
    return review
