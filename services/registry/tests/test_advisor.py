"""The reorganisation advisor on the demo register, and policy values changing its findings."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from registry import demo
from registry.reference import FIELDS, LAB_KINDS

pytestmark = pytest.mark.asyncio
ON = {"on": "2026-11-23"}


async def load_demo(reg: Any) -> demo.Summary:
    return await demo.load(reg.svc.runtime.sessionmaker)


def by_code(advice: dict[str, Any]) -> dict[str, dict[str, dict[str, Any]]]:
    return {lab["code"]: {f["rule"]: f for f in lab["findings"]} for lab in advice["labs"]}


async def test_demo_findings_carry_their_rule_and_exact_evidence(reg: Any) -> None:
    summary = await load_demo(reg)
    assert summary.platforms >= 165
    key_labs = [
        p
        for kind in sorted(LAB_KINDS)
        for p in (
            await reg.client.get("/platforms", params={"kind": kind, "size": 200}, headers=reg.staff)
        ).json()["items"]
    ]
    assert 165 <= len(key_labs) <= 200
    assert {p["field"] for p in key_labs} == set(FIELDS) and len({p["region"] for p in key_labs}) == 12
    advice = (await reg.client.get("/reorganisation/advice", params=ON, headers=reg.staff)).json()
    found = by_code(advice)
    assert set(found) == {f"ZDS-{2009 + n}-{n:03d}" for n in range(1, 12)}

    over_age = found["ZDS-2013-004"]["director_over_age"]
    assert over_age["evidence"]["birth_date"] == "1963-09-18"
    assert over_age["evidence"]["age"] == 63 and over_age["evidence"]["limit"] == 60
    assert over_age["suggested_action_zh"] == "调整"
    assert found["ZDS-2015-006"]["director_over_term"]["evidence"]["terms_served"] == 3
    assert found["ZDS-2016-007"]["director_over_term"]["evidence"]["term_expired"] is True
    assert "director_not_full_time" in found["ZDS-2017-008"]
    no_output = found["ZDS-2019-010"]["no_output"]
    assert no_output["evidence"]["years"] == [2023, 2024, 2025]
    assert no_output["evidence"]["totals"] == {"2023": 0, "2024": 0, "2025": 0}
    assert no_output["suggested_action"] == "revoke"
    topics = found["ZDS-2019-010"]["no_open_topics"]
    assert topics["evidence"] == {"years_without_topics": [2025], "years_checked": [2025]}
    assert topics["rule_zh"] == "未持续设立开放课题"
    assert not any("no_open_topics" in rules for code, rules in found.items() if code != "ZDS-2019-010")
    assert found["ZDS-2020-011"]["failed_assessment"]["evidence"]["grade_zh"] == "不合格"

    [group] = advice["merge_groups"]
    assert group["sub_field"] == "rare_earth"
    assert [p["code"] for p in group["platforms"]] == ["ZDS-2010-001", "ZDS-2011-002", "ZDS-2012-003"]
    strongest = max(group["platforms"], key=lambda p: p["output_last_3_years"])
    assert group["suggested_survivor"]["code"] == strongest["code"]
    pair = next(
        p for p in group["pairs"] if {p["a"]["code"], p["b"]["code"]} == {"ZDS-2010-001", "ZDS-2011-002"}
    )
    assert pair["score"] >= 0.45
    assert "稀土永磁材料制备与性能调控" in pair["matching_phrases"]

    only_no_output = (
        await reg.client.get("/reorganisation/advice", params=ON | {"rule": "no_output"}, headers=reg.staff)
    ).json()
    assert [lab["code"] for lab in only_no_output["labs"]] == ["ZDS-2019-010"]
    region = only_no_output["labs"][0]["region"]
    other = next(r for r in ("150100", "150200", "152900") if r != region)
    elsewhere = (
        await reg.client.get(
            "/reorganisation/advice", params=ON | {"region": other, "rule": "no_output"}, headers=reg.staff
        )
    ).json()
    assert elsewhere["labs"] == []

    # Loading the demo again changes nothing and emits nothing.
    events = len(await reg.events())
    again = await load_demo(reg)
    assert again.platforms == 0 and again.people == 0 and again.skipped == summary.platforms
    assert len(await reg.events()) == events


async def test_changing_a_policy_value_changes_the_findings_and_is_recorded(reg: Any) -> None:
    org = await reg.org(1)
    director = await reg.person(1, born=date(1970, 5, 1))
    lead = {"person_id": director["id"], "term_start": "2023-01-01", "term_end": "2027-12-31"}
    await reg.platform(
        org["id"], code="ZDS-2015-001", director=lead, research_directions=["稀土永磁材料制备与性能调控"]
    )
    await reg.platform(
        org["id"],
        code="ZDS-2015-002",
        name="内蒙古自治区稀土永磁功能材料重点实验室",
        director=lead,
        research_directions=["烧结稀土永磁材料制备与性能调控"],
    )

    async def advice() -> dict[str, Any]:
        return dict((await reg.client.get("/reorganisation/advice", params=ON, headers=reg.staff)).json())

    before = await advice()
    assert "director_over_age" not in by_code(before).get("ZDS-2015-001", {})
    assert len(before["merge_groups"]) == 1
    change = await reg.client.put(
        "/policy/director_max_age",
        json={"value": 50, "reason": "试行更严格的主任年龄要求"},
        headers=reg.staff,
    )
    assert change.status_code == 200
    after = await advice()
    assert after["policy"]["director_max_age"] == 50
    over_age = by_code(after)["ZDS-2015-001"]["director_over_age"]["evidence"]
    assert over_age["age"] == 56 and over_age["limit"] == 50
    history = (await reg.client.get("/policy/director_max_age/history", headers=reg.staff)).json()["items"]
    assert history[0]["changes"] == {"director_max_age": [60, 50]}
    assert history[0]["reason"] == "试行更严格的主任年龄要求"

    await reg.client.put(
        "/policy/merge_similarity_threshold",
        json={"value": 0.99, "reason": "仅提示几乎相同者"},
        headers=reg.staff,
    )
    assert (await advice())["merge_groups"] == []


async def test_policy_values_are_validated_and_staff_only(reg: Any) -> None:
    bad = await reg.client.put(
        "/policy/director_max_age", json={"value": 200, "reason": "错误输入"}, headers=reg.staff
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "value"
    fraction = await reg.client.put(
        "/policy/director_max_terms", json={"value": 2.5, "reason": "错误输入"}, headers=reg.staff
    )
    assert fraction.status_code == 422
    unknown = await reg.client.put(
        "/policy/no_such_rule", json={"value": 1, "reason": "未知参数"}, headers=reg.staff
    )
    assert unknown.status_code == 404
    refused = await reg.client.put(
        "/policy/director_max_age", json={"value": 65, "reason": "越权"}, headers=reg.auth("host_unit_admin")
    )
    assert refused.status_code == 403
    listing = (await reg.client.get("/policy", headers=reg.auth("applicant"))).json()["items"]
    assert {i["key"]: i["value"] for i in listing}["director_max_age"] == 60
