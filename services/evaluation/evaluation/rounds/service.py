"""Rounds and their requests: items arriving, experts requested, assignments voided and replaced
(补抽), experts' answers, opening the review (no web, no commits)."""

from __future__ import annotations

import secrets
from datetime import date
from typing import Any
from uuid import UUID

from sqlalchemy import func, select

from evaluation.assignment.service import draw_replacements
from evaluation.codes import ASSIGNMENT_STATUSES, ROUND_STATUSES
from evaluation.coi.check import conflicts
from evaluation.coi.facts import expert_facts, items_facts
from evaluation.coi.rules import CORE_RULES, merged_rules
from evaluation.experts.models import Expert
from evaluation.rounds import duties, machine
from evaluation.rounds.models import ACTIVE, Assignment, AvoidanceRequest, CallView, ReviewRound, RoundItem
from shared.errors import FieldIssue, InvalidTransition, ValidationFailed
from shared.uow import UnitOfWork


async def round_for_call(uow: UnitOfWork, call_id: UUID) -> ReviewRound:
    rnd = (
        await uow.session.execute(select(ReviewRound).where(ReviewRound.call_id == call_id))
    ).scalar_one_or_none()
    if rnd is None:
        call = await uow.session.get(CallView, call_id)
        rnd = ReviewRound(
            call_id=call_id,
            kind="application_review",
            name=f"{call.title} 评审" if call else f"评审轮次 {call_id}",
            status="collecting",
            rules={},
            version=1,
        )
        uow.session.add(rnd)
        await uow.session.flush()
        await uow.record(
            "round_opened", entity_type="review_round", entity_id=rnd.id, changes={"call_id": str(call_id)}
        )
    return rnd


async def request_experts(
    uow: UnitOfWork,
    rnd: ReviewRound,
    *,
    k: int,
    max_load: int,
    reserve: int,
    rules: dict[str, dict[str, Any]],
    requested_by: str,
    review_starts: date | None = None,
    candidates_per_item: int | None = None,
) -> ReviewRound:
    machine.require(rnd, "request")
    await duties.claim(uow, rnd.id, "request", "request")
    for code in CORE_RULES:
        if rules.get(code, {}).get("enabled") is False:
            raise ValidationFailed(
                [
                    FieldIssue(
                        f"rules.{code}",
                        "not_optional",
                        "this 回避 rule cannot be switched off",
                        "该回避规则不可关闭",
                    )
                ]
            )
    rnd.k, rnd.max_load, rnd.reserve = k, max_load, reserve
    if review_starts is not None:
        rnd.review_starts = review_starts
    if candidates_per_item is not None:
        rnd.candidates_per_item = candidates_per_item
    rnd.rules = merged_rules(rules)
    rnd.status, rnd.requested_by = "requested", requested_by
    rnd.version += 1
    await uow.record(
        "experts_requested",
        entity_type="review_round",
        entity_id=rnd.id,
        changes={
            "k": k,
            "max_load": max_load,
            "reserve": reserve,
            "rules": rnd.rules,
            "review_starts": str(review_starts) if review_starts else None,
            "candidates_per_item": rnd.candidates_per_item,
        },
    )
    return rnd


async def live_assignments(uow: UnitOfWork, *, expert_id: UUID) -> list[Assignment]:
    q = select(Assignment).where(Assignment.expert_id == expert_id, Assignment.status.in_(ACTIVE))
    return list((await uow.session.execute(q.with_for_update())).scalars())


async def void_and_replace(uow: UnitOfWork, a: Assignment, reason: str, reason_zh: str) -> Assignment | None:
    """Void an assignment and record a replacement (补抽) from the reserve, else from qualified experts."""
    return (await void_and_replace_all(uow, [a], reason, reason_zh))[0]


async def void_and_replace_all(
    uow: UnitOfWork, assignments: list[Assignment], reason: str, reason_zh: str
) -> list[Assignment | None]:
    """Void assignments, then replace them all (补抽): reserves first, then one draw per round."""
    for a in assignments:
        a.status = "voided"
        a.reason = f"{reason} / {reason_zh}"
    await uow.session.flush()
    for a in assignments:
        await uow.record("assignment_voided", entity_type="assignment", entity_id=a.id, reason=a.reason)
    return await replace_all(uow, assignments, reason)


async def replace(uow: UnitOfWork, old: Assignment, reason: str) -> Assignment | None:
    return (await replace_all(uow, [old], reason))[0]


async def replace_all(uow: UnitOfWork, olds: list[Assignment], reason: str) -> list[Assignment | None]:
    """A replacement for each voided or declined assignment, or ``None`` where no one is left.

    Each item's reserves are tried in their order; the items still short are drawn together,
    one set-based draw per round (``draw_replacements``), so a suspended expert's fifteen
    assignments cost one read of the round, not fifteen.
    """
    out: dict[UUID, Assignment | None] = {}
    pending: dict[UUID, list[Assignment]] = {}
    for old in olds:
        taken = await _from_reserve(uow, old, reason)
        if taken is None:
            pending.setdefault(old.round_id, []).append(old)
        out[old.id] = taken
    s = uow.session
    for round_id, group in pending.items():
        rnd = await s.get(ReviewRound, round_id)
        assert rnd is not None
        rules = merged_rules(rnd.rules)
        seed = secrets.randbelow(2**31)
        drawn = await draw_replacements(uow, rnd, list(dict.fromkeys(o.item_id for o in group)), seed)
        for old in group:
            left = drawn.get(old.item_id) or []
            if not left:
                await uow.record(
                    "replacement_unavailable", entity_type="assignment", entity_id=old.id, reason=reason
                )
                continue
            pick = left.pop(0)
            new = Assignment(
                round_id=round_id,
                item_id=old.item_id,
                expert_id=pick.expert_id,
                status="assigned",
                affinity=round(pick.discipline + pick.keywords, 3),
                discipline_score=pick.discipline,
                keyword_score=pick.keywords,
                candidate_rank=pick.candidate_rank,
                rules_checked=sorted(rules),
                replaces_id=old.id,
                reason=f"补抽（seed={seed}）: {reason}",
            )
            s.add(new)
            await s.flush()
            await uow.record(
                "assignment_replaced",
                entity_type="assignment",
                entity_id=new.id,
                changes={"replaces": str(old.id), "from": "draw", "seed": seed},
                reason=reason,
            )
            out[old.id] = new
    return [out[old.id] for old in olds]


async def _from_reserve(uow: UnitOfWork, old: Assignment, reason: str) -> Assignment | None:
    """The first of the item's reserves (in their order) who may still review it, now assigned."""
    s = uow.session
    reserves = (
        (
            await s.execute(
                select(Assignment)
                .where(Assignment.item_id == old.item_id, Assignment.status == "reserve")
                .order_by(Assignment.reserve_rank)
            )
        )
        .scalars()
        .all()
    )
    if not reserves:
        return None
    rnd = await s.get(ReviewRound, old.round_id)
    item = await s.get(RoundItem, old.item_id)
    assert rnd is not None and item is not None
    rules = merged_rules(rnd.rules)
    loads = dict(
        (
            await s.execute(
                select(Assignment.expert_id, func.count())
                .where(Assignment.round_id == rnd.id, Assignment.status.in_(ACTIVE))
                .group_by(Assignment.expert_id)
            )
        ).all()
    )
    f_item = (await items_facts(uow, [item]))[item.id]
    for r in reserves:
        e = await s.get(Expert, r.expert_id)
        if e is None or e.status != "active" or loads.get(r.expert_id, 0) >= min(e.max_load, rnd.max_load):
            continue
        if conflicts((await expert_facts(uow, [r.expert_id], rules))[r.expert_id], f_item, rules):
            continue
        r.status, r.replaces_id, r.reason = "assigned", old.id, f"补抽（候补）: {reason}"
        await s.flush()
        await uow.record(
            "assignment_replaced",
            entity_type="assignment",
            entity_id=r.id,
            changes={"replaces": str(old.id), "from": "reserve"},
            reason=reason,
        )
        return r
    return None


# what the expert may still do with an assignment in each state
ASSIGNMENT_ACTIONS = {"assigned": ["accept", "decline"], "accepted": ["score", "recuse"]}
ASSIGNMENT_ACTION_LABELS = {
    "accept": "接受评审邀请",
    "decline": "拒绝评审邀请",
    "score": "评分",
    "recuse": "申请回避",
}


async def respond(uow: UnitOfWork, a: Assignment, *, accept: bool, reason: str | None) -> Assignment:
    if a.status != "assigned":
        raise InvalidTransition(
            current_state=a.status,
            action="accept" if accept else "decline",
            allowed=ASSIGNMENT_ACTIONS.get(a.status, []),
            state_labels_zh=ASSIGNMENT_STATUSES,
            action_labels_zh=ASSIGNMENT_ACTION_LABELS,
        )
    if accept:
        a.status = "accepted"
        await uow.record("assignment_accepted", entity_type="assignment", entity_id=a.id)
        return a
    if not reason:
        raise ValidationFailed(
            [FieldIssue("reason", "required", "give a reason to decline", "请填写拒绝理由")]
        )
    a.status = "declined"
    a.reason = reason
    expert = await uow.session.get(Expert, a.expert_id)
    assert expert is not None
    expert.credit_score = max(0, expert.credit_score - 2)  # 评审信用: refused assignments cost a little
    await uow.session.flush()
    await uow.record("assignment_declined", entity_type="assignment", entity_id=a.id, reason=reason)
    await replace(uow, a, f"declined: {reason}")
    return a


async def open_round(uow: UnitOfWork, rnd: ReviewRound) -> ReviewRound:
    machine.require(rnd, "open")
    await duties.claim(uow, rnd.id, "draw", "open")
    rnd.status = "open"
    rnd.version += 1
    await uow.record("round_opened_for_review", entity_type="review_round", entity_id=rnd.id)
    return rnd


async def request_avoidance(
    uow: UnitOfWork,
    item: RoundItem,
    *,
    requests: list[dict[str, Any]],
    requested_by: str,
) -> list[AvoidanceRequest]:
    """申请回避: the applicant names persons or units, with reasons, before experts are drawn."""
    s = uow.session
    # the round row lock orders this against a run committing (the 回避 trigger share-locks it)
    rnd = (
        await s.execute(select(ReviewRound).where(ReviewRound.id == item.round_id).with_for_update())
    ).scalar_one()
    if rnd.status not in ("collecting", "requested"):
        raise machine.refuse(
            rnd,
            "experts are already drawn for this review; avoidance requests are closed",
            f"评审轮次当前为「{ROUND_STATUSES[rnd.status]}」，专家已抽取，申请回避已截止",
            code="avoidance_closed",
        )
    await s.refresh(item)
    limit = int(merged_rules(rnd.rules)["applicant_avoid"].get("max_names", 3))
    persons = [UUID(str(r["person_id"])) for r in requests if r.get("person_id")]
    units = [UUID(str(r["unit_id"])) for r in requests if r.get("unit_id")]
    issues = [
        FieldIssue(f"requests[{n}]", "required", "name a person or a unit", "请填写人员或单位")
        for n, r in enumerate(requests)
        if bool(r.get("person_id")) == bool(r.get("unit_id"))
    ]
    total = len(set(item.avoid_person_ids) | set(persons)) + len(set(item.avoid_unit_ids) | set(units))
    if total > limit:
        issues.append(
            FieldIssue(
                "requests",
                "too_many",
                f"at most {limit} persons or units may be named in all",
                f"申请回避的专家和单位合计不得超过{limit}个",
            )
        )
    if issues:
        raise ValidationFailed(issues)
    rows = [
        AvoidanceRequest(
            item_id=item.id,
            person_id=r.get("person_id"),
            unit_id=r.get("unit_id"),
            reason=r["reason"],
            requested_by=requested_by,
        )
        for r in requests
    ]
    s.add_all(rows)
    item.avoid_person_ids = list(dict.fromkeys([*item.avoid_person_ids, *persons]))
    item.avoid_unit_ids = list(dict.fromkeys([*item.avoid_unit_ids, *units]))
    await s.flush()
    await uow.record(
        "avoidance_requested",
        entity_type="round_item",
        entity_id=item.id,
        changes={"persons": [str(p) for p in persons], "units": [str(u) for u in units]},
        reason="; ".join(r["reason"] for r in requests),
    )
    return rows
