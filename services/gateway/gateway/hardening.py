"""Edge protections of the one public door: body size limit, security headers, CORS.

Plain ASGI middlewares (not ``BaseHTTPMiddleware``) so that proxied bodies keep streaming and
the gateway adds almost nothing to each request.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from fastapi import FastAPI
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware

from gateway.proxy.forward import ProxyFastPath
from gateway.settings import GatewaySettings
from shared.http.docs import DOCS_CSP, DOCS_PATHS
from shared.http.problems import problem

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"strict-transport-security", b"max-age=63072000; includeSubDomains"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-site"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
]
# An API answers with data, never with pages: nothing may run or be framed. The document pages
# (Swagger UI and ReDoc, served from the platform's own files) may load from the gateway only.
API_CSP = b"default-src 'none'; frame-ancestors 'none'"
DOCS_CSP_HEADER = DOCS_CSP.encode()


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        csp = DOCS_CSP_HEADER if scope["path"] in DOCS_PATHS else API_CSP

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers}
                headers.extend((k, v) for k, v in SECURITY_HEADERS if k not in present)
                if b"content-security-policy" not in present:
                    headers.append((b"content-security-policy", csp))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


class BodyTooLarge(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is larger than {limit} bytes")


class BodyLimit:
    """413 for a declared or an actual body above the limit, before it reaches a service."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for key, value in scope.get("headers", []):
            if key == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = -1
                if declared < 0 or declared > self.max_bytes:
                    response = problem(
                        413 if declared > 0 else 400,
                        "Request body too large" if declared > 0 else "Bad request",
                        f"the request body is larger than {self.max_bytes} bytes"
                        if declared > 0
                        else "invalid Content-Length",
                        instance=scope["path"],
                        title_zh="请求内容过大" if declared > 0 else "请求有误",
                    )
                    await response(scope, receive, send)
                    return
        seen = 0

        async def counting_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise BodyTooLarge(self.max_bytes)
            return message

        await self.app(scope, counting_receive, send)


def install(app: FastAPI, settings: GatewaySettings) -> None:
    # Innermost: proxied calls skip the router but keep every middleware added before and after.
    app.user_middleware.append(Middleware(ProxyFastPath))
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    if settings.cors_origins:
        # Tokens travel in the Authorization header, never in cookies: no credentials mode,
        # which also keeps the API out of reach of CSRF.
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_credentials=False,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=["authorization", "content-type", "x-request-id", "idempotency-key"],
            expose_headers=["x-request-id", "retry-after", "content-disposition"],
            max_age=600,
        )
    app.add_middleware(SecurityHeaders)
