"""What an assessment grade leads to beyond the lifecycle (seed 000 强化结果应用).

优秀 puts the lab on the support-candidate list (支持候选), the assessment its evidence, which
staff read when drafting 平台能力提升 calls or designations. 不合格 while already under
rectification opens a 撤销（取消资格）case citing both failed assessments; staff decide it:
revoke (the platform's 撤销 step) or dismiss (the rectification goes on). Never commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from registry.access import is_staff, require
from registry.platforms import repository
from registry.platforms.machine import LIVE, PLATFORM_MACHINE
from registry.platforms.models import (
    Platform,
    PlatformAssessment,
    PlatformHistory,
    RevocationCase,
    SupportCandidate,
)
from registry.platforms.schemas import CASE_STATUS_LABELS
from registry.platforms.steps import step
from shared.auth import Principal
from shared.clock import utcnow
from shared.errors import NotFound, StateConflict
from shared.ids import uuid7
from shared.uow import UnitOfWork


async def list_for_support(uow: UnitOfWork, p: Platform, a: PlatformAssessment) -> SupportCandidate:
    entry = SupportCandidate(id=uuid7(), platform_id=p.id, assessment_id=a.id, listed_at=utcnow())
    uow.session.add(entry)
    p.version += 1
    await uow.session.flush()
    await step(
        uow,
        p,
        "list_for_support",
        from_state=p.state,
        reason=f"评估优秀：{a.period}",
        details={"assessment_id": str(a.id), "period": a.period, "grade": a.grade, "score": a.score},
    )
    return entry


async def _assessment_that_opened_rectification(session: AsyncSession, p: Platform) -> str | None:
    opened = (
        await session.execute(
            select(PlatformHistory.details)
            .where(PlatformHistory.platform_id == p.id, PlatformHistory.action == "open_rectification")
            .order_by(PlatformHistory.occurred_at.desc(), PlatformHistory.id.desc())
            .limit(1)
        )
    ).scalar_one_or_none()
    return str(opened["assessment_id"]) if opened and opened.get("assessment_id") else None


async def open_revocation_case(uow: UnitOfWork, p: Platform, a: PlatformAssessment) -> RevocationCase:
    """Failed again under rectification: a case citing the assessment that opened the
    rectification (if evaluation's) and this one. An open case takes the new failure too."""
    case = (
        await uow.session.execute(
            select(RevocationCase)
            .where(RevocationCase.platform_id == p.id, RevocationCase.status == "open")
            .with_for_update()
        )
    ).scalar_one_or_none()
    if case is not None:
        case.assessment_ids = [*case.assessment_ids, str(a.id)]
        case.version += 1
    else:
        first = await _assessment_that_opened_rectification(uow.session, p)
        case = RevocationCase(
            id=uuid7(),
            platform_id=p.id,
            status="open",
            assessment_ids=[*([first] if first else []), str(a.id)],
            opened_at=utcnow(),
            opened_reason=f"整改期间评估再次不合格：{a.period}",
            version=1,
        )
        uow.session.add(case)
    p.version += 1
    await uow.session.flush()
    await step(
        uow,
        p,
        "open_revocation_case",
        from_state=p.state,
        reason=case.opened_reason,
        details={"case_id": str(case.id), "assessment_ids": list(case.assessment_ids)},
    )
    return case


@dataclass(frozen=True)
class CandidateRow:
    entry: SupportCandidate
    platform: Platform
    assessment: PlatformAssessment


async def support_candidates(
    session: AsyncSession,
    principal: Principal,
    *,
    field: str | None,
    region: str | None,
    kind: str | None,
    offset: int,
    limit: int,
) -> tuple[list[CandidateRow], int]:
    """Live labs listed for support, latest listing first."""
    require(is_staff(principal), "read the support-candidate list", "查看支持候选名单")
    stmt = (
        select(SupportCandidate, Platform, PlatformAssessment)
        .join(Platform, Platform.id == SupportCandidate.platform_id)
        .join(PlatformAssessment, PlatformAssessment.id == SupportCandidate.assessment_id)
        .where(Platform.state.in_(LIVE))
    )
    for column, value in ((Platform.field, field), (Platform.region, region), (Platform.kind, kind)):
        if value is not None:
            stmt = stmt.where(column == value)
    total = (await session.execute(select(func.count()).select_from(stmt.subquery()))).scalar_one()
    rows = await session.execute(
        stmt.order_by(SupportCandidate.listed_at.desc(), SupportCandidate.id).offset(offset).limit(limit)
    )
    return [CandidateRow(*r) for r in rows], int(total)


async def revocation_cases(
    session: AsyncSession, principal: Principal, *, status: str | None, offset: int, limit: int
) -> tuple[list[tuple[RevocationCase, Platform]], int]:
    require(is_staff(principal), "read revocation cases", "查看撤销案件")
    stmt = select(RevocationCase, Platform).join(Platform, Platform.id == RevocationCase.platform_id)
    if status is not None:
        stmt = stmt.where(RevocationCase.status == status)
    total = (await session.execute(select(func.count()).select_from(stmt.subquery()))).scalar_one()
    rows = await session.execute(
        stmt.order_by(RevocationCase.opened_at.desc(), RevocationCase.id).offset(offset).limit(limit)
    )
    return [(c, p) for c, p in rows], int(total)


async def revocation_case(
    session: AsyncSession, principal: Principal, case_id: UUID
) -> tuple[RevocationCase, Platform]:
    require(is_staff(principal), "read revocation cases", "查看撤销案件")
    row = (
        await session.execute(
            select(RevocationCase, Platform)
            .join(Platform, Platform.id == RevocationCase.platform_id)
            .where(RevocationCase.id == case_id)
        )
    ).one_or_none()
    if row is None:
        raise NotFound(f"revocation case {case_id} not found", "未找到该撤销案件")
    return row[0], row[1]


async def cited(session: AsyncSession, cases: list[RevocationCase]) -> dict[str, PlatformAssessment]:
    ids = {UUID(i) for c in cases for i in c.assessment_ids}
    if not ids:
        return {}
    rows = await session.execute(select(PlatformAssessment).where(PlatformAssessment.id.in_(ids)))
    return {str(a.id): a for a in rows.scalars()}


CASE_DECISIONS = ("revoke", "dismiss")


async def decide(
    uow: UnitOfWork,
    principal: Principal,
    case_id: UUID,
    decision: str,
    reason: str,
    document_number: str | None,
) -> tuple[RevocationCase, Platform]:
    """撤销 (the platform is revoked, citing the case) or dismiss (it stays under rectification)."""
    require(is_staff(principal), "decide revocation cases", "决定撤销案件")
    case = await uow.session.get(RevocationCase, case_id, with_for_update=True)
    if case is None:
        raise NotFound(f"revocation case {case_id} not found", "未找到该撤销案件")
    if case.status != "open":
        raise StateConflict(
            f"the case is already decided ({case.status})",
            f"该撤销案件已作出决定：{CASE_STATUS_LABELS[case.status]}",
            current_state=case.status,
            state_labels_zh=CASE_STATUS_LABELS,
        )
    p = await repository.get(uow.session, case.platform_id, for_update=True)
    assert p is not None
    case.status = "revoked" if decision == "revoke" else "dismissed"
    case.decided_at, case.decided_by = utcnow(), uow.actor.id
    case.decision_reason, case.decision_document = reason, document_number
    case.version += 1
    citing: dict[str, Any] = {"case_id": str(case.id), "assessment_ids": list(case.assessment_ids)}
    before = p.state
    action = "revoke" if decision == "revoke" else "dismiss_revocation_case"
    if action == "revoke":
        p.state = PLATFORM_MACHINE.apply(p.state, "revoke", principal.roles).target
    p.version += 1
    await uow.session.flush()
    await step(
        uow, p, action, from_state=before, reason=reason, document_number=document_number, details=citing
    )
    return case, p


async def close_with_revocation(uow: UnitOfWork, p: Platform, reason: str) -> None:
    """The platform was revoked directly: an open case is settled by it."""
    case = (
        await uow.session.execute(
            select(RevocationCase)
            .where(RevocationCase.platform_id == p.id, RevocationCase.status == "open")
            .with_for_update()
        )
    ).scalar_one_or_none()
    if case is not None:
        case.status, case.decided_at, case.decided_by = "revoked", utcnow(), uow.actor.id
        case.decision_reason = reason
        case.version += 1
