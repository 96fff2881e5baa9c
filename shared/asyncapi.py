"""The event contracts as an AsyncAPI 3.0 document, generated from the services' event registries.

Each service describes what it publishes (its ``produces`` list: every event type, its channel,
its payload's JSON Schema) and what it consumes (its handlers); the gateway merges the four
documents into one (``GET /asyncapi.json``), in which every channel names its producer and its
consumers. Payloads are CloudEvents 1.0 envelopes whose ``data`` is the event type's payload
model.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pydantic.json_schema import models_json_schema

from shared.events.envelope import SPECVERSION, EventType
from shared.service import ServiceDefinition

ASYNCAPI_VERSION = "3.0.0"
CONTENT_TYPE = "application/cloudevents+json"
ENVELOPE = "CloudEventEnvelope"


def _envelope_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "description": "CloudEvents 1.0 structured-mode envelope (shared/events/envelope.py)",
        "required": ["specversion", "id", "source", "type", "subject", "time", "data"],
        "properties": {
            "specversion": {"const": SPECVERSION},
            "id": {"type": "string", "format": "uuid", "description": "UUIDv7, unique per event"},
            "source": {"type": "string", "description": "the producing service"},
            "type": {"type": "string", "description": "<service>.<aggregate>.<past verb>"},
            "subject": {"type": "string", "description": "<aggregate>/<id>"},
            "time": {"type": "string", "format": "date-time"},
            "dataschema": {"type": "string", "description": "urn:sci-platform:event:<type>:v<version>"},
            "dataversion": {"type": "integer"},
            "producerseq": {"type": "integer", "description": "per producer and type, for gap detection"},
            "requestid": {"type": ["string", "null"]},
            "actorid": {"type": ["string", "null"], "description": "who acted at the source"},
            "traceparent": {"type": "string", "description": "W3C trace context (distributed tracing)"},
            "tracestate": {"type": "string"},
            "data": {"type": "object"},
        },
    }


def service_document(
    service: str,
    *,
    version: str,
    produces: Iterable[EventType[Any]],
    consumes: Iterable[str],
) -> dict[str, Any]:
    """What one service publishes and consumes. ``consumes`` are event type names."""
    produced = sorted(produces, key=lambda t: t.name)
    prefix = service.capitalize() + "_"
    refs, definitions = models_json_schema(
        [(t.payload, "validation") for t in produced],
        ref_template=f"#/components/schemas/{prefix}{{model}}",
    )
    schemas: dict[str, Any] = {f"{prefix}{name}": s for name, s in definitions.get("$defs", {}).items()}
    schemas[ENVELOPE] = _envelope_schema()
    channels: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    for event_type in produced:
        key = event_type.name
        payload_ref = refs[(event_type.payload, "validation")]
        messages[key] = {
            "name": event_type.name,
            "title": event_type.name,
            "summary": event_type.description or event_type.name,
            "contentType": CONTENT_TYPE,
            "payload": {
                "allOf": [
                    {"$ref": f"#/components/schemas/{ENVELOPE}"},
                    {
                        "type": "object",
                        "properties": {
                            "type": {"const": event_type.name},
                            "source": {"const": service},
                            "dataschema": {"const": event_type.dataschema},
                            "data": payload_ref,
                        },
                    },
                ]
            },
            "x-version": event_type.version,
        }
        channels[key] = {
            "address": event_type.name,
            "description": f"NATS subject (under the deployment's namespace); stream {service.upper()}",
            "messages": {key: {"$ref": f"#/components/messages/{key}"}},
            "x-producer": service,
            "x-consumers": [],
        }
        operations[f"{service}_publishes_{key}"] = _operation("send", key, f"{service} publishes")
    for name in sorted(set(consumes)):
        operations[f"{service}_consumes_{name}"] = _operation("receive", name, f"{service} consumes")
    return {
        "asyncapi": ASYNCAPI_VERSION,
        "info": {"title": f"{service} events", "version": version},
        "defaultContentType": CONTENT_TYPE,
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": schemas},
    }


def of_service(definition: ServiceDefinition) -> dict[str, Any]:
    """The document of a service: its ``produces`` list and the event types its handlers take."""
    return service_document(
        definition.name,
        version=definition.version,
        produces=definition.produces,
        consumes=[r.event_type.name for r in definition.handlers or ()],
    )


def _operation(action: str, key: str, summary: str) -> dict[str, Any]:
    return {
        "action": action,
        "summary": summary,
        "channel": {"$ref": f"#/channels/{key}"},
        "messages": [{"$ref": f"#/channels/{key}/messages/{key}"}],
    }


def merge_documents(documents: Mapping[str, Mapping[str, Any]], *, version: str) -> dict[str, Any]:
    """One document for the platform: every channel with its producer and all its consumers.

    A consumed event type nobody publishes (a producer that is down, or a contract broken) is
    listed under ``x-unpublished`` instead of pointing at a channel that does not exist.
    """
    channels: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    schemas: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    for document in documents.values():
        channels.update({k: {**v, "x-consumers": []} for k, v in document.get("channels", {}).items()})
        messages.update(document.get("components", {}).get("messages", {}))
        schemas.update(document.get("components", {}).get("schemas", {}))
    unpublished: dict[str, list[str]] = {}
    for service, document in sorted(documents.items()):
        for operation_id, operation in document.get("operations", {}).items():
            key = operation["channel"]["$ref"].rsplit("/", 1)[1]
            if key not in channels:
                unpublished.setdefault(key, []).append(service)
                continue
            if operation["action"] == "receive":
                channels[key]["x-consumers"].append(service)
            operations[operation_id] = operation
    merged: dict[str, Any] = {
        "asyncapi": ASYNCAPI_VERSION,
        "info": {
            "title": "Science & technology management platform events",
            "version": version,
            "description": (
                "Events between the services over NATS JetStream: written in the producer's "
                "transaction, published from its outbox, consumed exactly once through each "
                "consumer's inbox. Partners receive the same envelopes by webhook."
            ),
        },
        "defaultContentType": CONTENT_TYPE,
        "servers": {
            "jetstream": {
                "host": "nats:4222",
                "protocol": "nats",
                "description": "the deployment's NATS with JetStream (NATS_URL)",
            }
        },
        "channels": dict(sorted(channels.items())),
        "operations": dict(sorted(operations.items())),
        "components": {"messages": dict(sorted(messages.items())), "schemas": dict(sorted(schemas.items()))},
    }
    if unpublished:
        merged["x-unpublished"] = unpublished
    return merged
