"""The CPU-heavy half of a run, as one picklable call: 回避, candidates and the solver.

The job runs ``plan`` in a worker process (the solver holds the GIL for seconds at national
size, which in a thread would stall the service's event loop: its API, its consumers and the
run's own lease heartbeat). Input and output are plain arrays.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import numpy as np
from numpy.typing import NDArray

from evaluation import disciplines
from evaluation.assignment import candidates as cand
from evaluation.assignment.solver import CandidateGraph, random_draw, rank_within_items, solve_optimal
from evaluation.coi.check import Relation, Side, conflicts_of_round
from evaluation.coi.rules import EXCLUSIONS_ZH, RULES

IntArray = NDArray[np.int64]
KEYWORD_WORDS = 4  # keyword bitsets of 256 bits: exact for a round of up to 256 distinct keywords


@dataclass
class Problem:
    n_items: int
    n_experts: int
    need: IntArray  # reviewers each item still needs
    caps: IntArray  # reviews each expert can still take in the round
    items: Side  # the item sets 回避 compares
    experts: Side  # the expert sets and flags
    item_codes: Relation  # key: folded md5 of the discipline code
    expert_codes: Relation
    item_keywords: Relation  # key: folded md5 of the keyword
    expert_keywords: Relation
    expert_excluded: dict[str, NDArray[np.bool_]]
    taken: IntArray  # pair codes the round already has a row for
    rules: dict[str, dict[str, Any]]
    mode: str
    seed: int | None
    reserve: int
    per_item: int
    min_load: int = 0
    out_of_province: NDArray[np.bool_] | None = None
    expert_unit: IntArray | None = None


@dataclass
class Outcome:
    assigned: CandidateGraph
    assigned_rank: IntArray
    reserve: CandidateGraph
    reserve_candidate_rank: IntArray
    reserve_rank: IntArray
    objective: float
    candidates: int  # edges of the candidate graph
    short: list[dict[str, Any]] = field(default_factory=list)  # item index, counts, why


def _md5_key(text: str) -> int:
    raw = np.frombuffer(hashlib.md5(text.encode()).digest(), np.uint64)  # noqa: S324 (a key, not a secret)
    return int(raw[0] ^ raw[1])


@cache
def _table() -> tuple[NDArray[np.uint64], IntArray, IntArray, IntArray]:
    """The discipline table as arrays: folded key per code (sorted), its index, parent and top."""
    codes = list(disciplines.table())
    index = {c: n for n, c in enumerate(codes)}
    keys = np.array([_md5_key(c) for c in codes], np.uint64)
    parent = np.array([index.get(disciplines.second(c) or "", -1) for c in codes], np.int64)
    top = np.array([index[disciplines.top(c)] for c in codes], np.int64)
    order = np.argsort(keys)
    return keys[order], order.astype(np.int64), parent, top


def code_key(code: str) -> int:
    """The key a discipline code has in a run's relations (md5 of the upper-case code)."""
    return _md5_key(code.strip().upper())


def _codes(rel: Relation) -> Relation:
    keys, index, _, _ = _table()
    pos = np.minimum(np.searchsorted(keys, rel.key), len(keys) - 1)
    known = keys[pos] == rel.key
    return Relation(rel.row[known], index[pos[known]].astype(np.uint64))


def _bitsets(item: Relation, expert: Relation, n_items: int, n_experts: int) -> tuple[Any, Any]:
    """Keyword sets as bitsets; the most frequent keywords of the round get bits of their own."""
    words = KEYWORD_WORDS
    both = np.concatenate([item.key, expert.key])
    vocab, inverse, counts = np.unique(both, return_inverse=True, return_counts=True)
    by_frequency = np.empty(len(vocab), np.int64)
    by_frequency[np.lexsort((vocab, -counts))] = np.arange(len(vocab))
    bit = by_frequency[inverse] % (64 * words)
    word, offset = bit // 64, (bit % 64).astype(np.uint64)
    values = np.left_shift(np.uint64(1), offset)
    out = []
    for rows, n, sl in (
        (item.row, n_items, slice(0, len(item))),
        (expert.row, n_experts, slice(len(item), None)),
    ):
        bits = np.zeros((n, words), np.uint64)
        np.bitwise_or.at(bits, (rows, word[sl]), values[sl])
        out.append(bits)
    return out[0], out[1]


def warm_up() -> int:
    """Load the discipline table (the imports come with this module)."""
    return len(_table()[0])


def plan(p: Problem) -> Outcome:
    """回避 over the whole round, sparse candidates, then the draw or the optimal assignment."""
    _, _, parent, top = _table()
    item_kw, expert_kw = _bitsets(p.item_keywords, p.expert_keywords, p.n_items, p.n_experts)
    item_codes, expert_codes = _codes(p.item_codes), _codes(p.expert_codes)
    pool = cand.Pool(
        n_items=p.n_items,
        n_experts=p.n_experts,
        item_codes=Relation(item_codes.row, item_codes.key.astype(np.int64)),
        expert_codes=Relation(expert_codes.row, expert_codes.key.astype(np.int64)),
        code_parent=parent,
        code_top=top,
        item_keywords=item_kw,
        expert_keywords=expert_kw,
        conflicts=conflicts_of_round(p.experts, p.items, p.rules),
        expert_excluded=p.expert_excluded,
        taken=p.taken,
    )
    found = cand.generate(pool, need=p.need, per_item=p.per_item)
    graph = found.graph
    ranks = rank_within_items(graph.item, graph.affinity) if len(graph) else np.zeros(0, np.int64)
    reserve_edges = np.zeros(0, np.int64)
    if p.mode == "draw":
        assert p.seed is not None
        solution, reserve_edges = random_draw(
            graph,
            n_items=p.n_items,
            n_experts=p.n_experts,
            k=p.need,
            max_load=p.caps,
            seed=p.seed,
            reserve=p.reserve,
            rank=ranks,
        )
    else:
        solution = solve_optimal(
            graph,
            n_items=p.n_items,
            n_experts=p.n_experts,
            k=p.need,
            max_load=p.caps,
            min_load=p.min_load,
            out_of_province=p.out_of_province,
            expert_unit=p.expert_unit,
            rank=ranks,
        )
    short = []
    for sf in solution.shortfalls:
        i = sf.item
        if p.need[i] <= 0:
            continue
        excluded = {reason: int(c[i]) for reason, c in found.excluded.items() if c[i]}
        short.append(
            {
                "item": i,
                "needed": int(p.need[i]),
                "assigned": sf.assigned,
                "candidates": int(found.found[i]),
                "reason": sf.reason,
                "reason_zh": sf.reason_zh,
                "excluded_by_rule": excluded,
                "excluded_by_rule_zh": {
                    (RULES[r][0] if r in RULES else EXCLUSIONS_ZH.get(r, r)): c for r, c in excluded.items()
                },
            }
        )
    reserve_rank = np.zeros(0, np.int64)
    if len(reserve_edges):
        reserve_rank = _position(graph.item[reserve_edges]) + 1
    return Outcome(
        assigned=_take(graph, solution.edges),
        assigned_rank=solution.rank,
        reserve=_take(graph, reserve_edges),
        reserve_candidate_rank=ranks[reserve_edges],
        reserve_rank=reserve_rank,
        objective=solution.objective,
        candidates=len(graph),
        short=short,
    )


def _position(groups: IntArray) -> IntArray:
    starts = np.flatnonzero(np.r_[True, groups[1:] != groups[:-1]])
    counts = np.diff(np.r_[starts, len(groups)])
    out: IntArray = np.arange(len(groups)) - np.repeat(starts, counts)
    return out


def _take(graph: CandidateGraph, edges: IntArray) -> CandidateGraph:
    return CandidateGraph(
        graph.item[edges], graph.expert[edges], graph.discipline[edges], graph.keywords[edges]
    )
