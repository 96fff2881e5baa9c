"""Projects on deadline day, 查重 at corpus scale and work-queue lists, measured in one run.

* deadline day: ``BENCH_PROJECTS_SUBMISSIONS`` (default 2,000) drafts submitted through one
  service instance served by uvicorn on a loopback port, 64 clients at once, one in ten submits
  sent twice at the same moment (double clicks); then counted: lost (not submitted) and
  duplicated (more than one submission version or event). p50/p99 next to the baseline: the
  same number of reads of one application at the same concurrency.
* 查重: an LSH index (the service's MinHash/band code, in memory) over a generated corpus of
  ``BENCH_PROJECTS_CORPUS`` Chinese texts (default 10,000; the issue's 1,000,000 is a parameter),
  queried with edited copies of corpus texts and with fresh texts; p50/p95 per check next to the
  brute-force Jaccard baseline over the whole corpus, and recall of the index against brute
  force at Jaccard ≥ 0.8 on a sample. The scaling lines say how the figures grow with the corpus.
* work queues: ``BENCH_PROJECTS_APPLICATIONS`` (default 100,000) applications bulk-loaded with
  SQL; list pages (20 rows, with total) for staff, a unit admin's endorsement queue, an applicant,
  a title search, next to the unfiltered staff list (the baseline).
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg
import httpx

from bench.common import percentile, print_table, servers

SUBMISSIONS = int(os.environ.get("BENCH_PROJECTS_SUBMISSIONS", "2000"))
CORPUS = int(os.environ.get("BENCH_PROJECTS_CORPUS", "10000"))
APPLICATIONS = int(os.environ.get("BENCH_PROJECTS_APPLICATIONS", "100000"))
REQUESTS = int(os.environ.get("BENCH_PROJECTS_REQUESTS", "200"))
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


async def _load(url: str, n: int, call_id: UUID, *, state: str, rng: random.Random) -> list[dict[str, Any]]:
    """Applications written with COPY (setup, not measured)."""
    from shared.ids import uuid7

    dsn = url.replace("postgresql+asyncpg", "postgresql")
    conn = await asyncpg.connect(dsn)
    units = [uuid7() for _ in range(UNITS)]
    depts = [uuid7() for _ in range(20)]
    now = datetime.now(UTC)
    rows, out = [], []
    for i in range(n):
        app_id, person = uuid7(), uuid7()
        unit = units[i % UNITS]
        team = [{"person_id": str(person), "name": "负责人", "role": "lead", "unit_id": str(unit)}]
        budget = [{"category": "equipment", "amount_fen": 300_000, "note": ""}]
        title = f"{rng.choice(WORDS)}{rng.choice(WORDS)}关键技术研究{i}"
        rows.append(
            (
                app_id,
                f"SB2027{i + 1:06d}",
                call_id,
                2027,
                "basic.nsf",
                person,
                f"u-{person}",
                unit,
                depts[i % 20],
                title,
                "本项目" + text(rng, 20),
                text(rng, 60),
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


def _settings(url: str, nats_url: str, namespace: str, issuer: Any) -> Any:
    from projects.settings import ProjectsSettings

    return ProjectsSettings(
        environment="test",
        database_url=url,
        nats_url=nats_url,
        events_namespace=namespace,
        auth_jwks_json=json.dumps(issuer.jwks()),
        relay_poll_interval_seconds=0.2,
        db_pool_size=20,
        db_max_overflow=10,
    )


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


async def deadline_day(pg_url: str, nats_url: str) -> list[list[object]]:
    from projects.app import create_app
    from shared.auth import TokenIssuer
    from shared.testing.servers import serving

    url = await _database(pg_url, "bench_projects_deadline")
    issuer = TokenIssuer.generate(issuer="sci-platform-gateway", audience="sci-platform")
    app = create_app(_settings(url, nats_url, "benchprojd", issuer))
    staff = {"Authorization": f"Bearer {issuer.issue('bench', roles=['department_staff'], ttl_seconds=3600)}"}
    rng = random.Random(3)
    async with (
        serving(app) as base,
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
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))
    submitted = await conn.fetchval("SELECT count(*) FROM applications WHERE state = 'submitted'")
    versions = await conn.fetchval("SELECT count(*) FROM application_versions")
    events = await conn.fetchval(
        "SELECT count(*) FROM outbox WHERE event_type = 'projects.application.submitted'"
    )
    await conn.close()
    lost = SUBMISSIONS - submitted
    duplicated = (versions - submitted) + (events - submitted)
    return [
        [
            "read one application (baseline)",
            len(base_samples),
            f"{base_seconds:.1f}",
            percentile(base_samples, 50),
            percentile(base_samples, 99),
            "",
            "",
        ],
        [
            f"submit (+{len(jobs) - SUBMISSIONS} double clicks, {RETRIES['count']} resent)",
            len(samples),
            f"{seconds:.1f}",
            percentile(samples, 50),
            percentile(samples, 99),
            lost,
            duplicated,
        ],
    ]


def dedup_bench() -> tuple[list[list[object]], list[str]]:
    from projects.applications import dedup

    rng = random.Random(5)
    index = dedup.MinHashIndex()
    corpus = [text(rng) for _ in range(CORPUS)]
    started = time.perf_counter()
    for doc in corpus:
        index.add(doc)
    build = time.perf_counter() - started
    sample = 100
    queries = [
        edited(rng, corpus[rng.randrange(CORPUS)], rng.choice((1, 2, 3, 6))) for _ in range(sample // 2)
    ]
    queries += [text(rng) for _ in range(sample // 2)]
    lsh_ms, found = [], []
    for q in queries:
        t = time.perf_counter()
        found.append({d for d, _ in index.query(q, 0.8)})
        lsh_ms.append((time.perf_counter() - t) * 1000)
    brute_sample = queries[: sample // 2][:30] + queries[sample // 2 :][:10]
    brute_ms, hits, recalled = [], 0, 0
    for i, q in enumerate(brute_sample):
        t = time.perf_counter()
        s = dedup.shingles(q)
        truth = {d for d, other in enumerate(index.shingles) if dedup.jaccard(s, other) >= 0.8}
        brute_ms.append((time.perf_counter() - t) * 1000)
        mine = found[i if i < 30 else sample // 2 + (i - 30)]
        hits += len(truth)
        recalled += len(truth & mine)
    recall = recalled / hits if hits else 1.0
    buckets = sum(len(b) for b in index.buckets)
    rows = [
        [
            f"brute-force Jaccard over {CORPUS:,} (baseline)",
            len(brute_ms),
            percentile(brute_ms, 50),
            percentile(brute_ms, 95),
            "1.000",
            hits,
        ],
        [
            f"MinHash LSH over {CORPUS:,}",
            len(lsh_ms),
            percentile(lsh_ms, 50),
            percentile(lsh_ms, 95),
            f"{recall:.3f}",
            recalled,
        ],
    ]
    per_doc_ms = build / CORPUS * 1000
    notes = [
        f"index build: {build:.1f}s ({per_doc_ms:.2f} ms per text: shingles + 128 hashes); "
        f"{buckets:,} bucket keys",
        "an LSH query costs the signature (constant) plus the candidates it confirms; candidates grow",
        "with the texts that share a band, so at 1,000,000 generated texts expect the same signature",
        f"time and ~{1_000_000 / CORPUS:.0f}x the (small) confirmation part; brute force grows linearly: "
        f"~{percentile(brute_ms, 50) * 1_000_000 / CORPUS / 1000:.0f} s per check at 1,000,000",
        f"building the index for 1,000,000 texts at this rate: ~{per_doc_ms * 1_000_000 / 1000 / 60:.0f} min "
        "(done once, incrementally at each submission in the service)",
    ]
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
        applicant = {
            "Authorization": "Bearer "
            + issuer.issue(
                f"u-{some['person']}", roles=["applicant"], person_id=str(some["person"]), ttl_seconds=3600
            )
        }
        cases = [
            ("staff, all applications (baseline)", staff, {}),
            ("staff, page 200, sort -submitted_at", staff, {"page": 200, "sort": "-submitted_at"}),
            ("staff, title search", staff, {"q": some["title"][:4]}),
            (
                "staff, call + state, sort -requested_funding_fen",
                staff,
                {"call_id": str(call_id), "state": "submitted", "sort": "-requested_funding_fen"},
            ),
            ("unit admin, endorsement queue", unit_admin, {"queue": "endorsement"}),
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
            rows.append([label, r.json()["total"], percentile(samples, 50), percentile(samples, 95)])
    return rows


def main() -> None:
    rows, notes = dedup_bench()
    print(f"查重 (threshold 0.8 for recall; {CORPUS:,} generated texts of ~450 characters)")
    print_table(["check", "n", "p50 ms", "p95 ms", "recall", "pairs ≥ 0.8"], rows)
    for line in notes:
        print("  " + line)
    with servers() as (pg_url, nats_url):
        print(f"\ndeadline day: {SUBMISSIONS:,} submissions, {CONCURRENCY} clients, one uvicorn instance")
        print_table(
            ["step", "requests", "seconds", "p50 ms", "p99 ms", "lost", "duplicated"],
            asyncio.run(deadline_day(pg_url, nats_url)),
        )
        print(f"\nwork-queue list pages over {APPLICATIONS:,} applications ({REQUESTS} requests each)")
        print_table(["list", "total", "p50 ms", "p95 ms"], asyncio.run(work_queues(pg_url, nats_url)))


if __name__ == "__main__":
    main()
