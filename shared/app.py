"""create_service_app(): the same skeleton for every service.

Routers, problem details, request ids, metrics, traces (when configured: ``shared.tracing``),
health, the admin endpoints of the event machinery, and a lifespan that creates the engine,
the NATS connection, the outbox relay and the inbox consumers, and stops them in reverse order
(draining in-flight work).
"""

from __future__ import annotations

import contextlib
import gc
import logging
from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, FastAPI, Response
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel, Field
from sqlalchemy import func, select, text

from shared.asyncapi import of_service as asyncapi_of
from shared.auth import Principal, Role, TokenVerifier
from shared.db import create_engine, create_sessionmaker
from shared.errors import Conflict
from shared.events import admin as events_admin
from shared.events.bus import EventBus
from shared.events.consumer import InboxConsumer
from shared.events.envelope import event_catalogue
from shared.events.relay import ClaimedRow, OutboxRelay
from shared.http.auth import require_roles
from shared.http.deps import PageDep, RuntimeDep
from shared.http.docs import install_docs
from shared.http.idempotency import install_idempotency
from shared.http.metrics import MetricsMiddleware, ServiceMetrics
from shared.http.problems import install_problem_handlers
from shared.http.requestid import RequestIdMiddleware
from shared.http.schemas import Page
from shared.ids import uuid7
from shared.migrations import current_revisions, head_revisions
from shared.service import ServiceDefinition, ServiceRuntime
from shared.timestamps import Timestamp
from shared.tracing import PROBES, Tracing

log = logging.getLogger(__name__)

AdminDep = Annotated[Principal, Depends(require_roles(Role.administrator))]


class RepublishRequest(BaseModel):
    model_config = {"extra": "forbid"}

    event_type: str = Field(min_length=3, max_length=200)
    from_sequence: int = Field(ge=1, le=2**63 - 1)  # a PostgreSQL bigint: larger is a 422, not a 500
    to_sequence: int = Field(ge=1, le=2**63 - 1)


class EventTypeOut(BaseModel):
    type: str
    version: int
    dataschema: str
    description: str
    payload: dict[str, Any] = Field(description="JSON Schema of the event's data")


class CatalogueOut(BaseModel):
    events: list[EventTypeOut]


class SequenceRange(BaseModel):
    model_config = {"populate_by_name": True}

    from_: int = Field(alias="from", serialization_alias="from")
    to: int


class GapOut(BaseModel):
    consumer: str
    source: str
    event_type: str
    contiguous_upto: int
    max_seen: int
    missing_ranges: list[SequenceRange]
    since: Timestamp


class GapsOut(BaseModel):
    gaps: list[GapOut]


class DeadLetterOut(BaseModel):
    id: UUID
    consumer: str
    event_id: UUID
    source: str
    event_type: str
    sequence: int | None
    envelope: dict[str, Any] = Field(description="the CloudEvents envelope as received")
    error: str
    attempts: int
    status: str = Field(description="parked, replayed …")
    parked_at: Timestamp
    resolved_at: Timestamp | None
    resolved_by: str | None


class ReplayOut(BaseModel):
    outcome: str


class RepublishOut(BaseModel):
    republished: int = Field(description="events sent again")


def _ops_router(definition: ServiceDefinition, metrics: ServiceMetrics) -> APIRouter:
    router = APIRouter(tags=["operations"])

    @router.get("/healthz", summary="Process is alive", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    asyncapi = asyncapi_of(definition)

    @router.get(definition.asyncapi_url, summary="Events published and consumed", include_in_schema=False)
    async def asyncapi_document() -> dict[str, Any]:
        return asyncapi

    @router.get("/readyz", summary="Database, NATS and schema ready", include_in_schema=False)
    async def readyz(runtime: RuntimeDep) -> JSONResponse:
        checks: dict[str, str] = {}
        try:
            async with runtime.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
            checks["database"] = "ok"
            current = await current_revisions(runtime.engine)
            checks["migrations"] = "ok" if current == runtime.head_revisions else "behind"
        except Exception as exc:  # noqa: BLE001 - readiness reports, never raises
            checks["database"] = f"error: {type(exc).__name__}"
        checks["nats"] = "ok" if runtime.bus.is_connected else "disconnected"
        ready = all(v == "ok" for v in checks.values())
        return JSONResponse({"ready": ready, "checks": checks}, status_code=200 if ready else 503)

    @router.get("/metrics", include_in_schema=False)
    async def metrics_endpoint(runtime: RuntimeDep) -> Response:
        with contextlib.suppress(Exception):
            if runtime.relay is not None:
                metrics.outbox_backlog.set(await runtime.relay.backlog())
            metrics.dead_letters.set(await events_admin.dead_letter_counts(runtime.engine, runtime.tables))
            gaps = await events_admin.find_gaps(
                runtime.engine, runtime.tables, grace_seconds=runtime.settings.gap_grace_seconds
            )
            metrics.event_gaps.set(len(gaps))
            if runtime.consumer is not None:
                metrics.events_applied.set(runtime.consumer.applied_total)
                metrics.events_duplicates.set(runtime.consumer.duplicates_total)
                for source, lag in (await runtime.consumer.lag()).items():
                    metrics.consumer_lag.labels(source=source).set(lag)
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    admin = APIRouter(prefix="/admin/events", tags=["operations"])

    @admin.get("/catalogue", summary="Event types this service publishes, with payload schemas")
    async def catalogue(_: AdminDep) -> CatalogueOut:
        return CatalogueOut.model_validate(event_catalogue(list(definition.produces)))

    @admin.get("/gaps", summary="Sequence holes: events that never arrived")
    async def gaps(runtime: RuntimeDep, _: AdminDep) -> GapsOut:
        found = await events_admin.find_gaps(
            runtime.engine, runtime.tables, grace_seconds=runtime.settings.gap_grace_seconds
        )
        return GapsOut.model_validate({"gaps": [g.as_dict() for g in found]})

    @admin.get("/dead-letters", summary="Events parked after repeated handler failures")
    async def dead_letters(
        runtime: RuntimeDep, _: AdminDep, page: PageDep, status: str = "parked"
    ) -> Page[DeadLetterOut]:
        d = runtime.tables.dead_letter
        async with runtime.engine.connect() as conn:
            total = (await conn.execute(select(func.count()).where(d.c.status == status))).scalar_one()
            rows = (
                (
                    await conn.execute(
                        select(d)
                        .where(d.c.status == status)
                        .order_by(d.c.parked_at)
                        .offset(page.offset)
                        .limit(page.size)
                    )
                )
                .mappings()
                .all()
            )
        items = [DeadLetterOut.model_validate(dict(r)) for r in rows]
        return Page(items=items, total=total, page=page.page, size=page.size)

    @admin.post("/dead-letters/{dead_letter_id}/replay", summary="Apply a parked event now")
    async def replay(dead_letter_id: UUID, runtime: RuntimeDep, principal: AdminDep) -> ReplayOut:
        if runtime.consumer is None:
            raise Conflict("this service consumes no events", "本服务不消费事件")
        outcome = await runtime.consumer.replay_dead_letter(dead_letter_id, principal.actor())
        return ReplayOut(outcome=outcome)

    @admin.post("/outbox/republish", summary="Publish a range of sent events again")
    async def republish(body: RepublishRequest, runtime: RuntimeDep, principal: AdminDep) -> RepublishOut:
        if runtime.relay is None:
            raise Conflict("this service publishes no events", "本服务不发布事件")
        count = await runtime.relay.republish(
            event_type=body.event_type,
            from_sequence=body.from_sequence,
            to_sequence=body.to_sequence,
            tag=f"replay-{uuid7()}",
        )
        log.info(
            "events re-published",
            extra={"event_type": body.event_type, "count": count, "actor": principal.user_id},
        )
        return RepublishOut(republished=count)

    router.include_router(admin)
    return router


def operation_id(service: str) -> Callable[[APIRoute], str]:
    """``<service>_<package>_<verb>`` (``registry_platforms_list`` for ``list_platforms`` in
    ``registry.platforms``): readable, unique across the combined document, the same in the
    service's own document and the gateway's, and stable while the endpoint keeps its name and
    package. They are the method names of every generated client."""

    def generate(route: APIRoute) -> str:
        parts = route.endpoint.__module__.split(".")
        if len(parts) < 3 or parts[0] != service:
            return f"{service}_{route.name}"
        package = parts[1]
        nouns = {package, package.removesuffix("s")}
        words = [w for w in route.name.split("_") if w not in nouns] or [route.name]
        return "_".join([service, package, *words])

    return generate


def create_service_app(definition: ServiceDefinition) -> FastAPI:
    settings = definition.settings
    metrics = ServiceMetrics(definition.name)
    tracing = Tracing(definition.name, settings, version=definition.version)

    async def count_published(rows: list[ClaimedRow]) -> None:
        metrics.events_published.inc(len(rows))

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = create_engine(settings)
        tracing.start(engine)
        sessionmaker = create_sessionmaker(engine)
        bus = EventBus(settings, producer=definition.name if definition.produces else None)

        async def after_publish(rows: Any) -> None:
            await count_published(rows)
            if definition.relay_after_publish is not None:
                await definition.relay_after_publish(rows)

        # The relay's connections are its own: under a burst of requests queueing for the
        # service's pool, committed events are still published at once.
        relay_engine = (
            create_engine(
                settings.model_copy(
                    update={"db_pool_size": settings.relay_batches_in_flight + 1, "db_max_overflow": 1}
                )
            )
            if definition.produces
            else None
        )
        if relay_engine is not None:
            tracing.start_engine(relay_engine)
        relay = (
            OutboxRelay(
                relay_engine,
                definition.tables,
                bus,
                settings,
                after_publish=after_publish,
                tracing=tracing,
                woken_by=engine,
            )
            if relay_engine is not None
            else None
        )
        consumer = (
            InboxConsumer(
                definition.name,
                engine,
                sessionmaker,
                definition.tables,
                bus,
                settings,
                definition.handlers,
                tracing=tracing,
            )
            if definition.handlers is not None and definition.handlers.sources()
            else None
        )
        verifier = TokenVerifier(
            issuer=settings.auth_issuer,
            audience=settings.auth_audience,
            leeway_seconds=settings.auth_leeway_seconds,
            jwks_url=settings.auth_jwks_url,
            jwks_json=settings.auth_jwks_json,
        )
        runtime = ServiceRuntime(
            definition=definition,
            settings=settings,
            engine=engine,
            sessionmaker=sessionmaker,
            tables=definition.tables,
            bus=bus,
            relay=relay,
            consumer=consumer,
            verifier=verifier,
            head_revisions=head_revisions(definition.migrations_dir),
        )
        app.state.runtime = runtime
        bus.start()
        if relay is not None:
            relay.start()
        if consumer is not None:
            consumer.start()
        for hook in definition.startup_hooks:
            await hook(runtime)
        freeze = settings.gc_freeze_after_startup
        if freeze is None:
            freeze = settings.environment != "test"
        if freeze:
            # A full collection walks every object alive, and a service holds some hundreds of
            # thousands from its start-up (modules, schemas, routes) that never die; each one
            # stalled the event loop 260-330 ms while a 20,000-row import allocated its rows
            # (tests/faults/test_large_import.py). Frozen, collections pass them by.
            gc.collect()
            gc.freeze()
        log.info("service started", extra={"service": definition.name})
        try:
            yield
        finally:
            if freeze:
                gc.unfreeze()
            for stop_hook in definition.shutdown_hooks:
                await stop_hook(runtime)
            if consumer is not None:
                await consumer.stop()
            if relay is not None:
                await relay.stop()
            await bus.close()
            await engine.dispose()
            if relay_engine is not None:
                await relay_engine.dispose()
            await tracing.shutdown()
            log.info("service stopped", extra={"service": definition.name})

    app = FastAPI(
        title=definition.title,
        description=definition.description,
        version=definition.version,
        lifespan=lifespan,
        openapi_tags=list(definition.openapi_tags),
        openapi_url=definition.openapi_url,
        docs_url=None,
        redoc_url=None,
        generate_unique_id_function=operation_id(definition.name),
        responses={
            401: {"description": "Missing or invalid token (problem+json)"},
            422: {"description": "Invalid input (problem+json with errors[])"},
        },
    )
    app.state.metrics = metrics
    install_problem_handlers(app)
    install_idempotency(app)
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    app.add_middleware(RequestIdMiddleware)
    app.include_router(_ops_router(definition, metrics))
    install_docs(
        app, openapi_url=definition.docs_openapi_url or definition.openapi_url, title=definition.title
    )
    for router in definition.routers:
        app.include_router(router)
    if tracing.provider is not None:
        # Outermost, so that the request span covers every middleware (and the gateway's proxy).
        FastAPIInstrumentor.instrument_app(
            app,
            tracer_provider=tracing.provider,
            excluded_urls=PROBES,
            exclude_spans=["receive", "send"],
        )
    return app
