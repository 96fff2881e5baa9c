"""The assignment solver against an independent LP optimum, and its guarantees, on random instances."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from evaluation.assignment.solver import CandidateGraph, random_draw, solve_optimal


@st.composite
def instances(draw: st.DrawFn) -> tuple[CandidateGraph, int, int, int, int]:
    n_items = draw(st.integers(1, 6))
    n_experts = draw(st.integers(1, 7))
    k = draw(st.integers(1, 3))
    load = draw(st.integers(1, 4))
    mask = draw(st.lists(st.booleans(), min_size=n_items * n_experts, max_size=n_items * n_experts))
    pairs = [(i, e) for i in range(n_items) for e in range(n_experts) if mask[i * n_experts + e]]
    item = np.array([p[0] for p in pairs], np.int64)
    expert = np.array([p[1] for p in pairs], np.int64)
    disc = np.array(draw(st.lists(st.integers(0, 1000), min_size=len(pairs), max_size=len(pairs)))) / 1000
    kw = np.array(draw(st.lists(st.integers(0, 1000), min_size=len(pairs), max_size=len(pairs)))) / 1000
    return CandidateGraph(item, expert, disc.astype(float), kw.astype(float)), n_items, n_experts, k, load


def lp_optimum(graph: CandidateGraph, n_items: int, n_experts: int, k: int, load: int) -> float | None:
    """Maximum affinity with exactly k per item and at most `load` per expert (None: infeasible)."""
    m = len(graph)
    if m == 0:
        return None
    a_eq = np.zeros((n_items, m))
    a_eq[graph.item, np.arange(m)] = 1
    a_ub = np.zeros((n_experts, m))
    a_ub[graph.expert, np.arange(m)] = 1
    result = linprog(
        -graph.affinity,
        A_ub=a_ub,
        b_ub=np.full(n_experts, load),
        A_eq=a_eq,
        b_eq=np.full(n_items, k),
        bounds=(0, 1),
        method="highs",
    )
    return None if result.status != 0 else float(-result.fun)


@settings(max_examples=60, deadline=None)
@given(instances())
def test_optimal_objective_equals_an_independent_lp_optimum(
    case: tuple[CandidateGraph, int, int, int, int],
) -> None:
    graph, n_items, n_experts, k, load = case
    solution = solve_optimal(graph, n_items=n_items, n_experts=n_experts, k=k, max_load=load)
    optimum = lp_optimum(graph, n_items, n_experts, k, load)
    if optimum is None:
        assert solution.shortfalls, "an infeasible instance must be reported"
    else:
        assert solution.feasible
        assert abs(solution.objective - optimum) < 1e-6


@settings(max_examples=60, deadline=None)
@given(instances())
def test_k_and_load_caps_are_met_or_the_shortfall_is_reported(
    case: tuple[CandidateGraph, int, int, int, int],
) -> None:
    graph, n_items, n_experts, k, load = case
    solution = solve_optimal(graph, n_items=n_items, n_experts=n_experts, k=k, max_load=load)
    per_item = np.bincount(graph.item[solution.edges], minlength=n_items)
    per_expert = np.bincount(graph.expert[solution.edges], minlength=n_experts)
    assert per_expert.max(initial=0) <= load
    assert per_item.max(initial=0) <= k
    short = {s.item for s in solution.shortfalls}
    assert short == set(np.flatnonzero(per_item < k).tolist())
    for s in solution.shortfalls:
        assert s.reason and s.reason_zh


@settings(max_examples=40, deadline=None)
@given(instances(), st.integers(0, 2**32 - 1))
def test_random_draw_is_reproducible_from_its_seed(
    case: tuple[CandidateGraph, int, int, int, int], seed: int
) -> None:
    graph, n_items, n_experts, k, load = case
    first, reserve1 = random_draw(
        graph, n_items=n_items, n_experts=n_experts, k=k, max_load=load, seed=seed, reserve=2
    )
    again, reserve2 = random_draw(
        graph, n_items=n_items, n_experts=n_experts, k=k, max_load=load, seed=seed, reserve=2
    )
    assert first.edges.tolist() == again.edges.tolist()
    assert reserve1.tolist() == reserve2.tolist()
    per_expert = np.bincount(graph.expert[first.edges], minlength=n_experts)
    assert per_expert.max(initial=0) <= load
    assert not set(reserve1.tolist()) & set(first.edges.tolist())


def test_out_of_province_and_one_per_unit_constraints_hold_when_possible() -> None:
    # 2 items, 6 experts; experts 0-3 share unit 0 and are the best; 4 and 5 are out of province
    item = np.repeat(np.arange(2), 6)
    expert = np.tile(np.arange(6), 2)
    disc = np.tile(np.array([1.0, 1.0, 1.0, 1.0, 0.1, 0.1]), 2)
    graph = CandidateGraph(item, expert, disc, np.zeros(12))
    out = np.array([False, False, False, False, True, True])
    unit = np.array([0, 0, 0, 0, 1, 2])
    solution = solve_optimal(
        graph, n_items=2, n_experts=6, k=2, max_load=2, out_of_province=out, expert_unit=unit
    )
    assert solution.feasible and not solution.missing_out_of_province
    for i in range(2):
        chosen = graph.expert[solution.edges][graph.item[solution.edges] == i]
        assert out[chosen].any()
        assert len(set(unit[chosen].tolist())) == len(chosen)
    # the explanation ranks each chosen expert among the item's candidates
    assert set(solution.rank.tolist()) <= set(range(1, 7))


def test_an_item_without_enough_qualified_experts_is_named_with_the_reason() -> None:
    graph = CandidateGraph(np.array([0, 0, 1]), np.array([0, 1, 0]), np.ones(3), np.zeros(3))
    solution = solve_optimal(graph, n_items=2, n_experts=2, k=2, max_load=5)
    assert [s.item for s in solution.shortfalls] == [1]
    assert "仅1名" in solution.shortfalls[0].reason_zh


def test_minimum_load_is_met_where_possible() -> None:
    # expert 1 is worse everywhere but must take at least one item
    graph = CandidateGraph(
        np.array([0, 0, 1, 1]), np.array([0, 1, 0, 1]), np.array([1.0, 0.2, 1.0, 0.2]), np.zeros(4)
    )
    solution = solve_optimal(graph, n_items=2, n_experts=2, k=1, max_load=2, min_load=1)
    assert sorted(graph.expert[solution.edges].tolist()) == [0, 1]
    assert not solution.underloaded


@st.composite
def wide_instances(draw: st.DrawFn) -> tuple[CandidateGraph, int, int, int, int]:
    """Items with many more candidates than they need and tight loads: the reduced graph leaves
    edges out, and experts fill up, so the optimality proof (witnesses) is put to the test."""
    n_items = draw(st.integers(5, 25))
    n_experts = draw(st.integers(8, 30))
    k = draw(st.integers(1, 3))
    load = draw(st.integers(1, 3))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    mask = rng.random((n_items, n_experts)) < draw(st.floats(0.4, 1.0))
    item, expert = np.nonzero(mask)
    levels = np.array([0.3, 0.6, 1.0])  # few distinct affinities: many ties, as in real rounds
    disc = levels[rng.integers(0, 3, len(item))]
    kw = np.round(rng.integers(0, 3, len(item)) / 4, 3)
    graph = CandidateGraph(item.astype(np.int64), expert.astype(np.int64), disc, kw)
    return graph, n_items, n_experts, k, load


@settings(max_examples=80, deadline=None)
@given(wide_instances())
def test_the_reduced_graph_answer_is_the_optimum_of_the_whole_graph(
    case: tuple[CandidateGraph, int, int, int, int],
) -> None:
    graph, n_items, n_experts, k, load = case
    solution = solve_optimal(graph, n_items=n_items, n_experts=n_experts, k=k, max_load=load)
    # the same with the whole graph in the flow (a constraint that changes nothing forces that path)
    whole = solve_optimal(
        graph, n_items=n_items, n_experts=n_experts, k=k, max_load=load, expert_unit=np.arange(n_experts)
    )
    assert len(solution.edges) == len(whole.edges)
    assert abs(solution.objective - whole.objective) < 1e-6
    optimum = lp_optimum(graph, n_items, n_experts, k, load)
    if optimum is not None:
        assert solution.feasible and abs(solution.objective - optimum) < 1e-6
