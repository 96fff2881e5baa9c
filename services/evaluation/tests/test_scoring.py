"""Score arithmetic against hand-computed examples: totals, trimmed mean, z-scores, flags, ranking."""

from __future__ import annotations

import math

import pytest

from evaluation.reviews.scoring import (
    Entry,
    Indicator,
    dispersed,
    draw_funding_line,
    grade_for,
    majority_recommendation,
    non_consensus,
    normalised_scores,
    rank,
    sample_std,
    trimmed_mean,
    weighted_total,
    zscores,
)


def test_weighted_total_puts_each_indicator_on_its_range_and_weighs_it() -> None:
    form = [Indicator("innovation", "创新性", 0.6, 0, 10), Indicator("budget", "经费", 0.4, 0, 5)]
    # 0.6 · 8/10 + 0.4 · 5/5 = 0.48 + 0.40 = 0.88 → 88
    assert weighted_total(form, {"innovation": 8, "budget": 5}) == 88.0
    # weights that do not sum to one are read as proportions: 3 : 2 is 0.6 : 0.4
    heavier = [Indicator("innovation", "创新性", 3, 0, 10), Indicator("budget", "经费", 2, 0, 5)]
    assert weighted_total(heavier, {"innovation": 8, "budget": 5}) == 88.0


def test_trimmed_mean_drops_highest_and_lowest_only_from_five_reviewers() -> None:
    # four reviewers: plain mean (70 + 80 + 90 + 100) / 4 = 85
    assert trimmed_mean([70, 80, 90, 100]) == (85.0, False)
    # five: 40 and 100 dropped → (70 + 80 + 90) / 3 = 80 (the plain mean would be 76)
    assert trimmed_mean([100, 70, 40, 90, 80]) == (80.0, True)
    # duplicates of the extreme: only one of each is dropped → (60 + 60 + 90) / 3 = 70
    assert trimmed_mean([60, 60, 60, 90, 90]) == (70.0, True)
    # the threshold is policy: from three on when the form says so
    assert trimmed_mean([10, 50, 60], trim_from=3) == (50.0, True)


def test_z_scores_normalise_each_expert_against_their_own_scoring() -> None:
    # A scores severely (60, 70, 80: mean 70, sample sd 10); B leniently (85, 90, 95: mean 90, sd 5)
    totals = {
        ("A", "x"): 60.0,
        ("A", "y"): 70.0,
        ("A", "z"): 80.0,
        ("B", "x"): 85.0,
        ("B", "y"): 90.0,
        ("B", "z"): 95.0,
    }
    z = zscores(totals)
    assert z[("A", "x")] == pytest.approx(-1.0) and z[("B", "x")] == pytest.approx(-1.0)
    assert z[("A", "z")] == pytest.approx(1.0) and z[("B", "y")] == pytest.approx(0.0)
    # back on the scale: μ = 480 / 6 = 80; squared deviations 400 + 100 + 0 + 25 + 100 + 225 = 850,
    # σ = √(850 / 5) = √170 ≈ 13.0384; item x has z̄ = −1 → 80 − 13.0384
    sigma = math.sqrt(170)
    normalised = normalised_scores(totals)
    assert normalised["x"] == pytest.approx(80 - sigma, abs=1e-3)  # ≈ 66.962
    assert normalised["y"] == pytest.approx(80.0)
    assert normalised["z"] == pytest.approx(80 + sigma, abs=1e-3)  # ≈ 93.038


def test_experts_without_enough_sheets_or_spread_are_not_normalised() -> None:
    totals = {("A", "x"): 60.0, ("A", "y"): 80.0, ("C", "x"): 75.0, ("C", "y"): 75.0, ("C", "z"): 75.0}
    z = zscores(totals)
    assert z[("A", "x")] is None  # two sheets: below the minimum of three
    assert z[("C", "z")] is None  # the same total everywhere: no scale
    assert set(normalised_scores(totals).values()) == {None}


def test_dispersion_flags_spread_or_deviation_above_the_threshold() -> None:
    # sd(70, 75, 80) = 5, spread 10: calm
    assert not dispersed([70, 75, 80], std_above=12, spread_above=30)
    # spread 35 > 30 even though sd(60, 80, 95) = 17.56 would also flag
    assert dispersed([60, 80, 95], std_above=12, spread_above=30)
    # sd(50, 50, 75, 75) = 14.43 > 12 with a spread of only 25
    assert sample_std([50, 50, 75, 75]) == pytest.approx(14.4338, abs=1e-4)
    assert dispersed([50, 50, 75, 75], std_above=12, spread_above=30)
    assert not dispersed([50], std_above=0, spread_above=0)


def test_non_consensus_needs_a_strong_minority() -> None:
    fund, no = "fund", "do_not_fund"
    assert not non_consensus([fund, fund, fund, fund, no], 0.4)  # 1 of 5 = 0.2
    assert non_consensus([fund, fund, "fund_with_changes", no, no], 0.4)  # 2 of 5 = 0.4
    assert not non_consensus([fund, fund, no], 0.4)  # 1 of 3 = 0.33
    assert non_consensus([fund, no, no, fund], 0.4)  # 2 of 4 = 0.5
    assert majority_recommendation([fund, no, no, fund]) == "do_not_fund"  # a tie goes to caution
    assert majority_recommendation([fund, fund, "fund_with_changes"]) == "fund"


def test_grades_follow_the_bands() -> None:
    bands = [[90, "excellent"], [80, "good"], [60, "qualified"], [0, "unqualified"]]
    assert [grade_for(s, bands) for s in (95, 90, 89.99, 60, 59.5)] == [
        "excellent",
        "excellent",
        "good",
        "qualified",
        "unqualified",
    ]


def test_ties_are_broken_by_fund_votes_then_dispersion_and_explained() -> None:
    entries = [
        Entry("a", "XM-A", 85.0, fund_votes=2, std=3.0),
        Entry("b", "XM-B", 85.004, fund_votes=3, std=6.0),  # same score at two decimals
        Entry("c", "XM-C", 85.0, fund_votes=2, std=1.0),
        Entry("d", "XM-D", 90.0, fund_votes=1, std=9.0),
        Entry("e", "XM-E", 70.0, fund_votes=1, std=2.0),
        Entry("f", "XM-F", 70.0, fund_votes=1, std=2.0),
    ]
    ranked = rank(entries)
    assert [(e.code, e.rank) for e in ranked] == [
        ("XM-D", 1),
        ("XM-B", 2),  # more 'fund' votes
        ("XM-C", 3),  # same votes as A, less dispersion
        ("XM-A", 4),
        ("XM-E", 5),  # equal on everything: a shared rank
        ("XM-F", 5),
    ]
    notes = {e.code: e.tie_note_zh for e in ranked}
    assert notes["XM-D"] is None
    assert "资助票数" in (notes["XM-B"] or "")
    assert "离散度" in (notes["XM-C"] or "") and "XM-A" in (notes["XM-C"] or "")
    assert "并列" in (notes["XM-E"] or "") and "XM-F" in (notes["XM-E"] or "")


def test_the_funding_line_walks_down_the_ranking_until_the_budget_runs_out() -> None:
    ranked = rank(
        [
            Entry("a", "A", 95, requested_fen=400, recommendation="fund"),
            Entry("b", "B", 90, requested_fen=300, recommendation="do_not_fund"),
            Entry("c", "C", 85, requested_fen=500, recommendation="fund_with_changes"),
            Entry("d", "D", 80, requested_fen=200, recommendation="fund"),
            Entry("e", "E", 75, requested_fen=50, recommendation="fund"),
        ]
    )
    line = draw_funding_line(ranked, budget_fen=1000)
    by_code = {e.code: e for e in ranked}
    # A (400) and C (900 so far) fit; B is passed over (do not fund); D would make 1100 > 1000
    assert [by_code[c].above_line for c in "ABCDE"] == [True, False, True, False, False]
    assert by_code["C"].cumulative_fen == 900 and line == 3
    # the line is strict: E would fit in the 100 left, but the ranking decides, not the price
    assert "预算不足" in (by_code["D"].line_note_zh or "")
    assert draw_funding_line(rank([Entry("x", "X", 1)]), None) is None


def test_a_tie_across_the_funding_line_is_named_for_the_panel() -> None:
    ranked = rank(
        [
            Entry("a", "A", 90, requested_fen=600, recommendation="fund"),
            Entry("b", "B", 90, requested_fen=600, recommendation="fund"),
        ]
    )
    draw_funding_line(ranked, budget_fen=1000)
    assert [e.rank for e in ranked] == [1, 1]
    assert [e.above_line for e in ranked] == [True, False]
    assert all("会议研究决定" in (e.line_note_zh or "") for e in ranked)
