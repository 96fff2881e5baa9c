"""registry.target.changed: a development target (发展目标, seed 004) got a new value."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from shared.events.envelope import EventPayload, EventType


class TargetChangedPayload(EventPayload):
    change_id: UUID
    key: str
    label_zh: str
    kind: str | None
    level: str | None
    previous: int | None
    value: int | None
    reason: str
    changed_at: datetime
    changed_by: str


TARGET_CHANGED = EventType(
    "registry.target.changed",
    TargetChangedPayload,
    description="Department staff changed a development target; carries the value before and after.",
)

EVENT_TYPES: list[EventType[Any]] = [TARGET_CHANGED]
