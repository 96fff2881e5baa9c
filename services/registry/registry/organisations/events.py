"""Events about organisations. Other services keep their own copy fed by these."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from shared.events.envelope import EventPayload, EventType


class OrganisationSnapshot(EventPayload):
    """The organisation as it is after the change (consumers upsert by id and version)."""

    id: UUID
    name: str
    credit_code: str
    type: str
    region: str
    address: str
    version: int


class OrganisationUpdatedPayload(OrganisationSnapshot):
    changed_fields: list[str]


ORGANISATION_REGISTERED = EventType(
    "registry.organisation.registered",
    OrganisationSnapshot,
    description="A unit was entered in the register.",
)
ORGANISATION_UPDATED = EventType(
    "registry.organisation.updated",
    OrganisationUpdatedPayload,
    description="A unit's registered details changed; carries the full new state.",
)

EVENT_TYPES: list[EventType[Any]] = [ORGANISATION_REGISTERED, ORGANISATION_UPDATED]
