"""Reviewer assignment through the service, as the office runs it, at provincial and national size.

Each case bulk-loads experts (with their people, units, declarations, integrity bars and
collaborations) and a requested round into the evaluation service's own database (with the
service tests' loader, ``services/evaluation/tests/bulk.py``: rows only, no assignment logic),
starts the service in its own process (uvicorn, its own run workers), queues the run with
``POST /rounds/{id}/runs``, follows it with ``GET /rounds/{id}/runs`` and counts the assignments
the run persisted. Every 回避 rule is on (``same_department`` too). During the national runs a
client reads ``GET /healthz`` and ``GET /experts/{id}`` every 25 ms: their p99 is the service's
answer time while it assigns.

Baseline, in the same run: the per-pair path the service had before (``run_assignment`` looping
over every item x expert in Python), measured from git history (commit ``BASELINE_COMMIT``
extracted into a temporary directory and served the same way) on 1,000 x 1,000, and the
current service on the very same data.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import httpx
import numpy as np

from bench.common import percentile, print_table, servers

BASELINE_COMMIT = "b6ccf8c"  # the last commit with the per-pair assignment path
K, LOAD = 5, 15
RULES = {"same_department": {"enabled": True}}  # every rule on; the others are on by default
GIB = 1024**3
REPO = Path(__file__).resolve().parent.parent


@dataclass
class Case:
    name: str
    items: int
    experts: int
    mode: str
    probe: bool = False  # read the service while it runs


def _codes() -> list[str]:
    """Discipline codes experts and items carry: every field, and every discipline without fields."""
    from evaluation import disciplines

    table = disciplines.table()
    with_fields = {d.parent for d in table.values() if d.level == 3}
    return [d.code for d in table.values() if d.level == 3 or (d.level == 2 and d.code not in with_fields)]


def _neighbour(codes: list[str], rng: np.random.Generator, first: Any) -> Any:
    """For each first code, another code of the same discipline, else of the same department."""
    from evaluation import disciplines

    n = len(first)
    by_parent: dict[str, list[int]] = {}
    for i, c in enumerate(codes):
        by_parent.setdefault(disciplines.second(c) or c, []).append(i)
    by_top: dict[str, list[int]] = {}
    for i, c in enumerate(codes):
        by_top.setdefault(disciplines.top(c), []).append(i)
    out = np.empty(n, np.int64)
    for j, f in enumerate(first.tolist()):
        code = codes[f]
        pool = by_parent[disciplines.second(code) or code]
        pool = pool if len(pool) > 1 else by_top[disciplines.top(code)]
        out[j] = pool[int(rng.integers(0, len(pool)))]
    return out


def _instance(n_items: int, n_experts: int, seed: int) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    codes = _codes()
    n_units, n_words = max(50, n_experts // 17), 5_000
    expert_code = rng.integers(0, len(codes), n_experts)
    return {
        "codes": codes,
        "n_units": n_units,
        "expert_code": expert_code,
        # three experts in ten name a second code, a neighbour of the first (the same discipline)
        "expert_code2": np.where(rng.random(n_experts) < 0.3, _neighbour(codes, rng, expert_code), -1),
        "expert_unit": rng.integers(0, n_units, n_experts),
        "expert_words": rng.integers(0, n_words, (n_experts, 5)),
        "expert_dept": rng.integers(0, max(10, n_experts // 10), n_experts),
        "item_code": rng.integers(0, len(codes), n_items),
        "item_unit": rng.integers(0, n_units, n_items),
        "item_words": rng.integers(0, n_words, (n_items, 4)),
        "item_dept": rng.integers(0, 50, n_items),
        # one applicant in ten is an expert; a fifth of the items have an expert on the team
        "item_applicant": np.where(rng.random(n_items) < 0.1, rng.integers(0, n_experts, n_items), -1),
        "item_team": np.where(rng.random(n_items) < 0.2, rng.integers(0, n_experts, n_items), -1),
        "declared": np.unique(
            rng.integers(0, n_experts, n_experts // 2) * n_units + rng.integers(0, n_units, n_experts // 2)
        ),
        "collab": np.unique(rng.integers(0, n_experts, (n_experts, 2)), axis=0),
        "barred": rng.random(n_experts) < 0.01,
        # one unit in a hundred is registered twice (the same unified social credit code)
        "unit_code": np.where(
            rng.random(n_units) < 0.01, rng.integers(0, n_units, n_units), np.arange(n_units)
        ),
    }


async def _database(pg_url: str, name: str) -> str:
    from shared.devstack.postgres import database_url

    conn = await asyncpg.connect(database_url(pg_url, "postgres", scheme="postgresql"))
    await conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()
    return database_url(pg_url, name, scheme="postgresql+asyncpg")


def _today(years: int = 0) -> date:
    today = date.today()
    return today.replace(year=today.year + years)


async def _load(dsn: str, d: dict[str, Any], rounds: int) -> tuple[list[UUID], list[UUID]]:
    """Untimed setup, straight into the service's tables with the service tests' own bulk loader;
    returns the rounds and the expert ids."""
    from services.evaluation.tests import bulk

    conn = await asyncpg.connect(dsn)
    n_experts, n_items, n_units = len(d["expert_code"]), len(d["item_code"]), d["n_units"]
    codes, words = d["codes"], [f"词{w}" for w in range(5_000)]
    units = [uuid4() for _ in range(n_units)]
    depts = [uuid4() for _ in range(int(d["expert_dept"].max()) + 51)]
    credit_codes = [f"91150100{int(d['unit_code'][u]):010d}" for u in range(n_units)]
    await bulk.insert_units(conn, list(zip(units, credit_codes, strict=True)))
    loaded = await bulk.insert_experts(
        conn,
        [
            bulk.BulkExpert(
                codes=[codes[d["expert_code"][e]]]
                + ([codes[d["expert_code2"][e]]] if d["expert_code2"][e] >= 0 else []),
                unit=units[d["expert_unit"][e]],
                keywords=[words[w] for w in d["expert_words"][e]],
                department=depts[d["expert_dept"][e]],
                region="out" if e % 7 == 0 else "150100",
                max_load=LOAD,
                confirmed_until=_today(1),
                barred=bool(d["barred"][e]),
            )
            for e in range(n_experts)
        ],
    )
    experts = [x for x, _, _ in loaded]
    persons = [p for _, p, _ in loaded]
    await bulk.insert_declarations(
        conn, [(experts[int(x) // n_units], units[int(x) % n_units]) for x in d["declared"]]
    )
    await bulk.insert_collaborations(
        conn,
        [(persons[int(a)], persons[int(b)]) for a, b in d["collab"] if a != b],
        start=_today(-2),
        end=_today(1),
    )
    round_ids = []
    for _ in range(rounds):
        round_id, _ = await bulk.insert_round(
            conn,
            [
                bulk.BulkItem(
                    codes=[codes[d["item_code"][i]]],
                    keywords=[words[w] for w in d["item_words"][i]],
                    applicant=persons[a] if (a := int(d["item_applicant"][i])) >= 0 else None,
                    unit=units[d["item_unit"][i]],
                    team=[persons[t]] if (t := int(d["item_team"][i])) >= 0 else [],
                    competent_department=depts[int(d["item_dept"][i])],
                )
                for i in range(n_items)
            ],
            k=K,
            max_load=LOAD,
            rules=RULES,
            name="bench",
            code="B{:06d}",
        )
        round_ids.append(round_id)
    await conn.execute("ANALYZE")
    await conn.close()
    return round_ids, experts


SERVE = (
    "import uvicorn; from evaluation.app import create_app; "
    "uvicorn.run(create_app(), host='127.0.0.1', port={port}, log_config=None, access_log=False)"
)


@contextlib.asynccontextmanager
async def _service(env: dict[str, str], pythonpath: str | None = None) -> AsyncIterator[tuple[str, int, Any]]:
    """The evaluation service in its own process, as deployed; yields its URL, pid and log file."""
    from shared.devstack.ports import free_port

    port = free_port()
    extra = {"PYTHONPATH": pythonpath} if pythonpath else {}
    log = tempfile.TemporaryFile()  # noqa: SIM115  closed below
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        SERVE.format(port=port),
        env=os.environ | env | extra,
        # the interpreter puts its working directory first on the path: the old tree's, for the baseline
        cwd=pythonpath.split(":")[-1] if pythonpath else None,
        stdout=log,
        stderr=log,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=base, timeout=2) as probe:
            for _ in range(600):
                if proc.returncode is not None:
                    log.seek(0)
                    raise RuntimeError(log.read().decode(errors="replace")[-3000:])
                with contextlib.suppress(httpx.TransportError):
                    if (await probe.get("/readyz")).status_code == 200:
                        break
                await asyncio.sleep(0.1)
            else:
                raise TimeoutError("service did not become ready")
        yield base, proc.pid, log
    finally:
        proc.terminate()
        try:
            await asyncio.wait_for(proc.wait(), 20)
        except TimeoutError:
            proc.kill()
        log.close()


def _cpu_seconds(pid: int) -> float:
    """CPU time (user + system) the service process and its worker processes have used so far."""
    import psutil

    total = 0.0
    for p in [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]:
        with contextlib.suppress(psutil.Error):
            t = p.cpu_times()
            total += t.user + t.system
    return total


def _peak_rss(pid: int) -> float:
    """Peak resident memory (VmHWM) of the service process and its worker processes, GiB."""
    import psutil

    total = 0
    procs = [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]
    for p in procs:
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{p.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    total += int(line.split()[1]) * 1024
    return total / GIB


def _env(url: str, nats_url: str, namespace: str, issuer: Any) -> dict[str, str]:
    return {
        "EVALUATION_ENVIRONMENT": "test",
        "EVALUATION_DATABASE_URL": url,
        "EVALUATION_NATS_URL": nats_url,
        "EVALUATION_EVENTS_NAMESPACE": namespace,
        "EVALUATION_AUTH_JWKS_JSON": json.dumps(issuer.jwks()),
        "EVALUATION_RUN_WORKERS": "1",
        "EVALUATION_RUN_POLL_SECONDS": "0.2",
        "EVALUATION_LOG_LEVEL": "INFO",
    }


async def _run(
    base: str,
    pid: int,
    round_id: UUID,
    mode: str,
    tokens: dict[str, dict[str, str]],
    expert: UUID,
    probe: bool,
) -> dict[str, Any]:
    """Queue the run through the API, follow it, and read the service meanwhile."""
    latencies: dict[str, list[float]] = {"healthz": [], "expert": []}
    beats: set[str] = set()
    stop = asyncio.Event()

    async def reader(client: httpx.AsyncClient) -> None:
        while not stop.is_set():
            for name, path, headers in (
                ("healthz", "/healthz", {}),
                ("expert", f"/experts/{expert}", tokens["expert_db"]),
            ):
                t = time.perf_counter()
                r = await client.get(path, headers=headers)
                assert r.status_code == 200, r.text
                latencies[name].append(time.perf_counter() - t)
            await asyncio.sleep(0.025)

    async with (
        httpx.AsyncClient(base_url=base, timeout=120) as client,
        httpx.AsyncClient(base_url=base, timeout=30) as reads,
    ):
        body = {"mode": mode, "seed": 7, "commit": True, "accept_partial": True, "partial_reason": "基准测试"}
        started = time.perf_counter()
        queued = await client.post(f"/rounds/{round_id}/runs", json=body, headers=tokens["draw"])
        assert queued.status_code == 202, queued.text
        run_id = queued.json()["id"]
        probing = asyncio.create_task(reader(reads)) if probe else None
        while True:
            listed = (await client.get(f"/rounds/{round_id}/runs", headers=tokens["draw"])).json()
            runs = listed["items"] if isinstance(listed, dict) else listed  # the baseline: a bare list
            run = next(r for r in runs if r["id"] == run_id)
            if run.get("heartbeat_at"):
                beats.add(run["heartbeat_at"])
            if run["status"] not in ("queued", "running"):
                break
            await asyncio.sleep(0.2)
        elapsed = time.perf_counter() - started
        stop.set()
        if probing:
            await probing
    return {
        "run": run,
        "seconds": elapsed,
        "latencies": latencies,
        "beats": len(beats),
        "rss": _peak_rss(pid),
    }


def _stages(log: Any) -> dict[str, float]:
    """The stage times the service logs for its run (none from the baseline, which logs none)."""
    log.seek(0)
    for line in log.read().decode(errors="replace").splitlines():
        if "assignment run planned and written" in line:
            with contextlib.suppress(ValueError):
                entry = json.loads(line)
                return {k: float(entry[k]) for k in ("loading", "planning", "writing") if k in entry}
    return {}


async def _count(dsn: str, run_id: str) -> int:
    conn = await asyncpg.connect(dsn)
    n = await conn.fetchval("SELECT count(*) FROM assignments WHERE run_id = $1", UUID(run_id))
    await conn.close()
    return int(n)


def _baseline_tree() -> Path | None:
    """The per-pair service as it was, extracted from git history (never imported by the product)."""
    target = Path(tempfile.mkdtemp(prefix="eval-baseline-"))
    try:
        archive = subprocess.run(
            ["git", "-C", str(REPO), "archive", BASELINE_COMMIT, "services/evaluation", "shared"],
            check=True,
            capture_output=True,
        )
    except (OSError, subprocess.CalledProcessError):
        return None
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive.stdout, check=True)
    return target


async def _case(
    pg_url: str, nats_url: str, case: Case, issuer: Any, pythonpath: str | None = None
) -> dict[str, Any]:
    from shared.migrations import upgrade

    url = await _database(pg_url, f"bench_eval_{case.name}")
    dsn = url.replace("postgresql+asyncpg", "postgresql")
    if pythonpath:  # the old service migrates its own schema
        await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-m", "evaluation", "migrate"],
            env=os.environ | {"PYTHONPATH": pythonpath} | _env(url, nats_url, "x", issuer),
            cwd=pythonpath.split(":")[-1],
            check=True,
            capture_output=True,
        )
    else:
        from evaluation.definition import MIGRATIONS_DIR

        await asyncio.to_thread(upgrade, MIGRATIONS_DIR, url)
    data = _instance(case.items, case.experts, seed=1)
    (round_id,), experts = await _load(dsn, data, rounds=1)
    tokens = {
        duty: {
            "Authorization": "Bearer "
            + issuer.issue(
                f"bench-{duty}", roles=["department_staff"], scopes={"duties": [duty]}, ttl_seconds=7200
            )
        }
        for duty in ("draw", "expert_db")
    }
    env = _env(url, nats_url, f"bencheval{case.name}", issuer)
    async with _service(env, pythonpath) as (base, pid, log):
        cpu = _cpu_seconds(pid)
        try:
            out = await _run(base, pid, round_id, case.mode, tokens, experts[0], case.probe)
        except AssertionError:
            log.seek(0)
            sys.stderr.write(log.read().decode(errors="replace")[-4000:])
            raise
        out["cpu"] = _cpu_seconds(pid) - cpu
        out["stages"] = _stages(log)
    out["persisted"] = await _count(dsn, out["run"]["id"])
    return out


def _row(case: Case, label: str, out: dict[str, Any], target: str) -> list[object]:
    run, lat, stages = out["run"], out["latencies"], out["stages"]
    reads = ""
    if lat["healthz"]:
        healthz, expert = percentile(lat["healthz"], 99) * 1000, percentile(lat["expert"], 99) * 1000
        reads = f"healthz {healthz:.0f} / expert {expert:.0f} ms (n={len(lat['healthz'])})"
    split = "/".join(f"{stages[k]:.1f}" for k in ("loading", "planning", "writing") if k in stages)
    return [
        label,
        f"{case.items:,} x {case.experts:,}",
        case.mode,
        run["status"],
        f"{out['persisted']:,}",
        len(run.get("shortfalls") or []),
        out["seconds"],
        split,
        out["cpu"],
        f"{out['rss']:.2f}",
        reads,
        out["beats"],
        target,
    ]


async def _all(pg_url: str, nats_url: str) -> list[list[object]]:
    from shared.auth import TokenIssuer

    issuer = TokenIssuer.generate(issuer="sci-platform-gateway", audience="sci-platform")
    rows: list[list[object]] = []
    only = {n for n in os.environ.get("BENCH_EVALUATION_ONLY", "").split(",") if n}

    def wanted(name: str) -> bool:
        return not only or name in only

    small = Case("baseline_old", 1_000, 1_000, "optimal")
    if wanted(small.name):
        tree = _baseline_tree()
        if tree is not None:
            old = await _case(pg_url, nats_url, small, issuer, f"{tree}/services/evaluation:{tree}")
            rows.append(_row(small, f"baseline: per-pair path ({BASELINE_COMMIT})", old, ""))
        else:
            rows.append(["baseline: per-pair path", "", "", "git history unavailable", *[""] * 9])
    same = Case("baseline_new", 1_000, 1_000, "optimal")
    if wanted(same.name):
        rows.append(_row(same, "service path, same data", await _case(pg_url, nats_url, same, issuer), ""))
    for case, target in (
        (Case("provincial_optimal", 5_000, 10_000, "optimal"), "< 5 s"),
        (Case("provincial_draw", 5_000, 10_000, "draw"), "< 5 s"),
        (Case("national_optimal", 100_000, 50_000, "optimal", probe=True), "< 30 s, < 4 GiB, p99 < 200 ms"),
        (Case("national_draw", 100_000, 50_000, "draw", probe=True), "< 30 s, < 4 GiB, p99 < 200 ms"),
    ):
        if not wanted(case.name):
            continue
        out = await _case(pg_url, nats_url, case, issuer)
        rows.append(_row(case, case.name.replace("_", " "), out, target))
        sys.stdout.write(f"  {case.name}: {out['seconds']:.1f} s, lease renewed {out['beats']} times\n")
        sys.stdout.flush()
    return rows


def main() -> None:
    with servers() as (pg_url, nats_url):
        rows = asyncio.run(_all(pg_url, nats_url))
    headers = ["case", "items x experts", "mode", "status", "persisted", "short", "wall s"]
    headers += ["load/plan/write s", "CPU s", "peak GiB", "p99 reads meanwhile", "lease beats", "target"]
    print_table(headers, rows)
    sys.stdout.write(
        "wall s: POST /rounds/{id}/runs to the run seen done; CPU s: the service's processes; peak: VmHWM "
        "of the service process plus its planning worker; lease beats: distinct heartbeat times seen\n"
    )


if __name__ == "__main__":
    main()
