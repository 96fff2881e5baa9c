"""Distributed traces: one trace from the gateway through registry, its outbox and NATS to the
projects service's consumer; nothing traced when no collector is configured.

The spans are collected with the OpenTelemetry SDK's own in-memory exporter, handed to every
service started inside ``spans_also_to``; the services run for real (uvicorn, PostgreSQL,
JetStream).
"""

from __future__ import annotations

import io
import json
import logging
from typing import Any

from fastapi import FastAPI, Request, Response
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, format_trace_id
from sqlalchemy import select

from shared.logging import json_handler
from shared.testing.servers import eventually, serving
from shared.tracing import spans_also_to
from tests.helpers import org_body

REGISTERED = "registry.organisation.registered"


def service_of(span: ReadableSpan) -> str:
    return str(span.resource.attributes["service.name"])


def ancestors(span: ReadableSpan, by_id: dict[int, ReadableSpan]) -> list[ReadableSpan]:
    chain = []
    while span.parent is not None and span.parent.span_id in by_id:
        span = by_id[span.parent.span_id]
        chain.append(span)
    return chain


async def test_one_trace_follows_a_registration_from_the_gateway_to_the_projects_consumer(
    start_service: Any, auth: Any
) -> None:
    exporter = InMemorySpanExporter()
    with spans_also_to(SimpleSpanProcessor(exporter)):
        async with (
            start_service("registry", http=True) as registry,
            start_service("projects", http=True) as projects,
            start_service(
                "gateway",
                http=True,
                registry_url=registry.base_url,
                projects_url=projects.base_url,
                evaluation_url="http://127.0.0.1:9",
            ) as gateway,
        ):
            response = await gateway.client.post(
                "/api/registry/organisations", json=org_body(1), headers=auth("department_staff")
            )
            assert response.status_code == 201, response.text

            def consumer_spans() -> list[ReadableSpan]:
                return [
                    s
                    for s in exporter.get_finished_spans()
                    if service_of(s) == "projects" and s.kind == SpanKind.CONSUMER
                ]

            async def applied() -> bool:
                return bool(consumer_spans())

            await eventually(applied, timeout=10)
            async with registry.runtime.sessionmaker() as session:
                outbox = registry.runtime.tables.outbox
                envelope = (await session.execute(select(outbox.c.envelope))).scalar_one()

    spans = exporter.get_finished_spans()
    by_id = {s.context.span_id: s for s in spans}
    gateway_request = next(s for s in spans if service_of(s) == "gateway" and s.kind == SpanKind.SERVER)
    trace_id = gateway_request.context.trace_id
    assert envelope["traceparent"].split("-")[1] == format_trace_id(trace_id), (
        "the event carries the trace of the request that wrote it"
    )

    registry_request = next(s for s in spans if service_of(s) == "registry" and s.kind == SpanKind.SERVER)
    assert gateway_request in ancestors(registry_request, by_id), "the proxied request continues the trace"
    statements = [s for s in spans if service_of(s) == "registry" and s.kind == SpanKind.CLIENT]
    assert any(registry_request in ancestors(s, by_id) for s in statements), "SQL statements are traced"

    publish = next(s for s in spans if service_of(s) == "registry" and s.kind == SpanKind.PRODUCER)
    assert registry_request in ancestors(publish, by_id), "the relay's publish joins the request's trace"

    (handled,) = [
        s
        for s in spans
        if service_of(s) == "projects" and s.kind == SpanKind.CONSUMER and s.name == f"process {REGISTERED}"
    ]
    assert handled.context.trace_id == trace_id
    chain = ancestors(handled, by_id)
    assert registry_request in chain and gateway_request in chain
    assert handled.attributes is not None and handled.attributes["messaging.system"] == "nats"
    assert {service_of(s) for s in spans if s.context.trace_id == trace_id} == {
        "gateway",
        "registry",
        "projects",
    }


async def test_without_a_collector_nothing_is_traced_and_events_carry_no_trace_context(
    start_service: Any, auth: Any
) -> None:
    async with start_service("registry") as registry:
        assert registry.runtime.settings.otlp_endpoint is None
        response = await registry.client.post(
            "/organisations",
            json=org_body(2),
            headers={**auth("department_staff"), "traceparent": "00-" + "ab" * 16 + "-" + "cd" * 8 + "-01"},
        )
        assert response.status_code == 201, response.text
        async with registry.runtime.sessionmaker() as session:
            outbox = registry.runtime.tables.outbox
            envelope = (await session.execute(select(outbox.c.envelope))).scalar_one()
        assert "traceparent" not in envelope
        assert registry.runtime.relay is not None and registry.runtime.relay.tracing is not None
        assert not registry.runtime.relay.tracing.enabled


def test_log_lines_carry_the_trace_id_of_the_current_span() -> None:
    stream = io.StringIO()
    logger = logging.getLogger("tests.tracing")
    logger.addHandler(json_handler("registry", stream))
    logger.setLevel(logging.INFO)
    try:
        tracer = TracerProvider().get_tracer("tests")
        with tracer.start_as_current_span("work") as span:
            logger.info("inside")
        logger.info("outside")
    finally:
        logger.handlers.clear()
    inside, outside = (json.loads(line) for line in stream.getvalue().splitlines())
    assert inside["trace_id"] == format_trace_id(span.get_span_context().trace_id)
    assert inside["span_id"] == f"{span.get_span_context().span_id:016x}"
    assert outside["trace_id"] is None


async def test_spans_are_exported_by_otlp_to_the_configured_collector(start_service: Any, auth: Any) -> None:
    """The collector is the one external partner here: a stand-in that takes OTLP/HTTP as a
    collector does (protobuf ExportTraceServiceRequest on /v1/traces)."""
    received: list[ExportTraceServiceRequest] = []
    collector = FastAPI()

    @collector.post("/v1/traces")
    async def traces(request: Request) -> Response:
        message = ExportTraceServiceRequest()
        message.ParseFromString(await request.body())
        received.append(message)
        return Response(status_code=200, media_type="application/x-protobuf")

    # The service stops first, sending what its batch processor still holds.
    async with (
        serving(collector) as collector_url,
        start_service("registry", otlp_endpoint=collector_url) as registry,
    ):
        response = await registry.client.post(
            "/organisations", json=org_body(3), headers=auth("department_staff")
        )
        assert response.status_code == 201, response.text

    exported = [
        (resource.resource, span)
        for message in received
        for resource in message.resource_spans
        for scope in resource.scope_spans
        for span in scope.spans
    ]
    names = {span.name for _, span in exported}
    assert "POST /organisations" in names
    assert any(name.startswith("INSERT") for name in names), names
    services = {
        attribute.value.string_value
        for resource, _ in exported
        for attribute in resource.attributes
        if attribute.key == "service.name"
    }
    assert services == {"registry"}
