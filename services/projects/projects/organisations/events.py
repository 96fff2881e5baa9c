"""Registry's organisation events as projects reads them (its own copy of the contract)."""

from __future__ import annotations

from uuid import UUID

from shared.events.envelope import EventPayload, EventType


class OrganisationSnapshot(EventPayload):
    id: UUID
    name: str
    credit_code: str
    type: str
    region: str
    address: str
    version: int


ORGANISATION_REGISTERED = EventType("registry.organisation.registered", OrganisationSnapshot)
ORGANISATION_UPDATED = EventType("registry.organisation.updated", OrganisationSnapshot)
