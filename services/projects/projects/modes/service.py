"""What the organisation mode of a call demands of its applications. Never commits.

Designations (定向委托, 一事一议), 榜单 taken (揭榜挂帅, 赛马制), results verified before money
(后补助), recorded justification (一事一议), the minority rule of 非共识 projects and the
longer terms of 长周期 projects are all checked here, so the application path stays one.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any
from uuid import UUID

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from projects.applications.machines import APPLICATION_MACHINE, CALL_MACHINE
from projects.applications.models import Application, ApplicationStep
from projects.applications.schemas import ApplicationAction
from projects.calls.models import Call
from projects.catalogue.models import Programme
from projects.funded.models import Project
from projects.modes.models import Designation
from projects.modes.rules import (
    rules_for,
)
from projects.modes.schemas import DesignationCreate, VerificationIn
from projects.organisations.models import OrganisationView
from projects.platforms import service as platforms
from projects.registry_views.models import PersonView
from shared.clock import utcnow
from shared.errors import Conflict, FieldIssue, Forbidden, ValidationFailed
from shared.ids import uuid7
from shared.uow import UnitOfWork


def challenge_of(call: Call, challenge_id: str | None) -> dict[str, Any] | None:
    return next((c for c in call.challenges if c["id"] == challenge_id), None)


# -- 定向委托 / 一事一议: designation instead of an open call ------------------------------------


async def designate(uow: UnitOfWork, call: Call, data: DesignationCreate) -> Designation:
    rules = rules_for(call.organisation_mode)
    if rules.open_call:
        raise Conflict(
            f"a {call.organisation_mode} call is open to all; designation is for directed modes",
            "公开申报的指南无需指定承担单位",
            code="open_call",
        )
    if call.state not in {"draft", "published"}:
        raise CALL_MACHINE.refuse(
            call.state,
            "the call is closed",
            f"指南当前为「{CALL_MACHINE.state_labels_zh[call.state]}」，已截止，不能再指定承担单位",
            roles=uow.actor.roles,
            code="call_closed",
        )
    issues = []
    if await uow.session.get(OrganisationView, data.unit_id) is None:
        issues.append(FieldIssue("unit_id", "unknown", "not a registered unit", "不是已注册的单位"))
    if await uow.session.get(PersonView, data.pi_person_id) is None:
        issues.append(FieldIssue("pi_person_id", "unknown", "not a registered person", "不是已登记的人员"))
    if issues:
        raise ValidationFailed(issues)
    await platforms.check_undertaking(uow.session, data.platform_id, data.unit_id, required=False)
    existing = (
        await uow.session.execute(
            select(Designation).where(
                Designation.call_id == call.id, Designation.pi_person_id == data.pi_person_id
            )
        )
    ).scalar_one_or_none()
    if existing is not None:
        raise Conflict(
            "this person is already designated for the call", "该负责人已被指定", code="designated"
        )
    designation = Designation(
        id=uuid7(),
        call_id=call.id,
        unit_id=data.unit_id,
        pi_person_id=data.pi_person_id,
        platform_id=data.platform_id,
        justification=data.justification,
        designated_by=uow.actor.id,
        at=utcnow(),
    )
    uow.session.add(designation)
    await uow.record(
        "call.designated",
        entity_type="call",
        entity_id=call.id,
        changes={
            "unit_id": str(data.unit_id),
            "pi_person_id": str(data.pi_person_id),
            "platform_id": str(data.platform_id) if data.platform_id else None,
        },
        reason=data.justification,
    )
    return designation


async def designations(session: AsyncSession, call_id: UUID) -> list[Designation]:
    return list(
        (
            await session.execute(
                select(Designation).where(Designation.call_id == call_id).order_by(Designation.at)
            )
        ).scalars()
    )


async def check_may_draft(session: AsyncSession, call: Call, person_id: UUID, unit_id: UUID) -> None:
    """Only the designated lead at the designated unit drafts in a directed call."""
    if rules_for(call.organisation_mode).open_call:
        return
    found = (
        await session.execute(
            select(Designation.id).where(
                Designation.call_id == call.id,
                Designation.pi_person_id == person_id,
                Designation.unit_id == unit_id,
            )
        )
    ).first()
    if found is None:
        raise Forbidden(
            "this call is not open: only the unit and lead the department designated may apply",
            "该指南为定向组织，仅限科技厅指定的承担单位和负责人申报",
        )


def completeness_issues(app: Application, call: Call) -> list[FieldIssue]:
    rules = rules_for(call.organisation_mode)
    issues = []
    if rules.challenge_required and challenge_of(call, app.challenge_id) is None:
        issues.append(
            FieldIssue(
                "challenge_id",
                "required",
                f"name one of the call's challenges: {[c['id'] for c in call.challenges]}",
                "请选择所揭榜单（任务）",
            )
        )
    challenge = challenge_of(call, app.challenge_id)
    if challenge is not None and not rules.parallel_teams and app.budget:
        reward, asked = int(challenge.get("reward_fen") or 0), app.requested_funding_fen
        if asked != reward:
            issues.append(
                FieldIssue(
                    "budget",
                    "not_the_reward",
                    f"a 揭榜挂帅 budget asks for the 榜单's reward: {reward} fen, not {asked}",
                    f"揭榜挂帅项目预算须等于榜单奖励{reward / 100:.2f}元（现为{asked / 100:.2f}元）",
                )
            )
    if rules.results_required and not app.results:
        issues.append(
            FieldIssue(
                "results",
                "required",
                "a post-subsidy application states the results already achieved",
                "后补助项目须填报已取得的成果",
            )
        )
    return issues


# -- who applies: an enterprise-led 创新联合体 where the programme says so (seed 003) -------------


async def check_applicant_form(session: AsyncSession, app: Application) -> None:
    programme = await session.get(Programme, app.programme_code)
    if programme is None or programme.applicant_form != "enterprise_led_consortium":
        return
    consortium = app.consortium
    if consortium is None:
        raise ValidationFailed(
            [
                FieldIssue(
                    "consortium",
                    "required",
                    f"{programme.name} funds an innovation consortium led by an enterprise; "
                    "name the consortium and its member units",
                    f"{programme.name}须由企业牵头组建的创新联合体申报，请填写联合体名称和成员单位",
                )
            ]
        )
    issues = []
    lead = await session.get(OrganisationView, app.unit_id)
    if lead is None or lead.type != "enterprise":
        issues.append(
            FieldIssue(
                "unit_id",
                "not_an_enterprise",
                "the consortium's lead (the applicant unit) must be an enterprise",
                "创新联合体须由企业牵头：申报单位（牵头单位）须为企业",
            )
        )
    members = [UUID(str(m)) for m in consortium["member_unit_ids"]]
    known = set(
        (await session.execute(select(OrganisationView.id).where(OrganisationView.id.in_(members)))).scalars()
    )
    for n, member in enumerate(members):
        if member == app.unit_id or members.index(member) != n:
            issues.append(
                FieldIssue(
                    f"consortium.member_unit_ids.{n}",
                    "duplicate",
                    "a member unit is listed once and is not the lead",
                    "成员单位不得重复，也不得为牵头单位",
                )
            )
        elif member not in known:
            issues.append(
                FieldIssue(
                    f"consortium.member_unit_ids.{n}",
                    "unknown",
                    "not a registered unit",
                    "不是已注册的单位",
                )
            )
    if issues:
        raise ValidationFailed(issues)


# -- 滚动支持 / 容错继续支持: a follow-on of an earlier project --------------------------------------


async def check_follow_on(session: AsyncSession, app: Application) -> None:
    """Rolling support rests on an excellent result; continued support on a failure found
    diligent (尽职免责), with a different technical route. Either way the same lead applies."""
    follow = app.follow_on
    if follow is None:
        return
    earlier = await session.get(Project, UUID(str(follow["project_id"])))
    issue: FieldIssue | None = None
    if earlier is None:
        issue = FieldIssue("follow_on.project_id", "unknown", "no such project", "未找到原项目")
    elif earlier.pi_person_id != app.applicant_person_id:
        issue = FieldIssue(
            "follow_on.project_id",
            "not_the_lead",
            "the earlier project's lead applies for its follow-on",
            "滚动支持或继续支持须由原项目负责人申报",
        )
    elif follow["kind"] == "rolling" and not (earlier.state == "closed" and earlier.result == "excellent"):
        issue = FieldIssue(
            "follow_on.kind",
            "not_excellent",
            f"rolling support follows an excellent final result; {earlier.code} is {earlier.result}",
            "滚动支持须以原项目综合绩效评价结论为优秀为依据",
        )
    elif follow["kind"] == "continued" and not (
        earlier.result in {"fail", "terminated"} and earlier.diligent_exempt
    ):
        issue = FieldIssue(
            "follow_on.kind",
            "not_diligent_failure",
            "continued support is for a failed project whose team was found diligent (尽职免责)",
            "容错继续支持仅适用于经认定尽职免责的未通过（终止）项目",
        )
    elif follow["kind"] == "continued" and len((follow.get("route_change") or "").strip()) < 10:
        issue = FieldIssue(
            "follow_on.route_change",
            "required",
            "continued support states the different technical route (at least 10 characters)",
            "容错继续支持须说明所选择的不同技术路线（不少于10字）",
        )
    if issue is not None:
        raise ValidationFailed([issue])


# -- 后补助: verification before money ------------------------------------------------------------


async def verify(uow: UnitOfWork, app: Application, call: Call, data: VerificationIn) -> Application:
    if not rules_for(call.organisation_mode).verification_required:
        raise Conflict(
            "only post-subsidy applications are verified", "仅后补助项目需要成果核验", code="no_verification"
        )
    if app.state != "formally_accepted":
        raise APPLICATION_MACHINE.refuse(
            app.state,
            "results are verified after formal review and before the decision",
            f"申报书当前为「{APPLICATION_MACHINE.state_labels_zh[app.state]}」，成果核验须在形式审查通过后、立项前进行",
            roles=uow.actor.roles,
            code="not_verifiable",
        )
    claimed = sum(int(r["spent_fen"]) for r in app.results)
    if data.eligible_expenditure_fen > claimed:
        raise ValidationFailed(
            [
                FieldIssue(
                    "eligible_expenditure_fen",
                    "above_claimed",
                    f"verified expenditure exceeds the {claimed} fen the unit claimed",
                    "核定投入不能超过申报投入",
                )
            ]
        )
    if data.subsidy_fen > data.eligible_expenditure_fen:
        raise ValidationFailed(
            [
                FieldIssue(
                    "subsidy_fen",
                    "above_expenditure",
                    "the subsidy cannot exceed the verified expenditure",
                    "补助金额不能超过核定投入",
                )
            ]
        )
    now = utcnow()
    app.verification = data.model_dump(mode="json") | {
        "verified_by": uow.actor.id,
        "verified_at": now.isoformat(),
    }
    app.version += 1
    app.updated_at = now
    uow.session.add(
        ApplicationStep(
            id=uuid7(),
            application_id=app.id,
            action="verify",
            from_state=app.state,
            to_state=app.state,
            actor_id=uow.actor.id,
            actor_roles=sorted(uow.actor.roles),
            reason=data.reason,
            comments=data.report_document,
            revision=app.revision,
            at=now,
        )
    )
    await uow.record(
        "application.verified",
        entity_type="application",
        entity_id=app.id,
        changes={"verification": app.verification},
        reason=data.reason,
    )
    return app


# -- the decision ---------------------------------------------------------------------------------


def grant(app: Application, call: Call, asked_fen: int | None) -> int:
    """The amount granted. A 揭榜挂帅 grant is the 榜单's reward — one figure, paid as the
    mode's tranches (start-up share on signing, the rest on delivery); any other amount is refused."""
    rules = rules_for(call.organisation_mode)
    if not rules.challenge_required or rules.parallel_teams:
        return asked_fen if asked_fen is not None else app.requested_funding_fen
    challenge = challenge_of(call, app.challenge_id)
    reward = int((challenge or {}).get("reward_fen") or 0)
    if asked_fen is not None and asked_fen != reward:
        raise ValidationFailed(
            [
                FieldIssue(
                    "funding_fen",
                    "not_the_reward",
                    f"a 揭榜挂帅 grant is the 榜单's reward: {reward} fen, not {asked_fen}",
                    f"揭榜挂帅项目的立项经费即榜单奖励{reward / 100:.2f}元，不能为{asked_fen / 100:.2f}元",
                )
            ]
        )
    return reward


async def approval_basis(
    session: AsyncSession,
    app: Application,
    call: Call,
    action: str,
    body: ApplicationAction,
    funding: int,
    policy_values: Mapping[str, Any],
) -> dict[str, Any]:
    """The rule this approval rests on, checked and written down for the project's record."""
    rules = rules_for(call.organisation_mode)
    basis: dict[str, Any] = {"mode": rules.code, "mode_zh": rules.label_zh}
    if action == "approve_directly" and rules.expert_review:
        raise Conflict(
            f"a {rules.code} call funds only after expert review",
            f"「{rules.label_zh}」须经专家评审后立项",
            code="expert_review_required",
        )
    if rules.challenge_required:
        challenge = challenge_of(call, app.challenge_id)
        assert challenge is not None  # checked at submission
        taken = (
            await session.execute(
                select(func.count())
                .select_from(Project)
                .where(Project.call_id == call.id, Project.challenge_id == app.challenge_id)
            )
        ).scalar_one()
        allowed = int(challenge.get("teams", 1)) if rules.parallel_teams else 1
        if taken >= allowed:
            raise Conflict(
                f"challenge {app.challenge_id} already has {taken} team(s) of {allowed}",
                "该榜单已有团队揭榜立项" if not rules.parallel_teams else "该任务并行支持的团队数已满",
                code="challenge_taken",
                extra={"challenge_id": app.challenge_id, "teams": allowed, "taken": int(taken)},
            )
        basis["challenge"] = {
            "id": challenge["id"],
            "title": challenge["title"],
            "reward_fen": challenge.get("reward_fen", 0),
            "teams": allowed,
        }
    if rules.verification_required:
        verification = app.verification
        if not verification or verification.get("conclusion") != "verified":
            raise Conflict(
                "post-subsidy money follows verified results; verify first",
                "后补助须在成果核验通过后立项拨付",
                code="not_verified",
            )
        if funding > int(verification["subsidy_fen"]):
            raise ValidationFailed(
                [
                    FieldIssue(
                        "funding_fen",
                        "above_verified",
                        "the grant exceeds the verified subsidy",
                        "立项金额超过核定补助金额",
                    )
                ]
            )
        basis["verification"] = verification
    if rules.justification_required:
        missing = [f for f in ("justification", "decision_document") if not (getattr(body, f) or "").strip()]
        if missing:
            raise ValidationFailed(
                [
                    FieldIssue(
                        f,
                        "required",
                        f"一事一议 decisions record their {f.replace('_', ' ')}",
                        "一事一议须记录决策理由和决策文件（如会议纪要）",
                    )
                    for f in missing
                ]
            )
        basis["justification"] = body.justification
        basis["decision_document"] = body.decision_document
    if rules.single_matter:
        funded = (
            await session.execute(select(func.count()).select_from(Project).where(Project.call_id == call.id))
        ).scalar_one()
        if funded:
            raise Conflict(
                "this matter is already decided", "该事项已立项（一事一议仅立一项）", code="matter_decided"
            )
    if not rules.open_call:
        designation = (
            await session.execute(
                select(Designation).where(
                    Designation.call_id == call.id, Designation.pi_person_id == app.applicant_person_id
                )
            )
        ).scalar_one_or_none()
        if designation is not None:
            basis["designation"] = {
                "unit_id": str(designation.unit_id),
                "platform_id": str(designation.platform_id) if designation.platform_id else None,
                "justification": designation.justification,
                "designated_by": designation.designated_by,
            }
    if action == "approve":
        basis |= _review_basis(app, body, int(policy_values["non_consensus_min_supporters"]))
    return basis


def _review_basis(app: Application, body: ApplicationAction, min_supporters: int) -> dict[str, Any]:
    review = app.review or {}
    basis: dict[str, Any] = {
        "rule": "expert_review",
        "rule_zh": "专家评审",
        "score": review.get("score"),
        "recommendation": review.get("recommendation"),
    }
    if body.funding_basis == "non_consensus":
        reviewers = int(review.get("reviewer_count") or 0)
        supporters = body.supporting_experts or 0
        if not review.get("non_consensus"):
            raise Conflict(
                "the expert review did not flag this application as non-consensus",
                "专家评审未认定为非共识项目",
                code="not_non_consensus",
            )
        if supporters < min_supporters or supporters * 2 >= reviewers:
            raise ValidationFailed(
                [
                    FieldIssue(
                        "supporting_experts",
                        "not_a_strong_minority",
                        f"a non-consensus grant rests on at least {min_supporters} strongly "
                        f"supporting experts, fewer than half of the {reviewers}",
                        f"非共识项目须有不少于{min_supporters}名专家强烈支持，且为少数意见",
                    )
                ]
            )
        if not (body.reason and body.reason.strip()):
            raise ValidationFailed(
                [
                    FieldIssue(
                        "reason",
                        "required",
                        "state why the minority view prevails",
                        "请说明采纳少数专家意见的理由",
                    )
                ]
            )
        return basis | {
            "rule": "non_consensus_minority",
            "rule_zh": "非共识项目：少数专家强烈支持",
            "supporting_experts": supporters,
            "reviewer_count": reviewers,
            "min_supporters": min_supporters,
        }
    if review.get("recommendation") == "do_not_fund":
        raise Conflict(
            "the expert review recommends not funding; only a non-consensus grant may overrule it",
            "专家评审建议不予资助；仅可按非共识项目规则立项",
            code="review_not_supportive",
        )
    return basis


def check_term(start: date, end: date, long_cycle: bool, policy_values: Mapping[str, Any]) -> None:
    years = int(policy_values["long_cycle_term_years" if long_cycle else "standard_term_years"])
    latest = date(start.year + years, start.month, start.day)
    if end >= latest:
        raise ValidationFailed(
            [
                FieldIssue(
                    "end_date",
                    "term_too_long",
                    f"a {'long-cycle' if long_cycle else 'standard'} project runs at most {years} years",
                    f"{'长周期' if long_cycle else '一般'}项目执行期不超过{years}年",
                )
            ]
        )
