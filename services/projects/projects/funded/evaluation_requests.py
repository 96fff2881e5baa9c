"""Asking evaluation for a verdict: a mid-term check, a milestone evaluation (a 赛马制 round asks
one per racing team), acceptance or comprehensive performance evaluation. Never commits.

Requests live apart from the verdicts (evaluations.py) so that a 赛马制 round can ask for
evaluations and a verdict can close the round without the two modules importing each other.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from sqlalchemy import select

from projects.funded.events import EVALUATION_REQUESTED, EvaluationRequested, IndicatorForEvaluation
from projects.funded.machines import EVALUATION_KINDS_ZH, EVALUATION_TRANSITIONS, PROJECT_MACHINE
from projects.funded.models import Indicator, IndicatorRecord, Project, ProjectEvaluation
from projects.funded.service import record_step, transition
from projects.registry_views.models import PersonView
from shared.clock import utcnow
from shared.errors import Conflict
from shared.ids import uuid7
from shared.uow import UnitOfWork


async def latest_reported(session: Any, project_id: UUID) -> dict[UUID, float | None]:
    rows = await session.execute(
        select(IndicatorRecord.indicator_id, IndicatorRecord.value)
        .join(Indicator, Indicator.id == IndicatorRecord.indicator_id)
        .where(Indicator.project_id == project_id, IndicatorRecord.value.is_not(None))
        .order_by(IndicatorRecord.at)
    )
    return {iid: value for iid, value in rows}


async def request(
    uow: UnitOfWork,
    project: Project,
    kind: str,
    due: date,
    reason: str | None = None,
    round_id: UUID | None = None,
) -> ProjectEvaluation:
    if project.source == "filing":
        raise Conflict(
            "filed projects are evaluated by their funder", "备案项目由原资助方组织评价", code="filed_project"
        )
    if project.state not in {"in_progress", "accepted"}:
        raise PROJECT_MACHINE.refuse(
            project.state,
            f"a project in state {project.state} is not evaluated",
            f"项目当前为「{PROJECT_MACHINE.state_labels_zh[project.state]}」，不能发起评价",
            roles=uow.actor.roles,
            code="not_evaluable",
        )
    if kind == "acceptance" and project.st_report is None:
        raise Conflict(
            "acceptance needs the project's S&T report (科技报告); the lead submits it first",
            "结题验收须先由项目负责人提交科技报告",
            code="st_report_missing",
        )
    open_one = (
        await uow.session.execute(
            select(ProjectEvaluation.id).where(
                ProjectEvaluation.project_id == project.id,
                ProjectEvaluation.kind == kind,
                ProjectEvaluation.state == "requested",
            )
        )
    ).first()
    if open_one is not None:
        raise Conflict(
            f"a {kind} evaluation is already under way",
            f"该项目的{EVALUATION_KINDS_ZH[kind]}正在进行",
            code="under_way",
        )
    evaluation_id = uuid7()
    if kind in EVALUATION_TRANSITIONS:  # the transition's step is the request's step too
        await transition(
            uow,
            project,
            EVALUATION_TRANSITIONS[kind],
            reason=reason,
            details={"request_id": str(evaluation_id), "due_date": str(due)},
        )
    elif project.state != "in_progress":
        raise PROJECT_MACHINE.refuse(
            project.state,
            "only a running project has mid-term or milestone evaluations",
            f"项目当前为「{PROJECT_MACHINE.state_labels_zh[project.state]}」，仅执行中的项目可开展中期检查或里程碑评估",
            roles=uow.actor.roles,
            code="not_running",
        )
    evaluation = ProjectEvaluation(
        id=evaluation_id,
        project_id=project.id,
        kind=kind,
        state="requested",
        round_id=round_id,
        due_date=due,
        requested_by=uow.actor.id,
        requested_at=utcnow(),
        indicator_verdicts=[],
    )
    uow.session.add(evaluation)
    await uow.session.flush()
    reported = await latest_reported(uow.session, project.id)
    indicators = (
        await uow.session.execute(
            select(Indicator).where(Indicator.project_id == project.id).order_by(Indicator.seq)
        )
    ).scalars()
    team_units = {project.unit_id}
    people = [UUID(p) for p in project.team_person_ids]
    for person in (await uow.session.execute(select(PersonView).where(PersonView.id.in_(people)))).scalars():
        if person.unit_id is not None:
            team_units.add(person.unit_id)
    event = await uow.emit(
        EVALUATION_REQUESTED,
        EvaluationRequested(
            request_id=evaluation.id,
            project_id=project.id,
            code=project.code,
            kind=kind,
            title=project.title,
            organisation_mode=project.organisation_mode,
            pi_person_id=project.pi_person_id,
            unit_id=project.unit_id,
            team_person_ids=people,
            team_unit_ids=sorted(team_units, key=str),
            due_date=due,
            indicators=[
                IndicatorForEvaluation(
                    id=i.id,
                    name=i.name,
                    unit=i.unit,
                    promised=i.promised,
                    target=i.target,
                    reported=reported.get(i.id),
                )
                for i in indicators
            ],
        ),
        subject=f"project/{project.id}",
    )
    if kind not in EVALUATION_TRANSITIONS:
        await record_step(
            uow,
            project,
            f"request_{kind}",
            f"发起{EVALUATION_KINDS_ZH[kind]}",
            reason=reason,
            details={"request_id": str(evaluation.id), "due_date": str(due), "event_id": str(event.id)},
        )
    return evaluation
