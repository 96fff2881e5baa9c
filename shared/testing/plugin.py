"""Pytest fixtures every test folder can use (loaded with ``-p shared.testing.plugin``)."""

from __future__ import annotations

import json
import secrets
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest

from shared.auth import TokenIssuer, new_signing_key_pem
from shared.devstack.nats import NatsServer
from shared.devstack.ports import free_port
from shared.testing.infra import LocalServers, TestInfra

TEST_ISSUER = "sci-platform-gateway"
TEST_AUDIENCE = "sci-platform"


@pytest.fixture(scope="session")
def local_server_set() -> Iterator[LocalServers]:
    servers = LocalServers()
    try:
        servers.start()
        yield servers
    finally:
        servers.stop()


@pytest.fixture(scope="session")
def local_servers(local_server_set: LocalServers) -> tuple[str, str]:
    return local_server_set.urls


@pytest.fixture(scope="session")
async def infra(local_server_set: LocalServers) -> AsyncIterator[TestInfra]:
    pg_url, nats_url = local_server_set.urls
    test_infra = TestInfra(pg_server_url=pg_url, nats_url=nats_url)
    try:
        yield test_infra
    finally:
        # Databases on servers given by DATABASE_URL are dropped; the run's own server goes
        # with its files, so dropping hundreds of databases one by one first would be waste.
        if not local_server_set.throwaway_postgres:
            await test_infra.cleanup()


@pytest.fixture
def namespace() -> str:
    """A NATS subject/stream namespace of this test's own: no test sees another's events."""
    return f"t{secrets.token_hex(4)}"


@pytest.fixture(scope="session")
def signing_key_pem() -> str:
    """The key the gateway under test signs with, and the tests' own tokens too."""
    return new_signing_key_pem()


@pytest.fixture(scope="session")
def token_issuer(signing_key_pem: str) -> TokenIssuer:
    return TokenIssuer.from_pems(signing_key_pem, issuer=TEST_ISSUER, audience=TEST_AUDIENCE)


@pytest.fixture(scope="session")
def jwks_json(token_issuer: TokenIssuer) -> str:
    return json.dumps(token_issuer.jwks())


@pytest.fixture
def own_nats(tmp_path: Path) -> Iterator[Callable[[], NatsServer]]:
    """Start private NATS servers that a test may stop, kill and restart."""
    started: list[NatsServer] = []

    def start() -> NatsServer:
        server = NatsServer(tmp_path / f"nats{len(started)}", free_port())
        server.start()
        started.append(server)
        return server

    try:
        yield start
    finally:
        for server in started:
            server.stop()
