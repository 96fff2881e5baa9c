"""Sparse candidates per item: the best N experts by discipline level, then keywords, without 回避.

Candidates come from the discipline hierarchy, finest level first: experts with the item's
own code, then of its discipline (same parent), then of its department (same top level). A
level is only looked at for items that have fewer than N qualified candidates so far, and at
most ``WINDOW`` times the candidates it still lacks are taken from a level's group (a rotation
that differs per item, so that a large group is spread over its items). Among what was found,
an item keeps its best N by discipline level, then keyword similarity. An item that ends with fewer qualified
experts than it needs is searched again without the window, so its report is exact.

Every exclusion is counted per item among the experts that were its candidates by discipline
(``excluded_by_rule``), never among the whole expert database. All of it is array work on
pair codes ``item * n_experts + expert``, in chunks of items to bound memory.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from evaluation.assignment.solver import CandidateGraph
from evaluation.coi.check import Conflicts, Relation, isin_sorted, sorted_unique
from evaluation.disciplines import MATCH_SCORES

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]
BitArray = NDArray[np.uint64]
LEVELS = ("same_code", "same_parent", "same_top")
CHUNK_ITEMS = 8_000
WINDOW = 1.25  # experts looked at per level: what the item still lacks of N, times this


@dataclass
class Pool:
    """What candidate generation reads: disciplines, keywords and the exclusions of a round."""

    n_items: int
    n_experts: int
    item_codes: Relation  # key: index into the discipline table
    expert_codes: Relation
    code_parent: IntArray  # per table code: index of its discipline (level 2), -1 for a department
    code_top: IntArray  # per table code: index of its department
    item_keywords: BitArray  # (n_items, words) keyword bitsets
    expert_keywords: BitArray
    conflicts: Conflicts
    expert_excluded: dict[str, NDArray[np.bool_]] = field(default_factory=dict)  # e.g. unavailable
    taken: IntArray = field(default_factory=lambda: np.zeros(0, np.int64))  # sorted pair codes


@dataclass
class Candidates:
    graph: CandidateGraph
    found: IntArray  # qualified candidates found per item (exact where short)
    excluded: dict[str, IntArray]  # per reason: experts of the item's disciplines it excluded


def keyword_similarity(a: BitArray, b: BitArray) -> FloatArray:
    """Jaccard similarity of keyword sets held as bitsets of several 64-bit words."""
    inter = np.zeros(a.shape[0], np.int64)
    union = np.zeros(a.shape[0], np.int64)
    for w in range(a.shape[1]):
        inter += np.bitwise_count(a[:, w] & b[:, w])
        union += np.bitwise_count(a[:, w] | b[:, w])
    out: FloatArray = np.zeros(a.shape[0])
    np.divide(inter, union, out=out, where=union > 0)
    return out


@dataclass
class _Groups:
    """Experts grouped by the key of one level, sorted by key then expert."""

    key: IntArray
    expert: IntArray


def _groups(pool: Pool, level_key: IntArray) -> _Groups:
    keys = level_key[pool.expert_codes.key]
    ok = keys >= 0
    codes = sorted_unique(keys[ok] * pool.n_experts + pool.expert_codes.row[ok])
    return _Groups(codes // pool.n_experts, codes % pool.n_experts)


def _level_pairs(
    groups: _Groups,
    item_rows: IntArray,
    item_keys: IntArray,
    n_experts: int,
    window: IntArray | None,
) -> IntArray:
    """Pair codes of each item row with (a window of) the experts sharing its key."""
    lo = np.searchsorted(groups.key, item_keys, "left")
    size = np.searchsorted(groups.key, item_keys, "right") - lo
    take = size if window is None else np.minimum(size, window)
    total = int(take.sum())
    if not total:
        return np.zeros(0, np.int64)
    offset = np.where(size > take, (item_rows * 2_654_435_761) % np.maximum(size, 1), 0)
    within = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(take) - take, take)
    pos = np.repeat(lo, take) + (np.repeat(offset, take) + within) % np.repeat(np.maximum(size, 1), take)
    codes: IntArray = np.repeat(item_rows, take) * n_experts + groups.expert[pos]
    return codes


def _exclusions(pool: Pool, codes: IntArray) -> dict[str, NDArray[np.bool_]]:
    masks = pool.conflicts.of_pairs(codes)
    experts = codes % pool.n_experts
    for reason, mask in pool.expert_excluded.items():
        masks[reason] = mask[experts]
    masks["already_assigned"] = isin_sorted(codes, pool.taken)
    return masks


def _search(
    pool: Pool,
    groups: dict[str, _Groups],
    items: IntArray,
    *,
    target: int | None,
    window: float | None,
) -> tuple[IntArray, FloatArray, IntArray, dict[str, IntArray]]:
    """Qualified pairs (codes, discipline score) of the given items, their count and exclusions."""
    n, e = pool.n_items, pool.n_experts
    wanted = np.zeros(n, bool)
    wanted[items] = True
    rel = pool.item_codes
    sel = wanted[rel.row]
    rows, codes_of_rows = rel.row[sel], rel.key[sel]
    found = np.zeros(n, np.int64)
    excluded: dict[str, IntArray] = {}
    seen: list[IntArray] = []
    good_codes: list[IntArray] = []
    good_scores: list[FloatArray] = []
    level_keys = {
        "same_code": np.arange(len(pool.code_top), dtype=np.int64),
        "same_parent": pool.code_parent,
        "same_top": pool.code_top,
    }
    for level in LEVELS:
        active = wanted if target is None else wanted & (found < target)
        keys = level_keys[level][codes_of_rows]
        use = active[rows] & (keys >= 0)
        if not use.any():
            continue
        # a window of what the item still lacks, with a margin for the experts 回避 will exclude
        wanted_rows = None
        if window is not None and target is not None:
            wanted_rows = np.ceil((target - found[rows[use]]) * window).astype(np.int64)
        pairs = sorted_unique(_level_pairs(groups[level], rows[use], keys[use], e, wanted_rows))
        if seen:
            pairs = pairs[~isin_sorted(pairs, sorted_unique(np.concatenate(seen)))]
        seen.append(pairs)
        masks = _exclusions(pool, pairs)
        bad = np.zeros(len(pairs), bool)
        for reason, mask in masks.items():
            bad |= mask
            count = np.bincount(pairs[mask] // e, minlength=n)
            excluded[reason] = excluded[reason] + count if reason in excluded else count
        good = pairs[~bad]
        found += np.bincount(good // e, minlength=n)
        good_codes.append(good)
        good_scores.append(np.full(len(good), MATCH_SCORES[level]))
    if not good_codes:
        return np.zeros(0, np.int64), np.zeros(0), found, excluded
    return np.concatenate(good_codes), np.concatenate(good_scores), found, excluded


def _best(pool: Pool, codes: IntArray, disc: FloatArray, per_item: int) -> CandidateGraph:
    """Each item's best ``per_item`` pairs: discipline level, then keywords, then expert index."""
    item, expert = codes // pool.n_experts, codes % pool.n_experts
    kw = np.round(keyword_similarity(pool.item_keywords[item], pool.expert_keywords[expert]), 3)
    # one int64 sort key (item, level, keywords, expert) instead of a four-key lexsort
    expert_bits = max(1, int(pool.n_experts).bit_length())
    level = np.rint(disc * 10).astype(np.int64)  # 10, 6, 3
    score = (15 - level) * 1024 + (1000 - np.rint(kw * 1000).astype(np.int64))
    if int(pool.n_items).bit_length() + 14 + expert_bits < 63:
        order = np.argsort(((item << 14) + score) << expert_bits | expert, kind="stable")
    else:  # pragma: no cover - beyond any round's size
        order = np.lexsort((expert, score, item))
    sorted_items = item[order]
    starts = np.flatnonzero(np.r_[True, sorted_items[1:] != sorted_items[:-1]]) if len(order) else order
    counts = np.diff(np.r_[starts, len(order)])
    pos = np.arange(len(order)) - np.repeat(starts, counts)
    keep = order[pos < per_item]
    return CandidateGraph(item[keep], expert[keep], disc[keep], kw[keep])


def generate(pool: Pool, *, need: IntArray, per_item: int, window: float = WINDOW) -> Candidates:
    """The candidate graph of every item that needs reviewers (``need`` > 0)."""
    n = pool.n_items
    level_keys = {
        "same_code": np.arange(len(pool.code_top), dtype=np.int64),
        "same_parent": pool.code_parent,
        "same_top": pool.code_top,
    }
    groups = {level: _groups(pool, level_keys[level]) for level in LEVELS}
    items = np.flatnonzero(need > 0)
    found = np.zeros(n, np.int64)
    excluded: dict[str, IntArray] = {}
    parts: list[CandidateGraph] = []

    def add(counts: dict[str, IntArray], chunk: IntArray) -> None:
        for reason, count in counts.items():
            excluded.setdefault(reason, np.zeros(n, np.int64))[chunk] = count[chunk]

    for start in range(0, len(items), CHUNK_ITEMS):
        chunk = items[start : start + CHUNK_ITEMS]
        codes, disc, got, counts = _search(pool, groups, chunk, target=per_item, window=window)
        found[chunk] = got[chunk]
        add(counts, chunk)
        parts.append(_best(pool, codes, disc, per_item))
    # an item short of what it needs is searched again in full: its report must be exact
    short = items[found[items] < need[items]]
    if len(short):
        codes, disc, got, counts = _search(pool, groups, short, target=None, window=None)
        keep = np.isin(np.concatenate([p.item for p in parts]) if parts else np.zeros(0, np.int64), short)
        merged = _concat(parts)
        parts = [
            CandidateGraph(
                merged.item[~keep], merged.expert[~keep], merged.discipline[~keep], merged.keywords[~keep]
            ),
            _best(pool, codes, disc, per_item),
        ]
        found[short] = got[short]
        for reason in list(excluded):
            excluded[reason][short] = 0
        add(counts, short)
    graph = _concat(parts)
    if len(short):  # chunks come in item order; the full searches were appended after them
        order = np.argsort(graph.item, kind="stable")
        graph = CandidateGraph(
            graph.item[order], graph.expert[order], graph.discipline[order], graph.keywords[order]
        )
    return Candidates(graph, found, excluded)


def _concat(parts: list[CandidateGraph]) -> CandidateGraph:
    if not parts:
        empty = np.zeros(0, np.int64)
        return CandidateGraph(empty, empty.copy(), np.zeros(0), np.zeros(0))
    return CandidateGraph(
        np.concatenate([p.item for p in parts]),
        np.concatenate([p.expert for p in parts]),
        np.concatenate([p.discipline for p in parts]),
        np.concatenate([p.keywords for p in parts]),
    )
