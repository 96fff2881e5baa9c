"""Events about people. Other services match identities by ``id_number_digest`` only."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from shared.events.envelope import EventPayload, EventType


class PersonSnapshot(EventPayload):
    id: UUID
    name: str
    gender: str
    birth_date: date
    id_number_digest: str
    unit_id: UUID | None
    title: str | None
    discipline: str | None
    department: str | None = None  # 院系/部门 within the unit
    department_id: UUID | None = None  # the same for everyone in one department of one unit
    full_time: bool
    version: int


class PersonUpdatedPayload(PersonSnapshot):
    changed_fields: list[str]


PERSON_REGISTERED = EventType(
    "registry.person.registered", PersonSnapshot, description="A person was entered in the register."
)
PERSON_UPDATED = EventType(
    "registry.person.updated",
    PersonUpdatedPayload,
    description="A person's details changed (full new state).",
)

EVENT_TYPES: list[EventType[Any]] = [PERSON_REGISTERED, PERSON_UPDATED]
