"""The expert's own side: profile edits, re-confirmation and its periodic sweep; applicants' 申请回避."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import or_, select

from evaluation.coi.rules import merged_rules
from evaluation.experts.models import Expert
from evaluation.rounds import service as rounds
from evaluation.rounds.models import AvoidanceRequest, ReviewRound, RoundItem
from evaluation.rounds.service import add_months
from shared.clock import utcnow
from shared.errors import Conflict, FieldIssue, ValidationFailed
from shared.uow import UnitOfWork

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
    await rounds._changed(uow, expert, "updated", reason=reason)
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
        raise Conflict("only an active expert re-confirms", "仅在库专家可确认信息", code="not_active")
    expert.confirmed_until = add_months(date.today(), months)
    expert.reconfirm_requested_at = None
    expert.version += 1
    await uow.session.flush()
    await rounds._changed(uow, expert, "reconfirmed", reason="by the expert" if by_expert else "by the staff")
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
        await rounds._changed(
            uow, expert, "reconfirmation_requested", reason=f"lapses on {expert.confirmed_until}"
        )
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
        raise Conflict(
            "experts are already drawn for this review; avoidance requests are closed",
            "专家已抽取，申请回避已截止",
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
