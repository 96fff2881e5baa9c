"""Experts and round items straight into the evaluation service's own tables, as a migration of
an existing expert database would bring them: binary COPY on an asyncpg connection.

The one loader of the service-path tests (``test_assignment_service_path``) and of the
evaluation bench (``bench/bench_evaluation.py``); it only writes rows, the service does the rest
(candidates, 回避, the assignment and its persistence) through its API and its run worker.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID, uuid4

FAR_FUTURE = date(2099, 1, 1)


@dataclass
class BulkExpert:
    """An active, confirmed expert and the person behind them."""

    codes: Sequence[str]
    unit: UUID
    keywords: Sequence[str] = ()
    department: UUID | None = None
    region: str = "150100"
    max_load: int = 20
    confirmed_until: date = FAR_FUTURE
    barred: bool = False  # an integrity record bars them from reviewing


@dataclass
class BulkItem:
    """A round item: its disciplines and keywords, and whom 回避 compares it with."""

    codes: Sequence[str]
    keywords: Sequence[str] = ()
    applicant: UUID | None = None  # a person of their own when not given
    unit: UUID | None = None  # a unit of its own when not given
    team: Sequence[UUID] = ()
    avoid: Sequence[UUID] = ()
    competent_department: UUID | None = None


async def insert_units(conn: Any, units: Sequence[tuple[UUID, str]]) -> None:
    """Organisations (id, unified social credit code) as the registry's events would bring them."""
    now = datetime.now(UTC)
    await conn.copy_records_to_table(
        "organisations",
        columns=["id", "name", "credit_code", "type", "region", "address", "version", "synced_at"],
        records=[
            (unit, f"单位{n}", code, "university", "150100", "", 1, now)
            for n, (unit, code) in enumerate(units)
        ],
    )


async def insert_experts(conn: Any, experts: Sequence[BulkExpert]) -> list[tuple[UUID, UUID, UUID]]:
    """People, experts and integrity bars; (expert, person, unit) of each, in order."""
    now = datetime.now(UTC)
    people = [uuid4() for _ in experts]
    ids = [uuid4() for _ in experts]
    await conn.copy_records_to_table(
        "people",
        columns=["id", "name", "id_number_digest", "unit_id", "department_id", "version", "synced_at"],
        records=[
            (people[n], f"专家{n}", people[n].hex * 2, x.unit, x.department, 1, now)
            for n, x in enumerate(experts)
        ],
    )
    await conn.copy_records_to_table(
        "experts",
        columns=[
            "id",
            "person_id",
            "name",
            "unit_id",
            "region",
            "title",
            "disciplines",
            "keywords",
            "directions",
            "availability",
            "max_load",
            "status",
            "origin",
            "credit_score",
            "confirmed_until",
            "version",
            "created_at",
            "updated_at",
        ],
        records=[
            (
                ids[n],
                people[n],
                f"专家{n}",
                x.unit,
                x.region,
                "教授",
                list(x.codes),
                list(x.keywords),
                "",
                "[]",
                x.max_load,
                "active",
                "nominated",
                100,
                x.confirmed_until,
                1,
                now,
                now,
            )
            for n, x in enumerate(experts)
        ],
    )
    await conn.copy_records_to_table(
        "integrity_records",
        columns=["id", "person_id", "scope", "lifted", "version"],
        records=[(uuid4(), people[n], ["reviewing"], False, 1) for n, x in enumerate(experts) if x.barred],
    )
    return [(ids[n], people[n], x.unit) for n, x in enumerate(experts)]


async def insert_declarations(conn: Any, declared: Sequence[tuple[UUID, UUID]]) -> None:
    """Conflicts the experts declared with units: (expert, unit) each."""
    now = datetime.now(UTC)
    await conn.copy_records_to_table(
        "conflict_declarations",
        columns=["id", "expert_id", "unit_id", "declared_by", "reason", "created_at"],
        records=[(uuid4(), expert, unit, "expert", "bulk", now) for expert, unit in declared],
    )


async def insert_collaborations(
    conn: Any, pairs: Sequence[tuple[UUID, UUID]], *, start: date, end: date
) -> None:
    """Approved projects two people worked on together, as the projects service's events bring them."""
    await conn.copy_records_to_table(
        "collaborations",
        columns=["project_id", "person_ids", "start_date", "end_date"],
        records=[(uuid4(), [a, b], start, end) for a, b in pairs],
    )


async def insert_round(
    conn: Any,
    items: Sequence[BulkItem],
    *,
    k: int,
    max_load: int,
    rules: dict[str, Any],
    name: str = "测试",
    code: str = "XM-{:05d}",
    candidates_per_item: int = 100,
) -> tuple[UUID, list[UUID]]:
    """A requested round (experts asked for: k, load, rules) with its items; its id and theirs."""
    round_id, ids = uuid4(), [uuid4() for _ in items]
    values: dict[str, Any] = {
        "id": round_id,
        "call_id": uuid4(),
        "name": name,
        "status": "requested",
        "k": k,
        "max_load": max_load,
        "reserve": 0,
        "rules": json.dumps(rules),
        "version": 1,
        "candidates_per_item": candidates_per_item,
    }
    # the benchmark's baseline runs the per-pair service of before, whose rounds had no
    # candidate setting: write the columns the schema has
    present = set(
        await conn.fetchval(
            "SELECT array_agg(column_name::text) FROM information_schema.columns"
            " WHERE table_schema = current_schema() AND table_name = 'review_rounds'"
        )
    )
    columns = [c for c in values if c in present]
    await conn.execute(
        f"INSERT INTO review_rounds ({', '.join(columns)}, created_at)"
        f" VALUES ({', '.join(f'${n}' for n in range(1, len(columns) + 1))}, now())",
        *(values[c] for c in columns),
    )
    await conn.copy_records_to_table(
        "round_items",
        columns=[
            "id",
            "round_id",
            "code",
            "title",
            "keywords",
            "discipline_codes",
            "applicant_person_id",
            "applicant_unit_id",
            "team_person_ids",
            "team_unit_ids",
            "avoid_person_ids",
            "competent_department_id",
        ],
        records=[
            (
                ids[n],
                round_id,
                code.format(n),
                "项目",
                list(it.keywords),
                list(it.codes),
                it.applicant or uuid4(),
                it.unit or uuid4(),
                list(it.team),
                [],
                list(it.avoid),
                it.competent_department,
            )
            for n, it in enumerate(items)
        ],
    )
    return round_id, ids
