"""The application path from draft to the funding decision. Never commits: the caller does."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from projects import names
from projects.applications import checks, dedup_index
from projects.applications.events import (
    APPLICATION_EVENTS,
    PROJECT_APPROVED,
    READY_FOR_REVIEW,
    ApplicationChanged,
    ProjectApproved,
    ReadyForReview,
)
from projects.applications.machines import APPLICATION_EVENT_NAMES, APPLICATION_MACHINE, CALL_MACHINE
from projects.applications.models import (
    Application,
    ApplicationStep,
    ApplicationVersion,
    Seal,
)
from projects.applications.schemas import ApplicationAction, ApplicationCreate, ApplicationFields
from projects.calls import service as calls
from projects.calls.models import Call
from projects.catalogue.models import Programme
from projects.funded import task_books
from projects.funded.models import Project
from projects.funded.service import record_step
from projects.integrity import service as integrity
from projects.modes import service as modes
from projects.numbering import next_code
from projects.platforms import service as platforms
from projects.policy import service as policy
from shared.auth import Principal, Role
from shared.clock import utcnow
from shared.errors import Conflict, FieldIssue, Forbidden, NotFound, ValidationFailed
from shared.ids import uuid7
from shared.timestamps import beijing, beijing_text
from shared.uow import UnitOfWork

CONTENT_FIELDS = (
    "title",
    "abstract",
    "content",
    "keywords",
    "discipline_codes",
    "team",
    "budget",
    "requested_funding_fen",
    "matching_fund_fen",
    "plan",
    "milestones",
    "attachments",
    "declared_projects",
    "competent_department_id",
    "challenge_id",
    "indicators",
    "results",
)
# Sealed only once set: a field added later must not change the digest of what was sealed before.
OPTIONAL_CONTENT_FIELDS = ("consortium", "ethics_review", "follow_on", "platform_id")
EDITABLE_STATES = {"draft", "returned"}
FOLLOW_ON_ZH = {"rolling": "滚动支持", "continued": "容错继续支持"}
STAFF = (Role.department_staff, Role.administrator)
REASON_REQUIRED = {"return", "return_by_department", "return_at_formal_review", "exclude", "reject"}


# -- who may see and act ------------------------------------------------------------------------


def _units(principal: Principal) -> set[str]:
    units = set(principal.scope("units"))
    if principal.unit_id:
        units.add(principal.unit_id)
    return units


def is_owner(principal: Principal, app: Application) -> bool:
    return principal.has_role(Role.applicant) and (
        app.applicant_user_id == principal.user_id
        or (principal.person_id is not None and str(app.applicant_person_id) == principal.person_id)
    )


def can_see(principal: Principal, app: Application) -> bool:
    if principal.has_role(*STAFF) or is_owner(principal, app):
        return True
    if app.state == "draft":
        return False  # a draft is the applicant's own until submitted
    if principal.has_role(Role.host_unit_admin) and str(app.unit_id) in _units(principal):
        return True
    return (
        principal.has_role(Role.competent_department)
        and app.competent_department_id is not None
        and str(app.competent_department_id) in _units(principal)
    )


def _may_act(principal: Principal, app: Application, action: str) -> bool:
    if principal.has_role(*STAFF) and action not in {
        "submit",
        "withdraw",
        "endorse",
        "recommend",
        "return_by_department",
    }:
        return True
    if action in {"submit", "withdraw"}:
        return is_owner(principal, app)
    if action in {"endorse", "return"}:
        return principal.has_role(Role.host_unit_admin) and str(app.unit_id) in _units(principal)
    if action in {"recommend", "return_by_department"}:
        return (
            principal.has_role(Role.competent_department)
            and app.competent_department_id is not None
            and str(app.competent_department_id) in _units(principal)
        )
    return False


def allowed_actions(principal: Principal, app: Application) -> list[str]:
    return [
        a
        for a in APPLICATION_MACHINE.allowed_actions(app.state, principal.roles)
        if _may_act(principal, app, a)
    ]


# -- content, digest, seals ---------------------------------------------------------------------


def content_of(app: Application) -> dict[str, Any]:
    out: dict[str, Any] = {
        "call_id": str(app.call_id),
        "applicant_person_id": str(app.applicant_person_id),
        "unit_id": str(app.unit_id),
    }
    for name in CONTENT_FIELDS:
        value = getattr(app, name)
        out[name] = str(value) if isinstance(value, UUID) else value
    for name in OPTIONAL_CONTENT_FIELDS:
        value = getattr(app, name)
        if value is not None:
            out[name] = str(value) if isinstance(value, UUID) else value
    return out


def digest_of(content: dict[str, Any]) -> str:
    """SHA-256 of the canonical JSON of exactly what was submitted/endorsed."""
    canonical = json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


async def seals_of(session: AsyncSession, app: Application) -> list[dict[str, Any]]:
    current = digest_of(content_of(app))
    rows = (
        await session.execute(select(Seal).where(Seal.application_id == app.id).order_by(Seal.at))
    ).scalars()
    return [
        {
            "id": s.id,
            "kind": s.kind,
            "actor_id": s.actor_id,
            "actor_name": s.actor_name or names.unknown(s.actor_id),
            "unit_id": s.unit_id,
            "at": s.at,
            "revision": s.revision,
            "digest": s.digest,
            "statement": s.statement,
            "valid": s.digest == current and s.revision == app.revision,
        }
        for s in rows
    ]


async def _seal(step: Step, kind: str, unit_id: str | None, statement: dict[str, Any]) -> str:
    """The signatory seals the current content; the seal keeps the signer's name of the moment."""
    uow, app = step.uow, step.app
    digest = digest_of(content_of(app))
    uow.session.add(
        Seal(
            id=uuid7(),
            application_id=app.id,
            kind=kind,
            actor_id=uow.actor.id,
            actor_name=step.actor_name,
            unit_id=unit_id,
            revision=app.revision,
            digest=digest,
            statement=statement,
            at=utcnow(),
        )
    )
    return digest


# -- drafting -----------------------------------------------------------------------------------


async def get(session: AsyncSession, app_id: UUID, *, for_update: bool = False) -> Application:
    """``for_update`` locks the row FOR NO KEY UPDATE: changes to one application wait for each
    other, while rows that only refer to it (the 查重 indexer's signature row) can still be
    written. A full FOR UPDATE also blocked those foreign-key checks, and a formal check waiting
    for the indexer's turn while the indexer waited for the application deadlocked."""
    stmt = select(Application).where(Application.id == app_id)
    if for_update:
        stmt = stmt.with_for_update(key_share=True)
    app = (await session.execute(stmt)).scalar_one_or_none()
    if app is None:
        raise NotFound(f"application {app_id} not found", "未找到该申报书")
    return app


def _apply_fields(app: Application, fields: ApplicationFields) -> dict[str, list[Any]]:
    data = fields.model_dump(mode="json", exclude_unset=True, exclude={"call_id", "unit_id"})
    changes: dict[str, list[Any]] = {}
    for name, value in data.items():
        if value is None and name != "competent_department_id":
            continue
        new: Any = (
            UUID(value) if name in {"competent_department_id", "platform_id"} and value is not None else value
        )
        old = getattr(app, name)
        if old != new:
            changes[name] = [
                old if not isinstance(old, UUID) else str(old),
                value if not isinstance(value, UUID) else str(value),
            ]
            setattr(app, name, new)
    if "budget" in changes:
        app.requested_funding_fen = sum(int(line["amount_fen"]) for line in app.budget)
    return changes


async def create(uow: UnitOfWork, principal: Principal, data: ApplicationCreate) -> Application:
    if not principal.has_role(Role.applicant) or not principal.person_id:
        raise Forbidden(
            "only a signed-in applicant linked to a registry person drafts applications",
            "仅已关联人员信息的申报人可填写申报书",
        )
    call = await calls.get(uow.session, data.call_id)
    if call.state != "published":
        raise CALL_MACHINE.refuse(
            call.state,
            "this call does not accept applications",
            f"该指南当前为「{CALL_MACHINE.state_labels_zh[call.state]}」，不接受申报",
            roles=principal.roles,
            code="call_not_open",
        )
    await modes.check_may_draft(uow.session, call, UUID(principal.person_id), data.unit_id)
    code = await next_code(uow.session, Application.code, f"SB{call.year}", 6)
    app = Application(
        id=uuid7(),
        code=code,
        call_id=call.id,
        year=call.year,
        programme_code=call.programme_code,
        applicant_person_id=UUID(principal.person_id),
        applicant_user_id=principal.user_id,
        unit_id=data.unit_id,
        title=data.title,
        abstract="",
        content="",
        keywords=[],
        discipline_codes=[],
        team=[],
        budget=[],
        requested_funding_fen=0,
        matching_fund_fen=0,
        plan="",
        milestones=[],
        attachments=[],
        declared_projects=[],
        avoid_person_ids=[],
        state="draft",
        revision=1,
        version=1,
    )
    _apply_fields(app, data)
    uow.session.add(app)
    await uow.session.flush()
    await uow.record(
        "application.drafted",
        entity_type="application",
        entity_id=app.id,
        changes={"call_id": str(call.id), "title": app.title},
    )
    return app


async def edit(
    uow: UnitOfWork, principal: Principal, app: Application, fields: ApplicationFields
) -> Application:
    if not is_owner(principal, app):
        raise Forbidden("only the applicant edits the application", "仅申报人本人可修改申报书")
    if app.state not in EDITABLE_STATES:
        raise APPLICATION_MACHINE.refuse(
            app.state,
            f"an application in state {app.state} cannot be edited",
            f"申报书处于「{APPLICATION_MACHINE.state_labels_zh[app.state]}」状态，不能修改",
            roles=principal.roles,
            code="not_editable",
        )
    changes = _apply_fields(app, fields)
    if changes:
        app.version += 1
        app.updated_at = utcnow()
        await uow.record("application.edited", entity_type="application", entity_id=app.id, changes=changes)
    return app


# -- the steps ----------------------------------------------------------------------------------


def _completeness(app: Application, call: Call) -> None:
    issues = []
    if len(app.abstract.strip()) < 20:
        issues.append(
            FieldIssue(
                "abstract", "too_short", "the abstract needs at least 20 characters", "项目摘要不少于20字"
            )
        )
    if not app.budget:
        issues.append(FieldIssue("budget", "required", "the budget table is empty", "预算表不能为空"))
    elif not call.min_funding_fen <= app.requested_funding_fen <= call.max_funding_fen:
        issues.append(
            FieldIssue(
                "budget",
                "out_of_range",
                f"requested {app.requested_funding_fen} fen is outside "
                f"{call.min_funding_fen}–{call.max_funding_fen}",
                f"申请经费{app.requested_funding_fen / 100:.2f}元不在指南资助范围"
                f"{call.min_funding_fen / 100:.2f}–{call.max_funding_fen / 100:.2f}元内",
            )
        )
    leads = [m for m in app.team if m["role"] == "lead"]
    if len(leads) != 1 or leads[0]["person_id"] != str(app.applicant_person_id):
        issues.append(
            FieldIssue(
                "team",
                "lead",
                "the team needs exactly one lead: the applicant",
                "项目组须有且仅有一名负责人，即申报人本人",
            )
        )
    if app.competent_department_id is None:
        issues.append(
            FieldIssue(
                "competent_department_id",
                "required",
                "choose the recommending department",
                "请选择推荐单位（主管部门）",
            )
        )
    issues += calls.budget_form_issues("budget", app.budget, call.budget_form)
    if call.eligibility.get("ethics_review_required") and app.ethics_review is None:
        issues.append(
            FieldIssue(
                "ethics_review",
                "required",
                "this call requires the ethics committee's review (medicine, life sciences, AI)",
                "本指南要求涉及科技伦理的项目（医学、生命科学、人工智能等）填报伦理审查意见",
            )
        )
    issues += modes.completeness_issues(app, call)
    if issues:
        raise ValidationFailed(issues)


@dataclass
class Step:
    """One step being taken: what a step handler reads and may add to the audit record."""

    uow: UnitOfWork
    action: str
    app: Application
    call: Call
    body: ApplicationAction
    now: datetime
    actor_name: str | None = None  # who takes the step, by name (seals and steps keep it)
    changes: dict[str, Any] = field(default_factory=dict)


StepHandler = Callable[[Step], Awaitable[None]]


def _in_window(step: Step) -> None:
    call = step.call
    if not calls.open_now(call):
        opens, closes = beijing(call.opens_at), beijing(call.closes_at)
        window = f"{opens:%Y-%m-%d %H:%M} – {closes:%Y-%m-%d %H:%M}"
        raise Conflict(
            f"not open now: applications are accepted {window} (Beijing time)",
            f"不在申报时间内：申报时间为 {opens:%Y-%m-%d %H:%M} 至 {closes:%Y-%m-%d %H:%M}（北京时间）",
            code="window_closed",
            extra={
                "opens_at": beijing_text(call.opens_at),
                "closes_at": beijing_text(call.closes_at),
                "server_time": beijing_text(step.now),
            },
        )


async def _submit(step: Step) -> None:
    """提交申报: in the window, with the integrity pledge, complete; the content is sealed."""
    _in_window(step)
    app, uow = step.app, step.uow
    if not step.body.pledge_accepted:
        raise ValidationFailed(
            [
                FieldIssue(
                    "pledge_accepted",
                    "required",
                    "the integrity pledge must be accepted to submit",
                    "提交前须签署科研诚信承诺书",
                )
            ]
        )
    _completeness(app, step.call)
    await modes.check_applicant_form(uow.session, app)
    await modes.check_follow_on(uow.session, app)
    await platforms.check_undertaking(
        uow.session, app.platform_id, app.unit_id, required=step.call.organisation_mode == "stable_support"
    )
    if app.state == "returned":
        app.revision += 1
    content = content_of(app)
    digest = digest_of(content)
    uow.session.add(
        ApplicationVersion(
            application_id=app.id, revision=app.revision, digest=digest, content=content, created_at=step.now
        )
    )
    await _seal(step, "pledge", None, {"text": "本人承诺申报材料真实、准确，不存在科研失信行为。"})
    app.submitted_at = step.now
    step.changes["digest"] = digest
    await dedup_index.queue(uow.session, app.id, app.revision)  # 查重 signature off the request path


async def _withdraw(step: Step) -> None:
    """撤回申报: only while the call is open."""
    _in_window(step)


async def _endorse(step: Step) -> None:
    """依托单位审核: the unit seals the submitted content."""
    step.changes["digest"] = await _seal(
        step, "endorsement", str(step.app.unit_id), {"comments": step.body.comments}
    )


async def _recommend(step: Step) -> None:
    """主管部门推荐 (谁推荐、谁承诺、谁筹措匹配资金): the commitment and the matching funds go on the
    department's seal, beside the sealed content, never into it."""
    body, app = step.body, step.app
    if body.matching_fund_fen is None or not body.commitment:
        raise ValidationFailed(
            [
                FieldIssue(
                    "matching_fund_fen" if body.matching_fund_fen is None else "commitment",
                    "required",
                    "a recommendation states its commitment and the matching-fund amount",
                    "推荐须载明推荐承诺和匹配资金数额（谁推荐、谁承诺、谁筹措匹配资金）",
                )
            ]
        )
    app.recommended_matching_fund_fen = body.matching_fund_fen
    step.changes["recommended_matching_fund_fen"] = body.matching_fund_fen
    step.changes["digest"] = await _seal(
        step,
        "recommendation",
        str(app.competent_department_id),
        {"commitment": body.commitment, "matching_fund_fen": body.matching_fund_fen},
    )


async def _formal_decision(step: Step) -> None:
    """形式审查 通过 / 不通过: on the automatic report; passing a failed report needs a reason."""
    app = step.app
    if app.formal_report is None:
        app.formal_report = await checks.formal_report(step.uow.session, app, step.call)


async def _accept_formally(step: Step) -> None:
    await _formal_decision(step)
    report = step.app.formal_report or {}
    if not report.get("passed") and not step.body.reason:
        raise ValidationFailed(
            [
                FieldIssue(
                    "reason",
                    "required",
                    "accepting despite failed automatic checks needs a reason",
                    "自动审查未通过时予以通过须说明理由",
                )
            ]
        )


async def _send_to_review(step: Step) -> None:
    """提交专家评审: evaluation is told what to assign (projects.application.ready_for_review)."""
    due = step.body.review_due or (step.now.date() + timedelta(days=30))
    await _emit_ready_for_review(step.uow, step.app, step.call, due)


async def _approve_step(step: Step) -> None:
    """批准立项 / 直接立项: the budget is checked under the call's lock; the project opens."""
    call = await calls.get(step.uow.session, step.app.call_id, for_update=True)
    if step.action == "approve" and step.app.review is None:
        raise Conflict("no expert review result yet", "尚无专家评审结果", code="no_review")
    await _approve(step.uow, step.app, call, step.action, step.body)


async def _reject(step: Step) -> None:
    step.app.decision_reason = step.body.reason


async def _no_rule(step: Step) -> None:
    """Steps with nothing of their own beyond the machine, the reason and the record."""


# The machine's table, action → handler: every transition of APPLICATION_MACHINE has exactly one.
STEP_HANDLERS: dict[str, StepHandler] = {
    "submit": _submit,
    "withdraw": _withdraw,
    "endorse": _endorse,
    "return": _no_rule,
    "recommend": _recommend,
    "return_by_department": _no_rule,
    "accept_formally": _accept_formally,
    "return_at_formal_review": _no_rule,
    "exclude": _formal_decision,
    "send_to_review": _send_to_review,
    "complete_review": _no_rule,
    "approve": _approve_step,
    "approve_directly": _approve_step,
    "reject": _reject,
}
if set(STEP_HANDLERS) != {t.action for t in APPLICATION_MACHINE.transitions}:
    raise RuntimeError("every transition of the application machine needs exactly one step handler")


async def act(
    uow: UnitOfWork, principal: Principal | None, app: Application, action: str, body: ApplicationAction
) -> Application:
    """Take one step of the machine: check who and when, run the action's handler, record, emit."""
    roles = principal.roles if principal is not None else frozenset({"system"})
    transition = APPLICATION_MACHINE.apply(app.state, action, roles)
    if principal is not None and not _may_act(principal, app, action):
        raise Forbidden(f"you may not {action} this application", "无权对该申报书执行此操作")
    if action in REASON_REQUIRED and not (body.reason and body.reason.strip()):
        raise ValidationFailed([FieldIssue("reason", "required", f"{action} needs a reason", "请填写理由")])
    now = utcnow()
    step = Step(
        uow,
        action,
        app,
        await calls.get(uow.session, app.call_id),
        body,
        now,
        actor_name=await names.actor_name(uow.session, principal),
    )
    await STEP_HANDLERS[action](step)
    before = app.state
    app.state = transition.target
    app.version += 1
    app.updated_at = now
    uow.session.add(
        ApplicationStep(
            id=uuid7(),
            application_id=app.id,
            action=action,
            from_state=before,
            to_state=app.state,
            actor_id=uow.actor.id,
            actor_name=step.actor_name,
            actor_roles=sorted(roles),
            reason=body.reason,
            comments=body.comments,
            revision=app.revision,
            at=now,
        )
    )
    event_name = APPLICATION_EVENT_NAMES[action]
    event = await uow.emit(
        APPLICATION_EVENTS[event_name],
        ApplicationChanged(
            id=app.id,
            code=app.code,
            call_id=app.call_id,
            state=app.state,
            applicant_person_id=app.applicant_person_id,
            unit_id=app.unit_id,
            title=app.title,
            action=event_name,
            reason=body.reason,
            version=app.version,
        ),
        subject=f"application/{app.id}",
    )
    await uow.record(
        f"application.{action}",
        entity_type="application",
        entity_id=app.id,
        changes={"state": [before, app.state], **step.changes},
        reason=body.reason,
        event=event,
    )
    return app


async def _emit_ready_for_review(uow: UnitOfWork, app: Application, call: Call, due: date) -> None:
    team_people = [UUID(m["person_id"]) for m in app.team]
    team_units = sorted({UUID(m["unit_id"]) for m in app.team if m.get("unit_id")} | {app.unit_id}, key=str)
    await uow.emit(
        READY_FOR_REVIEW,
        ReadyForReview(
            application_id=app.id,
            code=app.code,
            call_id=app.call_id,
            programme_code=app.programme_code,
            year=app.year,
            title=app.title,
            abstract=app.abstract,
            keywords=app.keywords,
            discipline_codes=app.discipline_codes,
            applicant_person_id=app.applicant_person_id,
            applicant_unit_id=app.unit_id,
            team_person_ids=team_people,
            team_unit_ids=team_units,
            competent_department_id=app.competent_department_id,
            requested_funding_fen=app.requested_funding_fen,
            avoid_person_ids=[UUID(p) for p in app.avoid_person_ids],
            review_due=due,
        ),
        subject=f"application/{app.id}",
    )


async def _approve(
    uow: UnitOfWork, app: Application, call: Call, action: str, body: ApplicationAction
) -> None:
    funding = modes.grant(app, call, body.funding_fen)
    if funding > call.max_funding_fen:
        raise ValidationFailed(
            [
                FieldIssue(
                    "funding_fen",
                    "above_maximum",
                    "above the call's per-project maximum",
                    "超过指南单项资助上限",
                )
            ]
        )
    granted = (
        await uow.session.execute(
            select(func.coalesce(func.sum(Project.funding_fen), 0)).where(Project.call_id == call.id)
        )
    ).scalar_one()
    if granted + funding > call.budget_fen:
        raise Conflict(
            "approving this would exceed the call budget",
            "立项经费将超出指南总预算",
            code="over_budget",
            extra={"granted_fen": int(granted), "budget_fen": call.budget_fen},
        )
    policy_values = await policy.current(uow.session)
    basis = await modes.approval_basis(uow.session, app, call, action, body, funding, policy_values)
    override = await integrity.gate(
        uow,
        "approval",
        entity_type="application",
        entity_id=app.id,
        person_ids=[app.applicant_person_id, *(m["person_id"] for m in app.team)],
        unit_ids=[app.unit_id],
        override_reason=body.integrity_override_reason,
    )
    if override is not None:
        basis["integrity_override"] = override
    if app.follow_on is not None:
        basis["follow_on"] = app.follow_on
    start = body.start_date or date(call.year + 1, 1, 1)
    end = body.end_date or date(start.year + 2, 12, 31)
    if end <= start:
        raise ValidationFailed(
            [
                FieldIssue(
                    "end_date", "before_start", "end_date must be after start_date", "结束日期须晚于开始日期"
                )
            ]
        )
    if body.long_cycle:
        programme = await uow.session.get(Programme, call.programme_code)
        if programme is None or not programme.long_cycle_allowed:
            raise ValidationFailed(
                [
                    FieldIssue(
                        "long_cycle",
                        "not_allowed",
                        f"{call.programme_code} does not fund long-cycle (长周期) projects",
                        "该专项不支持长周期项目（长周期稳定支持试点限于基础研究计划）",
                    )
                ]
            )
    modes.check_term(start, end, body.long_cycle, policy_values)
    project_code = await next_code(uow.session, Project.code, f"{call.code}-", 4)
    project = Project(
        id=uuid7(),
        code=project_code,
        application_id=app.id,
        call_id=call.id,
        title=app.title,
        organisation_mode=call.organisation_mode,
        pi_person_id=app.applicant_person_id,
        unit_id=app.unit_id,
        competent_department_id=app.competent_department_id,
        team_person_ids=[m["person_id"] for m in app.team],
        chief_expert_person_ids=[m["person_id"] for m in app.team if m["role"] == "chief_expert"],
        platform_id=app.platform_id or _designated_platform(basis),
        start_date=start,
        end_date=end,
        funding_fen=funding,
        challenge_id=app.challenge_id,
        long_cycle=body.long_cycle,
        non_consensus=basis.get("rule") == "non_consensus_minority",
        funding_basis=basis,
        state="approved",
        version=1,
    )
    uow.session.add(project)
    await uow.session.flush()
    app.approved_funding_fen = funding
    app.decision_reason = body.reason
    await task_books.open_project(uow, project, app, call, basis)
    if app.follow_on is not None:
        earlier = await uow.session.get(Project, UUID(app.follow_on["project_id"]))
        if earlier is not None:
            await record_step(
                uow,
                earlier,
                "follow_on_approved",
                FOLLOW_ON_ZH[app.follow_on["kind"]] + "立项",
                details={"project": project.code, "kind": app.follow_on["kind"]},
            )
    await uow.emit(
        PROJECT_APPROVED,
        ProjectApproved(
            project_id=project.id,
            code=project.code,
            application_id=app.id,
            call_id=call.id,
            title=project.title,
            organisation_mode=project.organisation_mode,
            pi_person_id=project.pi_person_id,
            unit_id=project.unit_id,
            team_person_ids=[UUID(p) for p in project.team_person_ids],
            start_date=start,
            end_date=end,
            funding_fen=funding,
        ),
        subject=f"project/{project.id}",
    )


def _designated_platform(basis: dict[str, Any]) -> UUID | None:
    """定向委托 to a platform: the project is the entrusted platform's unless the application named one."""
    platform = (basis.get("designation") or {}).get("platform_id")
    return UUID(platform) if platform else None


async def review_completed(
    uow: UnitOfWork, application_id: UUID, review: dict[str, Any], score: float
) -> bool:
    """Expert review results arrive from evaluation; an unknown or not-in-review application is left."""
    app = (
        await uow.session.execute(
            select(Application).where(Application.id == application_id).with_for_update(key_share=True)
        )
    ).scalar_one_or_none()
    if app is None or app.state != "in_review":
        return False
    app.review = review
    app.review_score = score
    await act(uow, None, app, "complete_review", ApplicationAction(reason=f"专家评审得分 {score}"))
    return True
