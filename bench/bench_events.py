"""The event path against raw JetStream, measured in the same run on the same servers.

* baseline: one publisher, synchronous acks, straight to JetStream (``sync_interval: always``)
* event path: committed outbox rows in the registry database → registry's outbox relay →
  JetStream → the projects service's inbox consumer (its own process) applies each event
  (read model + inbox row). Measured on a backlog of committed events, as a relay finds it
  after a broker outage or a restart: the relay starts, and the figure is events applied per
  second until the last one is.
* live: the same path while registry's writers commit the events (32 writers and the relay
  in one process, as a service runs them): here the writers' own commit rate bounds it, and
  it is printed below it with how long after the last commit everything was published.
* latency: commit→applied at a steady 200 events/s, p50 / p99

Producer and consumer run in processes of their own on uvloop, as uvicorn runs them when
deployed (with ``gc_freeze_after_startup``, as outside tests); PostgreSQL runs durable (fsync
on). Sizes: ``BENCH_EVENTS_BURST`` (default 20,000 events: a shorter burst measures mostly the
relay's and the consumer's start-up), ``BENCH_EVENTS_STEADY_SECONDS`` (default 10).
``BENCH_EVENTS_SETTINGS`` (JSON) overrides service settings, to try a knob (e.g.
``{"consumer_batch_size": 500}``).
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing as mp
import os
import secrets
import time
from multiprocessing.connection import Connection
from typing import Any

import asyncpg
import nats
import uvloop
from nats.js.api import StorageType, StreamConfig

from bench.common import percentile, print_table, servers

BURST = int(os.environ.get("BENCH_EVENTS_BURST", "20000"))
STEADY_RATE = 200
STEADY_SECONDS = int(os.environ.get("BENCH_EVENTS_STEADY_SECONDS", "10"))
WRITERS = 32
# Producer processes, as replicas of the registry service: each runs its share of the writers
# and its own outbox relay (the relays share the work through row locks).
PRODUCERS = int(os.environ.get("BENCH_EVENTS_PRODUCERS", "1"))


def _payload(n: int) -> Any:
    from registry.organisations.events import OrganisationSnapshot
    from shared.ids import uuid7

    return OrganisationSnapshot(
        id=uuid7(),
        name=f"基准测试单位{n:06d}",
        credit_code=f"91150100{n:09d}X"[:18],
        type="enterprise",
        region="150100",
        address=f"呼和浩特市测试路{n}号",
        version=1,
    )


async def _producer(settings: dict[str, Any], conn: Connection) -> None:
    """Registry's process: takes commands, commits events, answers with commit times."""
    from registry.app import create_app
    from registry.organisations.events import ORGANISATION_REGISTERED
    from registry.settings import RegistrySettings
    from shared.events.relay import OutboxRelay
    from shared.testing.servers import running
    from shared.uow import Actor, UnitOfWork

    app = create_app(RegistrySettings(**settings))
    async with running(app):
        rt = app.state.runtime
        await rt.bus.wait_connected(timeout=30)
        loop = asyncio.get_running_loop()

        async def emit(n: int, committed: dict[str, float]) -> None:
            async with rt.sessionmaker() as session:
                uow = UnitOfWork(session, rt.tables, actor=Actor("bench"))
                payload = _payload(n)
                envelope = await uow.emit(
                    ORGANISATION_REGISTERED, payload, subject=f"organisation/{payload.id}"
                )
                await uow.commit()
            committed[str(envelope.id)] = time.time()

        conn.send("ready")
        while True:
            command = await loop.run_in_executor(None, conn.recv)
            committed: dict[str, float] = {}
            if command[0] == "burst":
                _, start, n = command
                await _write_burst(emit, iter(range(start, start + n)), committed)
            elif command[0] == "backlog":
                # The relay stopped (as in a broker outage) while the writers commit.
                _, start, n = command
                await rt.relay.stop()
                await _write_burst(emit, iter(range(start, start + n)), committed)
            elif command[0] == "relay":
                # A relay starts on the backlog, as after a restart: the service's own class
                # on the service's own connections.
                old = rt.relay
                rt.relay = OutboxRelay(
                    old.engine, rt.tables, rt.bus, rt.settings, woken_by=old.woken_by, tracing=old.tracing
                )
                committed[f"relay started in {os.getpid()}"] = time.time()
                rt.relay.start()
            elif command[0] == "steady":
                _, start, rate, seconds = command
                began = time.perf_counter()
                tasks = []
                for i in range(rate * seconds):
                    delay = began + i / rate - time.perf_counter()
                    if delay > 0:
                        await asyncio.sleep(delay)
                    tasks.append(asyncio.create_task(emit(start + i, committed)))
                await asyncio.gather(*tasks)
            else:
                await rt.relay.stop()  # the one started here, which the service does not know of
                return
            conn.send(committed)


async def _consumer(settings: dict[str, Any], conn: Connection) -> None:
    """Projects' process: its inbox consumer applies registry's events until told to stop."""
    from projects.app import create_app
    from projects.settings import ProjectsSettings
    from shared.testing.servers import running

    app = create_app(ProjectsSettings(**settings))
    async with running(app):
        conn.send("ready")
        await asyncio.get_running_loop().run_in_executor(None, conn.recv)


async def _write_burst(emit: Any, numbers: Any, committed: dict[str, float]) -> None:
    async def writer() -> None:
        for i in numbers:
            await emit(i, committed)

    await asyncio.gather(*(writer() for _ in range(WRITERS // PRODUCERS)))


def _run_producer(settings: dict[str, Any], conn: Connection) -> None:
    uvloop.run(_producer(settings, conn))  # the loop uvicorn runs the services on


def _run_consumer(settings: dict[str, Any], conn: Connection) -> None:
    uvloop.run(_consumer(settings, conn))


async def raw_publish_rate(nats_url: str, n: int) -> float:
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    name = f"RAWBENCH{secrets.token_hex(3).upper()}"
    await js.add_stream(StreamConfig(name=name, subjects=[f"{name.lower()}.>"], storage=StorageType.FILE))
    body = json.dumps({"specversion": "1.0", "data": _payload(0).model_dump(mode="json")}).encode()
    started = time.perf_counter()
    for i in range(n):
        await js.publish(f"{name.lower()}.x", body, headers={"Nats-Msg-Id": f"{i}"})
    elapsed = time.perf_counter() - started
    await js.delete_stream(name)
    await nc.close()
    return n / elapsed


class Inbox:
    """Reads the consumer's inbox directly: how many applied, and when."""

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn

    async def count(self) -> int:
        conn = await asyncpg.connect(self.dsn)
        try:
            return int(await conn.fetchval("SELECT count(*) FROM inbox"))
        finally:
            await conn.close()

    async def wait_for(self, n: int, timeout: float = 600) -> float:
        deadline = time.monotonic() + timeout
        while (have := await self.count()) < n:
            if time.monotonic() > deadline:
                raise TimeoutError(f"only {have} of {n} events applied")
            await asyncio.sleep(0.01)
        return time.perf_counter()

    async def last_applied(self) -> float:
        conn = await asyncpg.connect(self.dsn)
        try:
            return float((await conn.fetchval("SELECT max(applied_at) FROM inbox")).timestamp())
        finally:
            await conn.close()

    async def applied_at(self) -> dict[str, float]:
        conn = await asyncpg.connect(self.dsn)
        try:
            rows = await conn.fetch("SELECT event_id, applied_at FROM inbox")
        finally:
            await conn.close()
        return {str(r["event_id"]): r["applied_at"].timestamp() for r in rows}


async def _stages(registry_dsn: str, committed: dict[str, float]) -> dict[str, float]:
    """When the burst's last event was committed and published (the outbox's sent_at)."""
    conn = await asyncpg.connect(registry_dsn)
    try:
        last_sent = await conn.fetchval(
            "SELECT max(sent_at) FROM outbox WHERE id = ANY($1::uuid[])", list(committed)
        )
    finally:
        await conn.close()
    return {
        "first_commit": min(committed.values()),
        "last_commit": max(committed.values()),
        "last_sent": last_sent.timestamp(),
    }


async def _sent_at(registry_dsn: str, committed: dict[str, float]) -> dict[str, float]:
    conn = await asyncpg.connect(registry_dsn)
    try:
        rows = await conn.fetch("SELECT id, sent_at FROM outbox WHERE id = ANY($1::uuid[])", list(committed))
    finally:
        await conn.close()
    return {str(r["id"]): r["sent_at"].timestamp() for r in rows}


async def _ask(conn: Connection, command: tuple[Any, ...]) -> dict[str, float]:
    conn.send(command)
    answer: dict[str, float] = await asyncio.get_running_loop().run_in_executor(None, conn.recv)
    return answer


async def run(pg_url: str, nats_url: str) -> None:
    import projects.definition
    import registry.definition
    from shared.testing.infra import TestInfra

    infra = TestInfra(pg_server_url=pg_url, nats_url=nats_url)
    ctx = mp.get_context("spawn")
    try:
        registry_db, registry_url = await infra.fresh_database("registry", registry.definition.MIGRATIONS_DIR)
        projects_db, projects_url = await infra.fresh_database("projects", projects.definition.MIGRATIONS_DIR)
        common = {
            "nats_url": nats_url,
            "events_namespace": f"bench{secrets.token_hex(3)}",
            "environment": "test",
            "log_level": "WARNING",
            "db_pool_size": WRITERS // PRODUCERS,
            "gc_freeze_after_startup": True,
            **json.loads(os.environ.get("BENCH_EVENTS_SETTINGS", "{}")),
        }
        producer_ends = []
        processes = []
        for _ in range(PRODUCERS):
            end, child = ctx.Pipe()
            producer_ends.append(end)
            processes.append(
                ctx.Process(target=_run_producer, args=({**common, "database_url": registry_url}, child))
            )
        consumer_end, consumer_conn = ctx.Pipe()
        processes.append(
            ctx.Process(target=_run_consumer, args=({**common, "database_url": projects_url}, consumer_conn))
        )
        for process in processes:
            process.start()
        loop = asyncio.get_running_loop()
        for end in (*producer_ends, consumer_end):
            assert await loop.run_in_executor(None, end.recv) == "ready"
        inbox = Inbox(infra.libpq_url(projects_db))

        async def everyone(command: str, start: int, *args: int) -> dict[str, float]:
            share = args[0] // PRODUCERS
            answers = await asyncio.gather(
                *(
                    _ask(end, (command, start + i * 1_000_000, share, *args[1:]))
                    for i, end in enumerate(producer_ends)
                )
            )
            return {k: v for answer in answers for k, v in answer.items()}

        await everyone("burst", 0, 300)  # warm-up: pools, stream, consumer
        await inbox.wait_for(300)

        raw = await raw_publish_rate(nats_url, BURST)

        backlog = await everyone("backlog", 10_000, BURST)
        relay_started = min((await everyone("relay", 0, 0)).values())
        await inbox.wait_for(300 + BURST)
        backlog_stages = await _stages(infra.libpq_url(registry_db), backlog)
        backlog_applied = await inbox.last_applied()
        path_rate = BURST / (backlog_applied - relay_started)
        relay_rate = BURST / (backlog_stages["last_sent"] - relay_started)

        started = time.perf_counter()
        burst_committed = await everyone("burst", 500_000, BURST)
        finished = await inbox.wait_for(300 + 2 * BURST)
        live_rate = BURST / (finished - started)
        stages = await _stages(infra.libpq_url(registry_db), burst_committed)

        committed = await everyone("steady", 900_000, STEADY_RATE, STEADY_SECONDS)
        await inbox.wait_for(300 + 2 * BURST + len(committed))
        applied = await inbox.applied_at()
        latencies = [(applied[i] - t) * 1000 for i, t in committed.items()]
        sent = await _sent_at(infra.libpq_url(registry_db), committed)
        to_sent = [(sent[i] - t) * 1000 for i, t in committed.items()]

        for end in (*producer_ends, consumer_end):
            end.send(("stop",))
        for process in processes:
            process.join(30)
    finally:
        await infra.cleanup()

    print_table(
        ["measure", "value", "target"],
        [
            ["raw JetStream publish, 1 publisher, sync acks (events/s)", raw, "baseline"],
            [
                f"event path: {BURST:,} committed events → relay → JetStream → consumer applied (events/s)",
                path_rate,
                "≥ 100 % of raw",
            ],
            ["event path / raw", f"{path_rate / raw:.0%}", "≥ 100 %"],
            ["  of which: the relay published (events/s)", relay_rate, ""],
            [
                f"live: {PRODUCERS} producer process(es) × {WRITERS // PRODUCERS} writers committing, "
                "commit → applied (events/s)",
                live_rate,
                "",
            ],
            ["live / raw", f"{live_rate / raw:.0%}", ""],
            [
                "  of which: writers' commits (events/s)",
                BURST / (stages["last_commit"] - stages["first_commit"]),
                "",
            ],
            [
                "  of which: last commit → last published (ms)",
                (stages["last_sent"] - stages["last_commit"]) * 1000,
                "",
            ],
            [
                f"commit → applied at {STEADY_RATE}/s for {STEADY_SECONDS}s, p50 (ms)",
                percentile(latencies, 50),
                "",
            ],
            [
                f"commit → applied at {STEADY_RATE}/s for {STEADY_SECONDS}s, p99 (ms)",
                percentile(latencies, 99),
                "< 100",
            ],
            ["  of which: commit → published, p99 (ms)", percentile(to_sent, 99), ""],
        ],
    )


def main() -> None:
    with servers(durable=True) as (pg_url, nats_url):
        asyncio.run(run(pg_url, nats_url))


if __name__ == "__main__":
    main()
