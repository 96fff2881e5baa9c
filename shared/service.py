"""What a service is made of, and the runtime objects its process holds while it runs."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import APIRouter
from sqlalchemy import MetaData
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from shared.auth import TokenVerifier
from shared.db import KitTables
from shared.events.bus import EventBus
from shared.events.consumer import Handlers, InboxConsumer
from shared.events.envelope import EventType
from shared.events.relay import AfterPublish, OutboxRelay
from shared.settings import ServiceSettings


@dataclass
class ServiceDefinition:
    name: str
    title: str
    description: str
    settings: ServiceSettings
    metadata: MetaData
    tables: KitTables
    migrations_dir: Path
    routers: Sequence[APIRouter] = ()
    handlers: Handlers | None = None
    produces: Sequence[EventType[Any]] = ()
    version: str = "0.1.0"
    relay_after_publish: AfterPublish | None = None
    startup_hooks: Sequence[Callable[[ServiceRuntime], Awaitable[None]]] = ()
    shutdown_hooks: Sequence[Callable[[ServiceRuntime], Awaitable[None]]] = ()
    openapi_tags: Sequence[dict[str, Any]] = field(default_factory=list)
    demo_data: Callable[[ServiceSettings, bool], Coroutine[Any, Any, str]] | None = None
    """Loads the service's demo data set; the flag means "only into an empty database"."""
    openapi_url: str = "/openapi.json"
    asyncapi_url: str = "/asyncapi.json"
    docs_openapi_url: str | None = None
    """The document ``/docs`` and ``/redoc`` show (the gateway's combined one); unset, the service's own."""


@dataclass
class ServiceRuntime:
    definition: ServiceDefinition
    settings: ServiceSettings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    tables: KitTables
    bus: EventBus
    relay: OutboxRelay | None
    consumer: InboxConsumer | None
    verifier: TokenVerifier
    head_revisions: set[str]
    extras: dict[str, Any] = field(default_factory=dict)
