"""回避 as set operations: every rule is "one of the expert's sets meets one of the item's sets".

Items and experts are dense indices; their sets are sparse relations ``(row, key)`` (a key is an
id folded to 64 bits, see ``facts.fold``). A rule's conflicting pairs are a sort-merge join of
the two relations on the key, so a round's conflicts cost O((rows + pairs) log rows) whatever
the number of item x expert pairs. One pair (a replacement draw, a recheck) goes through the
same code with one row on each side.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import numpy as np
from numpy.typing import NDArray

from evaluation.coi.rules import EXPERT_FLAGS, MATCHES, RULES, enabled, max_names

IntArray = NDArray[np.int64]
KeyArray = NDArray[np.uint64]


@dataclass
class Relation:
    """Sparse (row, key) pairs: which ids belong to each item's or expert's set."""

    row: IntArray
    key: KeyArray

    @classmethod
    def empty(cls) -> Relation:
        return cls(np.zeros(0, np.int64), np.zeros(0, np.uint64))

    def __len__(self) -> int:
        return int(self.row.shape[0])


@dataclass
class Side:
    """The sets of every item (or expert) of a round, and the experts' own flags."""

    n: int
    sets: dict[str, Relation] = field(default_factory=dict)
    flags: dict[str, NDArray[np.bool_]] = field(default_factory=dict)

    def relation(self, name: str) -> Relation:
        return self.sets.get(name) or Relation.empty()


def sorted_unique(values: IntArray) -> IntArray:
    """Sorted distinct values (a sort and a mask: faster here than numpy's hashing ``unique``)."""
    out = np.sort(values)
    if len(out) > 1:
        out = out[np.r_[True, out[1:] != out[:-1]]]
    return out


def meeting(expert: Relation, item: Relation, n_experts: int) -> IntArray:
    """Sorted unique pair codes ``item * n_experts + expert`` where the two sets share a key."""
    if not len(expert) or not len(item):
        return np.zeros(0, np.int64)
    order = np.argsort(expert.key, kind="stable")
    keys, rows = expert.key[order], expert.row[order]
    lo = np.searchsorted(keys, item.key, "left")
    counts = np.searchsorted(keys, item.key, "right") - lo
    total = int(counts.sum())
    if not total:
        return np.zeros(0, np.int64)
    before = np.cumsum(counts) - counts
    pos = np.arange(total, dtype=np.int64) + np.repeat(lo - before, counts)
    codes = np.repeat(item.row, counts) * n_experts + rows[pos]
    return sorted_unique(codes)


@dataclass
class Conflicts:
    """A round's conflicts: pair codes per pair rule, a mask of experts per expert-only rule."""

    n_experts: int
    pairs: dict[str, IntArray]
    experts: dict[str, NDArray[np.bool_]]

    def of_pairs(self, codes: IntArray) -> dict[str, NDArray[np.bool_]]:
        """For each rule, which of the given pair codes it forbids."""
        out = {rule: isin_sorted(codes, hit) for rule, hit in self.pairs.items()}
        for rule, mask in self.experts.items():
            out[rule] = mask[codes % self.n_experts]
        return out


def isin_sorted(codes: IntArray, sorted_hits: IntArray) -> NDArray[np.bool_]:
    """Which of the codes are among the sorted hits."""
    if not len(sorted_hits) or not len(codes):
        return np.zeros(len(codes), bool)
    if len(codes) > 1 and bool((codes[1:] > codes[:-1]).all()):
        # sorted, distinct codes (a chunk of candidates): look up the few hits in their range
        # among the codes rather than every code among all the round's hits
        lo = int(np.searchsorted(sorted_hits, codes[0], "left"))
        hi = int(np.searchsorted(sorted_hits, codes[-1], "right"))
        hits = sorted_hits[lo:hi]
        pos = np.searchsorted(codes, hits)
        found = np.zeros(len(codes), bool)
        found[pos[codes[pos] == hits]] = True
        return found
    pos = np.minimum(np.searchsorted(sorted_hits, codes), len(sorted_hits) - 1)
    hit: NDArray[np.bool_] = sorted_hits[pos] == codes
    return hit


def conflicts_of_round(experts: Side, items: Side, rules: Mapping[str, Mapping[str, Any]]) -> Conflicts:
    """Every enabled rule applied to the whole round at once."""
    on = set(enabled(rules))
    pairs: dict[str, IntArray] = {}
    for rule, matches in MATCHES.items():
        if rule in on:
            found = [meeting(experts.relation(e), items.relation(i), experts.n) for e, i in matches]
            pairs[rule] = sorted_unique(np.concatenate(found)) if found else np.zeros(0, np.int64)
    flags = {
        rule: experts.flags.get(flag, np.zeros(experts.n, bool))
        for rule, flag in EXPERT_FLAGS.items()
        if rule in on
    }
    return Conflicts(experts.n, pairs, flags)


# ---------------------------------------------------------------- one pair


@dataclass
class ExpertFacts:
    person_id: UUID
    unit_id: UUID | None
    department_id: UUID | None = None
    unit_code: str | None = None  # unified social credit code of the expert's unit
    barred: bool = False
    declared_persons: set[UUID] = field(default_factory=set)
    declared_units: set[UUID] = field(default_factory=set)
    collaborators: set[UUID] = field(default_factory=set)


@dataclass
class ItemFacts:
    applicant_person_id: UUID | None
    applicant_unit_id: UUID | None
    team_person_ids: Collection[UUID]
    team_unit_ids: Collection[UUID]
    avoid_person_ids: Collection[UUID]
    competent_department_id: UUID | None = None
    avoid_unit_ids: Collection[UUID] = ()
    unit_codes: Collection[str] = ()  # credit codes of the applicant's and team's units
    avoid_unit_codes: Collection[str] = ()  # credit codes of the units the applicant asked to avoid
    departments: Collection[UUID] = ()  # departments of the applicant and team members


class _Keys:
    def __init__(self) -> None:
        self.ids: dict[object, int] = {}

    def relation(self, values: Iterable[object]) -> Relation:
        keys = [self.ids.setdefault(v, len(self.ids)) for v in dict.fromkeys(values) if v is not None]
        return Relation(np.zeros(len(keys), np.int64), np.asarray(keys, np.uint64))


def conflicts(expert: ExpertFacts, item: ItemFacts, rules: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """The codes of the enabled rules this pair breaks (empty: may review)."""
    k = _Keys()
    codes = [("code", c) for c in (expert.unit_code,) if c]
    e = Side(
        1,
        {
            "person": k.relation([expert.person_id]),
            "units": k.relation([expert.unit_id, *codes]),
            "declared": k.relation([*expert.declared_persons, *expert.declared_units]),
            "collaborators": k.relation(expert.collaborators),
            "department": k.relation([expert.department_id]),
        },
        {"barred": np.array([expert.barred])},
    )
    i = Side(
        1,
        {
            "persons": k.relation([item.applicant_person_id, *item.team_person_ids]),
            "units": k.relation(
                [item.applicant_unit_id, *item.team_unit_ids, *(("code", c) for c in item.unit_codes)]
            ),
            "avoid_persons": k.relation(list(item.avoid_person_ids)[: max_names(rules)]),
            "avoid_units": k.relation([*item.avoid_unit_ids, *(("code", c) for c in item.avoid_unit_codes)]),
            "departments": k.relation([item.competent_department_id, *item.departments]),
        },
    )
    found = conflicts_of_round(e, i, rules).of_pairs(np.zeros(1, np.int64))
    return [rule for rule in RULES if rule in found and bool(found[rule][0])]
