"""Gateway test fixtures: a gateway with a known signing key, and the platform behind it."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from gateway.settings import GatewaySettings
from gateway.tokens import build_issuer
from shared.auth import TokenIssuer, new_signing_key_pem
from shared.devstack.ports import free_port

# Argon2id at RFC 9106's parameters costs ~50 ms per hash; tests use the cheapest setting,
# the production defaults are in GatewaySettings.
FAST_HASHING = {
    "password_hash_time_cost": 1,
    "password_hash_memory_kib": 1024,
    "password_hash_parallelism": 1,
}
ADMIN_PASSWORD = "Admin-Pass-2026!"


new_key_pem = new_signing_key_pem


@pytest.fixture(scope="session")
def gateway_key_pem(signing_key_pem: str) -> str:
    """The kit's test signing key: the ``auth`` fixture's tokens are the gateway's too."""
    return signing_key_pem


def unreachable() -> str:
    return f"http://127.0.0.1:{free_port()}"


def gateway_settings(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "registry_url": unreachable(),
        "projects_url": unreachable(),
        "evaluation_url": unreachable(),
        "bootstrap_admin_username": "root-admin",
        "bootstrap_admin_password": ADMIN_PASSWORD,
        "background_work": False,  # tests of events and webhooks turn it on
        **FAST_HASHING,
    }
    values.update(overrides)
    return values


@pytest.fixture
def gateway_issuer(gateway_key_pem: str) -> TokenIssuer:
    """Signs exactly as the gateway under test does (same key)."""
    return build_issuer(
        GatewaySettings(
            database_url="postgresql+asyncpg://unused/x",
            nats_url="nats://unused",
            environment="test",
            signing_key_pem=gateway_key_pem,
            **gateway_settings(),
        )
    )


@pytest.fixture
def gw_auth(gateway_issuer: TokenIssuer) -> Callable[..., dict[str, str]]:
    """Headers with a gateway-signed token: ``gw_auth("administrator", unit_id=...)``."""

    def headers(
        *roles: str,
        user_id: str = "user-1",
        unit_id: str | None = None,
        person_id: str | None = None,
        **scopes: Any,
    ) -> dict[str, str]:
        token = gateway_issuer.issue(
            user_id, roles=roles, unit_id=unit_id, person_id=person_id, scopes=scopes
        )
        return {"Authorization": f"Bearer {token}"}

    return headers


@pytest.fixture
async def start_gateway(
    start_service: Any, gateway_key_pem: str
) -> AsyncIterator[Callable[..., contextlib.AbstractAsyncContextManager[Any]]]:
    @contextlib.asynccontextmanager
    async def start(*, http: bool = False, **overrides: Any) -> AsyncIterator[Any]:
        async with start_service(
            "gateway", http=http, **gateway_settings(**{"signing_key_pem": gateway_key_pem, **overrides})
        ) as gw:
            yield gw

    yield start


@pytest.fixture
async def gateway(start_gateway: Any) -> AsyncIterator[Any]:
    async with start_gateway() as gw:
        yield gw


@pytest.fixture
def gateway_jwks(gateway_issuer: TokenIssuer) -> str:
    return json.dumps(gateway_issuer.jwks())


async def sign_in(gw: Any, username: str, password: str) -> Any:
    return await gw.client.post("/auth/token", json={"username": username, "password": password})


async def admin_headers(gw: Any) -> dict[str, str]:
    response = await sign_in(gw, "root-admin", ADMIN_PASSWORD)
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


@pytest.fixture
async def platform(
    start_service: Any, start_gateway: Any, gateway_jwks: str
) -> AsyncIterator[dict[str, Any]]:
    """Registry, projects and evaluation on real ports (trusting the gateway's keys), and the
    gateway in front of them: ``platform["gateway"]``, ``platform["registry"]``…"""
    async with (
        start_service("registry", http=True, auth_jwks_json=gateway_jwks) as registry,
        start_service("projects", http=True, auth_jwks_json=gateway_jwks) as projects,
        start_service("evaluation", http=True, auth_jwks_json=gateway_jwks) as evaluation,
        start_gateway(
            http=True,
            registry_url=registry.base_url,
            projects_url=projects.base_url,
            evaluation_url=evaluation.base_url,
        ) as gw,
    ):
        yield {"gateway": gw, "registry": registry, "projects": projects, "evaluation": evaluation}
