"""Targets against the register on any day (年度监测、中期评估、终期总结).

Counts are rebuilt from the platforms' append-only history, not from their present state: a
platform counts on a day if its last step by then left it under construction, operating or
under rectification, under the kind it had then (a later 晋升/降级 is undone). A platform
registered as already approved counts from its approval date. Clusters count from their
recorded state changes (established, under rectification, restructuring). Never commits.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.ext.asyncio import AsyncSession

from registry.db import kit
from registry.platforms.models import Platform, PlatformHistory
from registry.targets.definitions import DEFINITIONS, LEVELLED_KINDS, TargetDefinition
from registry.targets.events import TARGET_CHANGED, TargetChangedPayload
from registry.targets.models import TargetChange
from shared.clock import utcnow
from shared.errors import FieldIssue, NotFound, ValidationFailed
from shared.ids import uuid7
from shared.uow import UnitOfWork

COUNTED_STATES = ("under_construction", "operating", "under_rectification")
COUNTED_CLUSTER_STATES = ("established", "under_rectification", "restructuring")
KIND_CHANGES = ("promote", "demote", "reclassify")


def _rows(result: Any) -> list[Any]:
    return list(result)


def end_of(day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), time.min, tzinfo=UTC)


@dataclass
class Tally:
    total: int = 0
    by_region: Counter[str] = field(default_factory=Counter)
    by_field: Counter[str] = field(default_factory=Counter)

    def add(self, region: str | None, field_code: str | None) -> None:
        self.total += 1
        if region:
            self.by_region[region] += 1
        if field_code:
            self.by_field[field_code] += 1


def _target_key(kind: str, attributes: dict[str, Any]) -> str | None:
    for d in DEFINITIONS.values():
        if d.kind != kind:
            continue
        if kind not in LEVELLED_KINDS or (attributes.get("level") or "regional") == d.level:
            return d.key
    return None


async def counts_on(session: AsyncSession, on: date) -> dict[str, Tally]:
    until = end_of(on)
    last = (
        select(PlatformHistory.platform_id, PlatformHistory.to_state)
        .where(PlatformHistory.occurred_at < until)
        .ext(distinct_on(PlatformHistory.platform_id))
        .order_by(PlatformHistory.platform_id, PlatformHistory.occurred_at.desc(), PlatformHistory.id.desc())
    )
    first = (
        select(PlatformHistory.platform_id, PlatformHistory.to_state)
        .ext(distinct_on(PlatformHistory.platform_id))
        .order_by(PlatformHistory.platform_id, PlatformHistory.occurred_at, PlatformHistory.id)
    )
    later_kind = (
        select(PlatformHistory.platform_id, PlatformHistory.details)
        .where(PlatformHistory.occurred_at >= until, PlatformHistory.action.in_(KIND_CHANGES))
        .ext(distinct_on(PlatformHistory.platform_id))
        .order_by(PlatformHistory.platform_id, PlatformHistory.occurred_at, PlatformHistory.id)
    )
    state_then: dict[Any, str] = dict(_rows(await session.execute(last)))
    registered_as: dict[Any, str] = dict(_rows(await session.execute(first)))
    kind_then: dict[Any, dict[str, Any]] = dict(_rows(await session.execute(later_kind)))
    rows = _rows(
        await session.execute(
            select(
                Platform.id,
                Platform.kind,
                Platform.kind_attributes,
                Platform.approved_on,
                Platform.region,
                Platform.field,
            )
        )
    )
    tallies: dict[str, Tally] = defaultdict(Tally)
    for pid, kind_now, attributes_now, approved_now, region, field_code in rows:
        before_change = kind_then.get(pid)
        approved_on = approved_now
        if before_change is not None and before_change.get("approved_on"):
            # A change of kind brings a new approval date; the platform dates from the first.
            first_approval = before_change["approved_on"][0]
            approved_on = date.fromisoformat(first_approval) if first_approval else None
        state = state_then.get(pid)
        if state is None and approved_on is not None and approved_on <= on:
            state = registered_as.get(pid)  # registered later as an already approved platform
        if state not in COUNTED_STATES:
            continue
        kind, attributes = kind_now, attributes_now
        if before_change is not None:
            kind, attributes = before_change["kind"][0], before_change["kind_attributes"][0]
        key = _target_key(kind, attributes or {})
        if key is not None:
            tallies[key].add(region, field_code)
    audit = kit.audit_log
    clusters = await session.execute(
        select(audit.c.entity_id, audit.c.changes["state"][1].astext)
        .where(
            audit.c.entity_type == "cluster",
            audit.c.changes.has_key("state"),
            audit.c.occurred_at < until,
        )
        .ext(distinct_on(audit.c.entity_id))
        .order_by(audit.c.entity_id, audit.c.occurred_at.desc(), audit.c.id.desc())
    )
    for _, state in _rows(clusters):
        if state in COUNTED_CLUSTER_STATES:
            tallies["laboratory_cluster"].add(None, None)
    return tallies


async def values_on(session: AsyncSession, on: date) -> dict[str, int | None]:
    values: dict[str, int | None] = {k: d.default for k, d in DEFINITIONS.items()}
    changes = await session.execute(
        select(TargetChange.key, TargetChange.value)
        .where(TargetChange.changed_at < end_of(on))
        .order_by(TargetChange.changed_at, TargetChange.id)
    )
    for key, value in changes:
        if key in values:
            values[key] = value
    return values


def definition(key: str) -> TargetDefinition:
    if key not in DEFINITIONS:
        raise NotFound(f"no target '{key}'", "未找到该目标")
    return DEFINITIONS[key]


async def change(uow: UnitOfWork, key: str, value: int | None, reason: str) -> TargetChange:
    """A new value for one target, kept with the old one, who and why (audited)."""
    d = definition(key)
    if value is not None and value < 0:
        raise ValidationFailed(
            [FieldIssue("value", "negative", "a target is a count ≥ 0", "目标值不能为负数")]
        )
    previous = (await values_on(uow.session, utcnow().date()))[key]
    row = TargetChange(
        id=uuid7(),
        key=key,
        previous=previous,
        value=value,
        reason=reason,
        changed_at=utcnow(),
        changed_by=uow.actor.id,
    )
    uow.session.add(row)
    await uow.session.flush()
    event = await uow.emit(
        TARGET_CHANGED,
        TargetChangedPayload(
            change_id=row.id,
            key=key,
            label_zh=d.label_zh,
            kind=d.kind,
            level=d.level,
            previous=previous,
            value=value,
            reason=reason,
            changed_at=row.changed_at,
            changed_by=row.changed_by,
        ),
        subject=f"target/{key}",
    )
    await uow.record(
        "target.changed",
        entity_type="target",
        entity_id=key,
        changes={key: [previous, value], "label_zh": d.label_zh},
        reason=reason,
        event=event,
    )
    return row


async def history(session: AsyncSession, key: str) -> list[TargetChange]:
    definition(key)
    rows = await session.execute(
        select(TargetChange).where(TargetChange.key == key).order_by(TargetChange.changed_at, TargetChange.id)
    )
    return list(rows.scalars())
