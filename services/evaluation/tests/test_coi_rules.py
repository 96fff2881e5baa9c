"""回避 rules one by one, as the assignment runs and the replacement draws apply them."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

import pytest

from evaluation.coi.check import ExpertFacts, ItemFacts, conflicts
from evaluation.coi.rules import default_rules

PERSON, UNIT, OTHER = uuid4(), uuid4(), uuid4()


def item(**kw: Any) -> ItemFacts:
    base: dict[str, Any] = {
        "applicant_person_id": uuid4(),
        "applicant_unit_id": uuid4(),
        "team_person_ids": [],
        "team_unit_ids": [],
        "avoid_person_ids": [],
    }
    base.update(kw)
    return ItemFacts(**base)


@pytest.mark.parametrize(
    ("rule", "expert", "it", "rules"),
    [
        ("same_unit", ExpertFacts(PERSON, UNIT), item(applicant_unit_id=UNIT), {}),
        ("same_unit", ExpertFacts(PERSON, UNIT), item(team_unit_ids=[UNIT]), {}),
        (
            "same_unit",
            ExpertFacts(PERSON, UNIT, unit_code="91150100MA0N000001"),
            item(unit_codes={"91150100MA0N000001"}),
            {},
        ),
        ("on_team", ExpertFacts(PERSON, UNIT), item(team_person_ids=[PERSON]), {}),
        ("on_team", ExpertFacts(PERSON, UNIT), item(applicant_person_id=PERSON), {}),
        (
            "declared",
            ExpertFacts(PERSON, UNIT, declared_persons={OTHER}),
            item(applicant_person_id=OTHER),
            {},
        ),
        ("declared", ExpertFacts(PERSON, UNIT, declared_units={OTHER}), item(team_unit_ids=[OTHER]), {}),
        ("collaborator", ExpertFacts(PERSON, UNIT, collaborators={OTHER}), item(team_person_ids=[OTHER]), {}),
        ("integrity", ExpertFacts(PERSON, UNIT, barred=True), item(), {}),
        ("applicant_avoid", ExpertFacts(PERSON, UNIT), item(avoid_person_ids=[PERSON]), {}),
        ("applicant_avoid", ExpertFacts(PERSON, UNIT), item(avoid_unit_ids=[UNIT]), {}),
        (
            "applicant_avoid",  # the avoided unit registered twice: matched by its credit code
            ExpertFacts(PERSON, UNIT, unit_code="91150100MA0N000002"),
            item(avoid_unit_ids=[OTHER], avoid_unit_codes={"91150100MA0N000002"}),
            {},
        ),
        (
            "same_department",
            ExpertFacts(PERSON, UNIT, department_id=OTHER),
            item(departments={OTHER}),
            {"same_department": {"enabled": True}},
        ),
        (
            "same_department",
            ExpertFacts(PERSON, UNIT, department_id=OTHER),
            item(competent_department_id=OTHER),
            {"same_department": {"enabled": True}},
        ),
    ],
)
def test_each_avoidance_rule_excludes_the_expert(
    rule: str, expert: ExpertFacts, it: ItemFacts, rules: dict[str, Any]
) -> None:
    merged = default_rules()
    for code, params in rules.items():
        merged[code].update(params)
    assert rule in conflicts(expert, it, merged)
    assert conflicts(ExpertFacts(uuid4(), uuid4()), it, merged) == []


def test_applicant_avoidance_honours_at_most_k_names() -> None:
    names = [uuid4() for _ in range(5)]
    rules = default_rules()
    assert "applicant_avoid" in conflicts(ExpertFacts(names[2], None), item(avoid_person_ids=names), rules)
    assert conflicts(ExpertFacts(names[3], None), item(avoid_person_ids=names), rules) == []


def test_same_department_only_applies_where_the_round_says_so() -> None:
    dept = uuid4()
    it = item(competent_department_id=dept)
    assert conflicts(ExpertFacts(uuid4(), None, department_id=dept), it, default_rules()) == []


@pytest.mark.asyncio
async def test_the_database_checks_the_rule_set_coi_declares(evaluation: Any) -> None:
    from sqlalchemy import text

    from evaluation.coi.rules import RULES
    from evaluation.coi.trigger import COI_FUNCTION, TRIGGER_RULES

    async with evaluation.runtime.sessionmaker() as s:
        installed = (
            await s.execute(text("SELECT prosrc FROM pg_proc WHERE proname = 'evaluation_assignment_coi'"))
        ).scalar_one()
    assert installed == COI_FUNCTION.split("AS $$", 1)[1].rsplit("$$;", 1)[0]
    # every rule the service applies, the database applies too (and names when it refuses)
    assert set(RULES) <= set(TRIGGER_RULES)
    assert all(f"'{rule}'" in installed for rule in RULES)


def test_pair_lookups_agree_with_a_plain_membership_test() -> None:
    import numpy as np

    from evaluation.coi.check import isin_sorted

    rng = np.random.default_rng(3)
    hits = np.unique(rng.integers(0, 5_000, 800))
    for codes in (
        np.unique(rng.integers(1_000, 3_000, 600)),  # a chunk of candidates: sorted, distinct
        rng.integers(0, 6_000, 600),  # any order, repeats
        np.array([hits[0]]),
        np.zeros(0, np.int64),
    ):
        assert np.array_equal(isin_sorted(codes, hits), np.isin(codes, hits))
    assert not isin_sorted(np.arange(5), np.zeros(0, np.int64)).any()
