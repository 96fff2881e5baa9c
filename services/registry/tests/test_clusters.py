"""Laboratory clusters: build steps with their artefacts, the two-strike rule, guideline events."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import pytest

from registry.clusters.events import CLUSTER_ASSESSMENT_FINALIZED, ClusterAssessmentFinalized
from shared.testing.events import publish_as_producer
from shared.testing.servers import eventually

pytestmark = pytest.mark.asyncio
STEPS = ["define_structure", "open_recruitment", "submit_plan", "establish"]
COMPLETE = {
    "director": {"name": "巴特尔", "unit": "内蒙古大学"},
    "secretariat": {"secretary_general": {"name": "乌云", "unit": "内蒙古大学"}},
    "lead_platform_ids": ["01a20000-0000-7000-8000-000000000009"],
    "expert_committee": {"chair": {"name": "陈院士", "unit": "中国科学院", "province": "北京"}},
    "member_units": [{"name": "内蒙古大学"}, {"name": "清华大学", "province": "北京"}],
    "plan_document": "组建方案",
    "approval_document": "内科发〔2026〕9号",
}


async def cluster(reg: Any, **fields: Any) -> dict[str, Any]:
    body = {"name": "稀土新材料实验室群", "field": "materials", "direction": "稀土功能材料与应用"} | fields
    response = await reg.client.post("/clusters", json=body, headers=reg.staff)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def step(reg: Any, cluster_id: str, action: str) -> Any:
    return await reg.client.post(
        f"/clusters/{cluster_id}/actions/{action}", json={"reason": "按程序推进"}, headers=reg.staff
    )


async def established(reg: Any) -> dict[str, Any]:
    c = await cluster(reg, **COMPLETE)
    for action in STEPS:
        response = await step(reg, c["id"], action)
        assert response.status_code == 200, response.text
    return dict(response.json())


async def assess(reg: Any, cluster_id: str, year: int, result: str, **extra: Any) -> Any:
    return await reg.client.post(
        f"/clusters/{cluster_id}/assessments",
        json={"year": year, "result": result} | extra,
        headers=reg.staff,
    )


async def test_the_five_build_steps_in_order(reg: Any) -> None:
    c = await established(reg)
    assert c["state"] == "established" and c["state_zh"] == "成立"
    types = [e["type"] for e in await reg.events("registry.cluster.")]
    assert types == [
        "registry.cluster.proposed",
        "registry.cluster.structure_defined",
        "registry.cluster.recruitment_opened",
        "registry.cluster.plan_submitted",
        "registry.cluster.established",
    ]


async def test_every_cluster_event_carries_its_registered_member_units(reg: Any) -> None:
    a, b = await reg.org(1), await reg.org(2)
    members = [
        {"name": "测试依托单位001", "unit_id": a["id"]},
        {"name": "清华大学", "province": "北京"},  # from outside the province: no id here
        {"name": "测试依托单位002", "unit_id": b["id"]},
    ]
    c = await cluster(reg, **(COMPLETE | {"member_units": members}))
    for action in STEPS:
        assert (await step(reg, c["id"], action)).status_code == 200
    events = await reg.events("registry.cluster.")
    assert all(e["data"]["member_unit_ids"] == [a["id"], b["id"]] for e in events)
    assert events[-1]["data"]["lead_platform_ids"] == COMPLETE["lead_platform_ids"]
    left = await reg.client.patch(
        f"/clusters/{c['id']}",
        json={"member_units": members[:2], "reason": "成员单位退出"},
        headers=reg.staff,
    )
    assert left.status_code == 200, left.text
    [updated] = [e for e in await reg.events("registry.cluster.updated")]
    assert updated["data"]["member_unit_ids"] == [a["id"]]
    assert updated["data"]["version"] > events[-1]["data"]["version"]


async def test_a_step_without_its_artefacts_is_refused_naming_them(reg: Any) -> None:
    c = await cluster(reg)
    response = await step(reg, c["id"], "define_structure")
    assert response.status_code == 422
    fields = {e["field"] for e in response.json()["errors"]}
    assert fields == {"director", "secretariat.secretary_general", "lead_platform_ids"}
    skipping = await step(reg, c["id"], "establish")
    assert skipping.status_code == 409 and skipping.json()["allowed_actions"] == [
        "define_structure",
        "revoke",
    ]


async def test_one_fail_opens_a_year_of_rectification_and_a_pass_closes_it(reg: Any) -> None:
    c = await established(reg)
    failed = await assess(reg, c["id"], 2025, "fail", required_measures=["更换群主任"])
    assert failed.json()["state"] == "under_rectification"
    assert failed.json()["required_measures"] == ["更换群主任"]
    assert failed.json()["rectification_until"]
    passed = await assess(reg, c["id"], 2026, "pass")
    assert passed.json()["state"] == "established" and passed.json()["required_measures"] == []


async def test_two_consecutive_fails_require_restructuring_or_revocation(reg: Any) -> None:
    c = await established(reg)
    await assess(reg, c["id"], 2024, "fail")
    second = await assess(reg, c["id"], 2025, "fail")
    assert second.json()["state"] == "restructuring"
    assert set(second.json()["allowed_actions"]) == {"reorganise", "revoke"}
    again = await assess(reg, c["id"], 2025, "pass")
    assert again.status_code == 409  # not assessable while restructuring


async def test_fails_in_non_consecutive_years_are_not_two_strikes(reg: Any) -> None:
    c = await established(reg)
    await assess(reg, c["id"], 2022, "fail")
    await assess(reg, c["id"], 2023, "pass")
    third = await assess(reg, c["id"], 2024, "fail")
    assert third.json()["state"] == "under_rectification"


async def test_evaluation_outcome_is_applied_once(reg: Any) -> None:
    c = await established(reg)
    payload = ClusterAssessmentFinalized(
        assessment_id=UUID("01a20000-0000-7000-8000-0000000000aa"),
        cluster_id=UUID(c["id"]),
        year=2025,
        result="fail",
        score=52.0,
        finalized_at=datetime(2026, 3, 1, tzinfo=UTC),
        required_measures=["更换服务机构"],
    )
    bus = reg.svc.runtime.bus
    envelope = await publish_as_producer(
        bus, CLUSTER_ASSESSMENT_FINALIZED, payload, subject="c/1", sequence=1
    )

    async def state() -> str:
        return str((await reg.client.get(f"/clusters/{c['id']}", headers=reg.staff)).json()["state"])

    async def rectifying() -> bool:
        return await state() == "under_rectification"

    await eventually(rectifying)
    await bus.js.publish(
        bus.subject_for(CLUSTER_ASSESSMENT_FINALIZED.name), envelope.model_dump_json().encode()
    )
    second = payload.model_copy(
        update={"assessment_id": UUID("01a20000-0000-7000-8000-0000000000ab"), "year": 2026}
    )
    await publish_as_producer(bus, CLUSTER_ASSESSMENT_FINALIZED, second, subject="c/1", sequence=2)

    async def restructuring() -> bool:
        return await state() == "restructuring"

    await eventually(restructuring)
    years = (await reg.client.get(f"/clusters/{c['id']}/assessments", headers=reg.staff)).json()["items"]
    assert [(a["year"], a["result"]) for a in years] == [(2025, "fail"), (2026, "fail")]


async def test_guideline_suggestion_is_emitted_for_projects(reg: Any) -> None:
    c = await established(reg)
    secretariat = reg.auth("cluster_secretariat", clusters=[c["id"]])
    body = {
        "year": 2027,
        "title": "稀土永磁材料高端应用",
        "directions": ["高丰度稀土永磁", "稀土永磁电机"],
        "field": "materials",
        "rationale": "服务稀土产业链延链补链",
    }
    response = await reg.client.post(
        f"/clusters/{c['id']}/guideline-suggestions", json=body, headers=secretariat
    )
    assert response.status_code == 201, response.text
    [event] = await reg.events("registry.cluster.guideline_suggested")
    assert event["data"]["cluster_name"] == "稀土新材料实验室群"
    assert event["data"]["directions"] == ["高丰度稀土永磁", "稀土永磁电机"]
    stranger = reg.auth("cluster_secretariat", clusters=["01a20000-0000-7000-8000-000000000000"])
    refused = await reg.client.post(f"/clusters/{c['id']}/guideline-suggestions", json=body, headers=stranger)
    assert refused.status_code == 403
    suggestion_id = response.json()["id"]
    path = f"/clusters/{c['id']}/guideline-suggestions/{suggestion_id}"
    assert (
        await reg.client.patch(path, json={"title": "他人修改的指南"}, headers=stranger)
    ).status_code == 403
    revised = await reg.client.patch(
        path,
        json={"directions": ["高丰度稀土永磁", "稀土永磁电机", "稀土永磁回收"], "reason": "补充回收方向"},
        headers=secretariat,
    )
    assert revised.status_code == 200 and revised.json()["version"] == 2
    unchanged = await reg.client.patch(path, json={"title": "稀土永磁材料高端应用"}, headers=secretariat)
    assert unchanged.json()["version"] == 2
    [event] = await reg.events("registry.cluster.guideline_revised")
    assert event["data"]["suggestion_id"] == suggestion_id and event["data"]["changed_fields"] == [
        "directions"
    ]
    assert event["data"]["directions"][-1] == "稀土永磁回收" and event["data"]["reason"] == "补充回收方向"
    listed = (await reg.client.get(f"/clusters/{c['id']}/guideline-suggestions", headers=stranger)).json()
    assert [(s["title"], s["version"]) for s in listed["items"]] == [("稀土永磁材料高端应用", 2)]
