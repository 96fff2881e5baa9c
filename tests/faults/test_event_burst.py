"""A burst of writes while NATS, a consumer and the producer are each killed (SIGKILL) and
started again: every accepted write reaches the consumer exactly once (0 lost, 0 doubled).

The services run as processes of their own (``python -m <service> serve``), as in production,
so that a kill is a real one: no drain, no clean shutdown, connections cut mid-flight.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from shared.devstack.ports import free_port
from shared.testing.servers import eventually
from tests.helpers import org_body

pytestmark = [pytest.mark.asyncio, pytest.mark.timeout(300)]

BURST_SECONDS = 12.0
WRITERS = 4


class ServiceProcess:
    def __init__(self, name: str, env: dict[str, str], log: Path) -> None:
        self.name = name
        self.port = free_port()
        self.env = env
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _spawn(self) -> subprocess.Popen[bytes]:
        with self.log.open("ab") as out:
            return subprocess.Popen(
                [sys.executable, "-m", self.name, "serve", "--port", str(self.port)],
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    async def start(self) -> None:
        self.proc = self._spawn()
        async with httpx.AsyncClient(timeout=2) as client:
            for _ in range(300):
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get(f"{self.url}/readyz")).status_code == 200:
                        return
                assert self.proc.poll() is None, self.log.read_text()[-3000:]
                await asyncio.sleep(0.1)
        raise AssertionError(f"{self.name} not ready: {self.log.read_text()[-3000:]}")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()


@contextlib.asynccontextmanager
async def service_process(
    name: str, infra: Any, nats_url: str, namespace: str, jwks_json: str, tmp_path: Path
) -> AsyncIterator[tuple[ServiceProcess, str]]:
    definition = __import__(f"{name}.definition", fromlist=["MIGRATIONS_DIR"])
    database, _ = await infra.fresh_database(name, definition.MIGRATIONS_DIR)
    prefix = name.upper() + "_"
    env = {k: v for k, v in os.environ.items() if not k.startswith(prefix)} | {
        prefix + "DATABASE_URL": infra.database_url(database),
        prefix + "NATS_URL": nats_url,
        prefix + "ENVIRONMENT": "test",
        prefix + "EVENTS_NAMESPACE": namespace,
        prefix + "AUTH_JWKS_JSON": jwks_json,
        prefix + "RELAY_POLL_INTERVAL_SECONDS": "0.2",
        prefix + "CONSUMER_RETRY_BASE_SECONDS": "0.05",
        prefix + "CONSUMER_ACK_WAIT_SECONDS": "5",
        prefix + "DB_POOL_SIZE": "5",
        "PYTHONUNBUFFERED": "1",
    }
    svc = ServiceProcess(name, env, tmp_path / f"{name}.log")
    await svc.start()
    try:
        yield svc, database
    finally:
        svc.kill()


async def _scalar(infra: Any, database: str, sql: str) -> int:
    conn = await asyncpg.connect(infra.libpq_url(database))
    try:
        return int(await conn.fetchval(sql))
    finally:
        await conn.close()


async def test_a_burst_through_nats_consumer_and_producer_kills_loses_and_doubles_nothing(
    infra: Any, own_nats: Any, namespace: str, jwks_json: str, auth: Any, tmp_path: Path
) -> None:
    nats = own_nats()
    staff = auth("department_staff")
    async with (
        service_process("registry", infra, nats.url, namespace, jwks_json, tmp_path) as (producer, reg_db),
        service_process("projects", infra, nats.url, namespace, jwks_json, tmp_path) as (consumer, proj_db),
    ):
        accepted: set[str] = set()
        refused: list[int | str] = []
        numbers = iter(range(1, 1_000_000))
        stop = asyncio.Event()

        async def writer() -> None:
            async with httpx.AsyncClient(timeout=10) as client:
                while not stop.is_set():
                    try:
                        r = await client.post(
                            f"{producer.url}/organisations", json=org_body(next(numbers)), headers=staff
                        )
                    except httpx.HTTPError as exc:  # the producer is down: nothing accepted
                        refused.append(type(exc).__name__)
                        await asyncio.sleep(0.05)
                        continue
                    if r.status_code == 201:
                        accepted.add(r.json()["id"])
                    else:
                        refused.append(r.status_code)

        async def faults() -> list[str]:
            done = []
            await asyncio.sleep(2)
            await asyncio.to_thread(nats.kill)
            await asyncio.sleep(2)
            await asyncio.to_thread(nats.start)
            done.append("NATS killed and restarted")
            await asyncio.sleep(1.5)
            consumer.kill()
            await asyncio.sleep(1)
            await consumer.start()
            done.append("consumer killed and restarted")
            await asyncio.sleep(1.5)
            producer.kill()
            await asyncio.sleep(1)
            await producer.start()
            done.append("producer killed and restarted")
            return done

        started = time.monotonic()
        writers = [asyncio.create_task(writer()) for _ in range(WRITERS)]
        injected = await faults()
        await asyncio.sleep(max(0.0, BURST_SECONDS - (time.monotonic() - started)))
        stop.set()
        await asyncio.gather(*writers)
        burst_end = time.monotonic()

        async def all_applied() -> bool:
            # every accepted write, by id: a count would also take a write the producer committed
            # as it was killed (refused to the caller, yet applied) for one still on its way
            conn = await asyncpg.connect(infra.libpq_url(proj_db))
            try:
                ids = {str(r["id"]) for r in await conn.fetch("SELECT id FROM organisations")}
            finally:
                await conn.close()
            return accepted <= ids

        with contextlib.suppress(AssertionError):  # the counts below say what is missing
            await eventually(all_applied, timeout=90, interval=0.25)
        converged = time.monotonic() - burst_end

        conn = await asyncpg.connect(infra.libpq_url(proj_db))
        try:
            in_read_model = {str(r["id"]) for r in await conn.fetch("SELECT id FROM organisations")}
            inbox = await conn.fetch("SELECT event_id FROM inbox WHERE source = 'registry'")
        finally:
            await conn.close()
        outbox_rows = await _scalar(infra, reg_db, "SELECT count(*) FROM outbox")
        unsent = await _scalar(infra, reg_db, "SELECT count(*) FROM outbox WHERE sent_at IS NULL")

        lost = len(accepted - in_read_model)
        unexpected = len(in_read_model - accepted)  # a write refused to the caller yet applied
        doubled = len(inbox) - len({r["event_id"] for r in inbox})
        print(
            f"\nburst: {len(accepted)} writes accepted, {len(refused)} refused while the producer was "
            f"down ({sorted(set(map(str, refused)))}); {', '.join(injected)}; "
            f"lost {lost}, doubled {doubled}, converged {converged:.1f}s after the burst"
        )
        assert len(injected) == 3
        assert len(accepted) > 100  # a burst, even on a loaded machine
        assert lost == 0 and doubled == 0
        assert unexpected == 0 or outbox_rows >= len(in_read_model)  # never an event without a row
        assert len(inbox) == outbox_rows and unsent == 0  # every event published and applied once
        assert all(str(s) in {"ConnectError", "RemoteProtocolError", "ReadError", "503"} for s in refused)
