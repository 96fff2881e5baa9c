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
STEPS = ["define_structure", "select_service_organisations", "submit_plan", "establish"]
SERVICE = {"name": "包头稀土科技服务中心", "duties": ["资源数据采集整理", "组织供需对接活动"]}
INTENT = {
    "name": "稀土新材料实验室群",
    "field": "materials",
    "direction": "稀土功能材料与应用",
    "lead_platform_ids": ["01a20000-0000-7000-8000-000000000009"],
    "director": {"name": "巴特尔", "unit": "内蒙古大学"},
    "expert_committee": {"chair": {"name": "陈院士", "unit": "中国科学院", "province": "北京"}},
    "service_organisations": [SERVICE],
    "work_plan": "2026年完成组织架构和组建方案，年底前批准成立",
}
COMPLETE = {
    "secretariat": {
        "secretary_general": {"name": "乌云", "unit": "内蒙古大学"},
        "deputies": [{"name": "张处长", "unit": "自治区科技厅"}],
        "liaisons": [{"name": "李联络", "unit": "包头市科技局"}],
    },
    "expert_committee": {
        "chair": {"name": "陈院士", "unit": "中国科学院", "province": "北京"},
        "members": [{"name": "王教授", "unit": "内蒙古科技大学"}],
    },
    "member_units": [{"name": "内蒙古大学"}, {"name": "清华大学", "province": "北京"}],
    "plan_document": "组建方案",
    "approval_document": "内科发〔2026〕9号",
}


async def cluster(reg: Any, **fields: Any) -> dict[str, Any]:
    body = INTENT | fields
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
        "registry.cluster.service_organisations_selected",
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
    assert events[-1]["data"]["lead_platform_ids"] == INTENT["lead_platform_ids"]
    left = await reg.client.patch(
        f"/clusters/{c['id']}",
        json={"member_units": members[:2], "reason": "成员单位退出"},
        headers=reg.staff,
    )
    assert left.status_code == 200, left.text
    [updated] = [e for e in await reg.events("registry.cluster.updated")]
    assert updated["data"]["member_unit_ids"] == [a["id"]]
    assert updated["data"]["version"] > events[-1]["data"]["version"]


async def test_an_intent_without_every_part_of_step_one_is_refused_naming_each(reg: Any) -> None:
    response = await reg.client.post("/clusters", json={"name": "稀土新材料实验室群"}, headers=reg.staff)
    assert response.status_code == 422, response.text
    fields = {e["field"] for e in response.json()["errors"]}
    assert fields == {
        "field",
        "direction",
        "lead_platform_ids",
        "director",
        "expert_committee.chair",
        "service_organisations",
        "work_plan",
    }
    assert (await reg.client.get("/clusters", headers=reg.staff)).json()["total"] == 0
    assert await reg.events("registry.cluster.") == []
    c = await cluster(reg)
    assert c["state"] == "intent" and c["work_plan"] == INTENT["work_plan"]
    assert c["service_organisations"][0]["duties"] == SERVICE["duties"]


async def test_a_step_without_its_artefacts_is_refused_naming_them(reg: Any) -> None:
    c = await cluster(reg)
    response = await step(reg, c["id"], "define_structure")
    assert response.status_code == 422
    fields = {e["field"] for e in response.json()["errors"]}
    assert fields == {
        "member_units",
        "expert_committee.members",
        "secretariat.secretary_general",
        "secretariat.deputies",
        "secretariat.liaisons",
    }
    skipping = await step(reg, c["id"], "establish")
    assert skipping.status_code == 409 and skipping.json()["allowed_actions"] == [
        "define_structure",
        "revoke",
    ]


async def test_step_three_needs_a_service_organisation_with_its_duties(reg: Any) -> None:
    undecided = {"name": "某咨询公司"}
    c = await cluster(reg, **(COMPLETE | {"service_organisations": [SERVICE, undecided]}))
    assert (await step(reg, c["id"], "define_structure")).status_code == 200
    response = await step(reg, c["id"], "select_service_organisations")
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["service_organisations[1].duties"]
    dropped = await reg.client.patch(
        f"/clusters/{c['id']}", json={"service_organisations": [], "reason": "重新协商"}, headers=reg.staff
    )
    assert dropped.status_code == 200
    response = await step(reg, c["id"], "select_service_organisations")
    assert [e["field"] for e in response.json()["errors"]] == ["service_organisations"]
    chosen = {"name": "某咨询公司", "duties": ["策划承办主题活动"]}
    await reg.client.patch(
        f"/clusters/{c['id']}",
        json={"service_organisations": [chosen], "reason": "协商确定"},
        headers=reg.staff,
    )
    selected = await step(reg, c["id"], "select_service_organisations")
    assert selected.status_code == 200 and selected.json()["state"] == "service_organisations"
    assert (await step(reg, c["id"], "submit_plan")).status_code == 200
    # Nobody left to serve it: the cluster is not established.
    await reg.client.patch(
        f"/clusters/{c['id']}",
        json={"service_organisations": [], "reason": "服务机构退出"},
        headers=reg.staff,
    )
    refused = await step(reg, c["id"], "establish")
    assert refused.status_code == 422
    assert [e["field"] for e in refused.json()["errors"]] == ["service_organisations"]
    assert (await reg.client.get(f"/clusters/{c['id']}", headers=reg.staff)).json()["state"] == "plan"


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
    assert response.json()["vetting_status_zh"] == "待专家委员会把关"
    assert await reg.events("registry.cluster.guideline_suggested") == []  # not before vetting
    vetting = f"/clusters/{c['id']}/guideline-suggestions/{response.json()['id']}/vetting"
    no_comments = await reg.client.post(vetting, json={"outcome": "rejected"}, headers=secretariat)
    assert no_comments.status_code == 422 and no_comments.json()["errors"][0]["field"] == "comments"
    vetted = await reg.client.post(vetting, json={"outcome": "passed"}, headers=secretariat)
    assert vetted.status_code == 200 and vetted.json()["vetted_by_name"] == "陈院士", vetted.text
    again = await reg.client.post(vetting, json={"outcome": "passed"}, headers=secretariat)
    assert again.status_code == 409
    [event] = await reg.events("registry.cluster.guideline_suggested")
    assert event["data"]["vetting_outcome"] == "passed"
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
    assert await reg.events("registry.cluster.guideline_revised") == []  # vetted again first
    revetted = await reg.client.post(
        vetting,
        json={"outcome": "passed_with_changes", "comments": "回收方向须写明指标"},
        headers=secretariat,
    )
    assert revetted.status_code == 200, revetted.text
    [event] = await reg.events("registry.cluster.guideline_revised")
    assert event["data"]["suggestion_id"] == suggestion_id and event["data"]["changed_fields"] == [
        "directions"
    ]
    assert event["data"]["directions"][-1] == "稀土永磁回收" and event["data"]["reason"] == "补充回收方向"
    listed = (await reg.client.get(f"/clusters/{c['id']}/guideline-suggestions", headers=stranger)).json()
    assert [(s["title"], s["version"]) for s in listed["items"]] == [("稀土永磁材料高端应用", 2)]


async def test_history_lists_every_step_with_actor_time_and_reason(reg: Any) -> None:
    c = await established(reg)
    await reg.client.patch(
        f"/clusters/{c['id']}",
        json={"industry_cluster": "稀土产业集群", "reason": "对接产业集群"},
        headers=reg.staff,
    )
    await assess(reg, c["id"], 2025, "fail", required_measures=["调换服务机构"])
    history = await reg.client.get(f"/clusters/{c['id']}/history", headers=reg.staff)
    assert history.status_code == 200, history.text
    body = history.json()
    assert body["total"] == 7 and body["page"] == 1
    assert [(h["action"], h["from_state"], h["to_state"]) for h in body["items"]] == [
        ("propose", None, "intent"),
        ("define_structure", "intent", "structure"),
        ("select_service_organisations", "structure", "service_organisations"),
        ("submit_plan", "service_organisations", "plan"),
        ("establish", "plan", "established"),
        ("update", "established", "established"),
        ("open_rectification", "established", "under_rectification"),
    ]
    assert body["items"][2]["action_zh"] == "选择服务机构"
    assert all(h["actor_id"] and h["occurred_at"] for h in body["items"])
    assert body["items"][1]["reason"] == "按程序推进"
    assert body["items"][5]["details"]["industry_cluster"] == [None, "稀土产业集群"]
    assert body["items"][6]["details"]["result"] == "fail"
    paged = (await reg.client.get(f"/clusters/{c['id']}/history?size=2&page=4", headers=reg.staff)).json()
    assert [h["action"] for h in paged["items"]] == ["open_rectification"] and paged["total"] == 7
    missing = await reg.client.get(
        "/clusters/01a20000-0000-7000-8000-0000000000ff/history", headers=reg.staff
    )
    assert missing.status_code == 404


async def test_an_expired_rectification_deadline_is_flagged(reg: Any) -> None:
    late = await established(reg)
    on_time = await cluster(reg, **(COMPLETE | {"name": "乳业实验室群"}))
    for action in STEPS:
        assert (await step(reg, on_time["id"], action)).status_code == 200
    # Evaluation failed ``late`` in spring 2024: its year of rectification ended in 2025.
    payload = ClusterAssessmentFinalized(
        assessment_id=UUID("01a20000-0000-7000-8000-0000000000ac"),
        cluster_id=UUID(late["id"]),
        year=2023,
        result="fail",
        finalized_at=datetime(2024, 3, 1, tzinfo=UTC),
    )
    await publish_as_producer(
        reg.svc.runtime.bus, CLUSTER_ASSESSMENT_FINALIZED, payload, subject="c/1", sequence=1
    )

    async def rectifying() -> bool:
        r = await reg.client.get(f"/clusters/{late['id']}", headers=reg.staff)
        return bool(r.json()["state"] == "under_rectification")

    await eventually(rectifying)
    fresh = await assess(reg, on_time["id"], 2026, "fail")
    assert fresh.json()["rectification_overdue"] is False
    view = (await reg.client.get(f"/clusters/{late['id']}", headers=reg.staff)).json()
    assert view["rectification_until"] == "2025-03-01" and view["rectification_overdue"] is True
    overdue = (await reg.client.get("/clusters?rectification_overdue=true", headers=reg.staff)).json()
    assert [c["name"] for c in overdue["items"]] == ["稀土新材料实验室群"] and overdue["total"] == 1
    others = (await reg.client.get("/clusters?rectification_overdue=false", headers=reg.staff)).json()
    assert [c["name"] for c in others["items"]] == ["乳业实验室群"]
    # Passing the next assessment closes the case and the flag with it.
    closed = await assess(reg, late["id"], 2024, "pass")
    assert closed.json()["state"] == "established" and closed.json()["rectification_overdue"] is False


PLAN = {
    "tasks": ["组织凝练省重大专项指南建议", "开展双群互动汇"],
    "indicators": [
        {"code": "joint_projects", "name": "联合攻关项目数", "target": 5, "unit": "项"},
        {"code": "enterprise_needs", "name": "解决企业技术需求数", "target": 20, "unit": "项"},
        {"code": "results_released", "name": "发布创新成果数", "target": 10, "unit": "项"},
    ],
}


async def test_the_secretariat_sets_the_annual_work_plan_and_the_assessment_is_set_against_it(
    reg: Any,
) -> None:
    c = await established(reg)
    secretariat = reg.auth("cluster_secretariat", clusters=[c["id"]])
    path = f"/clusters/{c['id']}/work-plans/2026"
    stranger = reg.auth("cluster_secretariat", clusters=["01a20000-0000-7000-8000-000000000000"])
    assert (await reg.client.put(path, json=PLAN, headers=stranger)).status_code == 403
    set_ = await reg.client.put(path, json=PLAN, headers=secretariat)
    assert set_.status_code == 200, set_.text
    assert set_.json()["version"] == 1 and [i["target"] for i in set_.json()["indicators"]] == [5, 20, 10]
    raised = PLAN | {"indicators": [PLAN["indicators"][0] | {"target": 6}, *PLAN["indicators"][1:]]}
    revised = await reg.client.put(path, json=raised | {"reason": "群主任会议调高目标"}, headers=secretariat)
    assert revised.json()["version"] == 2
    again = await reg.client.put(path, json=raised, headers=secretariat)
    assert again.json()["version"] == 2  # nothing changed, nothing recorded
    twice = PLAN | {"indicators": [PLAN["indicators"][0], PLAN["indicators"][0]]}
    duplicate = await reg.client.put(path, json=twice, headers=secretariat)
    assert duplicate.status_code == 422
    assert [e["field"] for e in duplicate.json()["errors"]] == ["indicators[1].code"]
    plans = (await reg.client.get(f"/clusters/{c['id']}/work-plans", headers=reg.staff)).json()
    assert plans["total"] == 1 and plans["items"][0]["year"] == 2026

    unknown = await assess(reg, c["id"], 2026, "pass", achieved={"patents": 3})
    assert unknown.status_code == 422
    assert [e["field"] for e in unknown.json()["errors"]] == ["achieved.patents"]
    no_plan = await assess(reg, c["id"], 2025, "pass", achieved={"joint_projects": 3})
    assert no_plan.status_code == 422 and no_plan.json()["errors"][0]["field"] == "achieved"
    done = await assess(reg, c["id"], 2026, "fail", achieved={"joint_projects": 7, "enterprise_needs": 12})
    assert done.status_code == 200, done.text
    [year] = (await reg.client.get(f"/clusters/{c['id']}/assessments", headers=reg.staff)).json()["items"]
    compared = year["against_plan"]
    assert compared["work_plan_version"] == 2
    assert [(i["code"], i["target"], i["achieved"], i["met"]) for i in compared["indicators"]] == [
        ("joint_projects", 6, 7, True),
        ("enterprise_needs", 20, 12, False),
        ("results_released", 10, None, None),
    ]
    assert (compared["met"], compared["not_met"], compared["not_reported"]) == (1, 1, 1)
    # A later change to the plan does not rewrite what the assessment was set against.
    await reg.client.put(path, json=PLAN | {"reason": "恢复原目标"}, headers=secretariat)
    [year] = (await reg.client.get(f"/clusters/{c['id']}/assessments", headers=reg.staff)).json()["items"]
    assert year["against_plan"]["indicators"][0]["target"] == 6
    history = (await reg.client.get(f"/clusters/{c['id']}/history?size=100", headers=reg.staff)).json()
    recorded = [h for h in history["items"] if h["action"] == "work_plan_recorded"]
    assert [(h["details"]["version"], h["reason"]) for h in recorded] == [
        (1, None),
        (2, "群主任会议调高目标"),
        (3, "恢复原目标"),
    ]
    assert recorded[0]["action_zh"] == "制定年度工作计划"


async def test_member_reports_and_operating_funds_by_grade(reg: Any) -> None:
    c = await established(reg)
    secretariat = reg.auth("cluster_secretariat", clusters=[c["id"]])
    url = f"/clusters/{c['id']}/member-reports"
    body = {
        "period": "2026-H1",
        "member_name": "内蒙古大学",
        "talent": ["新引进青年博士3人"],
        "needs": ["稀土检测"],
    }
    assert (await reg.client.post(url, json=body, headers=secretariat)).status_code == 201
    assert (await reg.client.post(url, json=body, headers=secretariat)).status_code == 409
    missing = (
        await reg.client.get(f"{url}/missing", params={"period": "2026-H1"}, headers=secretariat)
    ).json()
    assert [m["member_name"] for m in missing["items"]] == ["清华大学"]
    year = int(c["updated_at"][:4])
    first = await reg.client.post(f"/clusters/{c['id']}/operating-funds/{year}", headers=reg.staff)
    assert first.status_code == 201, first.text
    assert first.json()["items"][0]["amount_fen"] == 50_000_000
    assert (
        await reg.client.post(f"/clusters/{c['id']}/operating-funds/{year + 1}", headers=reg.staff)
    ).status_code == 409
    await assess(reg, c["id"], year, "pass", score=95)
    raised = await reg.client.put(
        "/policy/cluster_funds_excellent_fen",
        json={"value": 70_000_000, "reason": "优秀档运行经费上调"},
        headers=reg.staff,
    )
    assert raised.status_code == 200, raised.text
    later = await reg.client.post(f"/clusters/{c['id']}/operating-funds/{year + 1}", headers=reg.staff)
    assert later.status_code == 201 and later.json()["items"][0]["grade"] == "excellent", later.text
    assert later.json()["items"][0]["amount_fen"] == 70_000_000  # by grade, as the policy says now


async def test_a_rejected_revision_of_a_passed_suggestion_withdraws_it_from_projects(reg: Any) -> None:
    c = await established(reg)
    secretariat = reg.auth("cluster_secretariat", clusters=[c["id"]])
    body = {
        "year": 2027,
        "title": "稀土储氢材料",
        "directions": ["稀土储氢合金"],
        "field": "materials",
        "rationale": "服务氢能产业链",
    }
    created = await reg.client.post(
        f"/clusters/{c['id']}/guideline-suggestions", json=body, headers=secretariat
    )
    path = f"/clusters/{c['id']}/guideline-suggestions/{created.json()['id']}"
    assert (
        await reg.client.post(f"{path}/vetting", json={"outcome": "passed"}, headers=secretariat)
    ).status_code == 200
    revised = await reg.client.patch(
        path,
        json={"directions": ["稀土储氢合金", "固态储氢装备"], "reason": "扩展装备方向"},
        headers=secretariat,
    )
    assert revised.status_code == 200
    rejected = await reg.client.post(
        f"{path}/vetting",
        json={"outcome": "rejected", "comments": "装备方向不属于本群领域"},
        headers=secretariat,
    )
    assert rejected.status_code == 200 and rejected.json()["vetting_status_zh"] == "不通过", rejected.text
    [withdrawn] = await reg.events("registry.cluster.guideline_withdrawn")
    assert withdrawn["data"]["suggestion_id"] == created.json()["id"]
    assert (
        withdrawn["data"]["vetting_comments"] == "装备方向不属于本群领域"
        and withdrawn["data"]["version"] == 2
    )
    refused = await reg.client.post(f"{path}/vetting", json={"outcome": "passed"}, headers=secretariat)
    assert refused.status_code == 409 and refused.json()["allowed_actions"] == ["revise"]

    # Revised once more and passed: projects get it again as a fresh suggestion.
    await reg.client.patch(
        path, json={"directions": ["稀土储氢合金"], "reason": "删去装备方向"}, headers=secretariat
    )
    assert (
        await reg.client.post(f"{path}/vetting", json={"outcome": "passed"}, headers=secretariat)
    ).status_code == 200
    assert len(await reg.events("registry.cluster.guideline_suggested")) == 2
    assert await reg.events("registry.cluster.guideline_revised") == []

    # A suggestion rejected at its first vetting never reached projects: nothing to withdraw.
    other = await reg.client.post(
        f"/clusters/{c['id']}/guideline-suggestions",
        json=body | {"title": "稀土催化材料"},
        headers=secretariat,
    )
    first = await reg.client.post(
        f"/clusters/{c['id']}/guideline-suggestions/{other.json()['id']}/vetting",
        json={"outcome": "rejected", "comments": "与已有方向重复"},
        headers=secretariat,
    )
    assert first.status_code == 200
    assert len(await reg.events("registry.cluster.guideline_withdrawn")) == 1
