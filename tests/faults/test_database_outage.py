"""PostgreSQL stops in the middle of writes: every answer is a success or a 503 with
Retry-After (never another 5xx, never a 502 from the gateway), and writes resume without a
restart of any service once the database is back."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from typing import Any

import httpx
import pytest

from tests.helpers import org_body

pytestmark = [pytest.mark.asyncio, pytest.mark.timeout(180)]

WRITERS = 4


async def test_writes_during_a_database_outage_get_503_and_resume_after_it(
    own_postgres: Any, service_on: Any, gateway_before: Any, auth: Any
) -> None:
    staff = auth("department_staff")
    async with (
        service_on(own_postgres, "registry", http=True) as registry,
        gateway_before(registry_url=registry.base_url) as gw,
    ):
        outcomes: list[tuple[float, str, int, httpx.Response]] = []
        next_n = iter(range(1, 100_000))
        phase = {"name": "before"}
        stop = asyncio.Event()

        async def writer(client: httpx.AsyncClient) -> None:
            while not stop.is_set():
                body = org_body(next(next_n))
                r = await client.post("/api/registry/organisations", json=body, headers=staff)
                outcomes.append((time.monotonic(), phase["name"], r.status_code, r))
                r = await client.get("/api/registry/organisations?size=1", headers=staff)
                outcomes.append((time.monotonic(), phase["name"], r.status_code, r))
                await asyncio.sleep(0.02)

        async with httpx.AsyncClient(base_url=gw.base_url, timeout=30) as client:
            tasks = [asyncio.create_task(writer(client)) for _ in range(WRITERS)]
            await asyncio.sleep(1.5)
            phase["name"] = "outage"
            await asyncio.to_thread(own_postgres.stop, immediate=True)  # a crash: recovery on start
            await asyncio.sleep(3)
            phase["name"] = "restart"
            await asyncio.to_thread(own_postgres.start)
            phase["name"] = "after"
            await asyncio.sleep(3)
            stop.set()
            await asyncio.gather(*tasks)
            listed = await client.get("/api/registry/organisations?size=1", headers=staff)

        by_phase = Counter((p, s) for _, p, s, _ in outcomes)
        statuses = Counter(s for _, _, s, _ in outcomes)
        assert set(statuses) <= {200, 201, 503}, by_phase
        assert statuses[503] > 0, by_phase  # the outage was seen
        for _, _, status, response in outcomes:
            if status == 503:
                assert response.headers["retry-after"].isdigit()
                assert response.headers["content-type"].startswith("application/problem+json")
                assert response.json()["code"] == "database_unavailable"
        after = [s for _, p, s, _ in outcomes if p == "after"]
        assert after and set(after[-WRITERS * 4 :]) <= {200, 201}, by_phase  # writes resumed
        created = statuses[201]
        assert listed.status_code == 200
        # a 201 wrote everything; a 503 wrote nothing, except a commit that reached the database as
        # it crashed, whose answer never came back: at most one such write per writer in flight
        assert created <= listed.json()["total"] <= created + WRITERS, (listed.json()["total"], created)
        print(f"\ndatabase outage: {dict(by_phase)}")


async def test_a_database_that_accepts_but_never_answers_is_a_503_within_the_connect_timeout(
    start_service: Any, auth: Any
) -> None:
    """A network partition: the port takes the connection and says nothing (asyncpg alone
    would wait 60 s, and the gateway time out first)."""
    held: list[asyncio.StreamWriter] = []

    async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    silent = await asyncio.start_server(hold, "127.0.0.1", 0)
    port = silent.sockets[0].getsockname()[1]
    try:
        async with start_service(
            "registry",
            database="unreachable",
            database_url=f"postgresql+asyncpg://nobody@127.0.0.1:{port}/registry",
            db_connect_timeout_seconds=1.0,
        ) as registry:
            started = time.monotonic()
            response = await registry.client.get("/organisations", headers=auth("department_staff"))
            took = time.monotonic() - started
        assert response.status_code == 503, response.text
        assert response.headers["retry-after"] == "2"
        assert took < 5, took
    finally:
        for writer in held:
            writer.close()
        silent.close()
