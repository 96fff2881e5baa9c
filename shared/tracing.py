"""OpenTelemetry traces: from the gateway through each service, its outbox, NATS and consumers.

Off by default: a service without ``OTLP_ENDPOINT`` (after its prefix) creates no tracer
provider, installs no instrumentation and writes no trace context into its events, so tracing
costs it nothing. With an endpoint, each service process has a tracer provider of its own
(``service.name`` = the service) exporting by OTLP over HTTP in batches, and

* FastAPI (every request but the probes), SQLAlchemy (every statement) and httpx (calls the
  service makes) are traced by the OpenTelemetry instrumentation packages;
* the gateway's proxy, which speaks httpcore directly, forwards the W3C ``traceparent`` of its
  request span (``outgoing_headers``);
* every event written to the outbox carries ``traceparent`` / ``tracestate`` as CloudEvents
  extension attributes (the CloudEvents distributed-tracing extension), so the relay's
  publish span and every consumer's handler span join the trace of the request that wrote it;
* log lines carry ``trace_id`` and ``span_id`` (``shared.logging``).

Sampling follows the caller's decision when there is one, else ``TRACE_SAMPLE_RATIO``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.metrics import NoOpUpDownCounter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased
from opentelemetry.trace import Link, SpanKind, Tracer
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.settings import ServiceSettings

log = logging.getLogger(__name__)

TRACE_FIELDS = ("traceparent", "tracestate")
PROBES = "/healthz,/readyz,/metrics"
_propagator = TraceContextTextMapPropagator()
_also_to: list[SpanProcessor] = []
_httpx_instrumented = False


@contextlib.contextmanager
def spans_also_to(processor: SpanProcessor) -> Iterator[None]:
    """Services started inside this block trace, and hand their spans to ``processor`` too.

    For tests: the SDK's ``SimpleSpanProcessor(InMemorySpanExporter())`` sees every span.
    """
    _also_to.append(processor)
    try:
        yield
    finally:
        _also_to.remove(processor)


def current_trace_context() -> dict[str, str]:
    """``traceparent`` (and ``tracestate``) of the current span; empty when not tracing."""
    carrier: dict[str, str] = {}
    _propagator.inject(carrier)
    return carrier


def outgoing_headers() -> list[tuple[bytes, bytes]]:
    """The current span's trace context as raw HTTP headers (for a hand-built request)."""
    return [(k.encode("latin-1"), v.encode("latin-1")) for k, v in current_trace_context().items()]


def context_of(carrier: Mapping[str, Any]) -> otel_context.Context | None:
    """The remote span context an event carries, or None when it carries none."""
    if not carrier.get("traceparent"):
        return None
    values = {k: str(carrier[k]) for k in TRACE_FIELDS if carrier.get(k)}
    return _propagator.extract(values)


class Tracing:
    """One service process's tracing: its provider, tracer and instrumentation, or nothing."""

    def __init__(self, service: str, settings: ServiceSettings, *, version: str) -> None:
        self.service = service
        self.endpoint = settings.otlp_endpoint
        extra = list(_also_to)
        self.enabled = bool(self.endpoint or extra)
        self.provider: TracerProvider | None = None
        self._exporting: BatchSpanProcessor | None = None
        self._patched_httpx = False
        self.tracer: Tracer = trace.NoOpTracer()
        if not self.enabled:
            return
        self.provider = TracerProvider(
            resource=Resource.create(
                {
                    "service.name": service,
                    "service.version": version,
                    "deployment.environment.name": settings.environment,
                }
            ),
            sampler=ParentBased(TraceIdRatioBased(settings.trace_sample_ratio)),
        )
        for processor in extra:
            self.provider.add_span_processor(processor)
        self.tracer = self.provider.get_tracer("shared.events")

    def start(self, engine: AsyncEngine) -> None:
        """Export (when an endpoint is set) and trace the engine's statements and httpx calls."""
        if self.provider is None:
            return
        if self.endpoint:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            self._exporting = BatchSpanProcessor(
                OTLPSpanExporter(endpoint=f"{self.endpoint.rstrip('/')}/v1/traces")
            )
            self.provider.add_span_processor(self._exporting)
        self.start_engine(engine)
        self._instrument_httpx()
        log.info("tracing on", extra={"otlp_endpoint": self.endpoint})

    def start_engine(self, engine: AsyncEngine) -> None:
        """Trace this engine's statements."""
        if self.provider is None:
            return
        # The instrumentor's engine= form installs itself once per process; the engine tracer
        # it builds is per engine, so each service (several share a process in tests) gets one
        # with its own provider.
        from opentelemetry.instrumentation.sqlalchemy.engine import EngineTracer

        EngineTracer(  # type: ignore[no-untyped-call]
            self.provider.get_tracer("opentelemetry.instrumentation.sqlalchemy"),
            engine.sync_engine,
            NoOpUpDownCounter("db.client.connections.usage"),
        )

    def _instrument_httpx(self) -> None:
        # httpx's instrumentation patches the library, once per process: one service runs in
        # a deployed process, so its provider is the one that process has.
        global _httpx_instrumented  # noqa: PLW0603 - a process-wide patch, made once
        if _httpx_instrumented:
            return
        from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

        HTTPXClientInstrumentor().instrument(tracer_provider=self.provider)
        _httpx_instrumented = self._patched_httpx = True

    async def shutdown(self) -> None:
        """Send what is still buffered; the processors handed in by a test stay open."""
        global _httpx_instrumented  # noqa: PLW0603 - the process-wide patch is undone with its owner
        if self._patched_httpx:
            from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

            HTTPXClientInstrumentor().uninstrument()
            _httpx_instrumented = self._patched_httpx = False
        if self._exporting is not None:
            await asyncio.to_thread(self._exporting.shutdown)

    @contextlib.contextmanager
    def consuming(self, event_type: str, carriers: Sequence[Mapping[str, Any]]) -> Iterator[None]:
        """The span of a handler applying events: a child of the (first) event's trace,
        linked to every event it applies."""
        if not self.enabled:
            yield
            return
        contexts = [c for c in (context_of(carrier) for carrier in carriers) if c is not None]
        links = [Link(trace.get_current_span(c).get_span_context()) for c in contexts[1:]]
        with self.tracer.start_as_current_span(
            f"process {event_type}",
            context=contexts[0] if contexts else None,
            kind=SpanKind.CONSUMER,
            links=links,
            attributes={
                "messaging.system": "nats",
                "messaging.operation.type": "process",
                "messaging.destination.name": event_type,
                "messaging.batch.message_count": len(carriers),
                "messaging.message.id": str(carriers[0].get("id", "")),
            },
        ):
            yield

    def publishing(self, subject: str, carrier: Mapping[str, Any]) -> trace.Span | None:
        """A span for one event's publish (ended by the caller on its ack); None when the
        event carries no trace, so untraced writes do not start traces of their own here."""
        if not self.enabled:
            return None
        parent = context_of(carrier)
        if parent is None:
            return None
        return self.tracer.start_span(
            f"send {subject}",
            context=parent,
            kind=SpanKind.PRODUCER,
            attributes={
                "messaging.system": "nats",
                "messaging.operation.type": "send",
                "messaging.destination.name": subject,
                "messaging.message.id": str(carrier.get("id", "")),
            },
        )


def current_ids() -> tuple[str | None, str | None]:
    """Trace and span id of the current span (hex), for log lines; (None, None) outside one."""
    span_context = trace.get_current_span().get_span_context()
    if not span_context.is_valid:
        return None, None
    return trace.format_trace_id(span_context.trace_id), trace.format_span_id(span_context.span_id)
