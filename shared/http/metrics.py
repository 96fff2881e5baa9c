"""Prometheus metrics: request latency, outbox backlog, consumer lag, dead letters, gaps."""

from __future__ import annotations

import time

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class ServiceMetrics:
    def __init__(self, service: str) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        labels = {"service": service}
        self.request_seconds = Histogram(
            "http_request_duration_seconds",
            "HTTP request latency",
            ["method", "route", "status"],
            registry=self.registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        ).labels
        self.outbox_backlog = Gauge("outbox_backlog", "Outbox rows not yet published", registry=self.registry)
        self.consumer_lag = Gauge(
            "consumer_lag", "Events waiting for this service", ["source"], registry=self.registry
        )
        self.dead_letters = Gauge(
            "dead_letters", "Parked events waiting for a replay", registry=self.registry
        )
        self.event_gaps = Gauge(
            "event_gaps", "Producer/type pairs with missing sequence numbers", registry=self.registry
        )
        self.events_published = Counter(
            "events_published", "Events published by the outbox relay", registry=self.registry
        )
        self.events_applied = Gauge(
            "events_applied", "Events applied by this process", registry=self.registry
        )
        self.events_duplicates = Gauge(
            "events_duplicates",
            "Deliveries this process recognised as already applied and skipped",
            registry=self.registry,
        )
        self.info = Gauge("service_info", "Service identity", ["service"], registry=self.registry)
        self.info.labels(**labels).set(1)


class MetricsMiddleware:
    def __init__(self, app: ASGIApp, metrics: ServiceMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def capture(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, capture)
        finally:
            route = scope.get("route")
            path = getattr(route, "path", None) or "unmatched"
            self.metrics.request_seconds(scope["method"], path, str(status)).observe(
                time.perf_counter() - start
            )
