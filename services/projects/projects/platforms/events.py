"""Registry's platform events as projects reads them (its own copy of the contract)."""

from __future__ import annotations

from uuid import UUID

from pydantic import Field

from shared.events.envelope import EventPayload, EventType


class PlatformSnapshot(EventPayload):
    id: UUID
    code: str
    name: str
    kind: str
    state: str
    host_unit_id: UUID
    co_builder_unit_ids: list[UUID] = Field(default_factory=list)
    field: str = ""
    director_person_id: UUID | None = None  # the lab director registry appointed
    version: int


PLATFORM_VERBS = (
    "proposed",
    "construction_started",
    "accepted",
    "rectification_opened",
    "rectification_closed",
    "revoked",
    "merged",
    "absorbed",
    "strengthened",
    "adjusted",
    "updated",
    "reclassified",  # 晋升/降级/变更类别: the platform keeps its id, with a new kind and code
)
PLATFORM_EVENTS = [EventType(f"registry.platform.{verb}", PlatformSnapshot) for verb in PLATFORM_VERBS]
