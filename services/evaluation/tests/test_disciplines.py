"""The discipline classification: NSFC application codes as a hierarchy, matched by level."""

from __future__ import annotations

from typing import Any

import pytest

from evaluation import disciplines


def test_every_department_and_its_disciplines_are_in_the_table() -> None:
    table = disciplines.table()
    assert [c for c, d in table.items() if d.level == 1] == ["A", "B", "C", "D", "E", "F", "G", "H", "T"]
    assert table["F"].name_zh == "信息科学部" and table["F02"].name_zh == "计算机科学"
    assert table["F0201"].parent == "F02" and table["F02"].parent == "F"
    assert len([d for d in table.values() if d.parent == "C"]) == 21  # C01 … C21
    assert all(d.parent in table for d in table.values() if d.parent)


@pytest.mark.parametrize(
    ("a", "b", "score"),
    [
        ("F0201", "F0201", 1.0),  # the same code
        ("F0201", "F0203", 0.6),  # the same discipline (parent)
        ("F0201", "F02", 0.6),
        ("F0201", "F06", 0.3),  # the same department (top level)
        ("F0201", "A0105", 0.0),
    ],
)
def test_the_discipline_component_is_the_level_two_codes_share(a: str, b: str, score: float) -> None:
    assert disciplines.match_score(a, b) == score


@pytest.mark.asyncio
async def test_an_unknown_code_is_a_422_naming_the_field(office: Any) -> None:
    pid = await office.person()
    body = {"person_id": str(pid), "region": "150100", "title": "教授", "disciplines": ["F0201", "Z9999"]}
    r = await office.client.post("/experts", json=body, headers=office.db_staff)
    assert r.status_code == 422, r.text
    problem = r.json()
    assert any("disciplines" in e["field"] and "1" in e["field"] for e in problem["errors"]), problem
    assert "未知的学科代码" in r.text
    expert = await office.expert()
    me = office.as_person(expert["person_id"])
    edit = await office.client.patch("/experts/me", json={"disciplines": ["XX01"]}, headers=me)
    assert edit.status_code == 422 and "disciplines" in edit.text
    fine = await office.client.patch("/experts/me", json={"disciplines": ["f0203"]}, headers=me)
    assert fine.status_code == 200 and fine.json()["disciplines"] == ["F0203"]
