"""Stand-in services for the proxy's tests, written at the socket so that a test sees what
reaches them and how."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import AsyncIterator


class KeepAliveService:
    """A real HTTP/1.1 service on a loopback port, written at the socket so that the test
    sees its connections: it answers request after request on one connection and, like
    uvicorn's keep-alive timeout, closes a connection left idle for ``idle_close`` seconds."""

    def __init__(self, *, idle_close: float = 5.0, delay: float = 0.0) -> None:
        self.idle_close = idle_close
        self.delay = delay
        self.connections = 0
        self.busy = 0
        self.peak_busy = 0
        self.requests: list[str] = []
        self.port = 0

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                try:
                    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), self.idle_close)
                except (TimeoutError, asyncio.IncompleteReadError, ConnectionError):
                    return
                request_line, *lines = head.decode("latin-1").split("\r\n")
                fields = dict(line.lower().split(": ", 1) for line in lines if line)
                await reader.readexactly(int(fields.get("content-length", "0")))
                self.requests.append(request_line.split(" ")[0])
                self.busy += 1
                self.peak_busy = max(self.peak_busy, self.busy)
                await asyncio.sleep(self.delay)
                self.busy -= 1
                body = b'{"id": "abc"}'
                writer.write(
                    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
                    b"link: </organisations?page=2>; rel=next\r\nlink: </organisations>; rel=first\r\n"
                    b"content-length: %d\r\n\r\n%b" % (len(body), body)
                )
                await writer.drain()
        finally:
            writer.close()

    @contextlib.asynccontextmanager
    async def running(self, tls: ssl.SSLContext | None = None) -> AsyncIterator[str]:
        server = await asyncio.start_server(self._handle, "127.0.0.1", 0, ssl=tls)
        self.port = server.sockets[0].getsockname()[1]
        try:
            yield f"{'https' if tls else 'http'}://127.0.0.1:{self.port}"
        finally:
            server.close()
