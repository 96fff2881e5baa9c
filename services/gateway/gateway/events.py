"""What the gateway does with the services' events: open data and partners' webhooks.

The kit's ``Handlers`` registers exact event types; partners subscribe to patterns
(``registry.platform.*``) that may name types no code here knows. ``AllEvents`` is a
``Handlers`` that answers for every type of the listed producers, so the kit's inbox consumer
(one durable consumer per producer, filter ``<producer>.>``) applies each event exactly once,
with retries, dead letters, gap detection and replay as for any other service.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel, ConfigDict

from gateway.opendata import projections
from gateway.webhooks import service as webhooks
from shared.events.consumer import Handlers, ReceivedEvent, Registration
from shared.events.envelope import EventType
from shared.uow import UnitOfWork

PRODUCERS = ("registry", "projects", "evaluation")


class AnyPayload(BaseModel):
    model_config = ConfigDict(extra="allow")


async def on_event(uow: UnitOfWork, event: ReceivedEvent[Any]) -> None:
    envelope = event.envelope.model_dump(mode="json", exclude_none=True)
    data = dict(envelope.get("data") or {})
    shared = await projections.apply(uow.session, event.envelope.type, data)
    if shared is None:
        return  # an object partners may not know of (an instrument never opened for sharing)
    if shared is not data:
        envelope["data"] = shared
    await webhooks.fan_out(uow.session, envelope)


class AllEvents(Handlers):
    def __init__(self, producers: tuple[str, ...] = PRODUCERS) -> None:
        super().__init__()
        self.producers = producers
        self._registrations: dict[str, Registration] = {}

    def get(self, type_name: str) -> Registration | None:
        if type_name.split(".", 1)[0] not in self.producers:
            return None
        registration = self._registrations.get(type_name)
        if registration is None:
            try:
                event_type = EventType(type_name, AnyPayload)
            except ValueError:
                return None
            registration = Registration(event_type, handler=on_event)
            self._registrations[type_name] = registration
        return registration

    def sources(self) -> dict[str, list[str]]:
        # subject_for("registry.>") is "<namespace>.registry.>": every event of the producer
        return {p: [f"{p}.>"] for p in self.producers}

    def __iter__(self) -> Iterator[Registration]:
        return iter(self._registrations.values())


handlers = AllEvents()
