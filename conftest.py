"""Fixtures that start the platform's services for tests, on the run's real servers."""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from shared.auth import TokenIssuer
from shared.service import ServiceRuntime
from shared.testing.infra import TestInfra
from shared.testing.servers import running, serving

SETTINGS_CLASSES = {
    "registry": "registry.settings:RegistrySettings",
    "projects": "projects.settings:ProjectsSettings",
    "evaluation": "evaluation.settings:EvaluationSettings",
    "gateway": "gateway.settings:GatewaySettings",
}

FAST_TEST_SETTINGS: dict[str, Any] = {
    "environment": "test",
    "relay_poll_interval_seconds": 0.2,
    "consumer_retry_base_seconds": 0.05,
    "gap_grace_seconds": 0.0,
    "db_pool_size": 5,
    "db_max_overflow": 5,
    "run_planner_prestart": False,  # evaluation: its planning process starts at a test's first run
}


@dataclass
class RunningService:
    name: str
    app: FastAPI
    client: httpx.AsyncClient
    database: str
    database_url: str
    base_url: str | None = None

    @property
    def runtime(self) -> ServiceRuntime:
        runtime: ServiceRuntime = self.app.state.runtime
        return runtime


def _load(path: str) -> Any:
    module, _, attr = path.partition(":")
    return getattr(importlib.import_module(module), attr)


@pytest.fixture
async def start_service(
    infra: TestInfra, namespace: str, jwks_json: str, signing_key_pem: str
) -> AsyncIterator[Callable[..., contextlib.AbstractAsyncContextManager[RunningService]]]:
    """Start a service on a fresh database: ``async with start_service("registry") as svc``.

    ``http=True`` serves it on a real port (for cross-service tests); keyword arguments
    override settings (e.g. ``nats_url`` of a private NATS, a short duplicate window).
    """

    @contextlib.asynccontextmanager
    async def start(
        name: str, *, http: bool = False, database: str | None = None, **overrides: Any
    ) -> AsyncIterator[RunningService]:
        definition_module = importlib.import_module(f"{name}.definition")
        if database is None:
            database, url = await infra.fresh_database(name, definition_module.MIGRATIONS_DIR)
        else:
            url = infra.database_url(database)
        values = {
            **FAST_TEST_SETTINGS,
            "database_url": url,
            "nats_url": infra.nats_url,
            "events_namespace": namespace,
            "auth_jwks_json": jwks_json,
            **({"signing_key_pem": signing_key_pem} if name == "gateway" else {}),
            **overrides,
        }
        settings = _load(SETTINGS_CLASSES[name])(**values)
        app = importlib.import_module(f"{name}.app").create_app(settings)
        if http:
            async with serving(app) as base_url, httpx.AsyncClient(base_url=base_url, timeout=30) as client:
                yield RunningService(name, app, client, database, url, base_url)
        else:
            async with running(app) as client:
                yield RunningService(name, app, client, database, url)

    yield start


@pytest.fixture
def auth(token_issuer: TokenIssuer) -> Callable[..., dict[str, str]]:
    """Headers with a token for the given roles: ``auth("department_staff")``."""

    def headers(
        *roles: str,
        user_id: str = "user-1",
        unit_id: str | None = None,
        person_id: str | None = None,
        **scopes: Any,
    ) -> dict[str, str]:
        token = token_issuer.issue(user_id, roles=roles, unit_id=unit_id, person_id=person_id, scopes=scopes)
        return {"Authorization": f"Bearer {token}"}

    return headers
