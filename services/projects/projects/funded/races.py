"""赛马制: the teams funded in parallel on one task meet at each milestone; the weaker stop.

Rule (recorded on the round): when every racing team's milestone evaluation is in, teams are
ranked — any pass before any fail, then by score, then by code — the best ``keep`` that passed
continue and receive the milestone tranche; the rest are eliminated and their funding stops.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import func, select

from projects.calls.models import Call
from projects.funded import evaluation_requests, funding
from projects.funded.models import Project, ProjectEvaluation, RaceRound
from projects.funded.schemas import RaceRoundCreate
from projects.funded.service import transition
from shared.clock import utcnow
from shared.errors import Conflict, NotFound
from shared.ids import uuid7
from shared.uow import UnitOfWork

RULE_ZH = "里程碑评估全部完成后排序（通过者在前，再按得分、项目编号）；保留前若干名，其余淘汰并停止拨款"


async def racing(session: Any, call_id: UUID, challenge_id: str) -> list[Project]:
    return list(
        (
            await session.execute(
                select(Project)
                .where(
                    Project.call_id == call_id,
                    Project.challenge_id == challenge_id,
                    Project.organisation_mode == "horse_race",
                    Project.state == "in_progress",
                )
                .order_by(Project.code)
                .with_for_update()
            )
        ).scalars()
    )


async def open_round(uow: UnitOfWork, call: Call, challenge_id: str, data: RaceRoundCreate) -> RaceRound:
    if call.organisation_mode != "horse_race" or not any(c["id"] == challenge_id for c in call.challenges):
        raise NotFound("no such race task in this call", "该指南无此赛马任务")
    busy = (
        await uow.session.execute(
            select(RaceRound.id).where(
                RaceRound.call_id == call.id,
                RaceRound.challenge_id == challenge_id,
                RaceRound.state == "open",
            )
        )
    ).first()
    if busy is not None:
        raise Conflict(
            "a milestone round of this race is still open",
            "该赛马任务尚有未完成的里程碑评估",
            code="round_open",
        )
    teams = await racing(uow.session, call.id, challenge_id)
    if len(teams) <= data.keep:
        raise Conflict(
            f"{len(teams)} team(s) racing; keeping {data.keep} eliminates nobody",
            "在赛团队数不多于保留数，无需淘汰评估",
            code="nothing_to_decide",
            extra={"racing": len(teams)},
        )
    seq = (
        await uow.session.execute(
            select(func.count())
            .select_from(RaceRound)
            .where(RaceRound.call_id == call.id, RaceRound.challenge_id == challenge_id)
        )
    ).scalar_one() + 1
    rnd = RaceRound(
        id=uuid7(),
        call_id=call.id,
        challenge_id=challenge_id,
        seq=seq,
        label=data.label,
        keep=data.keep,
        state="open",
        due_date=data.due_date,
        outcome=[],
        created_by=uow.actor.id,
        created_at=utcnow(),
    )
    uow.session.add(rnd)
    await uow.session.flush()
    for project in teams:
        await evaluation_requests.request(
            uow, project, "milestone", data.due_date, reason=f"赛马制{data.label}", round_id=rnd.id
        )
    await uow.record(
        "race.round_opened",
        entity_type="call",
        entity_id=call.id,
        changes={
            "challenge_id": challenge_id,
            "round": seq,
            "keep": data.keep,
            "teams": [t.code for t in teams],
        },
    )
    return rnd


async def evaluation_done(uow: UnitOfWork, round_id: UUID) -> None:
    rnd = await uow.session.get(RaceRound, round_id, with_for_update=True)
    if rnd is None or rnd.state != "open":
        return
    evaluations = list(
        (
            await uow.session.execute(select(ProjectEvaluation).where(ProjectEvaluation.round_id == round_id))
        ).scalars()
    )
    if any(e.state != "finalized" for e in evaluations):
        return
    projects = {p.id: p for p in await racing(uow.session, rnd.call_id, rnd.challenge_id)}
    ranked = sorted(
        (e for e in evaluations if e.project_id in projects),
        key=lambda e: (e.result not in {"excellent", "pass"}, -(e.score or 0), projects[e.project_id].code),
    )
    outcome = []
    for place, e in enumerate(ranked, start=1):
        project = projects[e.project_id]
        keep = place <= rnd.keep and e.result in {"excellent", "pass"}
        outcome.append(
            {
                "project_id": str(project.id),
                "code": project.code,
                "place": place,
                "score": e.score,
                "result": e.result,
                "continues": keep,
            }
        )
        details = {"round": rnd.seq, "place": place, "score": e.score, "keep": rnd.keep, "rule": RULE_ZH}
        if keep:
            await funding.release(uow, project, "milestone")
        else:
            await transition(
                uow,
                project,
                "eliminate",
                reason=f"{rnd.label}排名第{place}，未进入前{rnd.keep}名",
                details=details,
            )
            await funding.cancel_remaining(uow, project, f"赛马制{rnd.label}淘汰")
    rnd.state = "decided"
    rnd.outcome = outcome
    rnd.decided_at = utcnow()
    await uow.record(
        "race.round_decided",
        entity_type="call",
        entity_id=rnd.call_id,
        changes={"round": rnd.seq, "outcome": outcome},
    )


async def rounds_of(session: Any, call_id: UUID, challenge_id: str) -> list[RaceRound]:
    return list(
        (
            await session.execute(
                select(RaceRound)
                .where(RaceRound.call_id == call_id, RaceRound.challenge_id == challenge_id)
                .order_by(RaceRound.seq)
            )
        ).scalars()
    )
