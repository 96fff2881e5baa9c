"""Score arithmetic of a review: pure functions over numbers, no database, no web.

Every sheet gives a weighted total on 0–100. An item's reviewers' totals are aggregated by a
trimmed mean (the highest and the lowest dropped once there are enough reviewers); each
expert's totals can also be normalised against the expert's own scoring in the round
(z-scores, so a severe and a lenient expert weigh the same). Dispersion and a strong minority
send an item to panel discussion. Ranking breaks ties by stated criteria and says which one
separated two items; the funding line walks the ranking down until the budget runs out.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

POSITIVE = ("fund", "fund_with_changes")
CAUTION_ORDER = ("do_not_fund", "fund_with_changes", "fund")  # on a tied vote the first wins


@dataclass(frozen=True)
class Indicator:
    code: str
    name_zh: str
    weight: float
    min_score: float = 0.0
    max_score: float = 100.0
    comment_required: bool = False

    @classmethod
    def of(cls, data: Mapping[str, Any]) -> Indicator:
        return cls(
            code=str(data["code"]),
            name_zh=str(data["name_zh"]),
            weight=float(data["weight"]),
            min_score=float(data.get("min_score", 0)),
            max_score=float(data.get("max_score", 100)),
            comment_required=bool(data.get("comment_required", False)),
        )


def weighted_total(indicators: Sequence[Indicator], scores: Mapping[str, float]) -> float:
    """0–100: each indicator's score as a share of its range, weighted (weights need not sum to 1)."""
    weights = sum(i.weight for i in indicators)
    total = sum(
        i.weight * (float(scores[i.code]) - i.min_score) / (i.max_score - i.min_score) for i in indicators
    )
    return round(100.0 * total / weights, 4)


def mean(values: Sequence[float]) -> float:
    return sum(values) / len(values)


def trimmed_mean(values: Sequence[float], trim_from: int = 5) -> tuple[float, bool]:
    """Mean without the single highest and lowest value once there are ``trim_from`` or more."""
    if not values:
        raise ValueError("no values")
    if len(values) >= trim_from:
        ordered = sorted(values)[1:-1]
        return mean(ordered), True
    return mean(values), False


def sample_std(values: Sequence[float]) -> float:
    """Sample standard deviation (n − 1); 0 for fewer than two values."""
    if len(values) < 2:
        return 0.0
    m = mean(values)
    return math.sqrt(sum((v - m) ** 2 for v in values) / (len(values) - 1))


def zscores(
    totals: Mapping[tuple[Any, Any], float], min_items: int = 3
) -> dict[tuple[Any, Any], float | None]:
    """Each (expert, item) total as a z-score against that expert's totals in the round.

    An expert with fewer than ``min_items`` sheets, or who gave every item the same total, has
    no scale to normalise against: their z-scores are ``None`` (not counted in normalisation).
    """
    by_expert: dict[Hashable, list[float]] = defaultdict(list)
    for (expert, _), total in totals.items():
        by_expert[expert].append(total)
    out: dict[tuple[Any, Any], float | None] = {}
    for (expert, item), total in totals.items():
        own = by_expert[expert]
        sd = sample_std(own)
        out[(expert, item)] = (total - mean(own)) / sd if len(own) >= min_items and sd > 0 else None
    return out


def normalised_scores(totals: Mapping[tuple[Any, Any], float], min_items: int = 3) -> dict[Any, float | None]:
    """Per item: the mean z-score of its reviewers put back on the round's 0–100 scale.

    Back on the scale means ``μ + σ · z̄`` with μ and σ the mean and sample deviation of all
    totals that took part in the normalisation, so normalised scores read like scores.
    """
    z = zscores(totals, min_items)
    used = [totals[key] for key, value in z.items() if value is not None]
    if len(used) < 2:
        return {item: None for _, item in totals}
    mu, sigma = mean(used), sample_std(used)
    per_item: dict[Hashable, list[float]] = defaultdict(list)
    for (_, item), value in z.items():
        if value is not None:
            per_item[item].append(value)
    return {
        item: (round(mu + sigma * mean(per_item[item]), 4) if per_item.get(item) else None)
        for _, item in totals
    }


def dispersed(values: Sequence[float], *, std_above: float, spread_above: float) -> bool:
    """Reviewers disagree too much on the score: sample std or max − min above the threshold."""
    if len(values) < 2:
        return False
    return sample_std(values) > std_above or max(values) - min(values) > spread_above


def non_consensus(recommendations: Sequence[str], minority_share: float) -> bool:
    """A strong minority: the smaller of the for and against camps holds at least the share."""
    if len(recommendations) < 3:
        return False
    positive = sum(1 for r in recommendations if r in POSITIVE)
    minority = min(positive, len(recommendations) - positive)
    return minority > 0 and minority / len(recommendations) >= minority_share - 1e-9


def majority_recommendation(recommendations: Sequence[str]) -> str | None:
    """The most frequent recommendation; on a tie, the more cautious one."""
    if not recommendations:
        return None
    counts = {r: recommendations.count(r) for r in set(recommendations)}
    best = max(counts.values())
    return next(r for r in CAUTION_ORDER if counts.get(r) == best)


def grade_for(score: float, bands: Sequence[Sequence[Any]]) -> str:
    """The first band whose minimum the score reaches; bands are ``[min_score, code]`` high to low."""
    for minimum, code in sorted(bands, key=lambda b: -float(b[0])):
        if score >= float(minimum) - 1e-9:
            return str(code)
    return str(min(bands, key=lambda b: float(b[0]))[1])


# ------------------------------------------------------------------ ranking and funding line


@dataclass
class Entry:
    """One item as ranking sees it."""

    key: Hashable
    code: str
    score: float
    fund_votes: int = 0
    std: float = 0.0
    recommendation: str | None = None
    requested_fen: int = 0
    rank: int = 0
    tie_note: str | None = None
    tie_note_zh: str | None = None
    above_line: bool | None = None
    cumulative_fen: int | None = None
    line_note_zh: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _score_key(e: Entry) -> float:
    return round(e.score, 2)


def rank(entries: Iterable[Entry]) -> list[Entry]:
    """Order by score (two decimals), then more 'fund' votes, then less dispersion.

    Items equal on all three share a rank (1, 2, 2, 4). Every item that tied on score says
    which criterion placed it, in English and Chinese.
    """
    ordered = sorted(entries, key=lambda e: (-_score_key(e), -e.fund_votes, e.std, e.code))

    def criteria(e: Entry) -> tuple[float, int, float]:
        return (_score_key(e), e.fund_votes, round(e.std, 4))

    for n, e in enumerate(ordered, start=1):
        previous = ordered[n - 2] if n > 1 else None
        e.rank = previous.rank if previous is not None and criteria(previous) == criteria(e) else n
    for e in ordered:
        peers = [o for o in ordered if o is not e and _score_key(o) == _score_key(e)]
        if not peers:
            continue
        score = f"{_score_key(e):.2f}"
        shared = [o.code for o in peers if criteria(o) == criteria(e)]
        same_votes = [o for o in peers if o.fund_votes == e.fund_votes]
        if shared:
            e.tie_note = f"tied with {', '.join(shared)} on score, 'fund' votes and dispersion: same rank"
            e.tie_note_zh = f"与 {'、'.join(shared)} 得分、建议资助票数和离散度均相同，并列"
        elif not same_votes:
            codes = ", ".join(o.code for o in peers)
            e.tie_note = f"same score {score} as {codes}; placed by 'fund' votes ({e.fund_votes})"
            e.tie_note_zh = (
                f"与 {'、'.join(o.code for o in peers)} 同分 {score}，按建议资助票数（{e.fund_votes} 票）排序"
            )
        else:
            codes = ", ".join(o.code for o in same_votes)
            e.tie_note = (
                f"same score {score} and 'fund' votes as {codes}; placed by dispersion (std {e.std:.2f})"
            )
            e.tie_note_zh = (
                f"与 {'、'.join(o.code for o in same_votes)} 同分 {score}、资助票数相同，"
                f"按专家评分离散度（标准差 {e.std:.2f}）排序"
            )
    return ordered


def draw_funding_line(ranked: Sequence[Entry], budget_fen: int | None) -> int | None:
    """Mark who is above the line: down the ranking until the next fundable item does not fit.

    Items recommended 'do not fund' are passed over (never funded, cost nothing). The line is
    strict: once an item does not fit, nothing below it is funded, even a cheaper one — the
    ranking decides, not the price. Items sharing a rank across the line are named for the
    panel. Returns the rank of the last item above the line, or ``None`` without a budget.
    """
    if budget_fen is None:
        return None
    spent, last_rank, closed = 0, None, False
    for e in ranked:
        if e.recommendation == "do_not_fund":
            e.above_line = False
            e.line_note_zh = "多数专家建议不予资助"
            continue
        if not closed and spent + e.requested_fen <= budget_fen:
            spent += e.requested_fen
            e.above_line, e.cumulative_fen, last_rank = True, spent, e.rank
            continue
        if not closed:
            closed = True
            e.line_note_zh = f"预算不足：累计需 {spent + e.requested_fen} 分，预算 {budget_fen} 分"
            tied_above = [o for o in ranked if o.above_line and o.rank == e.rank]
            if tied_above:
                note = "与资助线上项目并列，需会议研究决定"
                e.line_note_zh = f"{e.line_note_zh}；{note}"
                for o in tied_above:
                    o.line_note_zh = note
        e.above_line = False
    return last_rank
