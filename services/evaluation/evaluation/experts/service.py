"""The expert database (专家库): enrolment, status, declared conflicts, profile edits, re-confirmation.

Every status change is an event (evaluation.expert.*) and an audit row; an expert who stops
being active, or whose new facts break a 回避 rule, has their live assignments voided and
replaced (补抽), so no review of theirs counts afterwards.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import or_, select

from evaluation.codes import EXPERT_STATUSES
from evaluation.coi.check import conflicts
from evaluation.coi.facts import expert_facts, items_facts
from evaluation.coi.rules import merged_rules
from evaluation.experts.events import EXPERT_EVENTS, ExpertChanged
from evaluation.experts.models import Declaration, Expert, PersonView
from evaluation.rounds import duties
from evaluation.rounds import service as rounds
from evaluation.rounds.models import ReviewRound, RoundItem
from shared.clock import utcnow
from shared.errors import Conflict, FieldIssue, InvalidTransition, StateConflict, ValidationFailed
from shared.uow import UnitOfWork

EXPERT_TRANSITIONS = {
    "approve": ({"applied"}, "active", "approved"),
    "reject": ({"applied"}, "rejected", "rejected"),
    "suspend": ({"active"}, "suspended", "suspended"),
    "reinstate": ({"suspended"}, "active", "approved"),
    "retire": ({"active", "suspended"}, "retired", "retired"),
    "reconfirm": ({"active"}, "active", "reconfirmed"),
}
EXPERT_ACTION_LABELS = {
    "approve": "批准入库",
    "reject": "不予入库",
    "suspend": "暂停",
    "reinstate": "恢复",
    "retire": "退出专家库",
    "reconfirm": "确认信息",
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


def expert_actions(expert: Expert) -> list[str]:
    return [a for a, (s, _, _) in EXPERT_TRANSITIONS.items() if expert.status in s]


async def transition(
    uow: UnitOfWork, expert: Expert, action: str, reason: str | None, *, confirm_months: int = CONFIRM_MONTHS
) -> Expert:
    sources, target, event = EXPERT_TRANSITIONS[action]
    if expert.status not in sources:
        raise InvalidTransition(
            current_state=expert.status,
            action=action,
            allowed=expert_actions(expert),
            state_labels_zh=EXPERT_STATUSES,
            action_labels_zh=EXPERT_ACTION_LABELS,
        )
    expert.status = target
    if action in ("approve", "reconfirm", "reinstate"):
        expert.confirmed_until = add_months(date.today(), confirm_months)
        expert.reconfirm_requested_at = None
    expert.version += 1
    await uow.session.flush()
    await _changed(uow, expert, event, reason=reason)
    if target != "active":
        live = await rounds.live_assignments(uow, expert_id=expert.id)
        # voiding a drawn expert acts on those rounds in the expert-database duty
        await duties.claim_all(uow, [a.round_id for a in live], "expert_db", f"expert_{action}")
        zh = f"专家状态变为{EXPERT_STATUSES[target]}"
        await rounds.void_and_replace_all(uow, live, f"expert {target}", zh)
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
    if declared_by == "staff":
        live = await rounds.live_assignments(uow, expert_id=expert.id)
        await duties.claim_all(uow, [a.round_id for a in live], "expert_db", "conflict_declared")
    await recheck_expert(uow, expert.id, "declared conflict", "新申报的利益冲突")
    return decl


async def recheck_expert(uow: UnitOfWork, expert_id: UUID, reason: str, reason_zh: str) -> int:
    """Void and replace every live assignment of the expert that now breaks a rule."""
    broken = []
    for a in await rounds.live_assignments(uow, expert_id=expert_id):
        rnd = await uow.session.get(ReviewRound, a.round_id)
        item = await uow.session.get(RoundItem, a.item_id)
        assert rnd is not None and item is not None
        facts = (await expert_facts(uow, [expert_id], merged_rules(rnd.rules)))[expert_id]
        if conflicts(facts, (await items_facts(uow, [item]))[item.id], merged_rules(rnd.rules)):
            broken.append(a)
    if broken:
        await rounds.void_and_replace_all(uow, broken, reason, reason_zh)
    return len(broken)


# what an expert may change on their own profile; everything else is the expert-database staff's
SELF_EDITABLE = frozenset({"disciplines", "keywords", "directions", "availability", "max_load"})
STAFF_EDITABLE = SELF_EDITABLE | {"region", "title", "unit_credit_code"}


async def edit_profile(
    uow: UnitOfWork, expert: Expert, changes: dict[str, Any], *, allowed: frozenset[str], reason: str | None
) -> Expert:
    """Apply the changes the caller may make; the audit keeps what changed from what."""
    refused = sorted(set(changes) - allowed)
    if refused:
        raise ValidationFailed(
            [
                FieldIssue(
                    f,
                    "staff_only",
                    "only the expert-database staff may change this",
                    "仅专家库管理人员可修改",
                )
                for f in refused
            ]
        )
    diff = {k: {"from": getattr(expert, k), "to": v} for k, v in changes.items() if getattr(expert, k) != v}
    if not diff:
        return expert
    for k, v in changes.items():
        setattr(expert, k, v)
    expert.version += 1
    await uow.session.flush()
    await _changed(uow, expert, "updated", reason=reason)
    await uow.record(
        "expert_profile_edited",
        entity_type="expert",
        entity_id=expert.id,
        changes={k: {"from": _plain(d["from"]), "to": _plain(d["to"])} for k, d in diff.items()},
        reason=reason,
    )
    return expert


def _plain(value: Any) -> Any:
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value if isinstance(value, str | int | float | bool | type(None)) else str(value)


async def reconfirm(uow: UnitOfWork, expert: Expert, *, months: int, by_expert: bool) -> Expert:
    """The expert (or the staff) confirm the details are current: drawable for ``months`` more."""
    if expert.status != "active":
        raise StateConflict(
            "only an active expert re-confirms",
            f"专家当前为「{EXPERT_STATUSES[expert.status]}」，仅在库专家可确认信息",
            current_state=expert.status,
            state_labels_zh=EXPERT_STATUSES,
            allowed=expert_actions(expert),
            action_labels_zh=EXPERT_ACTION_LABELS,
            code="not_active",
        )
    expert.confirmed_until = add_months(date.today(), months)
    expert.reconfirm_requested_at = None
    expert.version += 1
    await uow.session.flush()
    await _changed(uow, expert, "reconfirmed", reason="by the expert" if by_expert else "by the staff")
    return expert


async def reconfirmation_sweep(uow: UnitOfWork, *, notice_days: int) -> dict[str, Any]:
    """Ask every active expert whose confirmation lapses within ``notice_days`` (once per lapse).

    Experts whose confirmation has lapsed stay in the database but are not drawn until they
    re-confirm; the sweep lists them.
    """
    today = date.today()
    horizon = today + timedelta(days=notice_days)
    due = (
        (
            await uow.session.execute(
                select(Expert)
                .where(
                    Expert.status == "active",
                    or_(Expert.confirmed_until.is_(None), Expert.confirmed_until <= horizon),
                    Expert.reconfirm_requested_at.is_(None),
                )
                .order_by(Expert.id)
                .with_for_update(skip_locked=True)
            )
        )
        .scalars()
        .all()
    )
    now = utcnow()
    for expert in due:
        expert.reconfirm_requested_at = now
        await _changed(uow, expert, "reconfirmation_requested", reason=f"lapses on {expert.confirmed_until}")
    lapsed = (
        await uow.session.execute(
            select(Expert.id).where(
                Expert.status == "active",
                or_(Expert.confirmed_until.is_(None), Expert.confirmed_until < today),
            )
        )
    ).scalars()
    result = {"asked": [str(e.id) for e in due], "lapsed": [str(x) for x in lapsed]}
    await uow.record(
        "reconfirmation_sweep",
        entity_type="expert_database",
        entity_id="experts",
        changes={"asked": len(result["asked"]), "lapsed": len(result["lapsed"])},
    )
    return result
