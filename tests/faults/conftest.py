"""Fault tests: servers of their own that a test may stop, kill and restart.

A test here gets its own PostgreSQL (``own_postgres``) and NATS (``own_nats``, from the kit's
plugin) so that stopping them touches nobody else's test; the gateway in front of a service
keeps its own database on the run's shared server, so that only the service's database fails.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from shared.devstack.ports import free_port
from shared.devstack.postgres import EmbeddedPostgres, database_url, ensure_database
from shared.migrations import upgrade

ADMIN_PASSWORD = "Fault-Suite-2026!"
GATEWAY_SETTINGS = {
    "bootstrap_admin_username": "root-admin",
    "bootstrap_admin_password": ADMIN_PASSWORD,
    "background_work": False,
    "password_hash_time_cost": 1,
    "password_hash_memory_kib": 1024,
    "password_hash_parallelism": 1,
}


@pytest.fixture
def own_postgres(tmp_path: Path) -> Iterator[EmbeddedPostgres]:
    """A PostgreSQL server of this test's own (stopped and started by the test). Durable: a
    commit it acknowledged must survive the crash the test causes, so that rows can be counted."""
    server = EmbeddedPostgres(tmp_path / "pg", free_port(), durable=True)
    server.start()
    try:
        yield server
    finally:
        server.stop(immediate=True)


@pytest.fixture
async def service_on(
    start_service: Any,
) -> AsyncIterator[Callable[..., contextlib.AbstractAsyncContextManager[Any]]]:
    """``async with service_on(own_postgres, "registry", http=True) as svc``: the service on a
    fresh, migrated database of the given server."""

    @contextlib.asynccontextmanager
    async def start(server: EmbeddedPostgres, name: str, **overrides: Any) -> AsyncIterator[Any]:
        definition = importlib.import_module(f"{name}.definition")
        await ensure_database(server.url, name)
        url = database_url(server.url, name, scheme="postgresql+asyncpg")
        await asyncio.to_thread(upgrade, definition.MIGRATIONS_DIR, url)
        async with start_service(name, database=name, database_url=url, **overrides) as svc:
            yield svc

    yield start


@pytest.fixture
async def gateway_before(
    start_service: Any, jwks_json: str
) -> AsyncIterator[Callable[..., contextlib.AbstractAsyncContextManager[Any]]]:
    """The gateway on a real port in front of the given services' base URLs."""

    @contextlib.asynccontextmanager
    async def start(**urls: str) -> AsyncIterator[Any]:
        unreachable = f"http://127.0.0.1:{free_port()}"
        values = {
            f"{s}_url": urls.get(f"{s}_url", unreachable) for s in ("registry", "projects", "evaluation")
        }
        async with start_service("gateway", http=True, **GATEWAY_SETTINGS, **values) as gw:
            yield gw

    yield start
