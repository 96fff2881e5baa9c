"""An assignment run of a round: read as arrays, plan off the event loop, write with one COPY.

The only assignment path the service has, from the provincial round to the national one:
* ``loading``: the items still short of k, the active experts and every fact 回避 reads, as
  arrays (``repository``), in the run's transaction;
* ``candidates`` and ``solving``: ``plan.plan`` in a worker process (``offload``);
* ``writing``: a preview keeps its first rows on the run; a commit COPYs every row through the
  database's own 回避 check.

An infeasible round (an item without enough qualified experts) writes nothing unless the office
accepts a partial assignment with a reason; the items short of k are then listed as such
(``short_items``) until replacements (补抽) fill them.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

import asyncpg
from sqlalchemy import select

from evaluation import disciplines
from evaluation.assignment import repository
from evaluation.assignment.plan import Outcome, Problem, plan
from evaluation.assignment.store import AssignmentBatch, copy_assignments
from evaluation.coi.rules import enabled, merged_rules
from evaluation.rounds import machine
from evaluation.rounds.models import AssignmentRun, ReviewRound
from shared.clock import utcnow
from shared.errors import Conflict
from shared.uow import UnitOfWork

log = logging.getLogger(__name__)
Progress = Callable[[str, int], Awaitable[None]]
Offload = Callable[[Callable[[Problem], Outcome], Problem], Awaitable[Outcome]]
PREVIEW_LIMIT = 20_000  # rows of a preview kept on the run for the office to read
DEFAULT_CANDIDATES = 100  # candidates per item when the round does not say


class Infeasible(Exception):
    """The round has items without enough qualified experts and no partial assignment was accepted."""

    def __init__(self, shortfalls: list[dict[str, Any]], objective: float, assigned: int) -> None:
        super().__init__(f"{len(shortfalls)} items lack qualified experts")
        self.shortfalls, self.objective, self.assigned = shortfalls, objective, assigned


async def _no_progress(stage: str, percent: int) -> None:
    return None


async def in_thread(fn: Callable[[Problem], Outcome], problem: Problem) -> Outcome:
    return await asyncio.to_thread(fn, problem)


def review_period(rnd: ReviewRound, today: date) -> tuple[date, date]:
    """The days the round's experts review: from its start (or today) to its deadline."""
    start = rnd.review_starts or today
    return start, max(start, rnd.review_deadline or start)


def _uuid(raw: Any) -> UUID:
    return UUID(bytes=bytes(raw))


async def run_assignment(
    uow: UnitOfWork,
    rnd: ReviewRound,
    run: AssignmentRun,
    *,
    progress: Progress = _no_progress,
    offload: Offload = in_thread,
) -> list[dict[str, Any]]:
    """Preview or commit an assignment of the round's items; never writes a conflicted pair.

    ``run`` carries the mode, seed and options and receives the outcome; returns the preview rows.
    """
    s = uow.session
    params = run.params or {}
    # one run per round at a time: concurrent runs queue on the round row
    await s.execute(select(ReviewRound.id).where(ReviewRound.id == rnd.id).with_for_update())
    await s.refresh(rnd)
    if rnd.status not in ("requested", "drawn"):
        machine.require(rnd, "run")
    rules = merged_rules(rnd.rules)
    today = date.today()
    await progress("loading", 5)
    clock = time.perf_counter()
    timings: dict[str, float] = {}
    conn = (await (await s.connection()).get_raw_connection()).driver_connection
    data = await repository.load(
        conn,
        round_id=rnd.id,
        k=rnd.k,
        max_load=rnd.max_load,
        rules=rules,
        period=review_period(rnd, today),
        today=today,
    )
    timings["loading"] = time.perf_counter() - clock
    await progress("candidates", 20)
    clock = time.perf_counter()
    problem = _problem(
        data,
        rules,
        mode=run.mode,
        seed=run.seed,
        reserve=rnd.reserve,
        per_item=rnd.candidates_per_item or DEFAULT_CANDIDATES,
        params=params,
    )
    outcome = await offload(plan, problem)
    timings["planning"] = time.perf_counter() - clock
    await progress("writing", 80)
    clock = time.perf_counter()
    shortfalls = await _shortfalls(conn, outcome, data.item_ids)
    run.objective = outcome.objective
    run.assigned = len(outcome.assigned)
    run.shortfalls = shortfalls
    checked = enabled(rules)
    if run.commit and shortfalls and not params.get("accept_partial"):
        raise Infeasible(shortfalls, outcome.objective, len(outcome.assigned))
    if run.commit:
        await _write(uow, conn, rnd, run, outcome, data, checked, shortfalls)
        rows: list[dict[str, Any]] = []
    else:
        rows = _preview(outcome, data, checked)
    timings["writing"] = time.perf_counter() - clock
    log.info(
        "assignment run planned and written",
        extra={"run_id": str(run.id), "items": problem.n_items, "experts": problem.n_experts, **timings},
    )
    return rows


def _problem(
    data: repository.RoundArrays,
    rules: dict[str, Any],
    *,
    mode: str,
    seed: int | None,
    reserve: int,
    per_item: int,
    params: dict[str, Any],
) -> Problem:
    return Problem(
        n_items=len(data.need),
        n_experts=len(data.caps),
        need=data.need,
        caps=data.caps,
        items=data.items,
        experts=data.experts,
        item_codes=data.item_codes,
        expert_codes=data.expert_codes,
        item_keywords=data.item_keywords,
        expert_keywords=data.expert_keywords,
        expert_excluded={"unavailable": ~data.available, "unconfirmed": data.available & ~data.confirmed},
        taken=data.taken,
        rules=rules,
        mode=mode,
        seed=seed,
        reserve=reserve,
        per_item=per_item,
        min_load=int(params.get("min_load") or 0),
        out_of_province=data.out_of_province if params.get("out_of_province") else None,
        expert_unit=data.unit if params.get("one_per_unit") else None,
    )


@dataclass
class Drawn:
    """The expert a replacement draw (补抽) gave an item, with the pair's affinity components."""

    expert_id: UUID
    discipline: float
    keywords: float
    candidate_rank: int


async def draw_replacements(
    uow: UnitOfWork, rnd: ReviewRound, item_ids: list[UUID], seed: int
) -> dict[UUID, list[Drawn]]:
    """补抽 by the draw's own set-based path: the items read as arrays against every expert at once.

    Each item's qualified experts are found as in a run (disciplines, every 回避 rule,
    availability, load left in the round, experts it already had a row with excluded) and the
    reviewers it still lacks are drawn from its best candidates with the seed, all items in one
    draw (so load caps hold across them); an item missing from the answer has no one left.
    """
    conn = (await (await uow.session.connection()).get_raw_connection()).driver_connection
    rules = merged_rules(rnd.rules)
    today = date.today()
    data = await repository.load(
        conn,
        round_id=rnd.id,
        k=rnd.k,
        max_load=rnd.max_load,
        rules=rules,
        period=review_period(rnd, today),
        today=today,
        only_items=item_ids,
    )
    if not len(data.need):
        return {}
    problem = _problem(
        data,
        rules,
        mode="draw",
        seed=seed,
        reserve=0,
        per_item=rnd.candidates_per_item or DEFAULT_CANDIDATES,
        params={},
    )
    outcome = plan(problem)
    a = outcome.assigned
    drawn: dict[UUID, list[Drawn]] = {}
    for j in range(len(a)):
        drawn.setdefault(_uuid(data.item_ids[a.item[j]]), []).append(
            Drawn(
                expert_id=_uuid(data.expert_ids[a.expert[j]]),
                discipline=round(float(a.discipline[j]), 3),
                keywords=round(float(a.keywords[j]), 3),
                candidate_rank=int(outcome.assigned_rank[j]),
            )
        )
    return drawn


async def _shortfalls(conn: Any, outcome: Outcome, item_ids: Any) -> list[dict[str, Any]]:
    ids = [_uuid(item_ids[sf["item"]]) for sf in outcome.short]
    codes = await repository.item_codes(conn, ids) if ids else {}
    out = []
    for item_id, sf in zip(ids, outcome.short, strict=True):
        row = {k: v for k, v in sf.items() if k != "item"}
        code, item_disciplines = codes.get(item_id, (None, []))
        # codes outside the classification (from another service's event) match no expert
        unknown = [c for c in item_disciplines if not disciplines.known(c.strip().upper())]
        out.append({"item_id": str(item_id), "code": code, **row, "unknown_discipline_codes": unknown})
    return out


def _preview(outcome: Outcome, data: repository.RoundArrays, checked: list[str]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    groups = (
        ("assigned", outcome.assigned, outcome.assigned_rank, None),
        ("reserve", outcome.reserve, outcome.reserve_candidate_rank, outcome.reserve_rank),
    )
    for status, graph, rank, reserve_rank in groups:
        n = min(len(graph), PREVIEW_LIMIT - len(rows))
        for j in range(n):
            d, kw = round(float(graph.discipline[j]), 3), round(float(graph.keywords[j]), 3)
            rows.append(
                {
                    "item_id": _uuid(data.item_ids[graph.item[j]]),
                    "expert_id": _uuid(data.expert_ids[graph.expert[j]]),
                    "status": status,
                    "affinity": round(d + kw, 3),
                    "discipline_score": d,
                    "keyword_score": kw,
                    "candidate_rank": int(rank[j]),
                    "rules_checked": checked,
                    "reserve_rank": None if reserve_rank is None else int(reserve_rank[j]),
                }
            )
    return rows


async def _write(
    uow: UnitOfWork,
    conn: Any,
    rnd: ReviewRound,
    run: AssignmentRun,
    outcome: Outcome,
    data: repository.RoundArrays,
    checked: list[str],
    shortfalls: list[dict[str, Any]],
) -> None:
    a, r = outcome.assigned, outcome.reserve
    batches = [
        AssignmentBatch(
            status="assigned",
            item=data.item_ids[a.item],
            expert=data.expert_ids[a.expert],
            discipline=a.discipline,
            keywords=a.keywords,
            candidate_rank=outcome.assigned_rank,
        ),
        AssignmentBatch(
            status="reserve",
            item=data.item_ids[r.item],
            expert=data.expert_ids[r.expert],
            discipline=r.discipline,
            keywords=r.keywords,
            candidate_rank=outcome.reserve_candidate_rank,
            reserve_rank=outcome.reserve_rank,
        ),
    ]
    try:
        await copy_assignments(
            conn,
            [b for b in batches if len(b)],
            round_id=rnd.id,
            run_id=run.id,
            rules_checked=checked,
            created_at=utcnow(),
        )
    except asyncpg.PostgresError as exc:  # the database's own 回避 check refused a pair
        if "conflict of interest" in str(exc):
            raise Conflict(
                f"a conflict of interest appeared during the run; run it again ({exc})",
                "分配过程中出现新的回避情形，请重新分配",
                code="conflict_of_interest",
            ) from exc
        raise
    rnd.status = "drawn"
    rnd.version += 1
    params = run.params or {}
    await uow.record(
        "assignment_committed",
        entity_type="review_round",
        entity_id=rnd.id,
        changes={
            "run_id": str(run.id),
            "mode": run.mode,
            "seed": run.seed,
            "assigned": len(a),
            "reserve": len(r),
            "shortfalls": len(shortfalls),
        },
    )
    if shortfalls:
        await uow.record(
            "assignment_partial_accepted",
            entity_type="review_round",
            entity_id=rnd.id,
            changes={
                "run_id": str(run.id),
                "accepted_by": run.started_by,
                "short_items": [
                    {"item_id": sf["item_id"], "assigned": sf["assigned"], "needed": sf["needed"]}
                    for sf in shortfalls
                ],
            },
            reason=params.get("partial_reason"),
        )


SHORT_ITEMS_SQL = """
SELECT r.id, r.code, r.title, COALESCE(a.live, 0) AS live
FROM round_items r
LEFT JOIN (SELECT item_id, count(*) AS live FROM assignments
           WHERE round_id = $1 AND status IN ('assigned', 'accepted') GROUP BY item_id) a ON a.item_id = r.id
WHERE r.round_id = $1 AND COALESCE(a.live, 0) < $2
ORDER BY r.code, r.id
"""


async def short_items(uow: UnitOfWork, rnd: ReviewRound) -> list[dict[str, Any]]:
    """Items of a drawn round with fewer than k live reviewers (after a partial assignment)."""
    conn: Any = (await (await uow.session.connection()).get_raw_connection()).driver_connection
    rows = await conn.fetch(SHORT_ITEMS_SQL, rnd.id, rnd.k)
    return [
        {"item_id": r["id"], "code": r["code"], "title": r["title"], "live": r["live"], "k": rnd.k}
        for r in rows
    ]
