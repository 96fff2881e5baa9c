"""Reviewer assignment as arrays: candidate graph, 回避 mask, min-cost flow, random draw.

Pure numpy + OR-Tools; no database, no web. Items and experts are dense integer indices;
the caller maps them to ids. Everything per pair is vectorised: a national round
(100,000 items x 50,000 experts, ~100 candidates each) is 10 M edges handled as arrays.

The flow network (one unit of flow = one review):

    item i (supply k) --[cap 1, cost -affinity]--> expert e --[cap L]--> sink (demand k*items)

solved as a maximum flow of minimum cost, so a shortfall is assigned as far as it can be and reported.

Optional constraints are modelled exactly with intermediate nodes and bonus arcs:
* at least one out-of-province expert per item: item -> item/out node with an arc of
  capacity 1 and a large bonus plus an arc of capacity k-1 without one;
* at most one expert of a unit per item: item -> (item, unit) node of capacity 1;
* a minimum load per expert: expert -> sink with capacity `min_load` and a large bonus.
Bonuses are larger than any sum of affinities, so they are met whenever they can be, and the
reported objective is the total affinity only.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray
from ortools.graph.python import min_cost_flow
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

SCALE = 1000  # affinities are rounded to 1/1000 for the integer solver
REDUCED_WIDTH = 4  # the optimal flow is first solved on each item's best 4 x k candidates
IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]


@dataclass
class CandidateGraph:
    """Sparse item-expert edges that survived 回避, with their affinity components."""

    item: IntArray  # item index per edge
    expert: IntArray  # expert index per edge
    discipline: FloatArray  # discipline-code component
    keywords: FloatArray  # keyword similarity component

    @property
    def affinity(self) -> FloatArray:
        return self.discipline + self.keywords

    def __len__(self) -> int:
        return int(self.item.shape[0])


@dataclass
class Shortfall:
    item: int
    assigned: int
    candidates: int
    reason: str
    reason_zh: str


@dataclass
class Solution:
    edges: IntArray  # indices into the candidate graph of the chosen edges
    objective: float  # total affinity of the chosen edges
    shortfalls: list[Shortfall] = field(default_factory=list)
    rank: IntArray = field(default_factory=lambda: np.zeros(0, np.int64))  # rank among the item's candidates
    underloaded: list[int] = field(default_factory=list)  # experts below the asked minimum
    missing_out_of_province: list[int] = field(default_factory=list)

    @property
    def feasible(self) -> bool:
        return not self.shortfalls


def keyword_similarity(a: NDArray[np.uint64], b: NDArray[np.uint64]) -> FloatArray:
    """Jaccard similarity of keyword sets held as 64-bit hashed bitsets (vectorised)."""
    inter = np.bitwise_count(a & b).astype(np.float64)
    union = np.bitwise_count(a | b).astype(np.float64)
    out: FloatArray = np.zeros_like(inter)
    np.divide(inter, union, out=out, where=union > 0)
    return out


def discipline_match(item_codes: IntArray, expert_codes: IntArray) -> FloatArray:
    """1 for the same six-digit code, 0.6 for the same four-digit parent, 0.3 for the same field."""
    same = item_codes == expert_codes
    parent = (item_codes // 100) == (expert_codes // 100)
    field_ = (item_codes // 10000) == (expert_codes // 10000)
    out: FloatArray = np.where(same, 1.0, np.where(parent, 0.6, np.where(field_, 0.3, 0.0)))
    return out


def rank_within_items(item: IntArray, affinity: FloatArray) -> IntArray:
    """1-based rank of each edge among its item's candidates by affinity (best first)."""
    quantised = np.rint(affinity * SCALE).astype(np.int64)
    if (
        len(item)
        and quantised.min() >= 0
        and quantised.max() < 8 * SCALE
        and np.allclose(quantised, affinity * SCALE)
    ):
        # affinities on the 1/1000 grid: one int64 key sorts as fast as one column
        order = np.argsort(item * (8 * SCALE) + (8 * SCALE - 1 - quantised), kind="stable")
    else:
        order = np.lexsort((-affinity, item))
    sorted_items = item[order]
    starts = np.flatnonzero(np.r_[True, sorted_items[1:] != sorted_items[:-1]])
    counts = np.diff(np.r_[starts, len(order)])
    pos = np.arange(len(order)) - np.repeat(starts, counts)
    rank = np.empty(len(order), np.int64)
    rank[order] = pos + 1
    return rank


def components(graph: CandidateGraph, n_items: int, n_experts: int) -> IntArray:
    """Connected component of every item and expert node of the candidate graph."""
    n = n_items + n_experts
    adjacency = coo_matrix(
        (np.ones(len(graph), np.int8), (graph.item, n_items + graph.expert)), shape=(n, n)
    ).tocsr()
    _, labels = connected_components(adjacency, directed=False)
    return np.asarray(labels, np.int64)


def solve_optimal(
    graph: CandidateGraph,
    *,
    n_items: int,
    n_experts: int,
    k: IntArray | int,
    max_load: IntArray | int,
    min_load: IntArray | int = 0,
    out_of_province: NDArray[np.bool_] | None = None,
    expert_unit: IntArray | None = None,
    rank: IntArray | None = None,
) -> Solution:
    """Maximum total affinity with exactly k reviewers per item (or a reported shortfall).

    ``k`` is one number for every item, or what each item still needs; ``rank`` the rank of
    each edge among its item's candidates, where the caller has it already.

    The flow decomposes exactly over the connected components of the candidate graph (items
    only reach experts of their discipline area), so each component is solved on its own:
    the same optimum, found faster than on one national network. Without optional
    constraints it is first solved on each item's best few candidates (``_reduced``).
    """
    need = np.broadcast_to(np.asarray(k, np.int64), (n_items,))
    caps = np.broadcast_to(np.asarray(max_load, np.int64), (n_experts,))
    mins = np.minimum(np.broadcast_to(np.asarray(min_load, np.int64), (n_experts,)), caps)
    if rank is None:
        rank = rank_within_items(graph.item, graph.affinity)
    if not len(graph):
        chosen = np.zeros(0, np.int64)
    elif mins.any() or out_of_province is not None or expert_unit is not None:
        chosen = _by_components(
            graph,
            np.arange(len(graph), dtype=np.int64),
            need=need,
            caps=caps,
            mins=mins,
            out_of_province=out_of_province,
            expert_unit=expert_unit,
        )
    else:
        chosen = _reduced(graph, rank, n_items=n_items, n_experts=n_experts, need=need, caps=caps)
    return _solution(
        graph,
        chosen,
        n_items=n_items,
        n_experts=n_experts,
        k=need,
        mins=mins,
        out_of_province=out_of_province,
        rank=rank,
    )


def _unproved(
    graph: CandidateGraph, kept: IntArray, chosen: IntArray, *, width: IntArray, caps: IntArray
) -> NDArray[np.bool_]:
    """Items with candidates left out and no witness (see ``_reduced``) among the kept edges."""
    n_items, n_experts = len(width), len(caps)
    used = np.zeros(len(graph), bool)
    used[chosen] = True
    load = np.bincount(graph.expert[chosen], minlength=n_experts)
    spare = kept[~used[kept] & (load[graph.expert[kept]] < caps[graph.expert[kept]])]
    witnessed = np.bincount(graph.item[spare], minlength=n_items) > 0
    degree = np.bincount(graph.item, minlength=n_items)
    out: NDArray[np.bool_] = (degree > width) & ~witnessed
    return out


def _reduced(
    graph: CandidateGraph, rank: IntArray, *, n_items: int, n_experts: int, need: IntArray, caps: IntArray
) -> IntArray:
    """The optimum of the whole graph, found on each item's best few candidates.

    The flow is solved on the edges of rank <= ``REDUCED_WIDTH`` x need of their item. Its answer
    is optimal on the whole graph when every item that has edges left out holds a *witness*: a
    kept edge it does not use, to an expert below their cap. Proof, with the assignment LP
    (maximise the sum of ``w'`` = affinity + a bonus larger than any total, i.e. most reviews
    first, then most affinity; item rows ``u``, expert rows ``v``, edge bounds ``z``, all >= 0,
    and ``u_i + v_e + z_ie >= w'_ie`` on every edge): take an optimal dual of the reduced
    problem. Complementary slackness on the witness (i, e') gives ``v_e' = 0`` (the expert has
    room) and ``z_ie' = 0`` (the edge is unused), so ``u_i >= w'_ie'``; every edge left out of
    item i ranks below every kept one, so ``w'_ie <= w'_ie' <= u_i <= u_i + v_e``: with
    ``z_ie = 0`` the dual stays feasible on the whole graph at the same value, and the reduced
    answer is optimal there (the constraint matrix is totally unimodular: the LP optimum is the
    integer one).

    The components (of the whole graph) that hold an item without a witness are solved once
    more, those items with every candidate; where an item is still without one, its component
    is solved on the whole graph. Components never interact, so the others keep their answer.
    """
    degree = np.bincount(graph.item, minlength=n_items)
    width = np.minimum(degree, REDUCED_WIDTH * need)
    mins = np.zeros(n_experts, np.int64)

    def solve(edges: IntArray) -> IntArray:
        return _by_components(
            graph, edges, need=need, caps=caps, mins=mins, out_of_province=None, expert_unit=None
        )

    kept = np.flatnonzero(rank <= width[graph.item])
    chosen = solve(kept)
    unproved = _unproved(graph, kept, chosen, width=width, caps=caps)
    if not unproved.any():
        return chosen
    item_label = components(graph, n_items, n_experts)[:n_items]
    label = item_label[graph.item]  # the component of each edge

    def of_components(items: NDArray[np.bool_]) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
        """The items and the edges of the components holding the given items."""
        held = np.unique(item_label[items])
        return np.isin(item_label, held), np.isin(label, held)

    again_items, again = of_components(unproved)
    width[unproved] = degree[unproved]
    kept = np.flatnonzero(again & (rank <= width[graph.item]))
    widened = solve(kept)
    still = _unproved(graph, kept, widened, width=width, caps=caps) & again_items
    if still.any():
        _, whole = of_components(still)
        widened = np.concatenate([widened[~whole[widened]], solve(np.flatnonzero(whole))])
    return np.sort(np.concatenate([chosen[~again[chosen]], widened]))


def _by_components(
    graph: CandidateGraph,
    edges: IntArray,
    *,
    need: IntArray,
    caps: IntArray,
    mins: IntArray,
    out_of_province: NDArray[np.bool_] | None,
    expert_unit: IntArray | None,
) -> IntArray:
    """The flow over the given edges of the graph, one connected component at a time (sorted edge indices)."""
    if not len(edges):
        return np.zeros(0, np.int64)
    n_items, n_experts = len(need), len(caps)
    sub_graph = CandidateGraph(graph.item[edges], graph.expert[edges], graph.discipline, graph.keywords)
    labels = components(sub_graph, n_items, n_experts)[sub_graph.item]
    order = np.argsort(labels, kind="stable")
    cuts = np.flatnonzero(np.diff(labels[order])) + 1
    chosen_parts: list[IntArray] = []
    for part in np.split(edges[order], cuts):
        items, item_local = np.unique(graph.item[part], return_inverse=True)
        experts, expert_local = np.unique(graph.expert[part], return_inverse=True)
        sub = CandidateGraph(
            item_local.astype(np.int64),
            expert_local.astype(np.int64),
            graph.discipline[part],
            graph.keywords[part],
        )
        local = _flow(
            sub,
            n_items=len(items),
            n_experts=len(experts),
            k=need[items],
            caps=caps[experts],
            mins=mins[experts],
            out_of_province=None if out_of_province is None else out_of_province[experts],
            expert_unit=None if expert_unit is None else expert_unit[experts],
        )
        chosen_parts.append(part[local])
    return np.sort(np.concatenate(chosen_parts))


def _flow(
    graph: CandidateGraph,
    *,
    n_items: int,
    n_experts: int,
    k: IntArray,
    caps: IntArray,
    mins: IntArray,
    out_of_province: NDArray[np.bool_] | None,
    expert_unit: IntArray | None,
) -> IntArray:
    """Chosen edges of one connected piece of the candidate graph (indices into it)."""
    cost = -np.rint(graph.affinity * SCALE).astype(np.int64)
    big = int(SCALE * 4 * (int(k.sum()) + 1))  # larger than any total affinity
    item_node = np.arange(n_items, dtype=np.int64)
    expert_node = n_items + np.arange(n_experts, dtype=np.int64)
    sink = n_items + n_experts
    next_node = sink + 1
    tails: list[IntArray] = []
    heads: list[IntArray] = []
    capacities: list[IntArray] = []
    costs: list[IntArray] = []

    def arcs(t: IntArray, h: IntArray, c: IntArray | int, w: IntArray | int) -> None:
        tails.append(t)
        heads.append(h)
        capacities.append(np.broadcast_to(np.asarray(c, np.int64), t.shape).copy())
        costs.append(np.broadcast_to(np.asarray(w, np.int64), t.shape).copy())

    edge_tail = graph.item.astype(np.int64)
    if out_of_province is not None:
        # item -> out node (1 with bonus, k-1 plain); out-of-province edges leave from there
        out_node = next_node + np.arange(n_items, dtype=np.int64)
        next_node += n_items
        arcs(item_node, out_node, np.minimum(k, 1), -big)
        arcs(item_node, out_node, np.maximum(k - 1, 0), 0)
        is_out = out_of_province[graph.expert]
        edge_tail = np.where(is_out, out_node[graph.item], edge_tail)
    if expert_unit is not None:
        # (tail node, unit) -> at most one expert: one intermediate node per pair
        units = expert_unit[graph.expert].astype(np.int64)
        pair = edge_tail * (int(units.max(initial=0)) + 1) + units
        uniq, inverse = np.unique(pair, return_inverse=True)
        pair_node = next_node + np.arange(len(uniq), dtype=np.int64)
        next_node += len(uniq)
        first = np.zeros(len(uniq), np.int64)
        first[inverse[::-1]] = np.arange(len(inverse))[::-1]
        arcs(edge_tail[first], pair_node, 1, 0)
        edge_tail = pair_node[inverse]
    edge_arc_start = sum(len(t) for t in tails)
    arcs(edge_tail, expert_node[graph.expert], 1, cost)
    if mins.any():
        arcs(expert_node, np.full(n_experts, sink, np.int64), mins, -big)
    arcs(expert_node, np.full(n_experts, sink, np.int64), caps - mins, 0)

    solver = min_cost_flow.SimpleMinCostFlow()
    solver.add_arcs_with_capacity_and_unit_cost(
        np.concatenate(tails), np.concatenate(heads), np.concatenate(capacities), np.concatenate(costs)
    )
    supplies = np.zeros(next_node, np.int64)
    supplies[:n_items] = k
    supplies[sink] = -int(k.sum())
    solver.set_nodes_supplies(np.arange(next_node, dtype=np.int64), supplies)
    # maximum flow at minimum cost: where k reviewers per item cannot all be found, as many as
    # can be are assigned (at the best affinity) and the shortfall is reported, never a failure
    status = solver.solve_max_flow_with_min_cost()
    if status != solver.OPTIMAL:  # pragma: no cover
        raise RuntimeError(f"min-cost flow failed with status {status}")
    edge_arcs = np.arange(edge_arc_start, edge_arc_start + len(graph), dtype=np.int64)
    chosen: IntArray = np.flatnonzero(solver.flows(edge_arcs) > 0)
    return chosen


def _solution(
    graph: CandidateGraph,
    chosen: IntArray,
    *,
    n_items: int,
    n_experts: int,
    k: IntArray,
    mins: IntArray,
    out_of_province: NDArray[np.bool_] | None,
    rank: IntArray | None = None,
) -> Solution:
    assigned = np.bincount(graph.item[chosen], minlength=n_items)
    candidates = np.bincount(graph.item, minlength=n_items)
    shortfalls = []
    for i in np.flatnonzero(assigned < k).tolist():
        if candidates[i] < k[i]:
            reason = f"only {candidates[i]} qualified experts without a conflict of interest, {k[i]} needed"
            reason_zh = f"符合条件且无需回避的专家仅{candidates[i]}名，需要{k[i]}名"
        else:
            reason = "qualified experts are at their load cap"
            reason_zh = "符合条件的专家评审任务已满"
        shortfalls.append(Shortfall(i, int(assigned[i]), int(candidates[i]), reason, reason_zh))
    load = np.bincount(graph.expert[chosen], minlength=n_experts)
    underloaded = np.flatnonzero(load < mins).tolist()
    missing: list[int] = []
    if out_of_province is not None:
        outs = np.bincount(
            graph.item[chosen], weights=out_of_province[graph.expert[chosen]], minlength=n_items
        )
        missing = np.flatnonzero((outs < 1) & (assigned > 0)).tolist()
    return Solution(
        edges=chosen,
        objective=float(graph.affinity[chosen].sum()),
        shortfalls=shortfalls,
        rank=(rank if rank is not None else rank_within_items(graph.item, graph.affinity))[chosen],
        underloaded=underloaded,
        missing_out_of_province=missing,
    )


def _position_in_groups(groups: IntArray) -> IntArray:
    """0-based position of each element within its run of equal values (``groups`` sorted)."""
    if not len(groups):
        return np.zeros(0, np.int64)
    starts = np.flatnonzero(np.r_[True, groups[1:] != groups[:-1]])
    counts = np.diff(np.r_[starts, len(groups)])
    out: IntArray = np.arange(len(groups)) - np.repeat(starts, counts)
    return out


def _order_by(groups: IntArray, priority: FloatArray) -> IntArray:
    """``np.lexsort((priority, groups))`` (priorities in [0, 1)), as one sort of a 64-bit key.

    The key holds the group and the leading bits of the priority; where two keys tie, the full
    lexsort decides, so the order is always exactly the lexsort's.
    """
    group_bits = max(1, int(groups.max(initial=0)).bit_length())
    if len(groups) < 2 or group_bits > 23:
        return np.lexsort((priority, groups))
    priority_bits = min(53, 63 - group_bits)  # a priority from ``random()`` has 53 bits
    leading = (priority * 2.0**53).astype(np.uint64) >> np.uint64(53 - priority_bits)
    key = (groups.astype(np.uint64) << np.uint64(priority_bits)) | leading
    order = np.argsort(key, kind="stable")
    ordered = key[order]
    if (ordered[1:] == ordered[:-1]).any():
        return np.lexsort((priority, groups))
    out: IntArray = order.astype(np.int64)
    return out


def random_draw(
    graph: CandidateGraph,
    *,
    n_items: int,
    n_experts: int,
    k: IntArray | int,
    max_load: IntArray | int,
    seed: int,
    reserve: int = 0,
    rank: IntArray | None = None,
) -> tuple[Solution, IntArray]:
    """抽取: each item draws k of its qualified experts at random, respecting load caps.

    Every edge gets a random priority from the seed. In rounds, each item proposes its best
    remaining edges up to what it still needs; an expert over their cap keeps the proposals of
    best priority and refuses the rest, which drop out. Whole rounds are array operations.
    Reproducible: the same graph and seed give the same draw. Returns the solution and the
    reserve edges (up to ``reserve`` per item, in draw order) for later replacement draws.
    """
    rng = np.random.default_rng(seed)
    need = np.broadcast_to(np.asarray(k, np.int64), (n_items,)).copy()
    caps = np.broadcast_to(np.asarray(max_load, np.int64), (n_experts,)).copy()
    priority = rng.random(len(graph))
    order = _order_by(graph.item, priority)
    item_s, expert_s, prio_s = graph.item[order], graph.expert[order], priority[order]
    open_ = np.ones(len(order), bool)  # neither chosen nor refused
    chosen = np.zeros(len(order), bool)
    while True:
        open_ &= caps[expert_s] > 0
        idx = np.flatnonzero(open_)
        if not len(idx):
            break
        propose = idx[_position_in_groups(item_s[idx]) < need[item_s[idx]]]
        if not len(propose):
            break
        by_expert = _order_by(expert_s[propose], prio_s[propose])
        ranked = propose[by_expert]
        keep = _position_in_groups(expert_s[ranked]) < caps[expert_s[ranked]]
        accepted, refused = ranked[keep], ranked[~keep]
        chosen[accepted] = True
        open_[accepted] = False
        open_[refused] = False
        caps -= np.bincount(expert_s[accepted], minlength=n_experts)
        need -= np.bincount(item_s[accepted], minlength=n_items)
        if not len(refused):
            break
    rest = np.flatnonzero(~chosen)
    reserves = order[rest[_position_in_groups(item_s[rest]) < reserve]] if reserve else np.zeros(0, np.int64)
    picked = np.sort(order[chosen])
    solution = _solution(
        graph,
        picked,
        n_items=n_items,
        n_experts=n_experts,
        k=np.broadcast_to(np.asarray(k, np.int64), (n_items,)),
        mins=np.zeros(n_experts, np.int64),
        out_of_province=None,
        rank=rank,
    )
    return solution, np.asarray(reserves, np.int64)


def greedy(graph: CandidateGraph, *, n_items: int, n_experts: int, k: int, max_load: int) -> Solution:
    """Baseline: take edges best-first while item and expert still have room."""
    order = np.argsort(-graph.affinity, kind="stable")
    need = np.full(n_items, k, np.int64)
    caps = np.full(n_experts, max_load, np.int64)
    chosen = []
    items = graph.item.tolist()
    experts = graph.expert.tolist()
    for edge in order.tolist():
        i, e = items[edge], experts[edge]
        if need[i] > 0 and caps[e] > 0:
            need[i] -= 1
            caps[e] -= 1
            chosen.append(edge)
    return _solution(
        graph,
        np.asarray(chosen, np.int64),
        n_items=n_items,
        n_experts=n_experts,
        k=np.full(n_items, k, np.int64),
        mins=np.zeros(n_experts, np.int64),
        out_of_province=None,
    )
