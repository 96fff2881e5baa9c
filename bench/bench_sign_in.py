"""Sign-in limits on a deadline day: thousands of people behind one address, and an attacker.

The gateway runs in a process of its own under uvicorn, as deployed, on its own database with
``BENCH_SIGN_IN_PEOPLE`` (default 2,000) active accounts; the load comes from this process
through ``POST /auth/token``, each client bound to a loopback source address so that the
gateway sees the address a NAT would show it.

* deadline day: every person signs in once, ``BENCH_SIGN_IN_CONCURRENCY`` (default 32) at a
  time, all from one address — and, as the baseline in the same run, the same people again
  spread over 20 addresses. Both must succeed in full and within a minute.
* brute force on one account: ``BENCH_SIGN_IN_GUESSES`` (default 40) wrong passwords, then the
  right one: how many passwords the attacker had checked before the lockout and the
  per-identifier limit stopped them, and whether the right password was refused while locked.
* password spray from one address: one wrong password against each account: how many were
  checked before the per-address failure limit answered 429.

Argon2 is set cheap (``BENCH_SIGN_IN_HASH_*``) because the limits are the subject here, not
the hash: at the production cost (64 MiB, t=3) a sign-in costs ~50–100 ms of a core.
"""

from __future__ import annotations

import asyncio
import multiprocessing as mp
import os
import time
from collections import Counter
from typing import Any

import httpx

from bench.bench_gateway import _cpu_seconds, _database, _wait_ready
from bench.common import percentile, print_table, servers

PEOPLE = int(os.environ.get("BENCH_SIGN_IN_PEOPLE", "2000"))
CONCURRENCY = int(os.environ.get("BENCH_SIGN_IN_CONCURRENCY", "32"))
GUESSES = int(os.environ.get("BENCH_SIGN_IN_GUESSES", "40"))
HASHING = {
    "password_hash_time_cost": int(os.environ.get("BENCH_SIGN_IN_HASH_TIME_COST", "1")),
    "password_hash_memory_kib": int(os.environ.get("BENCH_SIGN_IN_HASH_MEMORY_KIB", "1024")),
    "password_hash_parallelism": 1,
}
PASSWORD = "Deadline-Day-2026!"
SPREAD_ADDRESSES = 20


def _serve(settings: dict[str, Any], port: int) -> None:
    import uvicorn

    from gateway.app import create_app
    from gateway.settings import GatewaySettings

    app = create_app(GatewaySettings(**settings))
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False, lifespan="on")


async def _people(database_url: str) -> None:
    """Active applicants with one password (the accounts an approval would leave behind)."""
    import asyncpg

    from gateway.accounts.passwords import Passwords
    from shared.ids import uuid7

    password_hash = Passwords(
        time_cost=HASHING["password_hash_time_cost"],
        memory_kib=HASHING["password_hash_memory_kib"],
        parallelism=1,
    ).hash(PASSWORD)
    conn = await asyncpg.connect(database_url.replace("postgresql+asyncpg", "postgresql"))
    try:
        ids = [uuid7() for _ in range(PEOPLE)]
        await conn.copy_records_to_table(
            "accounts",
            columns=[
                "id", "username", "display_name", "password_hash", "status", "unit_id",
                "must_change_password", "failed_sign_ins", "version", "created_at", "updated_at",
            ],
            records=[
                (i, f"teacher{n:05d}", f"教师{n}", password_hash, "active", "unit-imu", False, 0, 1,
                 _now(), _now())
                for n, i in enumerate(ids)
            ],
        )  # fmt: skip
        await conn.copy_records_to_table(
            "role_grants",
            columns=["id", "account_id", "role", "scope_ids", "duties", "status", "granted_at"],
            records=[(uuid7(), i, "applicant", "[]", "[]", "active", _now()) for i in ids],
        )
    finally:
        await conn.close()


def _now() -> Any:
    from shared.clock import utcnow

    return utcnow()


def _client(address: str) -> httpx.AsyncClient:
    transport = httpx.AsyncHTTPTransport(local_address=address)
    limits = httpx.Limits(
        max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY, keepalive_expiry=2.0
    )
    return httpx.AsyncClient(transport=transport, limits=limits, timeout=60)


async def _sign_in(client: httpx.AsyncClient, url: str, username: str, password: str) -> tuple[int, float]:
    started = time.perf_counter()
    response = await client.post(f"{url}/auth/token", json={"username": username, "password": password})
    return response.status_code, (time.perf_counter() - started) * 1000


async def _everyone(url: str, addresses: list[str], pid: int) -> dict[str, Any]:
    clients = [_client(a) for a in addresses]
    queue = list(range(PEOPLE))
    results: list[tuple[int, float]] = []

    async def worker(w: int) -> None:
        while queue:
            n = queue.pop()
            results.append(await _sign_in(clients[n % len(clients)], url, f"teacher{n:05d}", PASSWORD))

    cpu_before = _cpu_seconds(pid)
    started = time.perf_counter()
    await asyncio.gather(*(worker(w) for w in range(CONCURRENCY)))
    elapsed = time.perf_counter() - started
    cpu_ms = (_cpu_seconds(pid) - cpu_before) / len(results) * 1000
    for client in clients:
        await client.aclose()
    statuses = Counter(s for s, _ in results)
    latencies = [ms for _, ms in results]
    return {
        "ok": statuses.get(200, 0),
        "refused": sum(v for k, v in statuses.items() if k != 200),
        "seconds": elapsed,
        "rate": len(results) / elapsed,
        "p50": percentile(latencies, 50),
        "p99": percentile(latencies, 99),
        "cpu_ms": cpu_ms,
    }


async def _brute_force(url: str) -> dict[str, Any]:
    async with _client("127.0.0.200") as client:
        statuses = [
            (await _sign_in(client, url, "teacher00000", f"Guess-{n:04d}!x"))[0] for n in range(GUESSES)
        ]
        right, _ = await _sign_in(client, url, "teacher00000", PASSWORD)
    checked = statuses.count(401)
    return {"guesses": GUESSES, "answered_401": checked, "answered_429": statuses.count(429), "right": right}


async def _spray(url: str) -> dict[str, int]:
    async with _client("127.0.0.201") as client:
        statuses = [
            (await _sign_in(client, url, f"teacher{n:05d}", "Spring-2026-Spray!"))[0] for n in range(1, 501)
        ]
    first_429 = statuses.index(429) if 429 in statuses else len(statuses)

    # a fixed window may roll over during the spray, after which failures count afresh
    return {"tried": len(statuses), "first_429_after": first_429, "answered_401": statuses.count(401),
            "answered_429": statuses.count(429)}  # fmt: skip


async def _run(pg_url: str, nats_url: str) -> None:
    from gateway.definition import MIGRATIONS_DIR
    from shared.auth import new_signing_key_pem
    from shared.devstack.ports import free_port

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    database_url = await _database(pg_url, "bench_sign_in_gateway", MIGRATIONS_DIR)
    await _people(database_url)
    settings = {
        "environment": "local",
        "nats_url": nats_url,
        "events_namespace": "benchsignin",
        "log_level": "WARNING",
        "database_url": database_url,
        "signing_key_pem": new_signing_key_pem(),
        "registry_url": "http://127.0.0.1:9",
        "projects_url": "http://127.0.0.1:9",
        "evaluation_url": "http://127.0.0.1:9",
        "background_work": False,
        **HASHING,
    }
    process = mp.get_context("spawn").Process(target=_serve, args=(settings, port), daemon=True)
    process.start()
    try:
        await _wait_ready(url)
        pid = process.pid or 0
        spread = await _everyone(url, [f"127.0.0.{10 + n}" for n in range(SPREAD_ADDRESSES)], pid)
        one = await _everyone(url, ["127.0.0.2"], pid)
        rows = []
        for label, r in (
            (f"baseline: spread over {SPREAD_ADDRESSES} addresses", spread),
            ("all from one address", one),
        ):
            rows.append(
                (
                    label,
                    PEOPLE,
                    r["ok"],
                    r["refused"],
                    r["seconds"],
                    r["rate"],
                    r["p50"],
                    r["p99"],
                    r["cpu_ms"],
                )
            )
        headers = ["deadline day: each person signs in once", "people", "200", "refused", "seconds"]
        print_table([*headers, "sign-ins/s", "p50 ms", "p99 ms", "gateway CPU ms each"], rows)
        brute = await _brute_force(url)
        spray = await _spray(url)
        locked = f"right password → {brute['right']}"
        print_table(
            ["attack", "attempts", "answered 401", "answered 429", "then"],
            [
                (
                    "brute force on one account",
                    brute["guesses"],
                    brute["answered_401"],
                    brute["answered_429"],
                    locked,
                ),
                (
                    "password spray from one address",
                    spray["tried"],
                    spray["answered_401"],
                    spray["answered_429"],
                    f"first 429 after {spray['first_429_after']} failures",
                ),
            ],
        )
        within = one["ok"] == PEOPLE and one["seconds"] <= 60
        print(
            f"{one['ok']} of {PEOPLE} people behind one address signed in in {one['seconds']:.1f} s"
            f" ({'within' if within else 'NOT within'} a minute); the attacker on one account was"
            f" answered 401 {brute['answered_401']} times (locked from the fifth failure, with back-off)"
        )
    finally:
        process.terminate()
        process.join(timeout=15)


def main() -> None:
    with servers() as (pg_url, nats_url):
        asyncio.run(_run(pg_url, nats_url))


if __name__ == "__main__":
    main()
