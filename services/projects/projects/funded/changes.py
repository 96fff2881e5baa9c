"""Changes needing approval (项目变更): the lead or the host unit asks, the host unit endorses,
staff decide — except budget adjustments within the grant, which the host unit decides
(预算调剂权下放承担单位, seed 004). Never commits."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from sqlalchemy import or_, select

from projects.calls.models import Call
from projects.funded import funding
from projects.funded.machines import CHANGE_KINDS_ZH, DECIDED_BY_UNIT, PROJECT_MACHINE, STAFF
from projects.funded.models import Project, ProjectChange, TaskBook
from projects.funded.schemas import ChangeCreate
from projects.funded.service import is_pi, is_unit_admin, record_step, touched, transition
from projects.organisations.models import OrganisationView
from projects.policy import service as policy
from projects.registry_views.models import IntegrityView, PersonView
from shared.auth import Principal
from shared.clock import utcnow
from shared.errors import Conflict, FieldIssue, Forbidden, NotFound, StateConflict, ValidationFailed
from shared.ids import uuid7
from shared.uow import UnitOfWork

OPEN_STATES = ("requested", "endorsed")
CHANGEABLE_PROJECT_STATES = ("approved", "in_progress")
CHANGE_STATES_ZH = {
    "requested": "待承担单位审核",
    "endorsed": "承担单位已同意",
    "approved": "已批准",
    "rejected": "不予批准",
    "withdrawn": "已撤回",
}
CHANGE_ACTIONS_ZH = {"endorse": "承担单位同意", "approve": "批准", "reject": "不予批准", "withdraw": "撤回"}


def _months_later(d: date, months: int) -> date:
    m = d.month - 1 + months
    year, month = d.year + m // 12, m % 12 + 1
    for day in (d.day, 30, 29, 28):
        try:
            return date(year, month, day)
        except ValueError:
            continue
    raise AssertionError("unreachable")


async def _details(uow: UnitOfWork, project: Project, data: ChangeCreate) -> dict[str, Any]:
    issue = None
    if data.kind == "pi_change":
        person = await uow.session.get(PersonView, data.new_pi_person_id) if data.new_pi_person_id else None
        if person is None:
            issue = FieldIssue(
                "new_pi_person_id",
                "required",
                "name a registered person as the new lead",
                "请指定已登记的新负责人",
            )
        elif data.new_pi_person_id == project.pi_person_id:
            issue = FieldIssue(
                "new_pi_person_id", "unchanged", "that is already the lead", "新负责人与原负责人相同"
            )
        else:
            return {"from": str(project.pi_person_id), "to": str(data.new_pi_person_id)}
    elif data.kind == "unit_change":
        unit = await uow.session.get(OrganisationView, data.new_unit_id) if data.new_unit_id else None
        if unit is None:
            issue = FieldIssue(
                "new_unit_id", "required", "name a registered unit", "请指定已注册的新承担单位"
            )
        elif data.new_unit_id == project.unit_id:
            issue = FieldIssue(
                "new_unit_id", "unchanged", "that is already the unit", "新承担单位与原单位相同"
            )
        else:
            return {"from": str(project.unit_id), "to": str(data.new_unit_id)}
    elif data.kind == "extension":
        max_months = int((await policy.current(uow.session))["max_extension_months"])
        latest = _months_later(project.end_date, max_months)
        if data.new_end_date is None or data.new_end_date <= project.end_date:
            issue = FieldIssue(
                "new_end_date",
                "not_later",
                "the new end date must be later",
                "延期后的结束日期须晚于原结束日期",
            )
        elif data.new_end_date > latest:
            issue = FieldIssue(
                "new_end_date",
                "too_long",
                f"an extension is at most {max_months} months (until {latest})",
                f"延期不超过{max_months}个月（至{latest}）",
            )
        else:
            return {"from": str(project.end_date), "to": str(data.new_end_date)}
    elif data.kind == "budget_adjustment":
        total = sum(b.amount_fen for b in data.budget or [])
        call = await uow.session.get(Call, project.call_id) if project.call_id else None
        if call is not None and call.budget_form == "lump_sum":
            raise Conflict(
                "a lump-sum (包干制) budget has no categories to adjust",
                "包干制项目经费不分科目，无需预算调剂",
                code="lump_sum_budget",
            )
        if not data.budget:
            issue = FieldIssue("budget", "required", "state the adjusted budget", "请填写调剂后的预算")
        elif total != project.funding_fen:
            issue = FieldIssue(
                "budget",
                "total_changed",
                "an adjustment moves money between categories; the grant stays the same",
                "预算调剂不改变项目经费总额",
            )
        else:
            return {"budget": [b.model_dump(mode="json") for b in data.budget or []]}
    else:
        return {}
    assert issue is not None
    raise ValidationFailed([issue])


async def request(
    uow: UnitOfWork, principal: Principal, project: Project, data: ChangeCreate
) -> ProjectChange:
    staff = principal.has_role(*STAFF)
    if not (is_pi(principal, project) or is_unit_admin(principal, project) or staff):
        raise Forbidden(
            "the lead, the host unit or staff request changes", "仅项目负责人、承担单位或业务处室可申请变更"
        )
    if data.kind != "termination" and not (is_pi(principal, project) or is_unit_admin(principal, project)):
        raise Forbidden("the lead or the host unit requests this change", "该变更由项目负责人或承担单位申请")
    if project.state not in CHANGEABLE_PROJECT_STATES:
        raise _unchangeable(uow, project)
    pending = (
        await uow.session.execute(
            select(ProjectChange.id).where(
                ProjectChange.project_id == project.id,
                ProjectChange.kind == data.kind,
                ProjectChange.state.in_(OPEN_STATES),
            )
        )
    ).first()
    if pending is not None:
        raise Conflict(
            "a change of this kind is already pending", "已有同类变更申请待处理", code="change_pending"
        )
    details = await _details(uow, project, data)
    change = ProjectChange(
        id=uuid7(),
        project_id=project.id,
        kind=data.kind,
        # Staff starting a termination or the host unit asking need no endorsement of their own.
        state="endorsed" if staff or is_unit_admin(principal, project) else "requested",
        details=details,
        reason=data.reason,
        requested_by=uow.actor.id,
        requested_at=utcnow(),
        endorsed_by=uow.actor.id if staff or is_unit_admin(principal, project) else None,
    )
    uow.session.add(change)
    await record_step(
        uow,
        project,
        "change_requested",
        f"申请{CHANGE_KINDS_ZH[data.kind]}",
        reason=data.reason,
        details={"change_id": str(change.id), "kind": data.kind, **details},
    )
    if change.state == "endorsed" and data.kind in DECIDED_BY_UNIT:
        await _approve(uow, project, change, "承担单位审批（预算调剂权下放）")
    return change


async def get(uow: UnitOfWork, project: Project, change_id: UUID) -> ProjectChange:
    change = await uow.session.get(ProjectChange, change_id, with_for_update=True)
    if change is None or change.project_id != project.id:
        raise NotFound("no such change request", "未找到该变更申请")
    return change


def _unchangeable(uow: UnitOfWork, project: Project) -> StateConflict:
    return PROJECT_MACHINE.refuse(
        project.state,
        f"a project in state {project.state} no longer changes",
        f"项目当前为「{PROJECT_MACHINE.state_labels_zh[project.state]}」，不能变更",
        roles=uow.actor.roles,
        code="not_changeable",
    )


def _refuse(change: ProjectChange, action: str, allowed: list[str]) -> None:
    raise StateConflict(
        f"a {change.state} change cannot be {action}d",
        f"变更申请当前为「{CHANGE_STATES_ZH[change.state]}」，不能{CHANGE_ACTIONS_ZH[action]}",
        current_state=change.state,
        state_labels_zh=CHANGE_STATES_ZH,
        allowed=allowed,
        action_labels_zh=CHANGE_ACTIONS_ZH,
        code="invalid_transition",
        extra={"action": action},
    )


async def act(
    uow: UnitOfWork,
    principal: Principal,
    project: Project,
    change: ProjectChange,
    action: str,
    reason: str | None,
) -> ProjectChange:
    staff = principal.has_role(*STAFF)
    if action == "endorse":
        if not is_unit_admin(principal, project):
            raise Forbidden("the host unit endorses", "由承担单位审核")
        if change.state != "requested":
            _refuse(change, action, ["withdraw"] if change.state == "endorsed" else [])
        change.state = "endorsed"
        change.endorsed_by = uow.actor.id
        await record_step(
            uow, project, "change_endorsed", f"承担单位同意{CHANGE_KINDS_ZH[change.kind]}", reason=reason
        )
        if change.kind in DECIDED_BY_UNIT:
            await _approve(uow, project, change, reason or "承担单位审批（预算调剂权下放）")
        return change
    if action in {"approve", "reject"}:
        if not staff:
            raise Forbidden("staff decide changes", "变更由科技厅业务处室审批")
        if change.state != "endorsed":
            _refuse(change, action, ["endorse"] if change.state == "requested" else [])
        if action == "reject":
            if not (reason and reason.strip()):
                raise ValidationFailed(
                    [FieldIssue("reason", "required", "a rejection states why", "请填写不予批准的理由")]
                )
            change.state = "rejected"
            change.decided_by = uow.actor.id
            change.decided_at = utcnow()
            change.decision_reason = reason
            await record_step(
                uow, project, "change_rejected", f"不同意{CHANGE_KINDS_ZH[change.kind]}", reason=reason
            )
            return change
        await _approve(uow, project, change, reason)
        return change
    if action == "withdraw":
        if (
            not (is_pi(principal, project) or is_unit_admin(principal, project))
            or change.requested_by != uow.actor.id
        ):
            raise Forbidden("only who asked withdraws", "仅申请人可撤回")
        if change.state not in OPEN_STATES:
            _refuse(change, action, [])
        change.state = "withdrawn"
        await record_step(
            uow, project, "change_withdrawn", f"撤回{CHANGE_KINDS_ZH[change.kind]}申请", reason=reason
        )
        return change
    raise NotFound(f"unknown action {action}", "未知操作")


async def _approve(uow: UnitOfWork, project: Project, change: ProjectChange, reason: str | None) -> None:
    if project.state not in CHANGEABLE_PROJECT_STATES:
        raise _unchangeable(uow, project)
    d = change.details
    if change.kind == "pi_change":
        new = d["to"]
        barred = (
            await uow.session.execute(
                select(IntegrityView.id).where(
                    IntegrityView.person_id == UUID(new),
                    IntegrityView.lifted_at.is_(None),
                    or_(IntegrityView.barred_until.is_(None), IntegrityView.barred_until >= utcnow().date()),
                )
            )
        ).first()
        if barred is not None:
            raise Conflict(
                "the proposed lead is under an integrity bar",
                "拟任负责人处于科研失信惩戒期内",
                code="integrity_barred",
            )
        project.pi_person_id = UUID(new)
        project.team_person_ids = [new, *[p for p in project.team_person_ids if p not in (new, d["from"])]]
    elif change.kind == "unit_change":
        project.unit_id = UUID(d["to"])
    elif change.kind == "extension":
        project.end_date = date.fromisoformat(d["to"])
    elif change.kind == "budget_adjustment":
        book = await uow.session.get(TaskBook, project.id, with_for_update=True)
        if book is not None:
            book.budget = d["budget"]
            book.version += 1
    change.state = "approved"
    change.decided_by = uow.actor.id
    change.decided_at = utcnow()
    change.decision_reason = reason
    label = f"批准{CHANGE_KINDS_ZH[change.kind]}"
    if change.kind == "termination":
        await record_step(
            uow, project, "change_approved", label, reason=reason, details={"change_id": str(change.id)}
        )
        await transition(uow, project, "terminate", reason=change.reason, result="terminated")
        await funding.cancel_remaining(uow, project, "项目终止")
        return
    await touched(uow, project, change.kind, change.reason)
    await record_step(
        uow, project, "change_approved", label, reason=reason, details={"change_id": str(change.id), **d}
    )
