# ruff: noqa: S608  (the SQL texts are composed of our own constants, never of input)
"""A run's reads, set-based: the round's items and the active experts as arrays.

The items still short of k and the active experts are numbered in two temporary tables
(``run_items``, ``run_experts``, dropped at commit); every relation the rules, disciplines and
keywords need is then one query joined to them, read with a binary COPY straight into numpy.
No query names ids one by one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

import numpy as np
from numpy.typing import NDArray

from evaluation.assignment.store import copy_out
from evaluation.coi.check import Relation, Side, sorted_unique
from evaluation.coi.facts import BARRED_SQL, expert_relations, fold, item_relations
from evaluation.coi.rules import MATCHES, enabled

ACTIVE_SQL = "('assigned', 'accepted')"
UUID_FIELD = ("u1", 16)

ITEMS_SQL = f"""
CREATE TEMP TABLE run_items ON COMMIT DROP AS
SELECT r.id, (row_number() OVER (ORDER BY r.id) - 1)::int AS n, ($2 - COALESCE(a.have, 0))::int AS need
FROM round_items r
LEFT JOIN (SELECT item_id, count(*) AS have FROM assignments
           WHERE round_id = $1 AND status IN {ACTIVE_SQL} GROUP BY item_id) a ON a.item_id = r.id
WHERE r.round_id = $1 AND COALESCE(a.have, 0) < $2 AND ($3::uuid[] IS NULL OR r.id = ANY ($3))
"""
EXPERTS_SQL = f"""
CREATE TEMP TABLE run_experts ON COMMIT DROP AS
SELECT x.id, (row_number() OVER (ORDER BY x.id) - 1)::int AS n,
  GREATEST(0, LEAST(x.max_load, $2) - COALESCE(l.load, 0))::int AS cap,
  (x.region = 'out') AS out_of_province,
  (COALESCE(jsonb_array_length(x.availability), 0) = 0 OR EXISTS (
     SELECT 1 FROM jsonb_array_elements(x.availability) w
     WHERE (w ->> 'from')::date <= $3 AND (w ->> 'to')::date >= $4)) AS available,
  (x.confirmed_until IS NOT NULL AND x.confirmed_until >= $5) AS confirmed,
  {BARRED_SQL} AS barred,
  COALESCE(x.unit_id, x.id) AS unit
FROM experts x
LEFT JOIN (SELECT expert_id, count(*) AS load FROM assignments
           WHERE round_id = $1 AND status IN {ACTIVE_SQL} GROUP BY expert_id) l ON l.expert_id = x.id
WHERE x.status = 'active'
"""
ITEM_CODES = """SELECT i.n, md5(upper(btrim(c)))::uuid FROM run_items i JOIN round_items r ON r.id = i.id
CROSS JOIN LATERAL unnest(r.discipline_codes) c"""
EXPERT_CODES = """SELECT e.n, md5(upper(btrim(c)))::uuid FROM run_experts e JOIN experts x ON x.id = e.id
CROSS JOIN LATERAL unnest(x.disciplines) c"""
ITEM_KEYWORDS = """SELECT i.n, md5(btrim(w))::uuid FROM run_items i JOIN round_items r ON r.id = i.id
CROSS JOIN LATERAL unnest(r.keywords) w"""
EXPERT_KEYWORDS = """SELECT e.n, md5(btrim(w))::uuid FROM run_experts e JOIN experts x ON x.id = e.id
CROSS JOIN LATERAL unnest(x.keywords) w"""
TAKEN = """SELECT i.n, e.n FROM assignments a JOIN run_items i ON i.id = a.item_id
JOIN run_experts e ON e.id = a.expert_id WHERE a.round_id = $1"""


@dataclass
class RoundArrays:
    item_ids: NDArray[np.uint8]  # (n, 16)
    need: NDArray[np.int64]
    expert_ids: NDArray[np.uint8]
    caps: NDArray[np.int64]
    out_of_province: NDArray[np.bool_]
    available: NDArray[np.bool_]
    confirmed: NDArray[np.bool_]
    barred: NDArray[np.bool_]
    unit: NDArray[np.int64]  # a dense unit number per expert (one_per_unit)
    items: Side
    experts: Side
    item_codes: Relation
    expert_codes: Relation
    item_keywords: Relation
    expert_keywords: Relation
    taken: NDArray[np.int64]


async def _relation(conn: Any, query: str, *args: Any) -> Relation:
    rows = await copy_out(conn, query, [("n", ">i4"), ("key", UUID_FIELD)], *args)
    return Relation(rows["n"].astype(np.int64), fold(rows["key"]))


async def load(
    conn: Any,
    *,
    round_id: UUID,
    k: int,
    max_load: int,
    rules: dict[str, Any],
    period: tuple[date, date],
    today: date,
    only_items: list[UUID] | None = None,
) -> RoundArrays:
    """Everything a run computes on, read inside the run's transaction (``conn``: asyncpg).

    ``only_items``: those items alone (replacement draws); a transaction may read more than once.
    """
    await conn.execute("DROP TABLE IF EXISTS run_items, run_experts")
    await conn.execute(ITEMS_SQL, round_id, k, only_items)
    await conn.execute(EXPERTS_SQL, round_id, max_load, period[0], period[1], today)
    await conn.execute("CREATE UNIQUE INDEX ON run_items (id); CREATE UNIQUE INDEX ON run_experts (id)")
    await conn.execute("ANALYZE run_items; ANALYZE run_experts")
    items = await copy_out(
        conn,
        "SELECT n, id, need FROM run_items ORDER BY n",
        [("n", ">i4"), ("id", UUID_FIELD), ("need", ">i4")],
    )
    experts = await copy_out(
        conn,
        "SELECT n, id, cap, out_of_province, available, confirmed, barred, unit FROM run_experts ORDER BY n",
        [
            ("n", ">i4"),
            ("id", UUID_FIELD),
            ("cap", ">i4"),
            ("out_of_province", "?"),
            ("available", "?"),
            ("confirmed", "?"),
            ("barred", "?"),
            ("unit", UUID_FIELD),
        ],
    )
    n_items, n_experts = len(items), len(experts)
    on = set(enabled(rules))
    wanted_items = {i for rule in on for _, i in MATCHES.get(rule, ())}
    wanted_experts = {e for rule in on for e, _ in MATCHES.get(rule, ())}
    item_sets = {
        name: await _relation(conn, sql)
        for name, sql in item_relations(rules).items()
        if name in wanted_items
    }
    expert_sets = {
        name: await _relation(conn, sql)
        for name, sql in expert_relations(rules, today).items()
        if name in wanted_experts
    }
    taken = await copy_out(conn, TAKEN, [("item", ">i4"), ("expert", ">i4")], round_id)
    _, unit = np.unique(fold(experts["unit"]), return_inverse=True)
    return RoundArrays(
        item_ids=np.ascontiguousarray(items["id"]),
        need=items["need"].astype(np.int64),
        expert_ids=np.ascontiguousarray(experts["id"]),
        caps=experts["cap"].astype(np.int64),
        out_of_province=experts["out_of_province"].copy(),
        available=experts["available"].copy(),
        confirmed=experts["confirmed"].copy(),
        barred=experts["barred"].copy(),
        unit=unit.astype(np.int64),
        items=Side(n_items, item_sets),
        experts=Side(n_experts, expert_sets, {"barred": experts["barred"].copy()}),
        item_codes=await _relation(conn, ITEM_CODES),
        expert_codes=await _relation(conn, EXPERT_CODES),
        item_keywords=await _relation(conn, ITEM_KEYWORDS),
        expert_keywords=await _relation(conn, EXPERT_KEYWORDS),
        taken=sorted_unique(taken["item"].astype(np.int64) * max(n_experts, 1) + taken["expert"]),
    )


async def item_codes(conn: Any, ids: list[UUID]) -> dict[UUID, tuple[str, list[str]]]:
    """The readable codes and the discipline codes of some items (one array parameter)."""
    rows = await conn.fetch(
        "SELECT id, code, discipline_codes FROM round_items WHERE id = ANY($1::uuid[])", ids
    )
    return {r["id"]: (r["code"], list(r["discipline_codes"])) for r in rows}
