"""Loopback port helpers shared by the embedded servers and the ``make run`` orchestrator."""

from __future__ import annotations

import socket
import time

__all__ = ["free_port", "port_is_free", "wait_for_port"]


def free_port(host: str = "127.0.0.1") -> int:
    """Return a port that nothing listens on right now.

    The kernel picks it (bind to port 0), so parallel test workers rarely collide; there is an
    unavoidable window between this call and the server binding, which callers accept.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def port_is_free(host: str, port: int) -> bool:
    """Whether a server could bind ``host:port`` now.

    SO_REUSEADDR mirrors what PostgreSQL and nats-server do, so connections of a just-killed
    server lingering in TIME_WAIT do not count as "in use" (restart tests rely on that), while a
    live listener on the port (or on the wildcard address) does.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


def wait_for_port(host: str, port: int, timeout: float) -> None:
    """Block until something accepts TCP connections on ``host:port``.

    Polls with a short, growing interval instead of a fixed sleep so fast servers are picked up
    within milliseconds. Raises :class:`TimeoutError` after ``timeout`` seconds.
    """
    deadline = time.monotonic() + timeout
    delay = 0.005
    while True:
        try:
            with socket.create_connection((host, port), timeout=min(1.0, max(timeout, 0.05))):
                return
        except OSError as exc:
            last_error = exc
        if time.monotonic() >= deadline:
            raise TimeoutError(
                f"nothing accepted connections on {host}:{port} within {timeout:g}s "
                f"(last error: {last_error})"
            )
        time.sleep(delay)
        delay = min(delay * 2, 0.1)
