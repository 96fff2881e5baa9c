"""任务书: made from the approved application, edited by the lead, signed by staff. Never commits.

The application's promised indicators (and a 榜单's goals) become the task book's assessment
indicators; the task book may raise a target or add an indicator, never promise less.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from projects.applications.models import Application
from projects.calls import service as calls
from projects.calls.models import Call
from projects.funded import funding
from projects.funded.models import Indicator, Project, TaskBook
from projects.funded.schemas import TaskBookUpdate
from projects.funded.service import record_step, transition
from projects.integrity import service as integrity
from projects.modes.rules import rules_for
from shared.clock import utcnow
from shared.errors import FieldIssue, NotFound, StateConflict, ValidationFailed
from shared.ids import uuid7
from shared.uow import UnitOfWork

TASK_BOOK_STATES_ZH = {"draft": "编制中", "submitted": "已提交", "returned": "退回修改", "signed": "已签订"}
# what remains to do with a task book in each state (a refusal names them)
TASK_BOOK_ACTIONS = {
    "draft": ["edit", "submit"],
    "returned": ["edit", "submit"],
    "submitted": ["return", "sign"],
}
TASK_BOOK_ACTIONS_ZH = {
    "edit": "修改任务书",
    "submit": "提交任务书",
    "return": "退回任务书",
    "sign": "签订任务书",
}


async def open_project(
    uow: UnitOfWork, project: Project, app: Application, call: Call, basis: dict[str, Any]
) -> None:
    """The approved application becomes a project with a draft task book and its indicators."""
    rules = rules_for(call.organisation_mode)
    payment_plan = funding.plan(project.funding_fen, rules.payment_plan)
    indicators: list[dict[str, Any]] = [
        {**i, "target": i["promised"], "source": "application"} for i in app.indicators
    ]
    challenge = basis.get("challenge")
    milestones = list(app.milestones)
    if challenge is not None:
        goals = next(c for c in call.challenges if c["id"] == challenge["id"])["goals"]
        indicators += [
            {
                "name": g["name"],
                "category": g.get("category", "technical"),
                "unit": g.get("unit", ""),
                "promised": g["target"],
                "target": g["target"],
                "source": "challenge",
            }
            for g in goals
        ]
    for seq, item in enumerate(indicators, start=1):
        uow.session.add(
            Indicator(
                id=uuid7(),
                project_id=project.id,
                seq=seq,
                name=item["name"],
                category=item["category"],
                unit=item.get("unit", ""),
                promised=item["promised"],
                target=item["target"],
                source=item["source"],
            )
        )
    await uow.session.flush()
    if rules.verification_required:
        # 后补助: the work is done and verified; the project exists to pay and to be counted.
        project.state = "closed"
        project.result = "pass"
        funding.schedule(uow.session, project, payment_plan)
        await uow.session.flush()
        await record_step(
            uow,
            project,
            "approve",
            "后补助立项",
            reason=app.decision_reason,
            details={"basis": basis},
            to_state="closed",
        )
        await funding.release(uow, project, "verification")
        return
    uow.session.add(
        TaskBook(
            project_id=project.id,
            state="draft",
            objectives=app.plan,
            milestones=milestones,
            budget=list(app.budget),
            payment_plan=payment_plan,
            version=1,
        )
    )
    funding.schedule(uow.session, project, payment_plan)
    await uow.session.flush()
    await record_step(
        uow,
        project,
        "approve",
        "批准立项",
        reason=app.decision_reason,
        details={"basis": basis, "funding_fen": project.funding_fen},
        to_state=project.state,
    )


async def get(session: AsyncSession, project: Project, *, for_update: bool = False) -> TaskBook:
    book = await session.get(TaskBook, project.id, with_for_update=for_update)
    if book is None:
        raise NotFound("this project has no task book", "该项目无任务书（备案或后补助项目）")
    return book


async def indicators_of(session: Any, project: Project) -> list[Indicator]:
    return list(
        (
            await session.execute(
                select(Indicator).where(Indicator.project_id == project.id).order_by(Indicator.seq)
            )
        ).scalars()
    )


def _editable(book: TaskBook) -> None:
    if book.state not in {"draft", "returned"}:
        raise StateConflict(
            f"a {book.state} task book cannot be edited",
            f"任务书处于「{TASK_BOOK_STATES_ZH[book.state]}」状态，不能修改",
            current_state=book.state,
            state_labels_zh=TASK_BOOK_STATES_ZH,
            allowed=TASK_BOOK_ACTIONS.get(book.state, []),
            action_labels_zh=TASK_BOOK_ACTIONS_ZH,
            code="task_book_locked",
        )


async def edit(uow: UnitOfWork, project: Project, data: TaskBookUpdate) -> TaskBook:
    book = await get(uow.session, project, for_update=True)
    _editable(book)
    changes: dict[str, Any] = {}
    if data.objectives is not None:
        book.objectives = data.objectives
        changes["objectives"] = True
    if data.milestones is not None:
        book.milestones = [m.model_dump(mode="json") for m in data.milestones]
        changes["milestones"] = len(book.milestones)
    if data.budget is not None:
        call = await uow.session.get(Call, project.call_id) if project.call_id else None
        lines = [b.model_dump(mode="json") for b in data.budget]
        form_issues = calls.budget_form_issues("budget", lines, call.budget_form if call else "categories")
        if form_issues:
            raise ValidationFailed(form_issues)
        book.budget = lines
        changes["budget_fen"] = sum(b.amount_fen for b in data.budget)
    if data.indicators is not None:
        existing = {i.id: i for i in await indicators_of(uow.session, project)}
        issues = []
        next_seq = max((i.seq for i in existing.values()), default=0) + 1
        for n, item in enumerate(data.indicators):
            if item.id is None:
                uow.session.add(
                    Indicator(
                        id=uuid7(),
                        project_id=project.id,
                        seq=next_seq,
                        name=item.name,
                        category=item.category,
                        unit=item.unit,
                        promised=None,
                        target=item.target,
                        source="task_book",
                    )
                )
                next_seq += 1
                continue
            row = existing.get(item.id)
            if row is None:
                issues.append(
                    FieldIssue(
                        f"indicators.{n}.id",
                        "unknown",
                        "not an indicator of this project",
                        "不是本项目的指标",
                    )
                )
            elif row.promised is not None and item.target < row.promised:
                issues.append(
                    FieldIssue(
                        f"indicators.{n}.target",
                        "below_promise",
                        f"the task book cannot set less than the {row.promised} promised",
                        f"任务书考核指标不得低于申报时承诺的{row.promised:g}{row.unit}",
                    )
                )
            else:
                row.target = item.target
        if issues:
            raise ValidationFailed(issues)
        changes["indicators"] = len(data.indicators)
    book.version += 1
    await uow.record("task_book.edited", entity_type="project", entity_id=project.id, changes=changes)
    return book


async def submit(uow: UnitOfWork, project: Project) -> TaskBook:
    book = await get(uow.session, project, for_update=True)
    _editable(book)
    total = sum(int(b["amount_fen"]) for b in book.budget)
    count = (
        await uow.session.execute(
            select(func.count()).select_from(Indicator).where(Indicator.project_id == project.id)
        )
    ).scalar_one()
    issues = []
    if total != project.funding_fen:
        issues.append(
            FieldIssue(
                "budget",
                "not_the_grant",
                f"the budget adds up to {total} fen; the grant is {project.funding_fen} fen",
                f"预算合计{total / 100:.2f}元，与立项经费{project.funding_fen / 100:.2f}元不一致",
            )
        )
    if not count:
        issues.append(
            FieldIssue(
                "indicators", "required", "a task book has assessment indicators", "任务书须有考核指标"
            )
        )
    if not book.milestones:
        issues.append(
            FieldIssue("milestones", "required", "a task book has milestones", "任务书须有进度安排（里程碑）")
        )
    if issues:
        raise ValidationFailed(issues)
    book.state = "submitted"
    book.submitted_at = utcnow()
    book.return_reason = None
    await record_step(uow, project, "submit_task_book", "提交任务书", details={"budget_fen": total})
    return book


async def return_(uow: UnitOfWork, project: Project, reason: str) -> TaskBook:
    book = await get(uow.session, project, for_update=True)
    if book.state != "submitted":
        raise StateConflict(
            "only a submitted task book is returned",
            f"任务书处于「{TASK_BOOK_STATES_ZH[book.state]}」状态，仅已提交的任务书可退回",
            current_state=book.state,
            state_labels_zh=TASK_BOOK_STATES_ZH,
            allowed=TASK_BOOK_ACTIONS.get(book.state, []),
            action_labels_zh=TASK_BOOK_ACTIONS_ZH,
            code="task_book_not_submitted",
        )
    book.state = "returned"
    book.return_reason = reason
    await record_step(uow, project, "return_task_book", "退回任务书", reason=reason)
    return book


async def sign(
    uow: UnitOfWork,
    project: Project,
    reason: str | None,
    integrity_override_reason: str | None = None,
    signer_name: str | None = None,
) -> TaskBook:
    """Staff sign the submitted task book; it keeps the signer's account and name of the moment."""
    book = await get(uow.session, project, for_update=True)
    if book.state != "submitted":
        raise StateConflict(
            "the lead submits the task book before it is signed",
            f"任务书处于「{TASK_BOOK_STATES_ZH[book.state]}」状态，须由项目负责人提交后方可签订",
            current_state=book.state,
            state_labels_zh=TASK_BOOK_STATES_ZH,
            allowed=TASK_BOOK_ACTIONS.get(book.state, []),
            action_labels_zh=TASK_BOOK_ACTIONS_ZH,
            code="task_book_not_submitted",
        )
    override = await integrity.gate(
        uow,
        "signing",
        entity_type="project",
        entity_id=project.id,
        person_ids=[project.pi_person_id, *project.team_person_ids],
        unit_ids=[project.unit_id],
        override_reason=integrity_override_reason,
    )
    details: dict[str, Any] = {"signed_by_name": signer_name} if signer_name else {}
    if override:
        details["integrity_override"] = override
    await transition(uow, project, "sign_task_book", reason=reason, details=details or None)
    book.state = "signed"
    book.signed_at = utcnow()
    book.signed_by = uow.actor.id
    book.signed_by_name = signer_name
    await funding.release(uow, project, "signing")
    return book
