"""PostgreSQL stops in the middle of writes: every answer is a success or a 503 with
Retry-After (never another 5xx, never a 502 from the gateway), writes resume without a
restart of any service once the database is back, and writes repeated with their
Idempotency-Key are stored exactly once."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import httpx
import pytest

from shared.devstack.postgres import database_url
from tests.helpers import org_body

pytestmark = [pytest.mark.asyncio, pytest.mark.timeout(180)]

WRITERS = 4
# a client may repeat sooner than the Retry-After the 503 proposes; the test keeps outages short
RETRY_SECONDS = 0.2


async def test_writes_during_a_database_outage_get_503_and_resume_after_it_exactly_once(
    own_postgres: Any, service_on: Any, gateway_before: Any, auth: Any
) -> None:
    """Every writer sends each write with an Idempotency-Key and repeats it, with the same key,
    after a 503 until it is answered 201. Whether a 503 said "not saved" or "outcome unknown"
    (the connection broke during COMMIT: stored or not), the register ends with every write
    exactly once."""
    staff = auth("department_staff")
    async with (
        service_on(own_postgres, "registry", http=True) as registry,
        gateway_before(registry_url=registry.base_url) as gw,
    ):
        outcomes: list[tuple[float, str, int, httpx.Response]] = []
        written: list[Write] = []
        next_n = iter(range(1, 100_000))
        phase = {"name": "before"}
        stop = asyncio.Event()

        async def write_once(client: httpx.AsyncClient) -> Write:
            """One write, repeated with its key until it is answered 201."""
            n = next(next_n)
            write = Write(n=n, name=org_body(n)["name"], key=str(uuid.uuid4()))
            deadline = time.monotonic() + 60
            while True:
                r = await client.post(
                    "/api/registry/organisations",
                    json=org_body(n),
                    headers={**staff, "Idempotency-Key": write.key},
                )
                outcomes.append((time.monotonic(), phase["name"], r.status_code, r))
                write.answers.append(r)
                if r.status_code == 201:
                    return write
                assert r.status_code == 503, r.text
                assert time.monotonic() < deadline, [a.status_code for a in write.answers]
                await asyncio.sleep(RETRY_SECONDS)

        async def writer(client: httpx.AsyncClient) -> None:
            while not stop.is_set():
                written.append(await write_once(client))
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

        conn = await asyncpg.connect(database_url(own_postgres.url, "registry"))
        try:
            stored = Counter(r["name"] for r in await conn.fetch("SELECT name FROM organisations"))
        finally:
            await conn.close()

    by_phase = Counter((p, s) for _, p, s, _ in outcomes)
    statuses = Counter(s for _, _, s, _ in outcomes)
    assert set(statuses) <= {200, 201, 503}, by_phase
    assert statuses[503] > 0, by_phase  # the outage was seen
    codes: Counter[str] = Counter()
    for _, _, status, response in outcomes:
        if status == 503:
            assert response.headers["retry-after"].isdigit()
            assert response.headers["content-type"].startswith("application/problem+json")
            codes[response.json()["code"]] += 1
    assert set(codes) <= {"database_unavailable", "commit_outcome_unknown"}, codes
    after = [s for _, p, s, _ in outcomes if p == "after"]
    assert after and set(after[-WRITERS * 4 :]) <= {200, 201}, by_phase  # writes resumed

    # exactly once: every write answered 201 is stored, none twice, nothing else stored
    assert all(w.answers[-1].status_code == 201 for w in written)
    doubled = {name: count for name, count in stored.items() if count > 1}
    assert not doubled, doubled
    assert set(stored) == {w.name for w in written}, (len(stored), len(written))
    # every "outcome unknown" was settled by its retry: the stored first answer, or the write now
    unknown = [w for w in written if any(_code(a) == "commit_outcome_unknown" for a in w.answers)]
    replayed = [w for w in unknown if w.answers[-1].headers.get("idempotent-replayed") == "true"]
    for w in written:
        if w.answers[-1].headers.get("idempotent-replayed") == "true":
            assert w.answers[-1].json()["name"] == w.name
    print(
        f"\ndatabase outage: {dict(by_phase)}; 503 codes {dict(codes)}; "
        f"{len(written)} writes, {sum(len(w.answers) > 1 for w in written)} retried, "
        f"{len(unknown)} with outcome unknown ({len(replayed)} of them had been stored: replayed)"
    )


def _code(response: httpx.Response) -> str | None:
    if response.status_code != 503:
        return None
    code: str | None = response.json().get("code")
    return code


@dataclass
class Write:
    n: int
    name: str
    key: str
    answers: list[httpx.Response] = field(default_factory=list)


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
