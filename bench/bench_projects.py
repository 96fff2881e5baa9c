"""Projects on deadline day, 查重 at corpus scale and work-queue lists, measured in one run.

* deadline day: ``BENCH_PROJECTS_SUBMISSIONS`` (default 2,000) drafts submitted to one service
  instance (its own process, uvicorn, as deployed) by 64 clients at once, one in ten submits sent
  twice at the same moment (double clicks); then counted: lost (not submitted) and duplicated
  (more than one submission version or event). p50/p99 next to the baseline: the same number of
  reads of one application at the same concurrency. The 查重 signature is computed off the
  request path; the line after the table says how long the index took to catch up.
* 查重: ``BENCH_PROJECTS_CORPUS`` (default 100,000; the issue's 1,000,000 is a parameter)
  generated Chinese texts loaded as applications, their signatures (datasketch MinHash, the
  service's code) in the service's PostgreSQL index, queried with the service's own query by
  edited copies of corpus texts and by fresh texts; the same through ``datasketch.MinHashLSH`` in
  memory; next to the brute-force baseline (exact Jaccard against every text). Recall of both
  indexes against the exact answer at Jaccard ≥ 0.8 on a sample. Measured at a tenth of the
  corpus and at the whole (the index grows incrementally), so the lines show how it scales.
* work queues: ``BENCH_PROJECTS_APPLICATIONS`` (default 100,000) applications bulk-loaded with
  SQL; list pages (20 rows, capped count) for staff, a unit admin's endorsement queue, an
  applicant, a title search, a page 200 deep by cursor, next to the unfiltered staff list.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg
import httpx

from bench.common import percentile, print_table, servers

SUBMISSIONS = int(os.environ.get("BENCH_PROJECTS_SUBMISSIONS", "2000"))
CORPUS = int(os.environ.get("BENCH_PROJECTS_CORPUS", "100000"))
APPLICATIONS = int(os.environ.get("BENCH_PROJECTS_APPLICATIONS", "100000"))
REQUESTS = int(os.environ.get("BENCH_PROJECTS_REQUESTS", "200"))
MEMORY_LSH_MAX = int(os.environ.get("BENCH_PROJECTS_MEMORY_LSH_MAX", "200000"))
CHUNK = 100_000
CONCURRENCY = 64
UNITS = 300

_rng = random.Random(11)
WORDS = [
    "".join(chr(0x4E00 + _rng.randrange(0x5000)) for _ in range(_rng.choice((2, 2, 3, 4))))
    for _ in range(3000)
]


def text(rng: random.Random, words: int = 150) -> str:
    out = []
    for i in range(words):
        out.append(rng.choice(WORDS))
        if i % 12 == 11:
            out.append("。")
    return "".join(out)


def edited(rng: random.Random, original: str, changes: int = 3) -> str:
    """A recycled proposal: a few words replaced here and there."""
    chars = list(original)
    for _ in range(changes):
        at = rng.randrange(max(1, len(chars) - 4))
        chars[at : at + 3] = list(rng.choice(WORDS))
    return "".join(chars)


async def _database(pg_url: str, name: str) -> str:
    from projects.definition import MIGRATIONS_DIR
    from shared.devstack.postgres import database_url
    from shared.migrations import upgrade

    conn = await asyncpg.connect(database_url(pg_url, "postgres", scheme="postgresql"))
    await conn.execute(f"DROP DATABASE IF EXISTS {name}")
    await conn.execute(f"CREATE DATABASE {name}")
    await conn.close()
    url = database_url(pg_url, name, scheme="postgresql+asyncpg")
    await asyncio.to_thread(upgrade, MIGRATIONS_DIR, url)
    return url


async def _load(
    url: str,
    n: int,
    call_id: UUID,
    *,
    state: str,
    rng: random.Random,
    texts: list[str] | None = None,
    first: int = 0,
) -> list[dict[str, Any]]:
    """Applications written with COPY (setup, not measured); ``texts`` as their content."""
    from shared.ids import uuid7

    dsn = url.replace("postgresql+asyncpg", "postgresql")
    conn = await asyncpg.connect(dsn)
    units = [uuid7() for _ in range(UNITS)]
    depts = [uuid7() for _ in range(20)]
    now = datetime.now(UTC)
    rows, out = [], []
    for i in range(first, first + n):
        app_id, person = uuid7(), uuid7()
        unit = units[i % UNITS]
        team = [{"person_id": str(person), "name": "负责人", "role": "lead", "unit_id": str(unit)}]
        budget = [{"category": "equipment", "amount_fen": 300_000, "note": ""}]
        title = "" if texts else f"{rng.choice(WORDS)}{rng.choice(WORDS)}关键技术研究{i}"
        rows.append(
            (
                app_id,
                f"SB2027{i + 1:07d}",
                call_id,
                2027,
                "basic.nsf",
                person,
                f"u-{person}",
                unit,
                depts[i % 20],
                title,
                "" if texts else "本项目" + text(rng, 20),
                texts[i - first] if texts else text(rng, 60),
                json.dumps([]),
                json.dumps([]),
                json.dumps(team),
                json.dumps(budget),
                300_000,
                0,
                "",
                json.dumps([]),
                json.dumps([]),
                json.dumps([]),
                json.dumps([]),
                state,
                1,
                1,
                now if state != "draft" else None,
                now - timedelta(seconds=n - i),
                now - timedelta(seconds=n - i),
            )
        )
        out.append({"id": app_id, "person": person, "unit": unit, "dept": depts[i % 20], "title": title})
    columns = [
        "id",
        "code",
        "call_id",
        "year",
        "programme_code",
        "applicant_person_id",
        "applicant_user_id",
        "unit_id",
        "competent_department_id",
        "title",
        "abstract",
        "content",
        "keywords",
        "discipline_codes",
        "team",
        "budget",
        "requested_funding_fen",
        "matching_fund_fen",
        "plan",
        "milestones",
        "attachments",
        "declared_projects",
        "avoid_person_ids",
        "state",
        "revision",
        "version",
        "submitted_at",
        "created_at",
        "updated_at",
    ]
    await conn.copy_records_to_table("applications", records=rows, columns=columns)
    await conn.execute("ANALYZE applications")
    await conn.close()
    return out


async def _call(client: httpx.AsyncClient, staff: dict[str, str]) -> UUID:
    now = datetime.now(UTC)
    body = {
        "programme_code": "basic.nsf",
        "year": 2027,
        "title": "基准指南",
        "opens_at": (now - timedelta(days=1)).isoformat(),
        "closes_at": (now + timedelta(days=1)).isoformat(),
        "budget_fen": 10**12,
        "min_funding_fen": 0,
        "max_funding_fen": 10**9,
        "projects_to_fund": 100,
        "limits": {"lead_applications_per_year": 5},
    }
    r = await client.post("/calls", json=body, headers=staff)
    assert r.status_code == 201, r.text
    call_id = r.json()["id"]
    r = await client.post(f"/calls/{call_id}/actions/publish", json={}, headers=staff)
    assert r.status_code == 200, r.text
    return UUID(call_id)


RETRIES = {"count": 0}


async def _with_retry(send: Callable[[], Awaitable[httpx.Response]]) -> httpx.Response:
    """What a browser does when a kept-alive connection is dropped: send again (submit is idempotent)."""
    for attempt in range(5):
        try:
            return await send()
        except httpx.TransportError:
            RETRIES["count"] += 1
            if attempt == 4:
                raise
            await asyncio.sleep(0.05 * (attempt + 1))
    raise AssertionError("unreachable")


async def _pool(jobs: list[Callable[[], Awaitable[float]]], concurrency: int) -> list[float]:
    queue = list(reversed(jobs))
    samples: list[float] = []

    async def worker() -> None:
        while queue:
            samples.append(await queue.pop()())

    await asyncio.gather(*[worker() for _ in range(concurrency)])
    return samples


def _settings_env(url: str, nats_url: str, namespace: str, issuer: Any) -> dict[str, str]:
    return {
        "PROJECTS_ENVIRONMENT": "test",
        "PROJECTS_DATABASE_URL": url,
        "PROJECTS_NATS_URL": nats_url,
        "PROJECTS_EVENTS_NAMESPACE": namespace,
        "PROJECTS_AUTH_JWKS_JSON": json.dumps(issuer.jwks()),
        "PROJECTS_RELAY_POLL_INTERVAL_SECONDS": "0.2",
        "PROJECTS_DB_POOL_SIZE": "20",
        "PROJECTS_DB_MAX_OVERFLOW": "10",
        "PROJECTS_LOG_LEVEL": "WARNING",
    }


def _settings(url: str, nats_url: str, namespace: str, issuer: Any) -> Any:
    from projects.settings import ProjectsSettings

    env = _settings_env(url, nats_url, namespace, issuer)
    return ProjectsSettings(**{k.removeprefix("PROJECTS_").lower(): v for k, v in env.items()})


SERVE = (
    "import uvicorn; from projects.app import create_app; "
    "uvicorn.run(create_app(), host='127.0.0.1', port={port}, log_config=None, access_log=False)"
)


@contextlib.asynccontextmanager
async def _service_process(env: dict[str, str]) -> AsyncIterator[str]:
    """One service instance in its own process, as deployed: the clients do not share its CPU."""
    from shared.devstack.ports import free_port

    port = free_port()
    log = tempfile.TemporaryFile()  # noqa: SIM115  closed below
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        SERVE.format(port=port),
        env=os.environ | env,
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=base, timeout=2) as probe:
            for _ in range(300):
                if proc.returncode is not None:
                    log.seek(0)
                    raise RuntimeError(log.read().decode(errors="replace")[-3000:])
                with contextlib.suppress(httpx.TransportError):
                    if (await probe.get("/readyz")).status_code == 200:
                        break
                await asyncio.sleep(0.1)
            else:
                raise TimeoutError("service did not become ready")
        yield base
    finally:
        proc.terminate()
        try:
            await asyncio.wait_for(proc.wait(), 20)
        except TimeoutError:
            proc.kill()
        log.close()


async def deadline_day(pg_url: str, nats_url: str) -> tuple[list[list[object]], list[str]]:
    from shared.auth import TokenIssuer

    url = await _database(pg_url, "bench_projects_deadline")
    issuer = TokenIssuer.generate(issuer="sci-platform-gateway", audience="sci-platform")
    staff = {"Authorization": f"Bearer {issuer.issue('bench', roles=['department_staff'], ttl_seconds=3600)}"}
    rng = random.Random(3)
    dsn = url.replace("postgresql+asyncpg", "postgresql")
    async with (
        _service_process(_settings_env(url, nats_url, "benchprojd", issuer)) as base,
        httpx.AsyncClient(
            base_url=base, timeout=60, limits=httpx.Limits(max_connections=CONCURRENCY)
        ) as client,
    ):
        call_id = await _call(client, staff)
        drafts = await _load(url, SUBMISSIONS, call_id, state="draft", rng=rng)
        tokens = {
            d["id"]: {
                "Authorization": "Bearer "
                + issuer.issue(
                    f"u-{d['person']}", roles=["applicant"], person_id=str(d["person"]), ttl_seconds=3600
                )
            }
            for d in drafts
        }

        async def read(d: dict[str, Any]) -> float:
            t = time.perf_counter()
            r = await _with_retry(lambda: client.get(f"/applications/{d['id']}", headers=tokens[d["id"]]))
            assert r.status_code == 200, r.text
            return (time.perf_counter() - t) * 1000

        async def submit(d: dict[str, Any]) -> float:
            t = time.perf_counter()
            r = await _with_retry(
                lambda: client.post(
                    f"/applications/{d['id']}/actions/submit",
                    json={"pledge_accepted": True},
                    headers=tokens[d["id"]],
                )
            )
            assert r.status_code in (200, 409), r.text
            return (time.perf_counter() - t) * 1000

        started = time.perf_counter()
        base_samples = await _pool([lambda d=d: read(d) for d in drafts], CONCURRENCY)
        base_seconds = time.perf_counter() - started
        jobs: list[Callable[[], Awaitable[float]]] = []
        for i, d in enumerate(drafts):
            jobs.append(lambda d=d: submit(d))
            if i % 10 == 0:
                jobs.append(lambda d=d: submit(d))  # the double click, right behind the first
        started = time.perf_counter()
        samples = await _pool(jobs, CONCURRENCY)
        seconds = time.perf_counter() - started
        conn = await asyncpg.connect(dsn)
        caught_up = None
        for _ in range(600):
            if await conn.fetchval("SELECT count(*) FROM dedup_pending") == 0:
                caught_up = time.perf_counter() - started - seconds
                break
            await asyncio.sleep(0.1)
        indexed = await conn.fetchval("SELECT count(*) FROM dedup_signatures")
    submitted = await conn.fetchval("SELECT count(*) FROM applications WHERE state = 'submitted'")
    versions = await conn.fetchval("SELECT count(*) FROM application_versions")
    events = await conn.fetchval(
        "SELECT count(*) FROM outbox WHERE event_type = 'projects.application.submitted'"
    )
    await conn.close()
    lost = SUBMISSIONS - submitted
    duplicated = (versions - submitted) + (events - submitted)
    rows: list[list[object]] = [
        [
            "read one application (baseline)",
            len(base_samples),
            f"{base_seconds:.1f}",
            f"{len(base_samples) / base_seconds:.0f}",
            percentile(base_samples, 50),
            percentile(base_samples, 99),
            "",
            "",
        ],
        [
            f"submit (+{len(jobs) - SUBMISSIONS} double clicks, {RETRIES['count']} resent)",
            len(samples),
            f"{seconds:.1f}",
            f"{SUBMISSIONS / seconds:.0f}",
            percentile(samples, 50),
            percentile(samples, 99),
            lost,
            duplicated,
        ],
    ]
    notes = [
        f"target: {SUBMISSIONS:,} submissions within 60 s = {SUBMISSIONS / 60:.0f}/s; "
        f"submissions/s counts each application once",
        f"查重 index caught up {caught_up:.1f}s after the last submit ({indexed:,} signatures)"
        if caught_up is not None
        else f"查重 index NOT caught up within 60 s ({indexed:,} signatures)",
    ]
    return rows, notes


def _recall(truth: list[set[int]], found: list[set[int]]) -> str:
    pairs = sum(len(t) for t in truth)
    hit = sum(len(t & f) for t, f in zip(truth, found, strict=True))
    return f"{hit / pairs:.3f}" if pairs else "n/a"


async def _a_call(url: str, nats_url: str) -> UUID:
    from projects.app import create_app
    from shared.auth import TokenIssuer
    from shared.testing.servers import running

    issuer = TokenIssuer.generate(issuer="sci-platform-gateway", audience="sci-platform")
    staff = {"Authorization": f"Bearer {issuer.issue('bench', roles=['department_staff'], ttl_seconds=3600)}"}
    async with running(create_app(_settings(url, nats_url, "benchprojc", issuer))) as client:
        return await _call(client, staff)


class _Shingles:
    """Every text's shingle hashes, sorted with their text numbers, in chunks (bounded memory at
    1,000,000 texts): the exact answer and the brute-force baseline are computed from them."""

    def __init__(self) -> None:
        self.chunks: list[tuple[Any, Any]] = []
        self.sizes: list[Any] = []

    def add(self, first: int, hashes: list[Any]) -> None:
        import numpy as np

        sizes = np.array([h.size for h in hashes], dtype=np.int64)
        docs = np.repeat(np.arange(first, first + len(hashes), dtype=np.int32), sizes)
        flat = np.concatenate(hashes)
        order = np.argsort(flat, kind="stable")
        self.chunks.append((flat[order], docs[order]))
        self.sizes.append(sizes)

    def exact(self, query: Any) -> dict[int, float]:
        """Exact Jaccard ≥ 0 of every text sharing a shingle (through the sorted hashes: fast)."""
        import numpy as np

        sizes = np.concatenate(self.sizes)
        found: list[Any] = []
        for hashes, docs in self.chunks:
            lo = np.searchsorted(hashes, query, "left")
            hi = np.searchsorted(hashes, query, "right")
            found += [docs[a:b] for a, b in zip(lo, hi, strict=True) if b > a]
        if not found:
            return {}
        ids, common = np.unique(np.concatenate(found), return_counts=True)
        scores = common / (sizes[ids] + query.size - common)
        return {int(d): float(j) for d, j in zip(ids, scores, strict=True)}

    def brute_force(self, query: Any) -> Any:
        """The baseline: one pass over every shingle of every text, Jaccard of every text."""
        import numpy as np

        scores = []
        for (hashes, docs), sizes in zip(self.chunks, self.sizes, strict=True):
            at = np.searchsorted(query, hashes)
            at[at == query.size] = 0
            hit = query[at] == hashes
            common = np.bincount(docs[hit] - docs.min(), minlength=sizes.size)
            scores.append(common / (sizes + query.size - common))
        return np.concatenate(scores)


async def dedup_bench(pg_url: str, nats_url: str) -> tuple[list[list[object]], list[str]]:
    from sqlalchemy import select
    from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

    from projects.applications import dedup, dedup_index
    from projects.applications.models import Application
    from shared.ids import uuid7

    rng = random.Random(5)
    url = await _database(pg_url, "bench_projects_dedup")
    dsn = url.replace("postgresql+asyncpg", "postgresql")
    corpus: list[str] = []
    rows: list[list[object]] = []
    notes: list[str] = []
    in_memory = CORPUS <= MEMORY_LSH_MAX
    memory = dedup.MemoryIndex()
    shingled = _Shingles()
    engine = create_async_engine(url, pool_size=2)
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    call_id = await _a_call(url, nats_url)
    doc_of_id: dict[UUID, int] = {}
    loaded = 0
    for size in sorted({max(1, CORPUS // 10), CORPUS}):
        signing = pg_build = memory_build = 0.0
        step_first = loaded
        while loaded < size:
            n = min(CHUNK, size - loaded)
            part = [text(rng) for _ in range(n)]
            corpus += part
            started = time.perf_counter()
            part_hashes = [dedup.shingle_hashes(t) for t in part]
            bands = [dedup.band_keys(dedup.minhash(h)) for h in part_hashes]
            signing += time.perf_counter() - started
            if in_memory:
                started = time.perf_counter()
                for h in part_hashes:
                    memory.lsh.insert(len(memory.hashes), dedup.minhash(h), check_duplication=False)
                    memory.hashes.append(h)
                memory_build += time.perf_counter() - started
            shingled.add(loaded, part_hashes)
            apps = await _load(url, n, call_id, state="rejected", rng=rng, texts=part, first=loaded)
            conn = await asyncpg.connect(dsn)
            started = time.perf_counter()
            await conn.copy_records_to_table(
                "dedup_signatures",
                records=[(a["id"], 1, b, datetime.now(UTC)) for a, b in zip(apps, bands, strict=True)],
                columns=["application_id", "revision", "bands", "indexed_at"],
            )
            pg_build += time.perf_counter() - started
            await conn.execute("ANALYZE dedup_signatures")
            await conn.close()
            doc_of_id.update({a["id"]: loaded + i for i, a in enumerate(apps)})
            loaded += n

        queries = [  # recycled proposals, lightly to heavily edited (Jaccard ~0.97 down to ~0.7)
            edited(rng, corpus[rng.randrange(size)], rng.choice((1, 2, 3, 6, 10, 15, 20))) for _ in range(200)
        ]
        queries += [text(rng) for _ in range(100)]  # fresh proposals
        q_hashes = [dedup.shingle_hashes(q) for q in queries]
        truth = [{d for d, j in shingled.exact(qh).items() if j >= 0.8} for qh in q_hashes]
        mem_ms, mem_found = [], []
        if in_memory:
            for q in queries:
                t = time.perf_counter()
                mem_found.append({d for d, _ in memory.query(q, 0.8)})
                mem_ms.append((time.perf_counter() - t) * 1000)
        pg_ms, pg_found, pg_candidates = [], [], []
        async with sessions() as session:
            for q in queries:
                t = time.perf_counter()
                mine = dedup.shingle_hashes(q)
                found = await dedup_index.candidates(session, dedup.signature(q), uuid7())
                confirmed = set()
                if found:
                    for r in await session.execute(
                        select(
                            Application.id, Application.title, Application.abstract, Application.content
                        ).where(Application.id.in_(found))
                    ):
                        other = dedup.shingle_hashes(dedup_index.text_of(r.title, r.abstract, r.content))
                        if dedup.jaccard_hashes(mine, other) >= 0.8:
                            confirmed.add(doc_of_id[r.id])
                pg_ms.append((time.perf_counter() - t) * 1000)
                pg_found.append(confirmed)
                pg_candidates.append(len(found))
        brute_ms = []
        for qh in q_hashes[:5]:
            t = time.perf_counter()
            shingled.brute_force(qh)
            brute_ms.append((time.perf_counter() - t) * 1000)
        pairs = sum(len(t) for t in truth)
        rows += [
            [
                f"brute-force Jaccard over {size:,} (baseline)",
                len(brute_ms),
                percentile(brute_ms, 50),
                percentile(brute_ms, 95),
                "1.000",
                pairs,
                size,
            ],
            [
                f"PostgreSQL LSH index over {size:,} (service)",
                len(pg_ms),
                percentile(pg_ms, 50),
                percentile(pg_ms, 95),
                _recall(truth, pg_found),
                pairs,
                f"{sum(pg_candidates) / len(pg_candidates):.2f}",
            ],
        ]
        if in_memory:
            rows.append(
                [
                    f"datasketch MinHashLSH in memory over {size:,}",
                    len(mem_ms),
                    percentile(mem_ms, 50),
                    percentile(mem_ms, 95),
                    _recall(truth, mem_found),
                    pairs,
                    "",
                ]
            )
        notes.append(
            f"{size:,}: +{size - step_first:,} texts, "
            f"signatures {signing / (size - step_first) * 1000:.2f} ms per text; "
            f"PostgreSQL index +{pg_build:.1f}s"
            + (
                f", in-memory LSH +{memory_build:.1f}s"
                if in_memory
                else " (in-memory LSH skipped: corpus too big)"
            )
        )
    await engine.dispose()
    notes.append(
        "a check costs the signature, one GIN lookup and confirming its few candidates: it does not grow "
        "with the corpus; brute force grows linearly"
    )
    return rows, notes


async def work_queues(pg_url: str, nats_url: str) -> list[list[object]]:
    from projects.app import create_app
    from shared.auth import TokenIssuer
    from shared.testing.servers import running

    url = await _database(pg_url, "bench_projects_lists")
    issuer = TokenIssuer.generate(issuer="sci-platform-gateway", audience="sci-platform")
    app = create_app(_settings(url, nats_url, "benchprojl", issuer))
    staff = {"Authorization": f"Bearer {issuer.issue('bench', roles=['department_staff'], ttl_seconds=3600)}"}
    rng = random.Random(9)
    async with running(app) as client:
        call_id = await _call(client, staff)
        apps = await _load(url, APPLICATIONS, call_id, state="submitted", rng=rng)
        some = apps[APPLICATIONS // 2]
        unit_admin = {
            "Authorization": "Bearer "
            + issuer.issue(
                "ua",
                roles=["host_unit_admin"],
                unit_id=str(some["unit"]),
                scopes={"units": [str(some["unit"])]},
                ttl_seconds=3600,
            )
        }
        department = {
            "Authorization": "Bearer "
            + issuer.issue(
                "cd",
                roles=["competent_department"],
                unit_id=str(some["dept"]),
                scopes={"units": [str(some["dept"])]},
                ttl_seconds=3600,
            )
        }
        applicant = {
            "Authorization": "Bearer "
            + issuer.issue(
                f"u-{some['person']}", roles=["applicant"], person_id=str(some["person"]), ttl_seconds=3600
            )
        }
        deep: dict[str, Any] = {"sort": "-submitted_at"}
        for _ in range(199):  # the cursor of page 200
            r = await client.get("/applications", params=deep, headers=staff)
            deep = {"sort": "-submitted_at", "cursor": r.json()["next_cursor"]}
        cases = [
            ("staff, all applications (baseline)", staff, {}),
            ("staff, page 200 by cursor, sort -submitted_at", staff, deep),
            ("staff, title search", staff, {"q": some["title"][:4]}),
            ("staff, code search", staff, {"q": f"SB2027{APPLICATIONS // 3:07d}"}),
            (
                "staff, call + state, sort -requested_funding_fen",
                staff,
                {"call_id": str(call_id), "state": "submitted", "sort": "-requested_funding_fen"},
            ),
            ("staff, formal-review queue (empty state)", staff, {"queue": "formal_review"}),
            ("unit admin, endorsement queue", unit_admin, {"queue": "endorsement"}),
            ("competent department, all its units", department, {"sort": "-submitted_at"}),
            ("applicant, own applications", applicant, {}),
        ]
        rows: list[list[object]] = []
        for label, headers, params in cases:
            samples = []
            for _ in range(REQUESTS):
                t = time.perf_counter()
                r = await client.get("/applications", params=params, headers=headers)
                samples.append((time.perf_counter() - t) * 1000)
                assert r.status_code == 200, r.text
            body = r.json()
            total = f"{body['total']:,}" + ("" if body["total_exact"] else "+")
            rows.append([label, total, len(body["items"]), percentile(samples, 50), percentile(samples, 95)])
    return rows


def main() -> None:
    with servers() as (pg_url, nats_url):
        rows, notes = asyncio.run(dedup_bench(pg_url, nats_url))
        print(f"查重 (recall at Jaccard ≥ 0.8; generated texts of ~450 characters; corpus {CORPUS:,})")
        print_table(["check", "n", "p50 ms", "p95 ms", "recall", "pairs ≥ 0.8", "texts compared"], rows)
        for line in notes:
            print("  " + line)
        print(f"\ndeadline day: {SUBMISSIONS:,} submissions, {CONCURRENCY} clients, one service process")
        rows, notes = asyncio.run(deadline_day(pg_url, nats_url))
        print_table(["step", "requests", "seconds", "per s", "p50 ms", "p99 ms", "lost", "duplicated"], rows)
        for line in notes:
            print("  " + line)
        print(f"\nwork-queue list pages over {APPLICATIONS:,} applications ({REQUESTS} requests each)")
        print_table(["list", "total", "rows", "p50 ms", "p95 ms"], asyncio.run(work_queues(pg_url, nats_url)))


if __name__ == "__main__":
    main()
