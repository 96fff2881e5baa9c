"""Publish another service's events in tests, exactly as its outbox relay would."""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel

from shared.events.bus import EventBus
from shared.events.envelope import Envelope, EventType, build_envelope


async def publish_as_producer(
    bus: EventBus,
    event_type: EventType[Any],
    payload: BaseModel,
    *,
    subject: str,
    sequence: int,
    request_id: str | None = None,
    actor_id: str | None = None,
) -> Envelope:
    """Put one event on the producer's stream (created if needed) with its sequence number."""
    await bus.wait_connected(timeout=10)
    await bus.ensure_stream(event_type.source)
    envelope = build_envelope(event_type, payload, subject=subject, request_id=request_id, actor_id=actor_id)
    body = envelope.model_dump(mode="json", exclude_none=True)
    body["producerseq"] = sequence
    await bus.js.publish(
        bus.subject_for(event_type.name),
        json.dumps(body, ensure_ascii=False).encode(),
        headers={"Nats-Msg-Id": str(envelope.id)},
    )
    return envelope.model_copy(update={"producerseq": sequence})
