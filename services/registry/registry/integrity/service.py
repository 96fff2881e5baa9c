"""Integrity records and the question other processes ask: is this person barred on that day?"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from registry.integrity.events import (
    INTEGRITY_LIFTED,
    INTEGRITY_RECORDED,
    IntegrityPayload,
    MisconductFoundPayload,
)
from registry.integrity.models import IntegrityRecord
from registry.integrity.schemas import IntegrityCreate
from registry.policy.service import current as current_policy
from registry.reference import MISCONDUCT_TYPES
from shared.clock import utcnow
from shared.errors import StateConflict
from shared.ids import uuid7
from shared.uow import UnitOfWork


def _payload(r: IntegrityRecord) -> IntegrityPayload:
    return IntegrityPayload(
        id=r.id,
        subject_type=r.subject_type,
        person_id=r.person_id,
        organisation_id=r.organisation_id,
        misconduct_type=r.misconduct_type,
        decision_document=r.decision_document,
        barred_from=r.barred_from,
        barred_until=r.barred_until,
        scope=list(r.scope),
        lifted_at=r.lifted_at,
        version=r.version,
    )


async def record(uow: UnitOfWork, data: IntegrityCreate, *, source: str = "manual") -> IntegrityRecord:
    r = IntegrityRecord(
        id=uuid7(),
        subject_type=data.subject_type,
        person_id=data.person_id if data.subject_type == "person" else None,
        organisation_id=data.organisation_id,
        misconduct_type=data.misconduct_type,
        description=data.description,
        decision_document=data.decision_document,
        decided_on=data.decided_on,
        barred_from=data.barred_from,
        barred_until=data.barred_until,
        scope=sorted(set(data.scope)),
        source=source,
        version=1,
        created_by=uow.actor.id,
    )
    uow.session.add(r)
    await uow.session.flush()
    event = await uow.emit(INTEGRITY_RECORDED, _payload(r), subject=f"integrity/{r.id}")
    await uow.record(
        "integrity.recorded",
        entity_type="integrity",
        entity_id=r.id,
        changes=data.model_dump(mode="json"),
        reason=data.description,
        event=event,
    )
    return r


# a record bars until it is lifted (解除); lifting is its one action and happens once
BAR_STATES_ZH = {"in_force": "限制中", "lifted": "已解除"}


async def lift(uow: UnitOfWork, r: IntegrityRecord, reason: str) -> IntegrityRecord:
    if r.lifted_at is not None:
        raise StateConflict(
            "this bar was already lifted",
            "该限制已解除",
            current_state="lifted",
            state_labels_zh=BAR_STATES_ZH,
            extra={"lifted_at": r.lifted_at.isoformat()},
        )
    r.lifted_at = utcnow()
    r.lift_reason = reason
    r.version += 1
    await uow.session.flush()
    event = await uow.emit(INTEGRITY_LIFTED, _payload(r), subject=f"integrity/{r.id}")
    await uow.record(
        "integrity.lifted",
        entity_type="integrity",
        entity_id=r.id,
        changes={"lifted_at": r.lifted_at.isoformat()},
        reason=reason,
        event=event,
    )
    return r


def bars_on(r: IntegrityRecord, on: date) -> bool:
    """Both ends inclusive; a lifted bar stops applying from the day it was lifted."""
    if on < r.barred_from:
        return False
    if r.barred_until is not None and on > r.barred_until:
        return False
    return not (r.lifted_at is not None and on >= r.lifted_at.date())


async def check(
    session: AsyncSession,
    *,
    person_id: UUID | None,
    organisation_id: UUID | None,
    on: date,
    scope: str | None,
) -> dict[str, Any]:
    stmt = select(IntegrityRecord)
    subjects = []
    if person_id is not None:
        subjects.append(IntegrityRecord.person_id == person_id)
    if organisation_id is not None:
        subjects.append(IntegrityRecord.organisation_id == organisation_id)
    rows = (await session.execute(stmt.where(or_(*subjects)).order_by(IntegrityRecord.barred_from))).scalars()
    reasons = []
    for r in rows:
        if not bars_on(r, on):
            continue
        if scope is not None and scope not in r.scope and "all" not in r.scope:
            continue
        reasons.append(
            {
                "record_id": str(r.id),
                "misconduct_type": r.misconduct_type,
                "misconduct_type_zh": MISCONDUCT_TYPES.get(r.misconduct_type, r.misconduct_type),
                "decision_document": r.decision_document,
                "barred_from": r.barred_from.isoformat(),
                "barred_until": r.barred_until.isoformat() if r.barred_until else None,
                "scope": list(r.scope),
            }
        )
    return {
        "person_id": str(person_id) if person_id else None,
        "organisation_id": str(organisation_id) if organisation_id else None,
        "on": on.isoformat(),
        "scope": scope,
        "barred": bool(reasons),
        "barred_zh": "处于限制期" if reasons else "无限制",
        "reasons": reasons,
    }


def _add_years(d: date, years: int) -> date:
    try:
        return d.replace(year=d.year + years)
    except ValueError:  # 29 February
        return d.replace(year=d.year + years, day=28)


async def record_misconduct(uow: UnitOfWork, found: MisconductFoundPayload) -> list[IntegrityRecord]:
    """projects.project.misconduct_found → one record per person (and the unit, if named)."""
    years = int((await current_policy(uow.session))["integrity_default_bar_years"])
    until = _add_years(found.decided_on, years) - timedelta(days=1)
    misconduct = found.misconduct_type if found.misconduct_type in MISCONDUCT_TYPES else "false_information"
    common: dict[str, Any] = {
        "misconduct_type": misconduct,
        "description": found.description,
        "decision_document": found.decision_document,
        "decided_on": found.decided_on,
        "barred_from": found.decided_on,
        "barred_until": until,
        "scope": ["applying", "reviewing"],
    }
    source = f"projects:{found.project_id}"
    created = [
        await record(uow, IntegrityCreate(subject_type="person", person_id=pid, **common), source=source)
        for pid in found.person_ids
    ]
    if found.organisation_id is not None:
        created.append(
            await record(
                uow,
                IntegrityCreate(subject_type="organisation", organisation_id=found.organisation_id, **common),
                source=source,
            )
        )
    return created
