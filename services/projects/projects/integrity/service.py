"""科研诚信 across a project's whole life (seed 004: 将科研诚信要求落实到项目指南、立项评审、过程管理、
结题验收等全过程). Formal review checks the bars once; a lead, a team member or a unit barred
after it is stopped again at approval, at the task book's signing and at every payment, with
the registry record as evidence. Staff may go on despite a bar only with a reason, which is
recorded with the records it overrides. Never commits.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any
from uuid import UUID

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from projects.registry_views.models import IntegrityView
from shared.clock import utcnow
from shared.errors import Conflict
from shared.uow import UnitOfWork

# Bars that keep someone from taking on or being paid for a project (registry's scopes).
BARRING_SCOPES = ("applying", "all")
STAGES_ZH = {"approval": "立项", "signing": "签订任务书", "payment": "拨付经费"}


async def bars(
    session: AsyncSession, person_ids: Iterable[UUID | str], unit_ids: Iterable[UUID | str], on: date
) -> list[dict[str, Any]]:
    """The integrity records in force on ``on`` against any of the people or units, as evidence."""
    people = sorted({str(p) for p in person_ids})
    units = sorted({str(u) for u in unit_ids})
    rows = (
        (
            await session.execute(
                select(IntegrityView)
                .where(
                    or_(IntegrityView.person_id.in_(people), IntegrityView.organisation_id.in_(units)),
                    IntegrityView.barred_from <= on,
                    or_(IntegrityView.barred_until.is_(None), IntegrityView.barred_until >= on),
                    or_(IntegrityView.lifted_at.is_(None), func.date(IntegrityView.lifted_at) > on),
                    or_(*(IntegrityView.scope.contains([s]) for s in BARRING_SCOPES)),
                )
                .order_by(IntegrityView.barred_from, IntegrityView.id)
            )
        )
        .scalars()
        .all()
    )
    return [
        {
            "record_id": str(r.id),
            "subject_type": r.subject_type,
            "person_id": str(r.person_id) if r.person_id else None,
            "organisation_id": str(r.organisation_id) if r.organisation_id else None,
            "misconduct_type": r.misconduct_type,
            "decision_document": r.decision_document,
            "barred_from": str(r.barred_from),
            "barred_until": str(r.barred_until) if r.barred_until else None,
        }
        for r in rows
    ]


async def gate(
    uow: UnitOfWork,
    stage: str,
    *,
    entity_type: str,
    entity_id: UUID,
    person_ids: Iterable[UUID | str],
    unit_ids: Iterable[UUID | str],
    override_reason: str | None,
) -> dict[str, Any] | None:
    """Refuse ``stage`` (409 integrity_barred, the records as evidence) while a bar is in force,
    unless staff give a reason; an override is recorded and returned for the step's record."""
    evidence = await bars(uow.session, person_ids, unit_ids, utcnow().date())
    if not evidence:
        return None
    reason = (override_reason or "").strip()
    stage_zh = STAGES_ZH[stage]
    if not reason:
        raise Conflict(
            f"{len(evidence)} integrity record(s) in force bar this {stage}; staff may go on only "
            "with integrity_override_reason",
            f"项目负责人、成员或承担单位处于科研失信惩戒期内，不能{stage_zh}；确需继续的，须由业务处室说明理由",
            code="integrity_barred",
            extra={"stage": stage, "evidence": evidence},
        )
    override = {"stage": stage, "reason": reason, "records": evidence, "by": uow.actor.id}
    await uow.record(
        "integrity.overridden",
        entity_type=entity_type,
        entity_id=entity_id,
        changes={"stage": stage, "records": [e["record_id"] for e in evidence]},
        reason=reason,
    )
    return override
