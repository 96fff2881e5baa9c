"""Calls (申报指南): drafting, publishing and the call's life. Never commits."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from projects.applications.events import CALL_PUBLISHED, CallPublished
from projects.applications.machines import CALL_MACHINE
from projects.calls.models import Call
from projects.calls.schemas import CallCreate, CallUpdate
from projects.catalogue import service as catalogue
from projects.catalogue.seed import ORGANISATION_MODES
from projects.modes.rules import rules_for
from projects.numbering import next_code
from shared.auth import Principal
from shared.clock import utcnow
from shared.errors import FieldIssue, NotFound, ValidationFailed
from shared.ids import uuid7
from shared.uow import UnitOfWork

# Once applicants can see a call, only these may still change (with a recorded reason).
CHANGEABLE_WHEN_PUBLISHED = {"title", "guideline", "directions", "opens_at", "closes_at"}


def _check_money_and_window(values: dict[str, Any]) -> None:
    issues = []
    if values["opens_at"] >= values["closes_at"]:
        issues.append(
            FieldIssue(
                "closes_at", "before_opening", "closes_at must be after opens_at", "截止时间必须晚于开始时间"
            )
        )
    if values["min_funding_fen"] > values["max_funding_fen"]:
        issues.append(
            FieldIssue(
                "max_funding_fen",
                "below_minimum",
                "max_funding_fen is below min_funding_fen",
                "单项资助上限低于下限",
            )
        )
    if values["max_funding_fen"] > values["budget_fen"]:
        issues.append(
            FieldIssue(
                "max_funding_fen",
                "above_budget",
                "max_funding_fen exceeds the call budget",
                "单项资助上限超过指南总预算",
            )
        )
    if issues:
        raise ValidationFailed(issues)


def _check_challenges(data: CallCreate) -> None:
    """揭榜挂帅 and 赛马制 calls publish their 榜单 / tasks; other modes have none."""
    rules = rules_for(data.organisation_mode)
    if rules.challenge_required and not data.challenges:
        raise ValidationFailed(
            [
                FieldIssue(
                    "challenges",
                    "required",
                    f"a {data.organisation_mode} call lists its challenges (goals and reward)",
                    "揭榜挂帅、赛马制指南须列明榜单（目标、奖励）",
                )
            ]
        )
    ids = [c.id for c in data.challenges]
    if len(set(ids)) != len(ids):
        raise ValidationFailed(
            [FieldIssue("challenges", "duplicate_id", "challenge ids must be unique", "榜单编号不能重复")]
        )
    if rules.challenge_required and not rules.parallel_teams:
        # 揭榜挂帅: the reward is the grant, so it is stated and fundable within the call.
        bad = [
            FieldIssue(
                f"challenges.{n}.reward_fen",
                "reward_out_of_range",
                f"a 榜单's reward is its grant: more than 0 and at most max_funding_fen "
                f"({data.max_funding_fen} fen)",
                f"榜单奖励即立项经费，须大于0且不超过单项资助上限{data.max_funding_fen / 100:.2f}元",
            )
            for n, c in enumerate(data.challenges)
            if not 0 < c.reward_fen <= data.max_funding_fen
        ]
        if bad:
            raise ValidationFailed(bad)
    if not rules.parallel_teams and any(c.teams > 1 for c in data.challenges):
        raise ValidationFailed(
            [
                FieldIssue(
                    "challenges",
                    "parallel_teams",
                    "only 赛马制 funds several teams on one task",
                    "仅赛马制可在同一任务上并行支持多支团队",
                )
            ]
        )


def budget_form_issues(field: str, budget: list[dict[str, Any]], form: str) -> list[FieldIssue]:
    """包干制: one lump-sum line and no categories; any other call: categories, no lump sum."""
    lump = [b for b in budget if b["category"] == "lump_sum"]
    if form == "lump_sum" and budget and (len(budget) != 1 or not lump):
        return [
            FieldIssue(
                field,
                "lump_sum_only",
                "this call funds a lump sum (包干制): one budget line of category lump_sum",
                "本指南实行经费包干制：预算只填一行包干经费，不分科目",
            )
        ]
    if form != "lump_sum" and lump:
        return [
            FieldIssue(
                field,
                "categories_required",
                "this call's budget is by category; lump_sum is for 包干制 calls",
                "本指南预算须按科目编制（包干经费仅适用于包干制指南）",
            )
        ]
    return []


async def get(session: AsyncSession, call_id: UUID, *, for_update: bool = False) -> Call:
    stmt = select(Call).where(Call.id == call_id)
    if for_update:
        stmt = stmt.with_for_update()
    call = (await session.execute(stmt)).scalar_one_or_none()
    if call is None:
        raise NotFound(f"call {call_id} not found", "未找到该指南")
    return call


async def create(uow: UnitOfWork, data: CallCreate) -> Call:
    programme = await catalogue.get(uow.session, data.programme_code)
    if not programme.active:
        raise ValidationFailed(
            [FieldIssue("programme_code", "inactive", "the programme is not active", "该专项已停用")]
        )
    if data.organisation_mode not in programme.organisation_modes:
        raise ValidationFailed(
            [
                FieldIssue(
                    "organisation_mode",
                    "not_allowed",
                    f"{programme.code} allows {programme.organisation_modes}",
                    "该专项不支持此组织方式，可选："
                    + "、".join(ORGANISATION_MODES.get(m, m) for m in programme.organisation_modes),
                )
            ]
        )
    if data.budget_form == "lump_sum" and programme.plan_category != "basic_research":
        raise ValidationFailed(
            [
                FieldIssue(
                    "budget_form",
                    "not_allowed",
                    "包干制 (lump-sum budgets) is for basic research calls",
                    "经费包干制仅适用于基础研究计划（自然科学基金等）",
                )
            ]
        )
    values = data.model_dump()
    values["challenges"] = [c.model_dump(mode="json") for c in data.challenges]
    _check_money_and_window(values)
    _check_challenges(data)
    code = await next_code(uow.session, Call.code, f"ZN{data.year}", 4)
    call = Call(
        id=uuid7(),
        code=code,
        plan_category=programme.plan_category,
        state="draft",
        version=1,
        created_by=uow.actor.id,
        **values,
    )
    uow.session.add(call)
    await uow.session.flush()
    await uow.record(
        "call.created", entity_type="call", entity_id=call.id, changes={k: str(v) for k, v in values.items()}
    )
    return call


async def update(uow: UnitOfWork, call: Call, patch: CallUpdate) -> Call:
    requested = patch.model_dump(exclude_unset=True, exclude={"reason"})
    requested = {k: v for k, v in requested.items() if v is not None}
    if call.state in {"closed", "reviewing", "results_published", "archived"} and requested:
        raise CALL_MACHINE.refuse(
            call.state,
            "a closed call no longer changes",
            f"指南当前为「{CALL_MACHINE.state_labels_zh[call.state]}」，已截止，不能再修改",
            roles=uow.actor.roles,
            code="call_closed",
        )
    if call.state == "published":
        frozen = sorted(set(requested) - CHANGEABLE_WHEN_PUBLISHED)
        if frozen:
            raise ValidationFailed(
                [
                    FieldIssue(
                        f,
                        "frozen_when_published",
                        f"{f} cannot change once published",
                        "指南发布后该项不能修改",
                    )
                    for f in frozen
                ]
            )
        if not patch.reason:
            raise ValidationFailed(
                [
                    FieldIssue(
                        "reason", "required", "say why a published call changes", "修改已发布的指南须说明理由"
                    )
                ]
            )
    merged = {
        k: getattr(call, k)
        for k in ("opens_at", "closes_at", "min_funding_fen", "max_funding_fen", "budget_fen")
    } | requested
    _check_money_and_window(merged)
    changes = {}
    for k, v in requested.items():
        if getattr(call, k) != v:
            changes[k] = [str(getattr(call, k)), str(v)]
            setattr(call, k, v)
    if changes:
        call.version += 1
        await uow.record(
            "call.updated", entity_type="call", entity_id=call.id, changes=changes, reason=patch.reason
        )
    return call


async def act(uow: UnitOfWork, principal: Principal, call: Call, action: str, reason: str | None) -> Call:
    transition = CALL_MACHINE.apply(call.state, action, principal.roles)
    before = call.state
    call.state = transition.target
    call.version += 1
    event = None
    if action == "publish":
        event = await uow.emit(
            CALL_PUBLISHED,
            CallPublished(
                id=call.id,
                programme_code=call.programme_code,
                plan_category=call.plan_category,
                year=call.year,
                title=call.title,
                organisation_mode=call.organisation_mode,
                opens_at=call.opens_at,
                closes_at=call.closes_at,
                budget_fen=call.budget_fen,
                version=call.version,
            ),
            subject=f"call/{call.id}",
        )
    await uow.record(
        f"call.{action}",
        entity_type="call",
        entity_id=call.id,
        changes={"state": [before, call.state]},
        reason=reason,
        event=event,
    )
    return call


def open_now(call: Call) -> bool:
    now = utcnow()
    return call.state == "published" and call.opens_at <= now < call.closes_at
