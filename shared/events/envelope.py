"""The event envelope: CloudEvents 1.0 attributes, a typed and versioned payload.

Subjects (and CloudEvents ``type``) are ``<service>.<aggregate>.<past-tense-verb>``, e.g.
``registry.organisation.registered``. Extension attributes (lower-case, as CloudEvents asks):
``producerseq`` (sequence number per producer and event type, gap detection),
``requestid`` (trace one request across services), ``dataversion`` (payload version), and
``traceparent`` / ``tracestate`` of the CloudEvents distributed-tracing extension (the W3C trace
context of the span that wrote the event, when tracing is on: ``shared.tracing``).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict

from shared.clock import utcnow
from shared.ids import uuid7
from shared.tracing import current_trace_context

SPECVERSION = "1.0"
_TYPE_RE = re.compile(r"^[a-z][a-z_]*\.[a-z][a-z_]*\.[a-z][a-z_]*$")

P = TypeVar("P", bound=BaseModel)


class EventPayload(BaseModel):
    """Base for typed payloads: strict about unknown fields when produced, tolerant on read.

    A consumer keeps its own copy of the payload model for the fields it uses; a newer
    producer adding fields must not break it, so consumers parse with ``extra='ignore'``.
    """

    model_config = ConfigDict(extra="ignore", frozen=True)


@dataclass(frozen=True)
class EventType(Generic[P]):
    """One kind of event: its name, payload model and payload version."""

    name: str
    payload: type[P]
    version: int = 1
    description: str = ""

    def __post_init__(self) -> None:
        if not _TYPE_RE.match(self.name):
            raise ValueError(f"event type {self.name!r} is not <service>.<aggregate>.<verb>")

    @property
    def source(self) -> str:
        return self.name.split(".", 1)[0]

    @property
    def dataschema(self) -> str:
        return f"urn:sci-platform:event:{self.name}:v{self.version}"


class Envelope(BaseModel):
    """A CloudEvents 1.0 structured-mode event as it travels over NATS."""

    model_config = ConfigDict(extra="allow")

    specversion: str = SPECVERSION
    id: uuid.UUID
    source: str
    type: str
    subject: str
    time: datetime
    datacontenttype: str = "application/json"
    dataschema: str
    dataversion: int
    producerseq: int | None = None
    requestid: str | None = None
    # CloudEvents extension: who acted at the source (a user id, or the actor an event step
    # acted for), so a consumer's audit trail names the person behind the step it applies
    actorid: str | None = None
    traceparent: str | None = None
    tracestate: str | None = None
    data: dict[str, Any]

    def payload(self, event_type: EventType[P]) -> P:
        return event_type.payload.model_validate(self.data)


def build_envelope(
    event_type: EventType[P],
    payload: P,
    *,
    subject: str,
    request_id: str | None,
    actor_id: str | None = None,
) -> Envelope:
    return Envelope(
        id=uuid7(),
        source=event_type.source,
        type=event_type.name,
        subject=subject,
        time=utcnow(),
        dataschema=event_type.dataschema,
        dataversion=event_type.version,
        requestid=request_id,
        actorid=actor_id,
        data=payload.model_dump(mode="json"),
        **current_trace_context(),
    )


def nats_subject(namespace: str, event_type: str) -> str:
    """The NATS subject an event type travels on, under the deployment's namespace."""
    return f"{namespace}.{event_type}" if namespace else event_type


def stream_name(namespace: str, source: str) -> str:
    """One stream per producing service, e.g. ``REGISTRY`` for ``registry.>``."""
    base = source.upper()
    return f"{namespace.upper()}_{base}" if namespace else base


def event_catalogue(types: list[EventType[Any]]) -> dict[str, Any]:
    """A documented list of event types and their JSON Schemas (AsyncAPI-style)."""
    return {
        "events": [
            {
                "type": t.name,
                "version": t.version,
                "dataschema": t.dataschema,
                "description": t.description,
                "payload": t.payload.model_json_schema(),
            }
            for t in types
        ]
    }
