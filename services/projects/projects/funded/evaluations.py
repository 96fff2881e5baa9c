"""The verdicts of mid-term checks, milestone evaluations, acceptance and comprehensive
performance evaluation, run by the evaluation service (requests: evaluation_requests.py); and
容错 — what a failure means for the team. Never commits."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from projects.funded import funding, races
from projects.funded.evaluation_requests import latest_reported
from projects.funded.events import (
    MISCONDUCT_FOUND,
    MisconductFound,
    ProjectEvaluationFinalized,
)
from projects.funded.machines import EVALUATION_KINDS_ZH, PROJECT_MACHINE, RESULTS_ZH
from projects.funded.models import Indicator, IndicatorRecord, Project, ProjectEvaluation
from projects.funded.schemas import FaultAssessmentIn
from projects.funded.service import get, record_step, touched, transition
from projects.results import service as results
from shared.clock import utcnow
from shared.errors import FieldIssue, ValidationFailed
from shared.ids import uuid7
from shared.uow import UnitOfWork


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
            await results.from_acceptance(uow, project, evaluation)  # 科技成果库, from the 科技报告
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
        raise PROJECT_MACHINE.refuse(
            project.state,
            "容错 applies to failed or terminated projects",
            "容错认定仅适用于未通过或终止的项目",
            roles=uow.actor.roles,
            code="not_failed",
            extra={"result": project.result},
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
