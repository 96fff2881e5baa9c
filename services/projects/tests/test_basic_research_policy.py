"""基础研究每年投入不少于1亿元: the floor is a policy value staff may change with a reason."""

from __future__ import annotations

from typing import Any


async def test_the_basic_research_floor_is_one_hundred_million_yuan_and_staff_change_it(world: Any) -> None:
    r = await world.client.get("/policy", headers=world.staff)
    assert r.status_code == 200, r.text
    assert "basic_research_min_yearly_fen" in r.text and "10000000000" in r.text
    r = await world.client.put(
        "/policy/basic_research_min_yearly_fen",
        json={"value": 12_000_000_000, "reason": "年度预算调整"},
        headers=world.staff,
    )
    assert r.status_code == 200, r.text
    assert "12000000000" in (await world.client.get("/policy", headers=world.staff)).text
