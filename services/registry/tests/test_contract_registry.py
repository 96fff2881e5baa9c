"""The registry's public contract as SPAs build on it: every collection has its detail route
(404 problem+json for an unknown id), lists answer the kit's one page, filters refuse unknown
values naming the parameter, times come in Beijing time, and exports show names beside codes."""

from __future__ import annotations

import io
from typing import Any

import pytest
from openpyxl import load_workbook

from registry.advisor.schemas import AdviceOut

pytestmark = pytest.mark.asyncio
PAGE_FIELDS = {"items", "total", "total_exact", "page", "size", "next_cursor"}
UNKNOWN = "01a20000-0000-7000-8000-00000000ffff"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def assert_not_found(response: Any) -> None:
    assert response.status_code == 404, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == 404 and body["title"] and body["detail"]


def sheet(content: bytes) -> list[dict[str, Any]]:
    rows = list(load_workbook(io.BytesIO(content)).worksheets[0].iter_rows(values_only=True))
    headers = [str(h) for h in rows[0]]
    return [dict(zip(headers, row, strict=False)) for row in rows[1:]]


async def test_a_platforms_outputs_and_team_answer_the_kit_page_and_each_item_its_own_route(reg: Any) -> None:
    org = await reg.org(1)
    lab = await reg.platform(org["id"])
    person = await reg.person(1, unit_id=org["id"])
    base = f"/platforms/{lab['id']}"
    reported = await reg.client.put(
        f"{base}/outputs/2025", json={"papers": 12, "patents": 3}, headers=reg.staff
    )
    assert reported.status_code == 200, reported.text
    joined = await reg.client.post(f"{base}/members", json={"person_id": person["id"]}, headers=reg.staff)
    assert joined.status_code == 201 and joined.json()["person_id"] == person["id"], joined.text

    outputs = (await reg.client.get(f"{base}/outputs", headers=reg.staff)).json()
    assert set(outputs) == PAGE_FIELDS and outputs["total"] == 1
    year = await reg.client.get(f"{base}/outputs/2025", headers=reg.staff)
    assert year.status_code == 200 and year.json() == outputs["items"][0]
    assert year.json()["total"] == 15
    assert_not_found(await reg.client.get(f"{base}/outputs/2019", headers=reg.staff))

    members = (await reg.client.get(f"{base}/members", headers=reg.staff)).json()
    assert set(members) == PAGE_FIELDS and [m["person_id"] for m in members["items"]] == [person["id"]]
    member = await reg.client.get(f"{base}/members/{person['id']}", headers=reg.staff)
    assert member.status_code == 200 and member.json() == joined.json()
    assert_not_found(await reg.client.get(f"{base}/members/{UNKNOWN}", headers=reg.staff))

    history = (await reg.client.get(f"{base}/history", headers=reg.staff)).json()
    assert set(history) == PAGE_FIELDS and history["items"][0]["action"] == "propose"
    assert history["items"][0]["occurred_at"].endswith("+08:00")


async def test_people_and_unit_histories_and_lists_answer_the_kit_page_in_beijing_time(reg: Any) -> None:
    org = await reg.org(1)
    person = await reg.person(1, unit_id=org["id"])
    await reg.platform(org["id"])
    assert org["created_at"].endswith("+08:00") and person["updated_at"].endswith("+08:00")
    for url in (
        "/organisations",
        "/people",
        "/platforms",
        f"/organisations/{org['id']}/history",
        f"/people/{person['id']}/history",
    ):
        page = (await reg.client.get(url, headers=reg.staff)).json()
        assert set(page) == PAGE_FIELDS, url
        assert page["total_exact"] is True and page["total"] >= 1, url
    cursor = (await reg.client.get("/people", params={"cursor": ""}, headers=reg.staff)).json()
    assert cursor["page"] is None and set(cursor) == PAGE_FIELDS


async def test_an_integrity_record_has_its_own_route_for_staff(reg: Any) -> None:
    person = await reg.person(1)
    body = {
        "subject_type": "person",
        "person_id": person["id"],
        "misconduct_type": "plagiarism",
        "decision_document": "内科诚〔2024〕3号",
        "barred_from": "2024-03-01",
        "barred_until": "2027-02-28",
        "scope": ["applying"],
    }
    recorded = await reg.client.post("/integrity", json=body, headers=reg.staff)
    assert recorded.status_code == 201, recorded.text
    record = await reg.client.get(f"/integrity/{recorded.json()['id']}", headers=reg.staff)
    assert record.status_code == 200 and record.json() == recorded.json()
    assert_not_found(await reg.client.get(f"/integrity/{UNKNOWN}", headers=reg.staff))
    researcher = reg.auth("applicant", user_id="someone")
    assert (
        await reg.client.get(f"/integrity/{recorded.json()['id']}", headers=researcher)
    ).status_code == 403
    check = await reg.client.get(
        "/integrity/check", params={"on": "2025-01-01", "person": person["id"]}, headers=reg.staff
    )
    assert check.json()["barred"] is True
    assert [r["record_id"] for r in check.json()["reasons"]] == [recorded.json()["id"]]


async def test_an_unknown_revocation_case_is_a_404(reg: Any) -> None:
    assert_not_found(await reg.client.get(f"/platforms/revocation-cases/{UNKNOWN}", headers=reg.staff))


async def test_an_unknown_advisor_rule_is_refused_naming_the_parameter(reg: Any) -> None:
    org = await reg.org(1)
    lab = await reg.platform(org["id"])  # no director: director_missing
    refused = await reg.client.get("/reorganisation/advice", params={"rule": "too_old"}, headers=reg.staff)
    assert refused.status_code == 422
    assert refused.headers["content-type"].startswith("application/problem+json")
    [issue] = refused.json()["errors"]
    assert issue["field"] == "rule" and issue["in"] == "query" and issue["message_zh"]

    missing = await reg.client.get(
        "/reorganisation/advice", params={"rule": "director_missing"}, headers=reg.staff
    )
    assert missing.status_code == 200
    advice = AdviceOut.model_validate(missing.json())  # the answer is what the document says
    assert [entry.code for entry in advice.labs] == [lab["code"]]
    none = await reg.client.get(
        "/reorganisation/advice", params={"rule": "merge_candidate"}, headers=reg.staff
    )
    assert none.json()["labs"] == []


async def test_an_unknown_cluster_state_is_refused_naming_the_parameter(reg: Any) -> None:
    refused = await reg.client.get("/clusters", params={"state": "dissolved"}, headers=reg.staff)
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "state"
    assert (
        await reg.client.get("/clusters", params={"state": "intent"}, headers=reg.staff)
    ).status_code == 200


CLUSTER = {
    "name": "稀土新材料实验室群",
    "field": "materials",
    "direction": "稀土功能材料与应用",
    "lead_platform_ids": ["01a20000-0000-7000-8000-000000000009"],
    "director": {"name": "巴特尔", "unit": "内蒙古大学"},
    "expert_committee": {
        "chair": {"name": "陈院士", "unit": "中国科学院", "province": "北京"},
        "members": [{"name": "王教授", "unit": "内蒙古科技大学"}],
    },
    "service_organisations": [{"name": "包头稀土科技服务中心", "duties": ["资源数据采集整理"]}],
    "work_plan": "2026年完成组织架构和组建方案，年底前批准成立",
    "member_units": [{"name": "内蒙古大学"}, {"name": "清华大学", "province": "北京"}],
    "secretariat": {
        "secretary_general": {"name": "乌云", "unit": "内蒙古大学"},
        "deputies": [{"name": "张处长", "unit": "自治区科技厅"}],
        "liaisons": [{"name": "李联络", "unit": "包头市科技局"}],
    },
    "plan_document": "组建方案",
    "approval_document": "内科发〔2026〕9号",
}
BUILD_STEPS = ["define_structure", "select_service_organisations", "submit_plan", "establish"]


async def established_cluster(reg: Any, name: str) -> dict[str, Any]:
    created = await reg.client.post("/clusters", json=CLUSTER | {"name": name}, headers=reg.staff)
    assert created.status_code == 201, created.text
    for action in BUILD_STEPS:
        response = await reg.client.post(
            f"/clusters/{created.json()['id']}/actions/{action}",
            json={"reason": "按程序推进"},
            headers=reg.staff,
        )
        assert response.status_code == 200, response.text
    return dict(response.json())


async def test_a_clusters_guideline_suggestion_and_member_report_have_their_own_routes(reg: Any) -> None:
    c = await established_cluster(reg, "稀土新材料实验室群")
    other = await established_cluster(reg, "乳业实验室群")
    secretariat = reg.auth("cluster_secretariat", clusters=[c["id"]])
    base = f"/clusters/{c['id']}"
    suggestion = {
        "year": 2027,
        "title": "稀土永磁材料高端应用",
        "directions": ["高丰度稀土永磁"],
        "field": "materials",
        "rationale": "服务稀土产业链延链补链",
    }
    suggested = await reg.client.post(f"{base}/guideline-suggestions", json=suggestion, headers=secretariat)
    assert suggested.status_code == 201, suggested.text
    listed = (await reg.client.get(f"{base}/guideline-suggestions", headers=reg.staff)).json()
    assert set(listed) == PAGE_FIELDS and listed["total"] == 1
    one = await reg.client.get(f"{base}/guideline-suggestions/{suggested.json()['id']}", headers=reg.staff)
    assert one.status_code == 200 and one.json() == listed["items"][0]
    assert one.json()["created_at"].endswith("+08:00") and one.json()["vetting_status_zh"]
    elsewhere = f"/clusters/{other['id']}/guideline-suggestions/{suggested.json()['id']}"
    assert_not_found(await reg.client.get(elsewhere, headers=reg.staff))

    report = {"period": "2026-H1", "member_name": "内蒙古大学", "talent": ["新引进青年博士3人"]}
    submitted = await reg.client.post(f"{base}/member-reports", json=report, headers=secretariat)
    assert submitted.status_code == 201, submitted.text
    read = await reg.client.get(f"{base}/member-reports/{submitted.json()['id']}", headers=secretariat)
    assert read.status_code == 200 and read.json() == submitted.json()
    assert_not_found(await reg.client.get(f"{base}/member-reports/{UNKNOWN}", headers=secretariat))
    stranger = reg.auth("cluster_secretariat", clusters=[other["id"]])
    assert (
        await reg.client.get(f"{base}/member-reports/{submitted.json()['id']}", headers=stranger)
    ).status_code == 403

    assessments = (await reg.client.get(f"{base}/assessments", headers=reg.staff)).json()
    assert set(assessments) == PAGE_FIELDS and assessments["items"] == []

    plan = {
        "tasks": ["开展双群互动汇"],
        "indicators": [{"code": "joint_projects", "name": "联合攻关项目数", "target": 5}],
    }
    assert (
        await reg.client.put(f"{base}/work-plans/2026", json=plan, headers=secretariat)
    ).status_code == 200
    year = await reg.client.get(f"{base}/work-plans/2026", headers=reg.staff)
    assert year.status_code == 200 and year.json()["tasks"] == ["开展双群互动汇"]
    assert year.json()["updated_at"].endswith("+08:00")
    assert_not_found(await reg.client.get(f"{base}/work-plans/2025", headers=reg.staff))


async def test_campaigns_are_listed_for_staff_in_the_kit_page(reg: Any) -> None:
    org = await reg.org(1)
    await reg.platform(org["id"])
    body = {
        "name": "2022—2023年自治区重点实验室优化重组",
        "deadline": "2023-12-31",
        "reason": "自治区重点实验室优化重组方案",
        "batches": [{"fields": ["materials"], "due_on": "2023-06-30"}],
    }
    started = await reg.client.post("/campaigns", json=body, headers=reg.staff)
    assert started.status_code == 201, started.text
    assert started.json()["started_at"].endswith("+08:00") and started.json()["labs"] == 1
    listed = (await reg.client.get("/campaigns", headers=reg.staff)).json()
    assert set(listed) == PAGE_FIELDS and [c["id"] for c in listed["items"]] == [started.json()["id"]]
    assert listed["items"][0]["name"] == body["name"]
    assert (await reg.client.get("/campaigns", headers=reg.auth("host_unit_admin"))).status_code == 403
    labs = (await reg.client.get(f"/campaigns/{started.json()['id']}/labs", headers=reg.staff)).json()
    assert set(labs) == PAGE_FIELDS and labs["items"][0]["outcome_zh"] == "待优化重组"


async def test_the_people_export_names_each_persons_unit(reg: Any) -> None:
    org = await reg.org(1, name="内蒙古大学")
    await reg.person(1, unit_id=org["id"])
    await reg.person(2)
    exported = await reg.client.get("/people/export", headers=reg.staff)
    assert exported.status_code == 200 and exported.headers["content-type"] == XLSX
    rows = {r["姓名"]: r for r in sheet(exported.content)}
    assert rows["测试人员001"]["工作单位"] == "内蒙古大学"
    assert rows["测试人员001"]["工作单位ID"] == org["id"]
    assert rows["测试人员002"]["工作单位"] is None


async def test_the_platform_export_names_the_host_unit_and_the_director(reg: Any) -> None:
    org = await reg.org(1, name="内蒙古大学")
    director = await reg.person(1, name="巴特尔", unit_id=org["id"])
    await reg.platform(
        org["id"],
        director={"person_id": director["id"], "term_start": "2021-01-01", "term_end": "2025-12-31"},
    )
    exported = await reg.client.get("/platforms/export", headers=reg.staff)
    assert exported.status_code == 200 and exported.headers["content-type"] == XLSX
    [row] = sheet(exported.content)
    assert row["依托单位名称"] == "内蒙古大学" and row["主任姓名"] == "巴特尔"
    assert row["依托单位统一社会信用代码"] == org["credit_code"]


async def test_the_document_declares_the_spreadsheets_and_types_every_answer(reg: Any) -> None:
    document = (await reg.client.get("/openapi.json")).json()
    for path in ("/people/export", "/platforms/export"):
        content = document["paths"][path]["get"]["responses"]["200"]["content"]
        assert list(content) == [XLSX], path
    lifecycle = document["paths"]["/platforms/lifecycle"]["get"]["responses"]["200"]["content"]
    assert "$ref" in lifecycle["application/json"]["schema"]
    machine = (await reg.client.get("/platforms/lifecycle", headers=reg.staff)).json()
    assert {"from", "to", "action", "zh", "roles"} <= set(machine["transitions"][0])
    assert machine["action_labels"]["strengthen"] == "充实"


async def test_an_open_topic_has_its_own_route_and_instruments_page_in_the_kit_shape(reg: Any) -> None:
    org = await reg.org(1)
    lab = await reg.platform(org["id"])
    created = await reg.client.post(
        "/topics",
        json={"platform_id": lab["id"], "year": 2026, "title": "稀土永磁体晶界扩散开放课题"},
        headers=reg.staff,
    )
    assert created.status_code == 201, created.text
    listed = (await reg.client.get("/topics", params={"platform_id": lab["id"]}, headers=reg.staff)).json()
    assert set(listed) == PAGE_FIELDS
    one = await reg.client.get(
        f"/topics/{created.json()['id']}", headers=reg.auth("applicant", user_id="app-1")
    )
    assert one.status_code == 200 and one.json() == listed["items"][0] == created.json()
    assert_not_found(await reg.client.get(f"/topics/{UNKNOWN}", headers=reg.staff))
    instruments = (await reg.client.get("/instruments", headers=reg.staff)).json()
    assert set(instruments) == PAGE_FIELDS
