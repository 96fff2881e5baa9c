"""registry.instrument.* and registry.topic.*: shared instruments and open topics (seed 001).

Each event carries the full new state (consumers upsert by id and version) and, on updates,
the names of the fields that changed.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from shared.events.envelope import EventPayload, EventType


class InstrumentSnapshot(EventPayload):
    id: UUID
    platform_id: UUID | None
    owner_unit_id: UUID
    name: str
    category: str
    model: str | None
    value_fen: int
    location: str | None
    open_for_sharing: bool
    booking_contact: str | None
    annual_service_hours: int
    status: str  # in_service, retired
    retired_on: date | None
    purchase_review_state: str | None = None  # pending, approved, not_approved (查重评议)
    version: int


class InstrumentChanged(InstrumentSnapshot):
    changed_fields: list[str]
    reason: str | None


class TopicSnapshot(EventPayload):
    id: UUID
    platform_id: UUID
    year: int
    title: str
    principal_name: str | None
    principal_unit: str | None
    funding_fen: int
    status: str  # open, closed
    version: int


class TopicChanged(TopicSnapshot):
    changed_fields: list[str]
    reason: str | None


INSTRUMENT_REGISTERED = EventType(
    "registry.instrument.registered",
    InstrumentSnapshot,
    description="A large instrument was entered in the sharing register.",
)
INSTRUMENT_UPDATED = EventType(
    "registry.instrument.updated",
    InstrumentChanged,
    description="An instrument's sharing details changed, its purchase review was decided (查重评议), "
    "or it moved to another platform (整合).",
)
INSTRUMENT_RETIRED = EventType(
    "registry.instrument.retired",
    InstrumentChanged,
    description="An instrument was retired (报废/调出): closed for sharing, its record kept.",
)
TOPIC_OPENED = EventType(
    "registry.topic.opened", TopicSnapshot, description="A platform opened a research topic (开放课题)."
)
TOPIC_UPDATED = EventType(
    "registry.topic.updated",
    TopicChanged,
    description="An open topic's details changed, or it moved to the surviving platform (整合).",
)
TOPIC_CLOSED = EventType("registry.topic.closed", TopicChanged, description="An open topic was closed.")

EVENT_TYPES: list[EventType[Any]] = [
    INSTRUMENT_REGISTERED,
    INSTRUMENT_UPDATED,
    INSTRUMENT_RETIRED,
    TOPIC_OPENED,
    TOPIC_UPDATED,
    TOPIC_CLOSED,
]
