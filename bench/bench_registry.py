"""Registry at provincial scale: 10,000 platforms, 100,000 people, measured in one run.

* list pages (20 rows, with total) with filters and sort, each next to the same list without
  filters (the baseline); p50 / p95 over ``BENCH_REGISTRY_REQUESTS`` requests (default 200)
* the reorganisation advisor over every key lab (all findings and merge groups), next to the
  advisor limited to one field
* Excel import of 5,000 people (valid_rows_only: every row validated, written with its event;
  one audit row per import), next to only reading the same workbook (the parsing baseline);
  and 1,000 platforms (each through the full registration: history, event and audit rows)

The register is bulk-loaded with SQL (setup, not measured); the measured calls go through the
service's HTTP API in process, on a durable PostgreSQL (fsync on).
"""

from __future__ import annotations

import asyncio
import functools
import io
import json
import os
import random
import time
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any

import asyncpg
from openpyxl import Workbook
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import create_async_engine
from stdnum.cn import ric, uscc

from bench.common import percentile, print_table, servers

PLATFORMS = int(os.environ.get("BENCH_REGISTRY_PLATFORMS", "10000"))
PEOPLE = int(os.environ.get("BENCH_REGISTRY_PEOPLE", "100000"))
REQUESTS = int(os.environ.get("BENCH_REGISTRY_REQUESTS", "200"))
IMPORT_ROWS = int(os.environ.get("BENCH_REGISTRY_IMPORT_ROWS", "5000"))
PLATFORM_IMPORT_ROWS = int(os.environ.get("BENCH_REGISTRY_PLATFORM_IMPORT_ROWS", "5000"))
UNITS = 300
REGIONS = [
    "150100",
    "150200",
    "150300",
    "150400",
    "150500",
    "150600",
    "150700",
    "150800",
    "150900",
    "152200",
    "152500",
    "152900",
]
ID_REGIONS = ["150121", "150122", "150221", "150222", "152201", "152221", "152501", "152522", "152921"]
PHRASES = [
    "材料",
    "制备",
    "性能",
    "调控",
    "检测",
    "监测",
    "模型",
    "机理",
    "工艺",
    "装备",
    "系统",
    "评价",
    "修复",
    "育种",
    "诊断",
    "防控",
    "加工",
    "利用",
    "转化",
    "储存",
    "智能",
    "绿色",
    "高效",
    "低碳",
    "精准",
    "功能",
    "资源",
    "生态",
]


def _id_number(n: int) -> str:
    born = date(1955 + n % 45, 1 + n % 12, 1 + n % 28)
    base = f"{ID_REGIONS[n % len(ID_REGIONS)]}{born:%Y%m%d}{n % 1000:03d}"
    return base + ric.calc_check_digit(base + "0")


def _credit_code(n: int) -> str:
    base = f"9115000073660{n:04d}"
    return base + uscc.calc_check_digit(base)


async def _prepare(pg_url: str) -> str:
    from registry.definition import MIGRATIONS_DIR
    from shared.devstack.postgres import database_url
    from shared.migrations import upgrade

    conn = await asyncpg.connect(database_url(pg_url, "postgres", scheme="postgresql"))
    await conn.execute("DROP DATABASE IF EXISTS bench_registry")
    await conn.execute("CREATE DATABASE bench_registry")
    await conn.close()
    url = database_url(pg_url, "bench_registry", scheme="postgresql+asyncpg")
    await asyncio.to_thread(upgrade, MIGRATIONS_DIR, url)
    return url


async def _load(url: str) -> None:
    """Bulk setup: units, people, platforms (mostly key labs) with five years of outputs."""
    from registry.organisations.models import Organisation
    from registry.people import identity
    from registry.people.models import Person
    from registry.platforms.models import Platform, PlatformOutput
    from registry.reference import FIELDS, KIND_CODE_PREFIX, PLATFORM_KINDS
    from shared.ids import uuid7

    rng = random.Random(7)
    engine = create_async_engine(url)
    units = [uuid7() for _ in range(UNITS)]
    people = [uuid7() for _ in range(PEOPLE)]
    sub_fields = [(f, s) for f, (_, subs) in FIELDS.items() for s in subs]
    kinds = list(PLATFORM_KINDS)
    async with engine.begin() as conn:
        await conn.execute(
            insert(Organisation),
            [
                {
                    "id": u,
                    "name": f"基准依托单位{n:03d}",
                    "credit_code": _credit_code(n),
                    "type": "university",
                    "region": REGIONS[n % 12],
                    "address": "呼和浩特市",
                    "version": 1,
                    "created_by": "bench",
                    "updated_by": "bench",
                }
                for n, u in enumerate(units)
            ],
        )
        for start in range(0, PEOPLE, 5000):
            batch = []
            for n in range(start, min(start + 5000, PEOPLE)):
                number = _id_number(n)
                batch.append(
                    {
                        "id": people[n],
                        "name": f"人员{n:06d}",
                        "gender": "male" if int(number[16]) % 2 else "female",
                        "birth_date": ric.get_birth_date(number),
                        "id_number_ciphertext": identity.encrypt(number),
                        "id_number_hmac": identity.lookup_digest(f"{number}{n}"),
                        "unit_id": units[n % UNITS],
                        "full_time": True,
                        "version": 1,
                        "created_by": "bench",
                        "updated_by": "bench",
                    }
                )
            await conn.execute(insert(Person), batch)
        platform_rows, output_rows = [], []
        for n in range(PLATFORMS):
            pid = uuid7()
            field_code, sub_field = sub_fields[n % len(sub_fields)]
            kind = "autonomous_region_key_lab" if n % 5 else kinds[n % len(kinds)]
            directions = ["".join(rng.sample(PHRASES, 4)), "".join(rng.sample(PHRASES, 4))]
            platform_rows.append(
                {
                    "id": pid,
                    "code": f"{KIND_CODE_PREFIX[kind]}-{2000 + n % 26}-{n:05d}",
                    "name": f"基准平台{n:05d}重点实验室",
                    "kind": kind,
                    "state": "operating" if n % 7 else "under_construction",
                    "host_unit_id": units[n % UNITS],
                    "co_builder_unit_ids": [],
                    "lab_type": "university",
                    "field": field_code,
                    "sub_field": sub_field,
                    "research_directions": directions,
                    "region": REGIONS[n % 12],
                    "approved_on": date(2000 + n % 26, 6, 1),
                    "director_person_id": people[n * 7 % PEOPLE],
                    "director_term_start": date(2022, 1, 1),
                    "director_term_end": date(2026 + n % 3, 12, 31),
                    "director_full_time": n % 11 != 0,
                    "director_since": date(2022 - 5 * (n % 3), 1, 1),
                    "deputy_directors": [],
                    "academic_committee": {},
                    "staff_count": 20,
                    "annual_funding_fen": 0,
                    "kind_attributes": {},
                    "version": 1,
                }
            )
            for year in range(2021, 2026):
                total = 0 if n % 53 == 0 and year >= 2023 else 1 + (n + year) % 9
                output_rows.append(
                    {
                        "platform_id": pid,
                        "year": year,
                        "papers": total,
                        "patents": 0,
                        "standards": 0,
                        "awards": 0,
                        "transferred_results": 0,
                        "national_projects": 0,
                    }
                )
        for start in range(0, len(platform_rows), 2000):
            await conn.execute(insert(Platform), platform_rows[start : start + 2000])
        for start in range(0, len(output_rows), 5000):
            await conn.execute(insert(PlatformOutput), output_rows[start : start + 5000])
    # The steady state autovacuum keeps: statistics and visibility map up to date.
    async with engine.connect() as conn:
        autocommit = await conn.execution_options(isolation_level="AUTOCOMMIT")
        await autocommit.exec_driver_sql("VACUUM ANALYZE")
    await engine.dispose()


def _platform_workbook(rows: int) -> bytes:
    from registry.imports.service import PLATFORM_COLUMNS

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append([c.header_zh for c in PLATFORM_COLUMNS])
    for n in range(rows):
        values = {
            "code": f"ZDS-2025-{n + 1:04d}",
            "name": f"导入平台{n:05d}重点实验室",
            "kind": "自治区重点实验室",
            "host_unit_credit_code": _credit_code(n % UNITS),
            "lab_type": "高校",
            "field": "材料",
            "sub_field": "稀土新材料",
            "research_directions": f"方向{n}甲；方向{n}乙",
            "region": "包头市",
            "approved_on": "2025-06-01",
            "initial_state": "运行",
            # directors: the people the people import (just before) registered
            "director_id_number": _id_number(500_000 + n % IMPORT_ROWS),
            "director_term_start": "2024-01-01",
            "director_term_end": "2028-12-31",
            "director_full_time": "是",
        }
        ws.append([values.get(c.key) for c in PLATFORM_COLUMNS])
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def _people_workbook(rows: int) -> bytes:
    from registry.imports.service import PEOPLE_COLUMNS

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append([c.header_zh for c in PEOPLE_COLUMNS])
    for n in range(rows):
        ws.append([f"导入人员{n:05d}", _id_number(500_000 + n), "教授", "材料学", None, "全职", None, None])
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


async def _timed(call: Callable[[], Awaitable[Any]], times: int) -> list[float]:
    samples = []
    for _ in range(times):
        started = time.perf_counter()
        await call()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


async def _run(pg_url: str, nats_url: str) -> None:
    from registry.app import create_app
    from registry.imports.service import PEOPLE_COLUMNS
    from registry.people import identity
    from registry.settings import RegistrySettings
    from shared.auth import TokenIssuer
    from shared.excel import read_xlsx
    from shared.testing.servers import running

    url = await _prepare(pg_url)
    issuer = TokenIssuer.generate(issuer="sci-platform-gateway", audience="sci-platform")
    settings = RegistrySettings(
        environment="test",
        database_url=url,
        nats_url=nats_url,
        events_namespace="benchreg",
        auth_jwks_json=json.dumps(issuer.jwks()),
        relay_poll_interval_seconds=0.2,
    )
    identity.configure(settings.id_number_keyring())
    started = time.perf_counter()
    await _load(url)
    load_seconds = time.perf_counter() - started
    app = create_app(settings)
    staff = {"Authorization": f"Bearer {issuer.issue('bench', roles=['department_staff'], ttl_seconds=3600)}"}
    async with running(app) as client:

        async def get(path: str, params: dict[str, Any] | None = None) -> Any:
            response = await client.get(path, params=params, headers=staff)
            assert response.status_code == 200, response.text
            return response

        lists: list[tuple[str, str, dict[str, Any]]] = [
            ("platforms, no filter (baseline)", "/platforms", {}),
            (
                "platforms, field+region+state, sort -approved_on",
                "/platforms",
                {"field": "materials", "region": "150200", "state": "operating", "sort": "-approved_on"},
            ),
            (
                "platforms, kind+sub_field, sort name",
                "/platforms",
                {"kind": "autonomous_region_key_lab", "sub_field": "dairy", "sort": "name"},
            ),
            ("platforms, search directions 'q'", "/platforms", {"q": "育种检测"}),
            ("people, no filter (baseline)", "/people", {}),
            (
                "people, unit + full_time, sort -birth_date",
                "/people",
                {"unit_id": None, "full_time": "true", "sort": "-birth_date"},
            ),
            ("people, name contains", "/people", {"q": "人员0123"}),
            ("people, exact ID number (staff)", "/people", {"id_number": _id_number(4321)}),
            ("platforms, page 250 (offset 4,980; see cursor)", "/platforms", {"page": 250}),
            ("platforms, cursor after row 5,000", "/platforms", {"cursor": "deep"}),
            ("people, page 2,500 (offset 49,980; see cursor)", "/people", {"page": 2500}),
            ("people, cursor after row 50,000", "/people", {"cursor": "deep"}),
        ]

        async def deep_cursor(path: str, rows: int) -> str:
            cursor = ""
            for _ in range(rows // 200):
                cursor = (await get(path, {"cursor": cursor, "size": 200})).json()["next_cursor"]
            return cursor

        deep = {
            "/platforms": await deep_cursor("/platforms", 5000),
            "/people": await deep_cursor("/people", 50_000),
        }
        first_unit = (await get("/organisations", {"size": 1})).json()["items"][0]["id"]
        rows = []
        for label, path, raw in lists:
            query = {
                k: (first_unit if k == "unit_id" else deep[path] if v == "deep" else v)
                for k, v in raw.items()
            }
            await get(path, query)
            samples = await _timed(functools.partial(get, path, query), REQUESTS)
            rows.append([label, REQUESTS, percentile(samples, 50), percentile(samples, 95)])
        print(f"register: {PLATFORMS:,} platforms, {PEOPLE:,} people, {UNITS} units")
        print(f"(bulk load, not measured: {load_seconds:.1f}s)")
        print_table(["list page (20 rows; total on page/size lists)", "requests", "p50 ms", "p95 ms"], rows)
        print("target: p95 < 50 ms with filters and sort (baseline: the same list unfiltered)")

        advice_rows = []
        for label, params in [
            ("advisor, one field (baseline)", {"field": "materials"}),
            ("advisor, all labs", {}),
        ]:
            query = params | {"on": "2026-11-23"}
            samples = await _timed(functools.partial(get, "/reorganisation/advice", query), 3)
            body = (await get("/reorganisation/advice", params | {"on": "2026-11-23"})).json()
            advice_rows.append(
                [
                    label,
                    body["labs_reviewed"],
                    len(body["labs"]),
                    len(body["merge_groups"]),
                    min(samples),
                    max(samples),
                ]
            )
        print()
        print_table(
            ["advisor", "labs reviewed", "labs with findings", "merge groups", "min ms", "max ms"],
            advice_rows,
        )
        print("target: all labs < 2 s (baseline: one field)")

        workbook = _people_workbook(IMPORT_ROWS)
        parse_started = time.perf_counter()
        await read_xlsx(workbook, PEOPLE_COLUMNS)
        parse_seconds = time.perf_counter() - parse_started
        import_started = time.perf_counter()
        response = await client.post(
            "/people/import",
            params={"mode": "valid_rows_only"},
            content=workbook,
            headers=staff
            | {"content-type": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
        )
        import_seconds = time.perf_counter() - import_started
        report = response.json()
        again_started = time.perf_counter()
        await client.post(
            "/people/import", params={"mode": "valid_rows_only"}, content=workbook, headers=staff
        )
        again_seconds = time.perf_counter() - again_started
        platform_book = _platform_workbook(PLATFORM_IMPORT_ROWS)
        platform_started = time.perf_counter()
        platform_report = (
            await client.post(
                "/platforms/import", params={"mode": "valid_rows_only"}, content=platform_book, headers=staff
            )
        ).json()
        platform_seconds = time.perf_counter() - platform_started
        platform_again_started = time.perf_counter()
        platform_again = (
            await client.post(
                "/platforms/import", params={"mode": "valid_rows_only"}, content=platform_book, headers=staff
            )
        ).json()
        platform_again_seconds = time.perf_counter() - platform_again_started
        print()
        print_table(
            ["Excel import", "rows", "created", "seconds"],
            [
                ["read workbook only (baseline)", IMPORT_ROWS, "-", parse_seconds],
                ["import people, valid_rows_only", report["rows"], report["created"], import_seconds],
                ["re-import same file (no change)", report["rows"], 0, again_seconds],
                [
                    "import platforms (with directors), valid_rows_only",
                    platform_report["rows"],
                    platform_report["created"],
                    platform_seconds,
                ],
                [
                    "re-import same platforms (no change)",
                    platform_again["rows"],
                    platform_again["created"],
                    platform_again_seconds,
                ],
            ],
        )
        print("target: 5,000 rows < 10 s")


def main() -> None:
    with servers() as (pg_url, nats_url):
        asyncio.run(_run(pg_url, nats_url))


if __name__ == "__main__":
    main()
