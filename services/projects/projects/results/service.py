"""The results register (科技成果库): results enter from acceptance or a unit's report and are
verified by staff. Never commits.

A result is verified or rejected once; a rejected one goes back to staff only when the unit that
reported it corrects and resubmits it. The machine below is the whole life of a row; every step
is written to the audit log (corrections with the fields before and after) and to the project's
timeline.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from sqlalchemy import Select, false, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from projects.funded.machines import STAFF
from projects.funded.models import Project, ProjectEvaluation
from projects.funded.service import is_unit_admin, load, record_step, units_of
from projects.numbering import next_code
from projects.results.models import ProjectResult
from projects.results.schemas import KINDS_ZH, ResultCorrection, ResultIn, ResultReport
from shared.auth import Principal, Role
from shared.clock import utcnow
from shared.errors import FieldIssue, Forbidden, NotFound, ValidationFailed
from shared.ids import uuid7
from shared.statemachine import StateMachine, Transition
from shared.timestamps import beijing
from shared.uow import UnitOfWork

RESULT_MACHINE = StateMachine(
    "project_result",
    (
        Transition.of("verify", ["reported"], "verified", "核验通过", STAFF),
        Transition.of("reject", ["reported"], "rejected", "核验不通过", STAFF),
        Transition.of("resubmit", ["rejected"], "reported", "更正后重新提交", [Role.host_unit_admin]),
    ),
    state_labels_zh={"reported": "已填报待核验", "verified": "已核验", "rejected": "核验未通过"},
    terminal=frozenset({"verified"}),
)
CORRECTABLE = ("title", "kind", "people", "maturity", "transfer_status", "summary")


def visible_to(stmt: Select[Any], principal: Principal) -> Select[Any]:
    """Staff see the register; a unit's admin its units' results; a lead those of their projects."""
    if principal.has_role(*STAFF):
        return stmt
    ors: list[Any] = []
    units = sorted(units_of(principal))
    if principal.has_role(Role.host_unit_admin) and units:
        ors.append(ProjectResult.unit_id.in_(units))
    if principal.person_id:
        ors.append(
            ProjectResult.project_id.in_(
                select(Project.id).where(Project.pi_person_id == principal.person_id)
            )
        )
    return stmt.where(or_(*ors)) if ors else stmt.where(false())


async def get(
    session: AsyncSession, result_id: UUID, principal: Principal, *, for_update: bool = False
) -> ProjectResult:
    stmt = visible_to(select(ProjectResult).where(ProjectResult.id == result_id), principal)
    found: ProjectResult | None = (
        await session.execute(stmt.with_for_update() if for_update else stmt)
    ).scalar_one_or_none()
    if found is None:
        raise NotFound(f"result {result_id} not found", "未找到该科技成果")
    return found


async def _add(
    uow: UnitOfWork,
    project: Project,
    data: ResultIn,
    *,
    source: str,
    evaluation_id: UUID | None = None,
) -> ProjectResult:
    now = utcnow()
    year = beijing(now).year
    result = ProjectResult(
        id=uuid7(),
        code=await next_code(uow.session, ProjectResult.code, f"CG{year}-", 5),
        project_id=project.id,
        title=data.title,
        kind=data.kind.value,
        unit_id=project.unit_id,
        people=list(data.people),
        maturity=data.maturity.value,
        transfer_status=data.transfer_status.value,
        summary=data.summary,
        year=year,
        source=source,
        evaluation_id=evaluation_id,
        state="reported",
        reported_by=uow.actor.id,
        reported_at=now,
    )
    uow.session.add(result)
    await uow.session.flush()
    changes = {"code": result.code, "title": result.title, "kind": result.kind, "source": source}
    await uow.record(
        "project_result.reported", entity_type="project_result", entity_id=result.id, changes=changes
    )
    await record_step(
        uow,
        project,
        "result_reported",
        f"登记科技成果：{KINDS_ZH[result.kind]}「{result.title}」",
        details={"result_id": str(result.id), "code": result.code, "source": source},
    )
    return result


async def report(uow: UnitOfWork, principal: Principal, data: ResultReport) -> ProjectResult:
    """A host unit's admin reports a result of one of the unit's own projects."""
    try:
        project = await load(uow.session, data.project_id, principal, for_update=True)
    except NotFound:
        raise ValidationFailed(
            [FieldIssue("project_id", "unknown", "no such project of your unit", "本单位没有该项目")]
        ) from None
    if not is_unit_admin(principal, project):
        raise Forbidden(
            "only the admin of the project's host unit reports its results",
            "仅项目承担单位管理员可填报该项目的科技成果",
        )
    return await _add(uow, project, data, source="unit")


async def from_acceptance(
    uow: UnitOfWork, project: Project, evaluation: ProjectEvaluation
) -> list[ProjectResult]:
    """The results the S&T report (科技报告) lists, entered when acceptance passes; once per
    acceptance, so an event applied again adds nothing."""
    listed: Sequence[dict[str, Any]] = (project.st_report or {}).get("results") or []
    if not listed:
        return []
    already = (
        await uow.session.execute(
            select(ProjectResult.id).where(ProjectResult.evaluation_id == evaluation.id).limit(1)
        )
    ).first()
    if already is not None:
        return []
    return [
        await _add(
            uow, project, ResultIn.model_validate(item), source="acceptance", evaluation_id=evaluation.id
        )
        for item in listed
    ]


def _correct(result: ProjectResult, correction: ResultCorrection | None) -> dict[str, list[Any]]:
    """Apply the unit's corrections; the fields that changed, as [before, after]."""
    changed: dict[str, list[Any]] = {}
    if correction is None:
        return changed
    for name in CORRECTABLE:
        value = getattr(correction, name)
        if value is None:
            continue
        value = value.value if hasattr(value, "value") else value
        if value != getattr(result, name):
            changed[name] = [getattr(result, name), value]
            setattr(result, name, list(value) if isinstance(value, list) else value)
    return changed


async def act(
    uow: UnitOfWork,
    principal: Principal,
    result: ProjectResult,
    action: str,
    reason: str | None,
    correction: ResultCorrection | None = None,
) -> ProjectResult:
    transition = RESULT_MACHINE.apply(result.state, action, uow.actor.roles)
    if action == "resubmit" and str(result.unit_id) not in units_of(principal):
        raise Forbidden(
            "only the admin of the unit that reported the result corrects and resubmits it",
            "仅填报该成果的单位管理员可更正后重新提交",
        )
    if correction is not None and action != "resubmit":
        raise ValidationFailed(
            [
                FieldIssue(
                    "correction",
                    "not_allowed",
                    "only a resubmission corrects a result",
                    "仅更正后重新提交时可修改成果内容",
                )
            ]
        )
    if action in {"reject", "resubmit"} and not (reason and reason.strip()):
        raise ValidationFailed(
            [
                FieldIssue("reason", "required", "a rejection says why", "核验不通过须说明理由")
                if action == "reject"
                else FieldIssue(
                    "reason", "required", "a resubmission says what was corrected", "重新提交须填写更正说明"
                )
            ]
        )
    before = result.state
    changes: dict[str, list[Any]] = {"state": [before, transition.target]}
    if action == "resubmit":
        changes |= _correct(result, correction)
        result.decided_by = result.decided_at = result.decision_reason = None
    else:
        result.decided_by = uow.actor.id
        result.decided_at = utcnow()
        result.decision_reason = reason
    result.state = transition.target
    await uow.record(
        "project_result.resubmitted" if action == "resubmit" else f"project_result.{transition.target}",
        entity_type="project_result",
        entity_id=result.id,
        changes=changes,
        reason=reason,
    )
    project = await uow.session.get(Project, result.project_id)
    if project is not None:
        await record_step(
            uow,
            project,
            f"result_{action}",
            f"科技成果{transition.label_zh}：「{result.title}」",
            reason=reason,
            details={"result_id": str(result.id), "code": result.code}
            | ({"corrected": sorted(set(changes) - {"state"})} if action == "resubmit" else {}),
        )
    return result
