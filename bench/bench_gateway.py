"""The gateway's cost: the same endpoint called directly on the registry and through the
gateway, in the same run, with authentication on both ways.

Registry and gateway each run in a process of their own under uvicorn, as deployed; the load
comes from this process over keep-alive connections. The request is a signed-in read of one
organisation (``GET /organisations/{id}`` vs ``GET /api/registry/organisations/{id}``): the
gateway checks the route table and the token, then the registry checks the token again.

* latency: one request at a time (``BENCH_GATEWAY_SERIAL``, default 1000 per path, the two
  paths alternating request by request), p50 / p99
* throughput: ``BENCH_GATEWAY_CONCURRENCY`` (default 16) clients, ``BENCH_GATEWAY_ROUNDS``
  (default 8) paired rounds over ``BENCH_GATEWAY_SECONDS`` (default 16) seconds: each round
  measures both paths back to back, in turn first, and the share kept is the median of the
  rounds' own ratios, so that a slow spell of a shared machine weighs on both sides of a
  ratio rather than on one path's median

The three processes share the machine's cores: on a small machine the gateway's own CPU comes
out of the registry's, so throughput through it is a floor, not what separate hosts would give.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing as mp
import os
import time
from typing import Any

import asyncpg
import httpx

from bench.common import percentile, print_table, servers

SERIAL = int(os.environ.get("BENCH_GATEWAY_SERIAL", "1000"))
CONCURRENCY = int(os.environ.get("BENCH_GATEWAY_CONCURRENCY", "16"))
SECONDS = float(os.environ.get("BENCH_GATEWAY_SECONDS", "16"))
ROUNDS = int(os.environ.get("BENCH_GATEWAY_ROUNDS", "8"))


def _serve(name: str, settings: dict[str, Any], port: int) -> None:
    import uvicorn

    if name == "registry":
        from registry.app import create_app
        from registry.settings import RegistrySettings

        app = create_app(RegistrySettings(**settings))
    else:
        from gateway.app import create_app as create_gateway
        from gateway.settings import GatewaySettings

        app = create_gateway(GatewaySettings(**settings))
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False, lifespan="on")


async def _database(pg_url: str, name: str, migrations_dir: Any) -> str:
    from shared.devstack.postgres import database_url
    from shared.migrations import upgrade

    conn = await asyncpg.connect(database_url(pg_url, "postgres"))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    url = database_url(pg_url, name, scheme="postgresql+asyncpg")
    await asyncio.to_thread(upgrade, migrations_dir, url)
    return url


async def _wait_ready(url: str) -> None:
    async with httpx.AsyncClient() as client:
        for _ in range(600):
            try:
                if (await client.get(f"{url}/readyz")).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.1)
    raise TimeoutError(f"{url} did not become ready")


async def _serial(
    clients: list[httpx.AsyncClient], urls: list[str], headers: dict[str, str]
) -> list[list[float]]:
    """One request at a time, alternating between the paths so that both see the same noise."""
    for _ in range(50):  # warm the connection pools and caches
        for client, url in zip(clients, urls, strict=True):
            (await client.get(url, headers=headers)).raise_for_status()
    latencies: list[list[float]] = [[] for _ in urls]
    for _ in range(SERIAL):
        for index, url in enumerate(urls):
            started = time.perf_counter()
            response = await clients[index].get(url, headers=headers)
            latencies[index].append((time.perf_counter() - started) * 1000)
            response.raise_for_status()
    return latencies


def _cpu_seconds(pid: int) -> float:
    """User + system CPU a process has used so far (Linux; 0 where /proc is missing)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class CpuPerCall:
    """CPU each server process spent per call, summed over the rounds of one path."""

    def __init__(self, pids: dict[str, int]) -> None:
        self.pids = pids
        self.seconds = dict.fromkeys(pids, 0.0)
        self.calls = 0

    def ms(self, name: str) -> float:
        return self.seconds[name] / self.calls * 1000 if self.calls else 0.0


async def _throughput(
    client: httpx.AsyncClient, url: str, headers: dict[str, str], seconds: float, cpu: CpuPerCall
) -> float:
    done = 0
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal done
        while time.perf_counter() < deadline:
            (await client.get(url, headers=headers)).raise_for_status()
            done += 1

    before = {name: _cpu_seconds(pid) for name, pid in cpu.pids.items()}
    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    elapsed = time.perf_counter() - started
    for name, pid in cpu.pids.items():
        cpu.seconds[name] += _cpu_seconds(pid) - before[name]
    cpu.calls += done
    return done / elapsed


async def _rounds(
    clients: list[httpx.AsyncClient], urls: list[str], headers: dict[str, str], cpu: list[CpuPerCall]
) -> tuple[list[float], list[float]]:
    """Median requests/s of each path, and the second path's rate over the first's in each of
    ROUNDS paired rounds (the order alternating from round to round)."""
    rates: list[list[float]] = [[] for _ in urls]
    ratios: list[float] = []
    for round_ in range(ROUNDS):
        order = range(len(urls)) if round_ % 2 == 0 else reversed(range(len(urls)))
        this_round = {}
        for index in order:
            this_round[index] = await _throughput(
                clients[index], urls[index], headers, SECONDS / ROUNDS, cpu[index]
            )
            rates[index].append(this_round[index])
        ratios.append(this_round[1] / this_round[0])
    return [percentile(r, 50) for r in rates], ratios


async def _run(pg_url: str, nats_url: str) -> None:
    from gateway.definition import MIGRATIONS_DIR as GATEWAY_MIGRATIONS
    from registry.definition import MIGRATIONS_DIR as REGISTRY_MIGRATIONS
    from shared.auth import TokenIssuer, new_signing_key_pem
    from shared.devstack.ports import free_port

    key = new_signing_key_pem()
    issuer = TokenIssuer.from_pems(key, issuer="sci-platform-gateway", audience="sci-platform")
    registry_port, gateway_port = free_port(), free_port()
    registry_url, gateway_url = f"http://127.0.0.1:{registry_port}", f"http://127.0.0.1:{gateway_port}"
    common = {
        "environment": "local",
        "nats_url": nats_url,
        "events_namespace": "benchgw",
        "log_level": "WARNING",
    }
    registry_settings = {
        **common,
        "database_url": await _database(pg_url, "bench_gw_registry", REGISTRY_MIGRATIONS),
        "auth_jwks_json": json.dumps(issuer.jwks()),
    }
    gateway_settings = {
        **common,
        "database_url": await _database(pg_url, "bench_gw_gateway", GATEWAY_MIGRATIONS),
        "signing_key_pem": key,
        "registry_url": registry_url,
        "projects_url": "http://127.0.0.1:9",
        "evaluation_url": "http://127.0.0.1:9",
        "background_work": False,
    }
    ctx = mp.get_context("spawn")
    processes = [
        ctx.Process(target=_serve, args=("registry", registry_settings, registry_port), daemon=True),
        ctx.Process(target=_serve, args=("gateway", gateway_settings, gateway_port), daemon=True),
    ]
    for process in processes:
        process.start()
    try:
        await asyncio.gather(_wait_ready(registry_url), _wait_ready(gateway_url))
        staff = {
            "Authorization": f"Bearer {issuer.issue('bench', roles=['department_staff'], ttl_seconds=3600)}"
        }
        reader = {"Authorization": f"Bearer {issuer.issue('bench', roles=['applicant'], ttl_seconds=3600)}"}
        body = {
            "name": "内蒙古大学",
            "credit_code": "91150100MA0N0G2A1C",
            "type": "university",
            "region": "150100",
            "address": "呼和浩特市赛罕区大学西街235号",
        }
        # One client (one connection pool) per path: a pool shared by both would look over the
        # resting path's idle connections on every request of the measured one, slowing
        # whichever path comes right after a switch. Idle connections are let go before
        # uvicorn's 5 s keep-alive ends them under the client (a path rests while the other is
        # measured).
        limits = httpx.Limits(
            max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY, keepalive_expiry=2.0
        )
        async with (
            httpx.AsyncClient(limits=limits, timeout=30) as client,
            httpx.AsyncClient(limits=limits, timeout=30) as through_gateway,
        ):
            created = await client.post(f"{registry_url}/organisations", json=body, headers=staff)
            created.raise_for_status()
            org_id = created.json()["id"]
            targets = {
                "direct to registry": f"{registry_url}/organisations/{org_id}",
                "through the gateway": f"{gateway_url}/api/registry/organisations/{org_id}",
            }
            urls = list(targets.values())
            clients = [client, through_gateway]
            latencies = await _serial(clients, urls, reader)
            pids = {"registry": processes[0].pid or 0, "gateway": processes[1].pid or 0}
            cpu = [CpuPerCall(pids), CpuPerCall(pids)]
            rates, ratios = await _rounds(clients, urls, reader, cpu)
            figures = {
                name: (percentile(lat, 50), percentile(lat, 99), rps)
                for name, lat, rps in zip(targets, latencies, rates, strict=True)
            }
            direct, gateway = figures["direct to registry"], figures["through the gateway"]
            rows: list[tuple[object, ...]] = [
                (name, SERIAL, p50, p99, CONCURRENCY, rps) for name, (p50, p99, rps) in figures.items()
            ]
            rows.append(
                (
                    "gateway adds",
                    "",
                    gateway[0] - direct[0],
                    gateway[1] - direct[1],
                    "",
                    gateway[2] - direct[2],
                )
            )
            print_table(
                [
                    "path (GET one organisation, token checked)",
                    "serial n",
                    "p50 ms",
                    "p99 ms",
                    "clients",
                    "req/s",
                ],
                rows,
            )
            print(
                f"gateway keeps {percentile(ratios, 50) * 100:.0f} % of direct throughput"
                f" (median of {len(ratios)} paired rounds; rounds ranged"
                f" {min(ratios) * 100:.0f}–{max(ratios) * 100:.0f} %)"
            )
            # What the gateway costs apart from how the machine shares its cores out: its own
            # CPU per call next to the registry's for the same call.
            direct_cpu, through_cpu = cpu
            print(
                f"CPU per call: registry {direct_cpu.ms('registry'):.2f} ms direct,"
                f" {through_cpu.ms('registry'):.2f} ms through the gateway;"
                f" gateway {through_cpu.ms('gateway'):.2f} ms"
                f" ({through_cpu.ms('gateway') / max(through_cpu.ms('registry'), 1e-9):.2f}× the registry's)"
            )
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.join(timeout=15)


def main() -> None:
    with servers() as (pg_url, nats_url):
        asyncio.run(_run(pg_url, nats_url))


if __name__ == "__main__":
    main()
