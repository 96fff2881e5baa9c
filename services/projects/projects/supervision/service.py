"""Annual spot checks (抽查) of running projects: a seeded, reproducible sample, recorded with
its population, and one finding per sampled project. Never commits.

The sample is ``random.Random(seed).sample(population, size)`` over the project codes sorted:
the record keeps the population, the seed and the size, so the same sample can be drawn again
by anyone (GET /spot-checks/{id}/redraw) — nobody picks which projects are checked.
"""

from __future__ import annotations

import random
import secrets
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from projects.calls.models import Call
from projects.catalogue.models import Programme
from projects.funded.models import Project
from projects.funded.service import record_step
from projects.numbering import next_code
from projects.supervision.models import SpotCheck, SpotCheckItem
from projects.supervision.schemas import OUTCOMES_ZH, FindingIn, SpotCheckCreate
from shared.clock import utcnow
from shared.errors import Conflict, FieldIssue, NotFound, StateConflict, ValidationFailed
from shared.ids import uuid7
from shared.uow import UnitOfWork

CHECKED_STATES = ("in_progress", "accepting")  # 执行中, 结题验收中
STATES_ZH = {"open": "抽查中", "closed": "已完成"}
RULE = (
    "population: projects in progress or under acceptance at drawing time (of the programme, if "
    "given), codes sorted; sample: random.Random(seed).sample(population, min(size, population))"
)


def draw(population: list[str], seed: int, size: int) -> list[str]:
    """The sample of ``size`` codes a seed gives; the same inputs always give the same sample."""
    ordered = sorted(population)
    return random.Random(seed).sample(ordered, min(size, len(ordered)))  # noqa: S311  (must repeat)


async def create(uow: UnitOfWork, data: SpotCheckCreate) -> SpotCheck:
    stmt = select(Project.id, Project.code).where(Project.state.in_(CHECKED_STATES))
    if data.programme_code is not None:
        if await uow.session.get(Programme, data.programme_code) is None:
            raise ValidationFailed(
                [
                    FieldIssue(
                        "programme_code",
                        "unknown",
                        "not a programme of the catalogue",
                        "计划目录中没有该专项",
                    )
                ]
            )
        stmt = stmt.join(Call, Call.id == Project.call_id).where(Call.programme_code == data.programme_code)
    rows = (await uow.session.execute(stmt)).all()
    if not rows:
        raise Conflict("no running project to check", "没有可抽查的在研项目", code="nothing_to_check")
    ids = {code: pid for pid, code in rows}
    seed = data.seed if data.seed is not None else secrets.randbelow(2**31)
    population = sorted(ids)
    sample = draw(population, seed, data.sample_size)
    check = SpotCheck(
        id=uuid7(),
        code=await next_code(uow.session, SpotCheck.code, f"CC{data.year}-", 3),
        year=data.year,
        title=data.title,
        programme_code=data.programme_code,
        seed=seed,
        sample_size=data.sample_size,
        population=population,
        sample=sample,
        rule=RULE,
        state="open",
        created_by=uow.actor.id,
        created_at=utcnow(),
    )
    uow.session.add(check)
    await uow.session.flush()
    projects = {
        p.id: p
        for p in (
            await uow.session.execute(select(Project).where(Project.id.in_([ids[c] for c in sample])))
        ).scalars()
    }
    for seq, code in enumerate(sample, start=1):
        uow.session.add(SpotCheckItem(id=uuid7(), spot_check_id=check.id, project_id=ids[code], seq=seq))
        await record_step(
            uow,
            projects[ids[code]],
            "spot_check_selected",
            f"列入{data.year}年度抽查",
            details={"spot_check": check.code, "seq": seq},
        )
    await uow.record(
        "spot_check.drawn",
        entity_type="spot_check",
        entity_id=check.id,
        changes={"seed": seed, "population": len(population), "sample": sample},
    )
    return check


async def get(session: AsyncSession, check_id: UUID, *, for_update: bool = False) -> SpotCheck:
    check = await session.get(SpotCheck, check_id, with_for_update=for_update)
    if check is None:
        raise NotFound(f"spot check {check_id} not found", "未找到该抽查")
    return check


async def items_of(session: AsyncSession, check: SpotCheck) -> list[tuple[SpotCheckItem, Project]]:
    rows = await session.execute(
        select(SpotCheckItem, Project)
        .join(Project, Project.id == SpotCheckItem.project_id)
        .where(SpotCheckItem.spot_check_id == check.id)
        .order_by(SpotCheckItem.seq)
    )
    return [(item, project) for item, project in rows.all()]


def _open(check: SpotCheck) -> None:
    if check.state != "open":
        raise StateConflict(
            "the spot check is closed",
            "该抽查已完成，不能再修改",
            current_state=check.state,
            state_labels_zh=STATES_ZH,
            code="spot_check_closed",
        )


async def record_finding(
    uow: UnitOfWork, check: SpotCheck, project_id: UUID, data: FindingIn
) -> SpotCheckItem:
    _open(check)
    found = next(((i, p) for i, p in await items_of(uow.session, check) if p.id == project_id), None)
    if found is None:
        raise NotFound("this project is not in the sample", "该项目不在本次抽查样本中")
    if data.outcome != "compliant" and data.rectification_due is None:
        raise ValidationFailed(
            [
                FieldIssue(
                    "rectification_due",
                    "required",
                    "a finding of issues sets the date by which they are put right",
                    "发现问题须明确整改期限",
                )
            ]
        )
    item, project = found
    item.outcome = data.outcome
    item.findings = data.findings
    item.rectification_due = data.rectification_due
    item.recorded_by = uow.actor.id
    item.recorded_at = utcnow()
    await record_step(
        uow,
        project,
        "spot_check_finding",
        f"抽查结论：{OUTCOMES_ZH[data.outcome]}",
        reason=data.findings,
        details={
            "spot_check": check.code,
            "outcome": data.outcome,
            "rectification_due": str(data.rectification_due) if data.rectification_due else None,
        },
    )
    return item


async def close(uow: UnitOfWork, check: SpotCheck, summary: str) -> SpotCheck:
    _open(check)
    missing = [p.code for i, p in await items_of(uow.session, check) if i.outcome is None]
    if missing:
        raise Conflict(
            f"findings missing for {missing}",
            f"以下项目尚未填写抽查结论：{'、'.join(missing)}",
            code="findings_missing",
            extra={"missing": missing},
        )
    check.state = "closed"
    check.closed_at = utcnow()
    check.summary = summary
    await uow.record(
        "spot_check.closed",
        entity_type="spot_check",
        entity_id=check.id,
        changes={"state": ["open", "closed"]},
        reason=summary,
    )
    return check
