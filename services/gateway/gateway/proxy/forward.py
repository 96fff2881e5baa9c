"""Reverse proxy to the services: pooled clients, timeouts, streaming, clear 502/504.

Before anything is forwarded the route must be in the route table (``routes.py``) and the
caller's token must hold one of its roles: 404 for a route not listed, 401 without a valid
token, 403 for a role the line does not name. The services check the token again.

Retries happen only for idempotent methods without a body, and only when the connection
could not be made or broke before an answer came (a refused connection, a pooled keep-alive
connection the service had just closed). Anything else is answered once: 502 or 504.

Proxied calls are most of the gateway's traffic, so they are served straight from the ASGI
layer (``ProxyFastPath``, the innermost middleware: request ids, metrics, body limits and
security headers still apply) rather than through FastAPI's router and dependency machinery.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import jwt
from starlette.background import BackgroundTask
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route as StarletteRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.proxy.routes import TABLE
from gateway.settings import GatewaySettings
from shared.auth import Principal, TokenVerifier
from shared.context import current_request_id
from shared.errors import DomainError, Forbidden, Unauthenticated
from shared.http.problems import domain_problem, problem

log = logging.getLogger(__name__)

HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailers",
    "transfer-encoding",
    "upgrade",
    "host",
    "content-length",
    "cookie",
}
SMALL_BODY = 256 * 1024
RETRYABLE_METHODS = {"GET", "HEAD", "OPTIONS"}
# Operational endpoints stay inside the cluster; the gateway never exposes them.
BLOCKED_PATHS = {"healthz", "readyz", "metrics"}
# The service could not be reached, or dropped the connection before answering.
UNREACHED = (httpx.ConnectError, httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError)
# httpx's pool looks at every pooled connection on every request; a few smaller pools per
# service, taken in turn, keep that look short under load.
POOL_SHARDS = 4


@dataclass(frozen=True)
class Upstream:
    """One pool of connections to a service, used without httpx's client layer: a proxy
    needs no cookie jar (one shared by all callers would be wrong), redirects or auth flows,
    and skipping them is a good part of the gateway's own cost per request."""

    base_url: str
    transport: httpx.AsyncHTTPTransport
    timeout: dict[str, float | None]

    def request(self, method: str, target: str, headers: dict[str, str], content: Any) -> httpx.Request:
        return httpx.Request(
            method,
            self.base_url + target,
            headers=headers,
            content=content,
            extensions={"timeout": self.timeout},
        )

    async def send(self, request: httpx.Request) -> httpx.Response:
        response = await self.transport.handle_async_request(request)
        response.request = request
        return response


class Upstreams:
    def __init__(self, settings: GatewaySettings) -> None:
        timeout = httpx.Timeout(
            connect=settings.upstream_connect_timeout_seconds,
            read=settings.upstream_read_timeout_seconds,
            write=settings.upstream_read_timeout_seconds,
            pool=settings.upstream_connect_timeout_seconds,
        )
        per_shard = max(1, settings.upstream_max_connections // POOL_SHARDS)
        limits = httpx.Limits(max_connections=per_shard, max_keepalive_connections=per_shard)
        urls = {name: url.rstrip("/") for name, url in settings.upstreams().items()}
        self.pools = {
            name: [
                Upstream(url, httpx.AsyncHTTPTransport(limits=limits), timeout.as_dict())
                for _ in range(POOL_SHARDS)
            ]
            for name, url in urls.items()
        }
        self._turns: dict[str, Iterator[Upstream]] = {
            name: itertools.cycle(shards) for name, shards in self.pools.items()
        }
        # Everything else the gateway asks of a service (its OpenAPI document) goes through a
        # plain client.
        self.clients = {name: httpx.AsyncClient(base_url=url, timeout=timeout) for name, url in urls.items()}

    def upstream(self, service: str) -> Upstream | None:
        turn = self._turns.get(service)
        return next(turn) if turn is not None else None

    async def close(self) -> None:
        await asyncio.gather(
            *(u.transport.aclose() for shards in self.pools.values() for u in shards),
            *(c.aclose() for c in self.clients.values()),
        )


def _forward_headers(request: Request) -> dict[str, str]:
    headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP}
    headers["x-request-id"] = current_request_id() or ""
    client = request.client.host if request.client else ""
    prior = request.headers.get("x-forwarded-for")
    headers["x-forwarded-for"] = f"{prior}, {client}" if prior else client
    headers["x-forwarded-proto"] = request.url.scheme
    return headers


class VerifiedTokens:
    """Tokens this gateway already verified, until they expire: an SPA sends the same token
    with every call for its lifetime, and the signature check is most of the gateway's work."""

    def __init__(self, verifier: TokenVerifier, max_entries: int = 10_000) -> None:
        self.verifier = verifier
        self.max_entries = max_entries
        self._cache: dict[str, tuple[Principal, float]] = {}

    async def verify(self, token: str) -> Principal:
        hit = self._cache.get(token)
        if hit is not None and hit[1] > time.time():
            return hit[0]
        principal = await self.verifier.verify(token)
        expires = jwt.decode(token, options={"verify_signature": False}).get("exp", 0)
        if len(self._cache) >= self.max_entries:
            self._cache.clear()
        self._cache[token] = (principal, float(expires))
        return principal


async def _authorise(tokens: VerifiedTokens, request: Request, roles: frozenset[str]) -> None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Unauthenticated("a bearer token is required", "请先登录")
    principal = await tokens.verify(token.strip())
    if not principal.has_role(*roles):
        raise Forbidden(
            "your roles may not call this route",
            "当前角色无权访问该接口",
            extra={"required_roles": sorted(roles)},
        )


class ProxyFastPath:
    """Serves ``/api/<service>/…`` at the ASGI layer; everything else goes on to FastAPI."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/api/"):
            await self.app(scope, receive, send)
            return
        scope["route"] = PROXY_ROUTE  # one metrics label for every proxied call
        request = Request(scope, receive)
        try:
            response = await forward(request)
        except DomainError as exc:
            response = domain_problem(exc, scope["path"])
        except HTTPException as exc:  # the body limit, raised while the body streams upstream
            response = problem(
                exc.status_code,
                "Request body too large" if exc.status_code == 413 else "Bad request",
                str(exc.detail),
                instance=scope["path"],
                title_zh="请求内容过大" if exc.status_code == 413 else "请求有误",
            )
        await response(scope, receive, send)


async def forward(request: Request) -> Response:
    _, _, rest = request.url.path.partition("/api/")
    service, _, path = rest.partition("/")
    runtime = request.app.state.runtime
    upstreams: Upstreams = runtime.extras["upstreams"]
    client = upstreams.upstream(service)
    route = TABLE.match(service, request.method, "/" + path)
    segments = path.split("/")
    if client is None or route is None or segments[0] in BLOCKED_PATHS or ".." in segments or "." in segments:
        return problem(
            404, "Not found", "No such service route", instance=request.url.path, title_zh="未找到"
        )
    await _authorise(runtime.extras["verified_tokens"], request, route.roles)
    method = request.method
    has_body = method not in RETRYABLE_METHODS and method != "DELETE"
    query = request.scope.get("query_string", b"").decode("latin-1")
    # Forward the path exactly as it came (still percent-encoded), minus /api/<service>:
    # re-encoding the decoded one would choke on characters a client was right to escape.
    raw_path = request.scope.get("raw_path", b"").decode("latin-1")
    prefix = f"/api/{service}"
    target = raw_path[len(prefix) :] if raw_path.startswith(prefix) else f"/{path}"
    try:
        upstream_request = client.request(
            method,
            f"{target}?{query}" if query else target,
            headers=_forward_headers(request),
            content=request.stream() if has_body else None,
        )
    except httpx.InvalidURL:
        return problem(
            400,
            "Bad request",
            "The request URL cannot be forwarded",
            instance=request.url.path,
            title_zh="请求地址无效",
        )
    attempts = 3 if method in RETRYABLE_METHODS else 1
    for attempt in range(1, attempts + 1):
        try:
            upstream = await client.send(upstream_request)
            break
        except UNREACHED:
            if attempt == attempts:
                log.warning("upstream unreachable", extra={"service": service})
                return problem(
                    502,
                    "Bad gateway",
                    f"the {service} service is not reachable",
                    instance=request.url.path,
                    title_zh="上游服务不可用",
                )
            await asyncio.sleep(0.05 * attempt)
        except httpx.TimeoutException:
            log.warning("upstream timed out", extra={"service": service})
            return problem(
                504,
                "Gateway timeout",
                f"the {service} service did not answer in time",
                instance=request.url.path,
                title_zh="上游服务响应超时",
            )
    headers = {k: v for k, v in upstream.headers.items() if k.lower() not in HOP_BY_HOP}
    length = upstream.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) <= SMALL_BODY:
        # Small answers (most JSON) in one piece; large ones (Excel exports) stream.
        try:
            content = await upstream.aread()
        finally:
            await upstream.aclose()
        return Response(content, status_code=upstream.status_code, headers=headers)
    return StreamingResponse(
        upstream.aiter_raw(),
        status_code=upstream.status_code,
        headers=headers,
        background=BackgroundTask(upstream.aclose),
    )


# What serves every proxied call, as the route metrics label it.
PROXY_ROUTE = StarletteRoute("/api/{service}/{path:path}", forward)
