"""Experts, 回避 and assignment: the domain operations (no web, no commits)."""

from __future__ import annotations

import secrets
from datetime import date
from typing import Any
from uuid import UUID

import numpy as np
from sqlalchemy import func, select

from evaluation import disciplines
from evaluation.assignment.candidates import pair_affinity
from evaluation.coi.check import conflicts
from evaluation.coi.facts import expert_facts, items_facts
from evaluation.coi.rules import CORE_RULES, merged_rules
from evaluation.experts.events import EXPERT_EVENTS, ExpertChanged
from evaluation.experts.models import (
    Declaration,
    Expert,
    PersonView,
)
from evaluation.rounds.models import ACTIVE, Assignment, CallView, ReviewRound, RoundItem
from shared.errors import Conflict, FieldIssue, InvalidTransition, ValidationFailed
from shared.excel import Column, SheetFormatError, read_xlsx
from shared.uow import UnitOfWork

EXPERT_STATUS_ZH = {
    "applied": "待审核",
    "active": "在库",
    "rejected": "未通过",
    "suspended": "暂停",
    "retired": "退出",
}
EXPERT_TRANSITIONS = {
    "approve": ({"applied"}, "active", "approved"),
    "reject": ({"applied"}, "rejected", "rejected"),
    "suspend": ({"active"}, "suspended", "suspended"),
    "reinstate": ({"suspended"}, "active", "approved"),
    "retire": ({"active", "suspended"}, "retired", "retired"),
    "reconfirm": ({"active"}, "active", "reconfirmed"),
}
ROUND_STATUS_ZH = {
    "collecting": "收集项目",
    "requested": "已申请专家",
    "drawn": "已抽取（密封）",
    "open": "评审中",
    "finalized": "已定稿",
}
CONFIRM_MONTHS = 24  # an approval or a re-confirmation holds this long (the service's setting)


def add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for d in (day.day, 30, 29, 28):
        try:
            return day.replace(year=year, month=month, day=d)
        except ValueError:
            continue
    raise AssertionError("unreachable")


# ---------------------------------------------------------------- experts


async def enrol(uow: UnitOfWork, *, person_id: UUID, origin: str, data: dict[str, Any]) -> Expert:
    """Self-application or nomination: only a verified registry person can become an expert."""
    person = await uow.session.get(PersonView, person_id)
    if person is None:
        raise ValidationFailed(
            [
                FieldIssue(
                    "person_id", "unverified", "not a verified registry person", "不是已核验身份的登记人员"
                )
            ]
        )
    if (await uow.session.execute(select(Expert.id).where(Expert.person_id == person_id))).first():
        raise Conflict("this person is already in the expert database", "该人员已在专家库中")
    expert = Expert(
        person_id=person_id,
        name=person.name,
        unit_id=person.unit_id,
        origin=origin,
        status="applied",
        version=1,
        **data,
    )
    uow.session.add(expert)
    await uow.session.flush()
    await _changed(uow, expert, "applied", reason=f"origin={origin}")
    return expert


async def transition(
    uow: UnitOfWork, expert: Expert, action: str, reason: str | None, *, confirm_months: int = CONFIRM_MONTHS
) -> Expert:
    sources, target, event = EXPERT_TRANSITIONS[action]
    if expert.status not in sources:
        allowed = [a for a, (s, _, _) in EXPERT_TRANSITIONS.items() if expert.status in s]
        raise InvalidTransition(current_state=expert.status, action=action, allowed=allowed)
    expert.status = target
    if action in ("approve", "reconfirm", "reinstate"):
        expert.confirmed_until = add_months(date.today(), confirm_months)
        expert.reconfirm_requested_at = None
    expert.version += 1
    await uow.session.flush()
    await _changed(uow, expert, event, reason=reason)
    if target != "active":
        for a in await _live_assignments(uow, expert_id=expert.id):
            await void_and_replace(uow, a, f"expert {target}", f"专家状态变为{EXPERT_STATUS_ZH[target]}")
    return expert


async def _changed(uow: UnitOfWork, expert: Expert, action: str, reason: str | None = None) -> None:
    payload = ExpertChanged(
        id=expert.id,
        person_id=expert.person_id,
        unit_id=expert.unit_id,
        status=expert.status,
        version=expert.version,
    )
    envelope = await uow.emit(EXPERT_EVENTS[action], payload, subject=f"expert/{expert.id}")
    await uow.record(
        action,
        entity_type="expert",
        entity_id=expert.id,
        changes={"status": expert.status},
        reason=reason,
        event=envelope,
    )


async def declare(
    uow: UnitOfWork,
    expert: Expert,
    *,
    person_id: UUID | None,
    unit_id: UUID | None,
    declared_by: str,
    reason: str,
) -> Declaration:
    """A declared conflict; assignments it touches are voided and replaced at once."""
    if person_id is None and unit_id is None:
        raise ValidationFailed(
            [FieldIssue("person_id", "required", "name a person or a unit", "请填写人员或单位")]
        )
    # the expert row lock orders this against any assignment being written for the expert
    await uow.session.execute(select(Expert.id).where(Expert.id == expert.id).with_for_update())
    decl = Declaration(
        expert_id=expert.id, person_id=person_id, unit_id=unit_id, declared_by=declared_by, reason=reason
    )
    uow.session.add(decl)
    await uow.session.flush()
    await uow.record(
        "conflict_declared",
        entity_type="expert",
        entity_id=expert.id,
        changes={
            "person_id": str(person_id) if person_id else None,
            "unit_id": str(unit_id) if unit_id else None,
            "declared_by": declared_by,
        },
        reason=reason,
    )
    await recheck_expert(uow, expert.id, "declared conflict", "新申报的利益冲突")
    return decl


async def recheck_expert(uow: UnitOfWork, expert_id: UUID, reason: str, reason_zh: str) -> int:
    """Void and replace every live assignment of the expert that now breaks a rule."""
    voided = 0
    for a in await _live_assignments(uow, expert_id=expert_id):
        rnd = await uow.session.get(ReviewRound, a.round_id)
        item = await uow.session.get(RoundItem, a.item_id)
        assert rnd is not None and item is not None
        facts = (await expert_facts(uow, [expert_id], merged_rules(rnd.rules)))[expert_id]
        if conflicts(facts, (await items_facts(uow, [item]))[item.id], merged_rules(rnd.rules)):
            await void_and_replace(uow, a, reason, reason_zh)
            voided += 1
    return voided


IMPORT_COLUMNS = [
    Column("id_number_digest", "身份证号摘要"),
    Column("region", "地区"),
    Column("title", "职称"),
    Column("disciplines", "学科代码"),
    Column("keywords", "关键词"),
    Column("max_load", "每轮最多评审数"),
]
IMPORT_REQUIRED = ("id_number_digest", "region", "title", "disciplines")


def _split(value: Any) -> list[str]:
    return [p.strip() for p in str(value or "").replace("，", ",").split(",") if p.strip()]


async def import_experts(uow: UnitOfWork, content: bytes) -> list[Expert]:
    """Nominate experts from a workbook, all or nothing; people matched by verified identifier only."""
    try:
        rows = read_xlsx(content, IMPORT_COLUMNS, required=IMPORT_REQUIRED, max_rows=5000)
    except SheetFormatError as exc:
        raise ValidationFailed([FieldIssue("file", "bad_sheet", str(exc), "Excel文件格式不正确")]) from exc
    issues: list[FieldIssue] = []
    planned: list[tuple[UUID, dict[str, Any]]] = []
    for row in rows:
        v = row.values
        digest = str(v.get("id_number_digest") or "").strip().lower()
        person = (
            await uow.session.execute(select(PersonView).where(PersonView.id_number_digest == digest))
        ).scalar()
        if person is None:
            issues.append(
                FieldIssue(
                    f"rows[{row.number}].id_number_digest",
                    "unverified",
                    "no verified registry person with this identifier",
                    "未找到已核验身份的人员",
                )
            )
            continue
        try:
            max_load = int(v.get("max_load") or 20)
        except ValueError:
            max_load = -1
        if not 1 <= max_load <= 200:
            issues.append(
                FieldIssue(f"rows[{row.number}].max_load", "range", "between 1 and 200", "应在1到200之间")
            )
            continue
        codes = [c.upper() for c in _split(v["disciplines"])[:10]]
        unknown = [c for c in codes if not disciplines.known(c)]
        if unknown:
            issues.append(
                FieldIssue(
                    f"rows[{row.number}].disciplines",
                    "unknown_discipline",
                    f"unknown discipline codes {unknown} (NSFC application codes)",
                    f"未知的学科代码：{'、'.join(unknown)}",
                )
            )
            continue
        data = {
            "region": str(v["region"]).strip()[:6],
            "title": str(v["title"]).strip()[:50],
            "disciplines": codes,
            "keywords": _split(v.get("keywords"))[:20],
            "max_load": max_load,
        }
        planned.append((person.id, data))
    if issues:
        raise ValidationFailed(issues)
    return [await enrol(uow, person_id=pid, origin="nominated", data=data) for pid, data in planned]


# ---------------------------------------------------------------- rounds and runs


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
    if rnd.status not in ("collecting", "requested"):
        raise InvalidTransition(current_state=rnd.status, action="request", allowed=[])
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


async def _live_assignments(uow: UnitOfWork, *, expert_id: UUID) -> list[Assignment]:
    q = select(Assignment).where(Assignment.expert_id == expert_id, Assignment.status.in_(ACTIVE))
    return list((await uow.session.execute(q.with_for_update())).scalars())


async def void_and_replace(uow: UnitOfWork, a: Assignment, reason: str, reason_zh: str) -> Assignment | None:
    """Void an assignment and record a replacement (补抽) from the reserve, else from qualified experts."""
    a.status = "voided"
    a.reason = f"{reason} / {reason_zh}"
    await uow.session.flush()
    await uow.record("assignment_voided", entity_type="assignment", entity_id=a.id, reason=a.reason)
    return await replace(uow, a, reason)


async def replace(uow: UnitOfWork, old: Assignment, reason: str) -> Assignment | None:
    s = uow.session
    rnd = await s.get(ReviewRound, old.round_id)
    item = await s.get(RoundItem, old.item_id)
    assert rnd is not None and item is not None
    rules = merged_rules(rnd.rules)
    used = set((await s.execute(select(Assignment.expert_id).where(Assignment.item_id == item.id))).scalars())
    reserves = (
        (
            await s.execute(
                select(Assignment)
                .where(Assignment.item_id == item.id, Assignment.status == "reserve")
                .order_by(Assignment.reserve_rank)
            )
        )
        .scalars()
        .all()
    )
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

    async def ok(expert_id: UUID) -> bool:
        e = await s.get(Expert, expert_id)
        if e is None or e.status != "active" or loads.get(expert_id, 0) >= min(e.max_load, rnd.max_load):
            return False
        return not conflicts((await expert_facts(uow, [expert_id], rules))[expert_id], f_item, rules)

    for r in reserves:
        if await ok(r.expert_id):
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
    seed = secrets.randbelow(2**31)
    pool = (
        (
            await s.execute(
                select(Expert)
                .where(Expert.status == "active", Expert.id.not_in(used or {old.expert_id}))
                .order_by(Expert.id)
            )
        )
        .scalars()
        .all()
    )
    rng = np.random.default_rng(seed)
    for n in rng.permutation(len(pool)).tolist():
        e = pool[n]
        d, kw = pair_affinity(item.discipline_codes, item.keywords, e.disciplines, e.keywords)
        if d > 0 and await ok(e.id):
            new = Assignment(
                round_id=rnd.id,
                item_id=item.id,
                expert_id=e.id,
                status="assigned",
                affinity=d + kw,
                discipline_score=d,
                keyword_score=kw,
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
            return new
    await uow.record("replacement_unavailable", entity_type="assignment", entity_id=old.id, reason=reason)
    return None


async def respond(uow: UnitOfWork, a: Assignment, *, accept: bool, reason: str | None) -> Assignment:
    if a.status != "assigned":
        raise InvalidTransition(current_state=a.status, action="accept" if accept else "decline", allowed=[])
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
    if rnd.status != "drawn":
        raise InvalidTransition(current_state=rnd.status, action="open", allowed=[])
    rnd.status = "open"
    rnd.version += 1
    await uow.record("round_opened_for_review", entity_type="review_round", entity_id=rnd.id)
    return rnd
