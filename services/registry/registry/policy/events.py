"""registry.policy.changed: a policy value behind the advisor's or the integrity rules changed."""

from __future__ import annotations

from typing import Any

from shared.events.envelope import EventPayload, EventType


class PolicyChangedPayload(EventPayload):
    key: str
    value: int | float | bool
    previous: int | float | bool
    default: int | float | bool
    reason: str | None
    version: int


POLICY_CHANGED = EventType(
    "registry.policy.changed",
    PolicyChangedPayload,
    description="Department staff changed a policy value (threshold of a rule); carries old and new value.",
)

EVENT_TYPES: list[EventType[Any]] = [POLICY_CHANGED]
