"""Statistics by plan category and year, and basic research's yearly total against the policy
floor (每年投入不少于1亿元, policy basic_research_min_yearly_fen)."""

from __future__ import annotations

from typing import Any

URL = "/projects/statistics/plan-categories"


async def test_projects_and_funding_per_plan_category_and_year_with_the_basic_research_floor(
    world: Any,
) -> None:
    basic = await world.call(year=2027)
    rd = await world.call(
        programme_code="rd.key_rd_transfer", year=2027, title="2027年度重点研发和成果转化专项指南"
    )
    later = await world.call(year=2028, title="2028年度自治区自然科学基金项目申报指南")
    funded = {
        "basic": [await world.approved(basic, await world.team()) for _ in range(2)],
        "rd": [await world.approved(rd, await world.team())],
        "later": [await world.approved(later, await world.team())],
    }
    r = await world.client.get(URL, headers=world.staff)
    assert r.status_code == 200, r.text
    stats = r.json()
    rows = {(x["year"], x["plan_category"]): x for x in stats["rows"]}
    basic_2027 = sum(p["funding_fen"] for p in funded["basic"])
    assert rows[(2027, "basic_research")]["projects"] == 2
    assert rows[(2027, "basic_research")]["funding_fen"] == basic_2027
    assert rows[(2027, "basic_research")]["plan_category_zh"] == "基础研究计划"
    assert rows[(2027, "key_rd_transfer")]["projects"] == 1
    assert rows[(2028, "basic_research")]["funding_fen"] == funded["later"][0]["funding_fen"]
    assert stats["projects"] == 4
    floor = 10_000_000_000  # 1亿元 in fen, the seed's default
    by_year = {x["year"]: x for x in stats["basic_research"]}
    assert by_year[2027] == {
        "year": 2027,
        "funding_fen": basic_2027,
        "floor_fen": floor,
        "met": False,
        "gap_fen": floor - basic_2027,
    }

    # the floor is policy: staff change it, the verdict follows; a year without projects shows its gap
    r = await world.client.put(
        "/policy/basic_research_min_yearly_fen",
        json={"value": basic_2027, "reason": "测试年度下限"},
        headers=world.staff,
    )
    assert r.status_code == 200, r.text
    stats = (
        await world.client.get(URL, params={"year_from": 2027, "year_to": 2029}, headers=world.staff)
    ).json()
    verdicts = {x["year"]: (x["met"], x["gap_fen"]) for x in stats["basic_research"]}
    assert verdicts[2027] == (True, 0) and verdicts[2029] == (False, basic_2027)
    assert verdicts[2028][0] is (funded["later"][0]["funding_fen"] >= basic_2027)
    only_2028 = (
        await world.client.get(URL, params={"year_from": 2028, "year_to": 2028}, headers=world.staff)
    ).json()
    assert {x["year"] for x in only_2028["rows"]} == {2028} and only_2028["projects"] == 1

    r = await world.client.get(URL, params={"year_from": 2029, "year_to": 2027}, headers=world.staff)
    assert r.status_code == 422 and r.json()["errors"][0]["message_zh"]
    r = await world.client.get(URL, params={"category": "x"}, headers=world.staff)
    assert r.status_code == 422
    lead = world.applicant(funded["basic"][0]["pi_person_id"])
    assert (await world.client.get(URL, headers=lead)).status_code == 403
