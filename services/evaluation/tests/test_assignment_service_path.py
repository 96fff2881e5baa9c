"""The service's one assignment path, through the API: feasibility, size, and its optimum.

Experts and items are bulk-loaded into the service's own tables (as a migration of an existing
expert database would), then assigned with ``POST /rounds/{id}/runs`` by the service's worker.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog
from sqlalchemy import select

from evaluation import disciplines
from evaluation.coi.check import ExpertFacts, ItemFacts, conflicts
from evaluation.coi.rules import merged_rules
from evaluation.rounds.models import Assignment, ReviewRound
from services.evaluation.tests.bulk import BulkExpert, BulkItem, insert_experts, insert_round

CODES = ["F0201", "F0202", "F0203", "F06", "A0105", "C03"]


async def _raw(svc: Any) -> Any:
    session = svc.runtime.sessionmaker()
    conn = await (await session.connection()).get_raw_connection()
    return session, conn.driver_connection


async def load_experts(
    svc: Any,
    codes: Sequence[Sequence[str]],
    *,
    units: Sequence[UUID] | None = None,
    keywords: Sequence[Sequence[str]] | None = None,
    barred: Sequence[bool] | None = None,
    max_load: int = 20,
) -> list[tuple[UUID, UUID, UUID]]:
    """Active, confirmed experts straight into the tables; (expert, person, unit) of each."""
    experts = [
        BulkExpert(
            codes=c,
            unit=units[n] if units is not None else uuid4(),
            keywords=keywords[n] if keywords else (),
            barred=bool(barred and barred[n]),
            max_load=max_load,
        )
        for n, c in enumerate(codes)
    ]
    session, conn = await _raw(svc)
    try:
        loaded = await insert_experts(conn, experts)
        await session.commit()
    finally:
        await session.close()
    return loaded


async def load_round(
    svc: Any,
    items: Sequence[dict[str, Any]],
    *,
    k: int,
    max_load: int = 20,
    rules: dict[str, Any] | None = None,
    candidates_per_item: int = 100,
) -> tuple[str, list[UUID]]:
    """A requested round with the given items (codes, keywords, applicant, unit, team, avoid)."""
    session, conn = await _raw(svc)
    try:
        round_id, ids = await insert_round(
            conn,
            [
                BulkItem(
                    codes=it["codes"],
                    keywords=it.get("keywords", ()),
                    applicant=it.get("applicant"),
                    unit=it.get("unit"),
                    team=it.get("team", ()),
                    avoid=it.get("avoid", ()),
                )
                for it in items
            ],
            k=k,
            max_load=max_load,
            rules=merged_rules(rules),
            candidates_per_item=candidates_per_item,
        )
        await session.commit()
    finally:
        await session.close()
    return str(round_id), ids


async def persisted(svc: Any, round_id: str) -> list[Assignment]:
    async with svc.runtime.sessionmaker() as s:
        q = select(Assignment).where(Assignment.round_id == UUID(round_id))
        return list((await s.execute(q)).scalars())


@pytest.mark.asyncio
async def test_an_infeasible_round_writes_nothing_until_a_partial_assignment_is_accepted(office: Any) -> None:
    svc = office.svc
    unit = uuid4()
    experts = await load_experts(
        svc,
        [["F0201"], ["F0201"], ["F0203"], ["F0201"], ["A0105"]],
        units=[unit, uuid4(), uuid4(), uuid4(), uuid4()],
        barred=[False, True, False, False, False],
    )
    round_id, (short, fine) = await load_round(
        svc, [{"codes": ["F0201"], "unit": unit}, {"codes": ["F02"]}], k=3
    )
    run = await office.run(round_id, {"mode": "optimal", "commit": True})
    assert run["status"] == "infeasible" and run["status_zh"] == "专家不足，未写入", run
    assert await persisted(svc, round_id) == []
    async with svc.runtime.sessionmaker() as s:
        assert (await s.get(ReviewRound, UUID(round_id))).status == "requested"  # type: ignore[union-attr]
    (report,) = run["shortfalls"]
    assert report["item_id"] == str(short) and report["code"] == "XM-00000"
    assert report["needed"] == 3 and report["candidates"] == 2
    # only the experts of the item's disciplines count: the one of A0105 is not a candidate at all
    assert report["excluded_by_rule"] == {"same_unit": 1, "integrity": 1}
    assert report["excluded_by_rule_zh"]["科研诚信记录限制评审"] == 1
    # accepting a partial assignment needs a reason; then it is written and the short item listed
    body = {"mode": "optimal", "commit": True, "accept_partial": True}
    refused = await office.client.post(f"/rounds/{round_id}/runs", json=body, headers=office.drawer)
    assert refused.status_code == 422 and "partial_reason" in refused.text
    run = await office.run(round_id, body | {"partial_reason": "该方向专家不足，先行评审"})
    assert run["status"] == "done" and run["shortfalls"][0]["item_id"] == str(short)
    rows = [a for a in await persisted(svc, round_id) if a.status == "assigned"]
    assert sorted(str(a.item_id) for a in rows).count(str(short)) == 2
    assert {a.expert_id for a in rows if a.item_id == short}.isdisjoint({experts[0][0], experts[1][0]})
    listed = await office.client.get(f"/rounds/{round_id}/short-items", headers=office.drawer)
    assert [(i["item_id"], i["live"], i["k"]) for i in listed.json()["items"]] == [(str(short), 2, 3)]
    assert str(fine) not in listed.text
    async with svc.runtime.sessionmaker() as s:
        audit = svc.runtime.tables.audit_log
        q = select(audit.c.reason, audit.c.changes).where(audit.c.action == "assignment_partial_accepted")
        reason, changes = (await s.execute(q)).one()
    assert reason == "该方向专家不足，先行评审" and changes["accepted_by"] == "draw-1"
    assert changes["short_items"] == [{"item_id": str(short), "assigned": 2, "needed": 3}]


@pytest.mark.asyncio
async def test_the_database_refuses_a_bulk_write_that_hides_one_conflicted_pair(office: Any) -> None:
    """The bulk path (one binary COPY) is checked as a set: one bad pair among hundreds is refused."""
    from evaluation.assignment.store import AssignmentBatch, copy_assignments, uuid_bytes
    from shared.ids import uuid7

    svc = office.svc
    unit = uuid4()
    experts = await load_experts(
        svc, [["F0201"]] * 40, units=[unit, *(uuid4() for _ in range(39))], barred=[False] * 39 + [True]
    )
    items = [{"codes": ["F0201"]} for _ in range(10)]
    items[3]["team"] = [experts[5][1]]
    items[4]["unit"] = unit
    items[6]["avoid"] = [experts[7][1]]
    round_id, item_ids = await load_round(svc, items, k=5)
    bad = {(3, 5): "on_team", (4, 0): "same_unit", (6, 7): "applicant_avoid", (0, 39): "integrity"}
    clean = [(i, e) for i in range(10) for e in range(39) if (i, e) not in bad]
    expert_ids = uuid_bytes([e for e, _, _ in experts])
    item_bytes = uuid_bytes(item_ids)

    async def write(pairs: list[tuple[int, int]]) -> None:
        i, e = np.array([p[0] for p in pairs]), np.array([p[1] for p in pairs])
        batch = AssignmentBatch(
            "assigned",
            item_bytes[i],
            expert_ids[e],
            np.ones(len(i)),
            np.zeros(len(i)),
            np.ones(len(i), np.int64),
        )
        session, conn = await _raw(svc)
        try:
            await copy_assignments(
                conn,
                [batch],
                round_id=UUID(round_id),
                run_id=uuid7(),
                rules_checked=[],
                created_at=datetime.now(UTC),
            )
            await session.commit()
        finally:
            await session.close()

    for pair, rule in bad.items():
        with pytest.raises(Exception, match=f"conflict of interest \\({rule}\\)"):
            await write([*clean[:200], pair, *clean[200:]])
    assert await persisted(svc, round_id) == []
    await write(clean)
    assert len(await persisted(svc, round_id)) == len(clean)


@pytest.mark.asyncio
async def test_a_suspended_experts_assignments_are_all_replaced_in_one_draw(office: Any) -> None:
    """补抽 for every assignment of a suspended expert: qualified, free of 回避, within load caps."""
    svc = office.svc
    unit = uuid4()
    experts = await load_experts(
        svc, [["F0201"]] * 9 + [["A0105"]] * 3, units=[unit, *(uuid4() for _ in range(11))], max_load=4
    )
    round_id, item_ids = await load_round(
        svc, [{"codes": ["F0201"]} for _ in range(8)] + [{"codes": ["F0201"], "unit": unit}], k=3, max_load=4
    )
    run = await office.run(round_id, {"mode": "draw", "seed": 11, "commit": True})
    assert run["status"] == "done", run
    live = [a for a in await persisted(svc, round_id) if a.status == "assigned"]
    loads: dict[UUID, int] = {}
    for a in live:
        loads[a.expert_id] = loads.get(a.expert_id, 0) + 1
    busiest = max(loads, key=lambda e: loads[e])
    assert loads[busiest] >= 2
    r = await office.client.post(
        f"/experts/{busiest}/suspend", json={"reason": "诚信问题核查中"}, headers=office.db_staff
    )
    assert r.status_code == 200, r.text
    after = await persisted(svc, round_id)
    voided = [a for a in after if a.expert_id == busiest]
    assert voided and all(a.status == "voided" for a in voided)
    new = [a for a in after if a.replaces_id in {v.id for v in voided}]
    assert len(new) == len(voided)
    seeds = {a.reason.split("seed=")[1].split("）")[0] for a in new if a.reason}
    assert len(seeds) == 1  # one draw for all of them
    qualified = {e for e, _, _ in experts[:9]} - {busiest}  # F0201, and not the suspended expert
    assert all(a.expert_id in qualified for a in new)
    assert all(a.expert_id != experts[0][0] for a in new if a.item_id == item_ids[8])  # same unit
    counts: dict[UUID, int] = {}
    for a in after:
        if a.status == "assigned":
            counts[a.expert_id] = counts.get(a.expert_id, 0) + 1
    assert max(counts.values()) <= 4
    assert all(sum(1 for a in after if a.item_id == i and a.status == "assigned") == 3 for i in item_ids)


@pytest.mark.asyncio
async def test_a_round_over_forty_thousand_experts_is_assigned(office: Any) -> None:
    svc = office.svc
    rng = np.random.default_rng(5)
    fields = [c for c, d in disciplines.table().items() if d.level >= 2]
    n_experts, n_items = 40_000, 2_000
    units = [uuid4() for _ in range(2_000)]
    unit_of = [units[u] for u in rng.integers(0, len(units), n_experts)]
    codes = [[fields[c]] for c in rng.integers(0, len(fields), n_experts)]
    experts = await load_experts(svc, codes, units=unit_of)
    items = [
        {"codes": [fields[c]], "unit": units[u], "applicant": experts[a][1] if a % 10 == 0 else None}
        for c, u, a in zip(
            rng.integers(0, len(fields), n_items),
            rng.integers(0, len(units), n_items),
            rng.integers(0, n_experts, n_items),
            strict=True,
        )
    ]
    round_id, ids = await load_round(svc, items, k=5)
    started = time.perf_counter()
    queued = await office.client.post(
        f"/rounds/{round_id}/runs", json={"mode": "optimal", "commit": True}, headers=office.drawer
    )
    run_id = queued.json()["id"]
    while True:  # the API answers while the run is in progress
        t = time.perf_counter()
        health = await office.client.get("/healthz")
        assert health.status_code == 200 and time.perf_counter() - t < 1.0
        runs = (await office.client.get(f"/rounds/{round_id}/runs", headers=office.drawer)).json()["items"]
        if runs[0]["status"] not in ("queued", "running"):
            break
        assert time.perf_counter() - started < 60, runs[0]
        await asyncio.sleep(0.2)
    assert runs[0]["id"] == run_id and runs[0]["status"] == "done", runs[0]
    rows = await persisted(svc, round_id)
    assert len(rows) == n_items * 5 and not runs[0]["shortfalls"]
    unit_by_expert = {e: u for e, _, u in experts}
    person_by_expert = {e: p for e, p, _ in experts}
    by_item = dict(zip(ids, items, strict=True))
    for a in rows:  # never the applicant's unit, never the applicant
        assert unit_by_expert[a.expert_id] != by_item[a.item_id]["unit"]
        assert person_by_expert[a.expert_id] != by_item[a.item_id]["applicant"]


# ---------------------------------------------------------------- against an independent solver


@st.composite
def rounds(draw: st.DrawFn) -> dict[str, Any]:
    n_experts = draw(st.integers(1, 7))
    n_items = draw(st.integers(1, 4))
    n_units = draw(st.integers(1, 3))
    words = ["草原", "生态", "稀土", "遥感"]
    expert = [
        {
            "codes": draw(st.lists(st.sampled_from(CODES), min_size=1, max_size=2, unique=True)),
            "keywords": draw(st.lists(st.sampled_from(words), max_size=3, unique=True)),
            "unit": draw(st.integers(0, n_units - 1)),
            "barred": draw(st.booleans()),
        }
        for _ in range(n_experts)
    ]
    item = [
        {
            "codes": draw(st.lists(st.sampled_from(CODES), min_size=1, max_size=2, unique=True)),
            "keywords": draw(st.lists(st.sampled_from(words), max_size=3, unique=True)),
            "unit": draw(st.integers(0, n_units)),  # n_units: a unit no expert belongs to
            "applicant": draw(st.integers(-1, n_experts - 1)),  # an expert applies (or nobody known)
            "team": draw(st.integers(-1, n_experts - 1)),
            "avoid": draw(st.integers(-1, n_experts - 1)),
        }
        for _ in range(n_items)
    ]
    rules = {
        "collaborator": {"enabled": draw(st.booleans())},
        "same_department": {"enabled": draw(st.booleans())},
    }
    return {
        "experts": expert,
        "items": item,
        "rules": rules,
        "k": draw(st.integers(1, 3)),
        "load": draw(st.integers(1, 3)),
    }


def _affinity(item: dict[str, Any], expert: dict[str, Any]) -> float:
    level = max(disciplines.match_score(a, b) for a in item["codes"] for b in expert["codes"])
    ka, kb = set(item["keywords"]), set(expert["keywords"])
    return level + round(len(ka & kb) / len(ka | kb), 3) if ka | kb else level


def _lp(weights: dict[tuple[int, int], float], n_items: int, n_experts: int, k: int, load: int) -> float:
    """Maximum total affinity, at most k per item and ``load`` per expert, by linear programming
    (the constraint matrix is totally unimodular, so the LP optimum is integral)."""
    pairs = sorted(weights)
    if not pairs:
        return 0.0
    a_item = np.zeros((n_items, len(pairs)))
    a_expert = np.zeros((n_experts, len(pairs)))
    for n, (i, e) in enumerate(pairs):
        a_item[i, n] = 1
        a_expert[e, n] = 1
    # maximum number of reviews first, then maximum affinity (what the service's flow does)
    w = np.array([weights[p] for p in pairs])
    cost = -(w + 1000.0)
    result = linprog(
        cost,
        A_ub=np.vstack([a_item, a_expert]),
        b_ub=np.r_[np.full(n_items, k), np.full(n_experts, load)],
        bounds=(0, 1),
        method="highs",
    )
    assert result.status == 0
    chosen = result.x > 0.5
    return float(w[chosen].sum())


@pytest.mark.asyncio
async def test_the_service_finds_the_optimum_of_an_independent_solver_and_never_a_conflicted_pair(
    office: Any,
) -> None:
    svc = office.svc
    loop = asyncio.get_running_loop()

    async def check(case: dict[str, Any]) -> None:
        session, conn = await _raw(svc)  # each example has the expert database to itself
        await conn.execute("UPDATE experts SET status = 'retired'")
        await session.commit()
        await session.close()
        units = [uuid4() for _ in range(4)]
        experts = await load_experts(
            svc,
            [e["codes"] for e in case["experts"]],
            units=[units[e["unit"]] for e in case["experts"]],
            keywords=[e["keywords"] for e in case["experts"]],
            barred=[e["barred"] for e in case["experts"]],
            max_load=case["load"],
        )
        person = [p for _, p, _ in experts]

        def who(n: int) -> list[UUID]:
            return [person[n]] if n >= 0 else []

        items = [
            {
                "codes": it["codes"],
                "keywords": it["keywords"],
                "unit": units[it["unit"]],
                "applicant": who(it["applicant"])[0] if it["applicant"] >= 0 else None,
                "team": who(it["team"]),
                "avoid": who(it["avoid"]),
            }
            for it in case["items"]
        ]
        round_id, ids = await load_round(
            svc, items, k=case["k"], max_load=case["load"], rules=case["rules"], candidates_per_item=10
        )
        run = await office.run(round_id, {"mode": "optimal"})
        assert run["status"] == "done", run
        # the pairs an independent reading of the rules allows, and their affinities
        rules = merged_rules(case["rules"])
        weights: dict[tuple[int, int], float] = {}
        allowed = set()
        for i, (it, raw) in enumerate(zip(items, case["items"], strict=True)):
            facts = ItemFacts(it["applicant"], it["unit"], it["team"], [], it["avoid"], avoid_unit_ids=[])
            for e, (eid, pid, unit) in enumerate(experts):
                ex = ExpertFacts(pid, unit, barred=case["experts"][e]["barred"])
                expert = case["experts"][e]
                related = max(disciplines.match_score(a, b) for a in raw["codes"] for b in expert["codes"])
                if related and not conflicts(ex, facts, rules):
                    weights[(i, e)] = round(_affinity(raw, expert), 3)
                    allowed.add((i, eid))
        expected = _lp(weights, len(items), len(experts), case["k"], case["load"])
        rows = run["assignments"]
        item_index = {str(x): n for n, x in enumerate(ids)}
        assert all((item_index[r["item_id"]], UUID(r["expert_id"])) in allowed for r in rows), (
            "a conflicted pair"
        )
        assert abs(run["objective"] - expected) < 1e-6, (run["objective"], expected, case)

    @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
    @given(rounds())
    def property_(case: dict[str, Any]) -> None:
        asyncio.run_coroutine_threadsafe(check(case), loop).result(timeout=120)

    await asyncio.to_thread(property_)
