"""The proxy's connections to a service, below the gateway: TLS, timeouts and the limit, each
against a real server on a loopback port."""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import ssl
from pathlib import Path

import httpcore
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from gateway.proxy.pool import ConnectionPool
from shared.devstack.ports import free_port

from .stand_ins import KeepAliveService

pytestmark = pytest.mark.asyncio

ANSWER = b'{"id": "abc"}'  # what the stand-in service answers


def _certificate(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=1))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "service.pem", directory / "service.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


def _get(port: int, scheme: bytes = b"http", timeout: dict[str, float] | None = None) -> httpcore.Request:
    return httpcore.Request(
        "GET",
        httpcore.URL(scheme=scheme, host=b"127.0.0.1", port=port, target=b"/organisations/abc"),
        headers=[(b"host", b"127.0.0.1")],
        extensions={"timeout": timeout or {}},
    )


async def _exchange(pool: ConnectionPool, request: httpcore.Request) -> tuple[int, bytes]:
    answer = await pool.send(request)
    try:
        return answer.status, await answer.read()
    finally:
        await answer.aclose()


async def test_a_service_behind_tls_is_reached_and_an_untrusted_one_refused(tmp_path: Path) -> None:
    cert, key = _certificate(tmp_path)
    server_side = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_side.load_cert_chain(cert, key)
    trusting = ssl.create_default_context(cafile=str(cert))
    service = KeepAliveService()
    async with service.running(tls=server_side):
        port = service.port
        pool = ConnectionPool(
            b"https", b"127.0.0.1", port, max_connections=2, keepalive_expiry=4, ssl_context=trusting
        )
        untrusting = ConnectionPool(b"https", b"127.0.0.1", port, max_connections=2, keepalive_expiry=4)
        try:
            assert await _exchange(pool, _get(port, b"https")) == (200, ANSWER)
            assert await _exchange(pool, _get(port, b"https")) == (200, ANSWER)
            assert pool.idle_connections == 1  # the TLS connection was kept and reused
            with pytest.raises(httpcore.ConnectError):
                await _exchange(untrusting, _get(port, b"https"))
        finally:
            await pool.aclose()
            await untrusting.aclose()


async def test_a_service_that_does_not_answer_in_time_is_a_read_timeout() -> None:
    service = KeepAliveService(delay=1.0)
    async with service.running():
        port = service.port
        pool = ConnectionPool(b"http", b"127.0.0.1", port, max_connections=2, keepalive_expiry=4)
        try:
            with pytest.raises(httpcore.ReadTimeout):
                await _exchange(pool, _get(port, timeout={"read": 0.1}))
            assert pool.idle_connections == 0  # a connection with an answer pending is not reused
        finally:
            await pool.aclose()


async def test_a_service_that_is_not_listening_is_a_connect_error() -> None:
    port = free_port()
    pool = ConnectionPool(b"http", b"127.0.0.1", port, max_connections=2, keepalive_expiry=4)
    with pytest.raises(httpcore.ConnectError):
        await _exchange(pool, _get(port))
    # The failed attempt gave its place back: the limit is not worn down by failures.
    with pytest.raises(httpcore.ConnectError):
        await _exchange(pool, _get(port, timeout={"pool": 0.1}))
    await pool.aclose()


async def test_a_caller_waits_for_a_free_connection_no_longer_than_the_pool_timeout() -> None:
    service = KeepAliveService(delay=0.5)
    async with service.running():
        port = service.port
        pool = ConnectionPool(b"http", b"127.0.0.1", port, max_connections=1, keepalive_expiry=4)
        try:
            slow = asyncio.create_task(_exchange(pool, _get(port)))
            await asyncio.sleep(0.1)
            with pytest.raises(httpcore.PoolTimeout):
                await _exchange(pool, _get(port, timeout={"pool": 0.1}))
            assert await slow == (200, ANSWER)
            assert await _exchange(pool, _get(port, timeout={"pool": 0.1})) == (200, ANSWER)
        finally:
            await pool.aclose()
