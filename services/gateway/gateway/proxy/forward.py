"""Reverse proxy to the services: pooled clients, timeouts, streaming, clear 502/504.

Before anything is forwarded the route must be in the route table (``routes.py``) and the
caller's token must hold one of its roles: 404 for a route not listed, 401 without a valid
token, 403 for a role the line does not name. The services check the token again.

Retries happen only for idempotent methods without a body, and only when the connection
could not be made (the request never reached the service).
"""

from __future__ import annotations

import asyncio
import logging
import time

import httpx
import jwt
from fastapi import APIRouter, Request
from starlette.background import BackgroundTask
from starlette.responses import Response, StreamingResponse

from gateway.proxy.routes import TABLE
from gateway.settings import GatewaySettings
from shared.auth import Principal, TokenVerifier
from shared.context import current_request_id
from shared.errors import Forbidden, Unauthenticated
from shared.http.problems import problem

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


class Upstreams:
    def __init__(self, settings: GatewaySettings) -> None:
        timeout = httpx.Timeout(
            connect=settings.upstream_connect_timeout_seconds,
            read=settings.upstream_read_timeout_seconds,
            write=settings.upstream_read_timeout_seconds,
            pool=settings.upstream_connect_timeout_seconds,
        )
        limits = httpx.Limits(
            max_connections=settings.upstream_max_connections,
            max_keepalive_connections=settings.upstream_max_connections // 2,
        )
        self.clients = {
            name: httpx.AsyncClient(base_url=url, timeout=timeout, limits=limits)
            for name, url in settings.upstreams().items()
        }

    async def close(self) -> None:
        await asyncio.gather(*(c.aclose() for c in self.clients.values()))


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


router = APIRouter()


@router.api_route(
    "/api/{service}/{path:path}",
    methods=["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"],
    include_in_schema=False,
)
async def forward(service: str, path: str, request: Request) -> Response:
    runtime = request.app.state.runtime
    upstreams: Upstreams = runtime.extras["upstreams"]
    client = upstreams.clients.get(service)
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
        upstream_request = client.build_request(
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
            upstream = await client.send(upstream_request, stream=True)
            break
        except httpx.ConnectError:
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
