"""Mid-term checks, milestone evaluations, acceptance and comprehensive performance evaluation,
run by the evaluation service; and 容错 — what a failure means for the team. Never commits."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from sqlalchemy import select

from projects.funded import funding, races
from projects.funded.events import (
    EVALUATION_REQUESTED,
    MISCONDUCT_FOUND,
    EvaluationRequested,
    IndicatorForEvaluation,
    MisconductFound,
    ProjectEvaluationFinalized,
)
from projects.funded.machines import EVALUATION_KINDS_ZH, EVALUATION_TRANSITIONS, RESULTS_ZH
from projects.funded.models import Indicator, IndicatorRecord, Project, ProjectEvaluation
from projects.funded.schemas import FaultAssessmentIn
from projects.funded.service import get, record_step, touched, transition
from projects.registry_views.models import PersonView
from shared.clock import utcnow
from shared.errors import Conflict, FieldIssue, ValidationFailed
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
        raise Conflict(
            f"a project in state {project.state} is not evaluated",
            "项目当前状态不能发起评价",
            code="not_evaluable",
            extra={"current_state": project.state},
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
        raise Conflict(
            "only a running project has mid-term or milestone evaluations",
            "仅执行中的项目可开展中期检查或里程碑评估",
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


async def finalized(uow: UnitOfWork, p: ProjectEvaluationFinalized) -> bool:
    """A verdict from evaluation. Unknown or already-finalized requests are left alone."""
    evaluation = await uow.session.get(ProjectEvaluation, p.request_id, with_for_update=True)
    if evaluation is None or evaluation.state != "requested":
        return False
    project = await get(uow.session, evaluation.project_id, for_update=True)
    evaluation.state = "finalized"
    evaluation.result = p.result
    evaluation.score = p.score
    evaluation.diligent = p.diligent
    evaluation.remarks = p.remarks
    evaluation.finalized_at = p.finalized_at
    evaluation.indicator_verdicts = [v.model_dump(mode="json") for v in p.indicator_verdicts]
    own = {
        i.id
        for i in (
            await uow.session.execute(select(Indicator).where(Indicator.project_id == project.id))
        ).scalars()
    }
    reported = await latest_reported(uow.session, project.id)
    for v in p.indicator_verdicts:
        if v.id not in own:
            continue
        # evaluation may judge yes/no (``achieved: true``) on the reported value, or state the
        # verified figure; either way the record keeps the number the verdict stands on.
        if isinstance(v.achieved, int | float) and not isinstance(v.achieved, bool):
            value: float | None = float(v.achieved)
        else:
            value = reported.get(v.id)
        verdict = v.verdict or (
            {True: "achieved", False: "not_achieved"}.get(v.achieved)
            if isinstance(v.achieved, bool)
            else None
        )
        uow.session.add(
            IndicatorRecord(
                id=uuid7(),
                indicator_id=v.id,
                stage=evaluation.kind,
                value=value,
                verdict=verdict,
                source_id=evaluation.id,
                actor_id=uow.actor.id,
                at=p.finalized_at,
            )
        )
    kind_zh = EVALUATION_KINDS_ZH.get(evaluation.kind, evaluation.kind)
    label = f"{kind_zh}结论：{RESULTS_ZH.get(p.result, p.result)}"
    details = {"request_id": str(evaluation.id), "result": p.result, "score": p.score, "diligent": p.diligent}
    await record_step(uow, project, f"{evaluation.kind}_finalized", label, reason=p.remarks, details=details)
    await _apply(uow, project, evaluation, p)
    return True


async def _apply(
    uow: UnitOfWork, project: Project, evaluation: ProjectEvaluation, p: ProjectEvaluationFinalized
) -> None:
    passed = p.result in {"excellent", "pass"}
    if p.result == "terminated" and project.state not in {"terminated", "eliminated"}:
        await transition(uow, project, "terminate", reason=p.remarks or "评价结论：终止", result="terminated")
        await funding.cancel_remaining(uow, project, "评价结论为终止")
    elif evaluation.kind == "mid_term" and passed:
        await funding.release(uow, project, "mid_term")
    elif evaluation.kind == "milestone" and evaluation.round_id is not None:
        await races.evaluation_done(uow, evaluation.round_id)
    elif evaluation.kind == "acceptance":
        if passed:
            await transition(uow, project, "pass_acceptance", reason=p.remarks, result=p.result)
            await funding.release(uow, project, "delivery")  # 揭榜挂帅: reward on delivery
        else:
            await transition(uow, project, "fail_acceptance", reason=p.remarks, result="fail")
    elif evaluation.kind == "performance":
        if passed:
            await transition(uow, project, "conclude", reason=p.remarks, result=p.result)
        else:
            await transition(uow, project, "fail_performance", reason=p.remarks, result="fail")
    if project.result in {"fail", "terminated"} and p.diligent and project.fault_assessment is None:
        # The experts found the team did its duty: 尽职免责, on the record of this evaluation.
        await _mark(
            uow,
            project,
            {
                "outcome": "diligent",
                "by": "evaluation",
                "request_id": str(evaluation.id),
                "reason": p.remarks or "专家评议认定项目团队已履行勤勉尽责义务",
            },
        )


async def _mark(uow: UnitOfWork, project: Project, assessment: dict[str, Any]) -> None:
    assessment = assessment | {"at": utcnow().isoformat(), "actor_id": uow.actor.id}
    project.fault_assessment = assessment
    project.diligent_exempt = assessment["outcome"] == "diligent"
    project.misconduct = assessment["outcome"] == "misconduct"
    label = {
        "diligent": "容错认定：尽职免责",
        "not_diligent": "容错认定：未尽职",
        "misconduct": "认定科研失信",
    }[assessment["outcome"]]
    await touched(uow, project, f"fault_{assessment['outcome']}", assessment.get("reason"))
    await record_step(
        uow, project, "fault_assessment", label, reason=assessment.get("reason"), details=assessment
    )


async def assess_fault(uow: UnitOfWork, project: Project, data: FaultAssessmentIn) -> Project:
    if project.result not in {"fail", "terminated"}:
        raise Conflict(
            "容错 applies to failed or terminated projects",
            "容错认定仅适用于未通过或终止的项目",
            code="not_failed",
            extra={"current_state": project.state, "result": project.result},
        )
    assessment: dict[str, Any] = {
        "outcome": data.outcome,
        "by": "department",
        "reason": data.reason,
        "evidence": data.evidence,
        "decision_document": data.decision_document,
    }
    if data.outcome == "misconduct":
        missing = [f for f in ("decision_document", "misconduct_type") if not getattr(data, f)]
        if missing:
            raise ValidationFailed(
                [
                    FieldIssue(
                        f,
                        "required",
                        f"a misconduct finding names its {f}",
                        "认定科研失信须载明失信类型和处理决定文号",
                    )
                    for f in missing
                ]
            )
        people = data.person_ids or [project.pi_person_id]
        assessment |= {"misconduct_type": data.misconduct_type, "person_ids": [str(x) for x in people]}
        await _mark(uow, project, assessment)
        await uow.emit(
            MISCONDUCT_FOUND,
            MisconductFound(
                project_id=project.id,
                person_ids=people,
                organisation_id=project.unit_id if data.unit_responsible else None,
                misconduct_type=str(data.misconduct_type),
                description=data.reason,
                decision_document=str(data.decision_document),
                decided_on=utcnow().date(),
            ),
            subject=f"project/{project.id}",
        )
        return project
    await _mark(uow, project, assessment)
    return project
