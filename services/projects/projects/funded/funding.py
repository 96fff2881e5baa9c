"""Disbursements (拨款): the grant in tranches, each due once its condition is met. Never commits."""

from __future__ import annotations

from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from projects.funded.models import Disbursement, Project
from projects.funded.service import record_step
from projects.integrity import service as integrity
from projects.modes.rules import Tranche
from shared.clock import utcnow
from shared.errors import NotFound, StateConflict
from shared.ids import uuid7
from shared.uow import UnitOfWork

TRANCHE_STATES_ZH = {"scheduled": "待条件满足", "due": "待支付", "paid": "已支付", "cancelled": "已取消"}
CONDITIONS_ZH = {
    "signing": "任务书签订",
    "mid_term": "中期检查通过",
    "milestone": "里程碑评估保留",
    "delivery": "交付验收通过",
    "verification": "成果核验通过",
}


def plan(funding_fen: int, tranches: tuple[Tranche, ...]) -> list[dict[str, object]]:
    """Amounts in fen by percentage; the last tranche takes the remainder so the sum is exact."""
    out: list[dict[str, object]] = []
    left = funding_fen
    for i, t in enumerate(tranches):
        amount = left if i == len(tranches) - 1 else funding_fen * t.percent // 100
        left -= amount
        out.append(
            {
                "seq": i + 1,
                "percent": t.percent,
                "condition": t.condition,
                "label_zh": t.label_zh,
                "amount_fen": amount,
            }
        )
    return out


def schedule(session: AsyncSession, project: Project, payment_plan: list[dict[str, object]]) -> None:
    for line in payment_plan:
        session.add(
            Disbursement(
                id=uuid7(),
                project_id=project.id,
                seq=int(str(line["seq"])),
                amount_fen=int(str(line["amount_fen"])),
                condition=str(line["condition"]),
                state="scheduled",
            )
        )


async def of(session: AsyncSession, project_id: UUID) -> list[Disbursement]:
    return list(
        (
            await session.execute(
                select(Disbursement).where(Disbursement.project_id == project_id).order_by(Disbursement.seq)
            )
        ).scalars()
    )


async def release(uow: UnitOfWork, project: Project, condition: str) -> list[Disbursement]:
    """The condition is met: the tranches waiting on it become due."""
    now = utcnow()
    released = [
        d for d in await of(uow.session, project.id) if d.state == "scheduled" and d.condition == condition
    ]
    for d in released:
        d.state = "due"
        d.due_since = now
    if released:
        await record_step(
            uow,
            project,
            "disbursement_due",
            "拨款条件达成",
            details={"condition": condition, "amount_fen": sum(d.amount_fen for d in released)},
        )
    return released


async def cancel_remaining(uow: UnitOfWork, project: Project, reason: str) -> int:
    """Funding stops (termination, elimination): tranches whose condition was not yet met are
    cancelled; one already due stays owed for the work done before."""
    cancelled = 0
    for d in await of(uow.session, project.id):
        if d.state == "scheduled":
            d.state = "cancelled"
            d.cancelled_reason = reason
            cancelled += d.amount_fen
    if cancelled:
        await record_step(
            uow,
            project,
            "disbursement_cancelled",
            "停止拨款",
            reason=reason,
            details={"amount_fen": cancelled},
        )
    return cancelled


async def pay(
    uow: UnitOfWork,
    project: Project,
    disbursement_id: UUID,
    voucher: str,
    integrity_override_reason: str | None = None,
) -> Disbursement:
    d = await uow.session.get(Disbursement, disbursement_id, with_for_update=True)
    if d is None or d.project_id != project.id:
        raise NotFound("no such tranche of this project", "未找到该笔拨款")
    if d.state != "due":
        condition_zh = CONDITIONS_ZH.get(d.condition, d.condition)
        raise StateConflict(
            f"a {d.state} tranche cannot be paid; it waits for: {d.condition}",
            f"该笔拨款{TRANCHE_STATES_ZH[d.state]}，不能支付（条件：{condition_zh}）",
            current_state=d.state,
            state_labels_zh=TRANCHE_STATES_ZH,
            code="not_due",
            extra={"condition": d.condition},
        )
    override = await integrity.gate(
        uow,
        "payment",
        entity_type="project",
        entity_id=project.id,
        person_ids=[project.pi_person_id, *project.team_person_ids],
        unit_ids=[project.unit_id],
        override_reason=integrity_override_reason,
    )
    d.state = "paid"
    d.paid_at = utcnow()
    d.paid_by = uow.actor.id
    d.voucher = voucher
    await record_step(
        uow,
        project,
        "disbursement_paid",
        "拨付经费",
        details={"seq": d.seq, "amount_fen": d.amount_fen, "voucher": voucher}
        | ({"integrity_override": override} if override else {}),
    )
    return d
