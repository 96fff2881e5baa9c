"""The gateway as the one door: tokens, problems when a service fails, limits, headers, CORS."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from shared.auth import TokenIssuer
from shared.testing.servers import serving

from .conftest import new_key_pem
from .stand_ins import KeepAliveService

pytestmark = pytest.mark.asyncio


BIG_EXPORT = bytes(range(256)) * 16 * 1024  # 4 MiB, like a large Excel export


class Upstream:
    """A stand-in service on a real port that records what reaches it."""

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.received: list[dict[str, Any]] = []

        async def organisation(request: Request) -> JSONResponse:
            body = await request.body()
            self.received.append(
                {"method": request.method, "headers": dict(request.headers), "size": len(body)}
            )
            await asyncio.sleep(self.delay)
            if request.path_params.get("org_id") == "export":
                return Response(
                    BIG_EXPORT, media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
                )
            return JSONResponse(
                {"id": request.path_params.get("org_id", "new")}, headers={"x-upstream": "yes"}
            )

        self.app = Starlette(
            routes=[
                Route("/organisations/{org_id}", organisation, methods=["GET", "PATCH"]),
                Route("/organisations", organisation, methods=["POST"]),
            ]
        )


@pytest.fixture
async def upstream() -> AsyncIterator[tuple[Upstream, str]]:
    stub = Upstream()
    async with serving(stub.app) as url:  # type: ignore[arg-type]
        yield stub, url


async def test_request_id_is_forwarded_and_returned(start_gateway: Any, upstream: Any, gw_auth: Any) -> None:
    stub, url = upstream
    async with start_gateway(registry_url=url) as gw:
        response = await gw.client.get(
            "/api/registry/organisations/abc", headers={**gw_auth("applicant"), "X-Request-ID": "req-42"}
        )
    assert response.status_code == 200 and response.json() == {"id": "abc"}
    assert response.headers["x-request-id"] == "req-42"
    assert stub.received[0]["headers"]["x-request-id"] == "req-42"
    assert "cookie" not in stub.received[0]["headers"]


async def test_a_large_answer_streams_through_intact(start_gateway: Any, upstream: Any, gw_auth: Any) -> None:
    _, url = upstream
    async with (
        start_gateway(registry_url=url) as gw,
        gw.client.stream(
            "GET", "/api/registry/organisations/export", headers=gw_auth("applicant")
        ) as response,
    ):
        chunks = [chunk async for chunk in response.aiter_raw()]
    assert response.status_code == 200
    assert b"".join(chunks) == BIG_EXPORT
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")


async def test_a_service_that_is_down_is_a_502_problem(gateway: Any, gw_auth: Any) -> None:
    for method in ("GET", "PATCH"):
        response = await gateway.client.request(
            method, "/api/registry/organisations/abc", json={}, headers=gw_auth("administrator")
        )
        assert response.status_code == 502
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["title_zh"] == "上游服务不可用"
        assert "127.0.0.1" not in response.text  # no internal address leaks


class DroppingFront:
    """A real TCP front of a service that drops its first connections unanswered (a service
    restarting, a keep-alive connection closed under the gateway) and relays the rest."""

    def __init__(self, target_port: int, drop: int) -> None:
        self.target_port = target_port
        self.drop = drop
        self.connections = 0
        self.open: list[asyncio.StreamWriter] = []

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        if self.connections <= self.drop:
            writer.close()
            return
        self.open.append(writer)
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))

    def close_connections(self) -> None:
        """The service restarts: the keep-alive connections the gateway holds go."""
        for writer in self.open:
            writer.close()
        self.open.clear()

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[str]:
        server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            server.close()


async def test_a_read_is_retried_when_the_connection_drops_and_a_write_never_is(
    start_gateway: Any, upstream: Any, gw_auth: Any
) -> None:
    stub, url = upstream
    port = int(url.rsplit(":", 1)[1])
    front = DroppingFront(port, drop=2)
    async with front.running() as front_url, start_gateway(registry_url=front_url) as gw:
        read = await gw.client.get("/api/registry/organisations/abc", headers=gw_auth("applicant"))
        assert read.status_code == 200 and read.json() == {"id": "abc"}
        assert front.connections == 3  # two dropped, the third answered
        front.close_connections()
        await asyncio.sleep(0.1)
        front.connections, front.drop = 0, 1
        write = await gw.client.post(
            "/api/registry/organisations", json={"name": "x"}, headers=gw_auth("administrator")
        )
        assert write.status_code == 502 and write.json()["title_zh"] == "上游服务不可用"
    assert front.connections == 1
    assert [r["method"] for r in stub.received] == ["GET"]  # the write never reached the service


async def test_a_slow_service_is_a_504_problem_and_a_write_is_not_retried(
    start_gateway: Any, gw_auth: Any
) -> None:
    stub = Upstream(delay=2.0)
    async with (
        serving(stub.app) as url,
        start_gateway(registry_url=url, upstream_read_timeout_seconds=0.3) as gw,
    ):  # type: ignore[arg-type]
        response = await gw.client.patch(
            "/api/registry/organisations/abc", json={"address": "x"}, headers=gw_auth("administrator")
        )
    assert response.status_code == 504
    assert response.json()["title_zh"] == "上游服务响应超时"
    assert [r["method"] for r in stub.received] == ["PATCH"]


async def test_an_oversized_body_is_a_413_and_never_reaches_the_service(
    start_gateway: Any, upstream: Any, gw_auth: Any
) -> None:
    stub, url = upstream
    async with start_gateway(registry_url=url, max_body_bytes=1024) as gw:
        declared = await gw.client.post(
            "/api/registry/organisations", content=b"x" * 2048, headers=gw_auth("administrator")
        )

        async def chunks() -> AsyncIterator[bytes]:
            for _ in range(4):
                yield b"y" * 512

        streamed = await gw.client.post(
            "/api/registry/organisations", content=chunks(), headers=gw_auth("administrator")
        )
        own_endpoint = await gw.client.post("/auth/token", content=b"{" + b" " * 4096 + b"}")
        fits = await gw.client.post(
            "/api/registry/organisations", content=b"z" * 512, headers=gw_auth("administrator")
        )
    assert declared.status_code == streamed.status_code == own_endpoint.status_code == 413
    assert declared.json()["title_zh"] == "请求内容过大"
    assert fits.status_code == 200
    assert [r["size"] for r in stub.received] == [512]  # only the body that fits arrived whole


async def test_security_headers_on_every_answer(gateway: Any, gw_auth: Any) -> None:
    for response in (
        await gateway.client.get("/.well-known/jwks.json"),
        await gateway.client.get("/api/registry/organisations/x"),
        await gateway.client.post("/auth/token", json={}),
    ):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
        assert "max-age" in response.headers["strict-transport-security"]
        assert "default-src 'none'" in response.headers["content-security-policy"]


async def test_cors_admits_only_the_configured_spa_origins(start_gateway: Any) -> None:
    async with start_gateway(cors_origins=["https://kjt.nmg.gov.cn"]) as gw:
        preflight = {
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization",
        }
        allowed = await gw.client.options(
            "/auth/token", headers={"Origin": "https://kjt.nmg.gov.cn", **preflight}
        )
        refused = await gw.client.options(
            "/auth/token", headers={"Origin": "https://evil.example", **preflight}
        )
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == "https://kjt.nmg.gov.cn"
    assert "access-control-allow-credentials" not in allowed.headers  # bearer tokens, no cookies
    assert "access-control-allow-origin" not in refused.headers


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {
        "iss": "sci-platform-gateway",
        "aud": "sci-platform",
        "sub": "intruder",
        "iat": now,
        "exp": now + 600,
        "jti": "j",
        "roles": ["administrator"],
    }
    claims.update(overrides)
    return claims


async def test_forged_expired_and_foreign_tokens_are_401_at_the_gateway(
    gateway: Any, gateway_issuer: TokenIssuer
) -> None:
    jwks = gateway_issuer.jwks()["keys"][0]
    kid = jwks["kid"]
    public_raw = base64.urlsafe_b64decode(jwks["x"] + "==")
    stranger = Ed25519PrivateKey.generate()
    now = int(time.time())
    tokens = {
        "expired": gateway_issuer.issue("u", roles=["administrator"], ttl_seconds=-120),
        "wrong audience": gateway_issuer.issue("u", roles=["administrator"], extra={"aud": "another-system"}),
        "wrong issuer": gateway_issuer.issue(
            "u", roles=["administrator"], extra={"iss": "https://evil.example"}
        ),
        "alg none": f"{_b64({'alg': 'none', 'kid': kid, 'typ': 'JWT'})}.{_b64(_claims())}.",
        "HS256 with the public key": jwt.encode(
            _claims(), public_raw, algorithm="HS256", headers={"kid": kid}
        ),
        "unknown kid": jwt.encode(_claims(), stranger, algorithm="EdDSA", headers={"kid": "not-ours"}),
        "known kid, other key": jwt.encode(_claims(), stranger, algorithm="EdDSA", headers={"kid": kid}),
        "not yet valid": jwt.encode(
            _claims(iat=now + 3600, nbf=now + 3600), stranger, algorithm="EdDSA", headers={"kid": kid}
        ),
        "garbage": "not.a.token",
    }
    for name, token in tokens.items():
        for path in ("/api/registry/organisations/x", "/auth/me"):
            response = await gateway.client.get(path, headers={"Authorization": f"Bearer {token}"})
            assert response.status_code == 401, (name, path, response.text)
            assert "Traceback" not in response.text


async def test_rotated_key_keeps_verifying_tokens_it_signed(start_gateway: Any, gateway_key_pem: str) -> None:
    async with start_gateway() as before:
        old = await before.client.post(
            "/auth/token", json={"username": "root-admin", "password": "Admin-Pass-2026!"}
        )
        old_token = old.json()["access_token"]
        database = before.database
    async with start_gateway(
        database=database, signing_key_pem=new_key_pem(), previous_signing_keys_pem=[gateway_key_pem]
    ) as after:
        jwks = (await after.client.get("/.well-known/jwks.json")).json()
        assert len(jwks["keys"]) == 2
        assert (
            await after.client.get("/auth/me", headers={"Authorization": f"Bearer {old_token}"})
        ).status_code == 200
        fresh = await after.client.post(
            "/auth/token", json={"username": "root-admin", "password": "Admin-Pass-2026!"}
        )
        new_kid = jwt.get_unverified_header(fresh.json()["access_token"])["kid"]
        assert new_kid != jwt.get_unverified_header(old_token)["kid"]
        assert new_kid == jwks["keys"][-1]["kid"]
    assert PublicFormat and Encoding  # imported for readers comparing raw key bytes above


async def test_connections_to_a_service_are_kept_alive_and_its_headers_relayed_as_sent(
    start_gateway: Any, gw_auth: Any
) -> None:
    service = KeepAliveService()
    async with service.running() as url, start_gateway(registry_url=url) as gw:
        answers = [
            await gw.client.get("/api/registry/organisations/abc", headers=gw_auth("applicant"))
            for _ in range(10)
        ]
    assert [a.status_code for a in answers] == [200] * 10
    assert service.connections == 1
    # Repeated headers come through one by one, not folded into one or cut to the last.
    assert answers[0].headers.get_list("link") == [
        "</organisations?page=2>; rel=next",
        "</organisations>; rel=first",
    ]


async def test_a_connection_the_service_closed_while_idle_is_not_used_for_a_write(
    start_gateway: Any, gw_auth: Any
) -> None:
    service = KeepAliveService(idle_close=0.2)
    async with service.running() as url, start_gateway(registry_url=url) as gw:
        first = await gw.client.get("/api/registry/organisations/abc", headers=gw_auth("applicant"))
        await asyncio.sleep(0.5)  # the service's keep-alive ran out and it closed the connection
        write = await gw.client.post(
            "/api/registry/organisations", json={"name": "x"}, headers=gw_auth("administrator")
        )
    assert first.status_code == write.status_code == 200
    assert service.connections == 2
    assert service.requests == ["GET", "POST"]


async def test_connections_to_a_service_stay_within_the_limit_and_callers_wait_their_turn(
    start_gateway: Any, gw_auth: Any
) -> None:
    service = KeepAliveService(delay=0.2)
    async with service.running() as url, start_gateway(registry_url=url, upstream_max_connections=2) as gw:
        answers = await asyncio.gather(
            *(
                gw.client.get("/api/registry/organisations/abc", headers=gw_auth("applicant"))
                for _ in range(6)
            )
        )
    assert [a.status_code for a in answers] == [200] * 6
    assert service.connections == 2 and service.peak_busy == 2


async def test_a_chunked_upload_streams_through_intact(
    start_gateway: Any, upstream: Any, gw_auth: Any
) -> None:
    stub, url = upstream

    async def chunks() -> AsyncIterator[bytes]:
        for index in range(3):
            yield bytes([65 + index]) * 512

    async with start_gateway(registry_url=url) as gw:
        response = await gw.client.post(
            "/api/registry/organisations", content=chunks(), headers=gw_auth("administrator")
        )
    assert response.status_code == 200
    assert stub.received[0]["size"] == 1536
    assert stub.received[0]["headers"].get("transfer-encoding") == "chunked"


async def test_a_download_abandoned_halfway_gives_its_connection_back(
    start_gateway: Any, upstream: Any, gw_auth: Any
) -> None:
    _, url = upstream
    # One connection to the service: were it kept by the abandoned download, the next call
    # would wait for it and end in a 504.
    async with start_gateway(
        http=True, registry_url=url, upstream_max_connections=1, upstream_connect_timeout_seconds=1.0
    ) as gw:
        async with gw.client.stream(
            "GET", "/api/registry/organisations/export", headers=gw_auth("applicant")
        ) as download:
            async for _ in download.aiter_raw():
                break  # the caller goes away after the first piece
        after = await gw.client.get("/api/registry/organisations/abc", headers=gw_auth("applicant"))
    assert download.status_code == 200
    assert after.status_code == 200 and after.json() == {"id": "abc"}


async def test_a_service_that_breaks_off_halfway_through_its_answer_is_a_502_problem(
    start_gateway: Any, gw_auth: Any
) -> None:
    async def half_answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(
            b'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{"id": '
        )
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(half_answer, "127.0.0.1", 0)
    url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    try:
        async with start_gateway(registry_url=url) as gw:
            response = await gw.client.get("/api/registry/organisations/abc", headers=gw_auth("applicant"))
    finally:
        server.close()
    assert response.status_code == 502
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["title_zh"] == "上游服务不可用"


async def test_headers_the_gateway_sets_itself_come_once(start_gateway: Any, gw_auth: Any) -> None:
    async def organisation(request: Request) -> JSONResponse:
        return JSONResponse({"id": "abc"}, headers={"x-request-id": "set-by-the-service"})

    service = Starlette(routes=[Route("/organisations/{org_id}", organisation)])
    async with serving(service) as url, start_gateway(http=True, registry_url=url) as gw:  # type: ignore[arg-type]
        response = await gw.client.get(
            "/api/registry/organisations/abc", headers={**gw_auth("applicant"), "X-Request-ID": "req-7"}
        )
    assert response.status_code == 200
    for name in ("date", "server", "x-request-id"):
        assert len(response.headers.get_list(name)) == 1, name
    assert response.headers["x-request-id"] == "req-7"
