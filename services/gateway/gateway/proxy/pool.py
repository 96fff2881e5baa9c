"""Keep-alive connections from the gateway to one service, for the proxy hop.

The connections are httpcore's own HTTP/1.1 connections (``AsyncHTTP11Connection``, what an
``httpx.AsyncClient`` speaks through), over the asyncio network backend in ``network.py``.
What this module replaces is only httpcore's general-purpose pool around them, which on every
request queues the request, looks over every pooled connection, and waits on an anyio event
with a cancel scope; with HTTP/1.1 to a single origin the choice is simpler: take the most
recently used idle connection that is still good, or open one, within ``max_connections``.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator
from typing import Protocol, cast

import httpcore
from httpcore import AsyncHTTP11Connection, AsyncNetworkStream

from gateway.proxy.network import AsyncioBackend


class ConnectionPool:
    def __init__(
        self,
        scheme: bytes,
        host: bytes,
        port: int,
        *,
        max_connections: int,
        keepalive_expiry: float | None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.origin = httpcore.Origin(scheme, host, port)
        self.keepalive_expiry = keepalive_expiry
        self.ssl_context = ssl_context
        self.backend = AsyncioBackend()
        self._idle: list[AsyncHTTP11Connection] = []
        self._slots = asyncio.Semaphore(max_connections)
        self._closed = False

    @property
    def idle_connections(self) -> int:
        return len(self._idle)

    async def send(self, request: httpcore.Request) -> Answer:
        timeouts = request.extensions.get("timeout", {})
        await self._take_slot(timeouts.get("pool"))
        connection: AsyncHTTP11Connection | None = None
        try:
            connection = await self._reuse() or await self._connect(timeouts.get("connect"))
            response = await connection.handle_async_request(request)
        except BaseException:
            if connection is None:
                self._slots.release()
            elif not self._returned(connection):
                await connection.aclose()
            raise
        return Answer(response.status, response.headers, cast(_Body, response.stream), connection, self)

    async def _take_slot(self, timeout: float | None) -> None:
        if self._closed:
            raise httpcore.ConnectError("the pool is closed")
        if not self._slots.locked():
            await self._slots.acquire()
            return
        try:
            async with asyncio.timeout(timeout):
                await self._slots.acquire()
        except TimeoutError as exc:
            raise httpcore.PoolTimeout("no connection to the service became free in time") from exc

    async def _reuse(self) -> AsyncHTTP11Connection | None:
        while self._idle:
            connection = self._idle.pop()
            # Past its keep-alive, or closed by the service while it idled (answered from the
            # backend's state, no system call).
            if not connection.has_expired() and connection.is_idle():
                return connection
            await connection.aclose()
        return None

    async def _connect(self, timeout: float | None) -> AsyncHTTP11Connection:
        host = self.origin.host.decode("ascii")
        stream: AsyncNetworkStream = await self.backend.connect_tcp(host, self.origin.port, timeout=timeout)
        if self.origin.scheme == b"https":
            context = self.ssl_context or ssl.create_default_context()
            stream = await stream.start_tls(context, server_hostname=host, timeout=timeout)
        return AsyncHTTP11Connection(self.origin, stream, keepalive_expiry=self.keepalive_expiry)

    def _returned(self, connection: AsyncHTTP11Connection) -> bool:
        """Back from a finished exchange; False when it cannot be used again."""
        self._slots.release()
        if self._closed or not connection.is_idle():
            return False
        self._idle.append(connection)
        return True

    async def aclose(self) -> None:
        self._closed = True
        idle, self._idle = self._idle, []
        await asyncio.gather(*(connection.aclose() for connection in idle), return_exceptions=True)


class _Body(Protocol):
    def __aiter__(self) -> AsyncIterator[bytes]: ...

    async def aclose(self) -> None: ...


class Answer:
    """A service's answer: status, raw headers, and the body still to be read. Closing it
    (always, once read or abandoned) hands the connection back to the pool."""

    def __init__(
        self,
        status: int,
        headers: list[tuple[bytes, bytes]],
        body: _Body,
        connection: AsyncHTTP11Connection,
        pool: ConnectionPool,
    ) -> None:
        self.status = status
        self.headers = headers
        self._body = body
        self._connection = connection
        self._pool: ConnectionPool | None = pool

    def header(self, name: bytes) -> bytes | None:
        for key, value in self.headers:
            if key.lower() == name:
                return value
        return None

    async def read(self) -> bytes:
        return b"".join([chunk async for chunk in self._body])

    async def chunks(self) -> AsyncIterator[bytes]:
        async for chunk in self._body:
            yield chunk

    async def aclose(self) -> None:
        pool, self._pool = self._pool, None
        if pool is None:
            return
        try:
            await self._body.aclose()
        finally:
            if not pool._returned(self._connection):
                await self._connection.aclose()
