"""科技成果库: results enter from acceptance (the 科技报告's list) and from the host unit's report;
staff verify or reject them; the register lists, filters and exports them."""

from __future__ import annotations

import io
from typing import Any

from openpyxl import load_workbook

from shared.testing.servers import eventually

PAPERS = {"name": "发表论文", "category": "output", "unit": "篇", "promised": 3}
PATENT = {
    "title": "一种稀土永磁材料晶界扩散方法",
    "kind": "patent",
    "people": ["张三", "李四"],
    "maturity": "pilot",
    "transfer_status": "licensed",
    "summary": "已许可区内企业使用。",
}


async def _running(world: Any) -> tuple[dict[str, Any], dict[str, str]]:
    call = await world.call()
    team = await world.team()
    project = await world.approved(call, team, indicators=[PAPERS])
    await world.running(project, team["person"])
    return project, team


async def _results(world: Any, headers: dict[str, str], **params: Any) -> Any:
    return await world.client.get("/results", params=params, headers=headers)


async def test_acceptance_enters_the_results_its_st_report_lists(world: Any) -> None:
    project, team = await _running(world)
    body = {
        "title": "项目科技报告",
        "number": "KJBG-2029-001",
        "sha256": "b" * 64,
        "results": [
            PATENT,
            PATENT | {"title": "稀土永磁测试规程", "kind": "standard", "transfer_status": "not_transferred"},
        ],
    }
    r = await world.client.put(
        f"/projects/{project['id']}/st-report", json=body, headers=world.applicant(team["person"])
    )
    assert r.status_code == 200, r.text
    assert (await _results(world, world.staff, project_id=project["id"])).json()["total"] == 0
    request_id = await world.request_evaluation(project["id"], "acceptance")
    await world.finalize(request_id, project["id"], "acceptance", "pass")
    await world.until_state(project["id"], "accepted")

    async def entered() -> bool:
        return bool((await _results(world, world.staff, project_id=project["id"])).json()["total"] == 2)

    await eventually(entered, timeout=10)
    items = (await _results(world, world.staff, project_id=project["id"])).json()["items"]
    patent = next(i for i in items if i["kind"] == "patent")
    assert patent["source"] == "acceptance" and patent["source_zh"] == "结题验收"
    assert patent["evaluation_id"] == request_id and patent["state"] == "reported"
    assert patent["unit_id"] == team["unit"] and patent["people"] == ["张三", "李四"]
    assert (patent["kind_zh"], patent["maturity_zh"], patent["transfer_status_zh"]) == (
        "专利",
        "中试",
        "许可使用",
    )
    assert patent["reported_at"].endswith("+08:00") and patent["code"].startswith("CG")
    timeline = (await world.client.get(f"/projects/{project['id']}/timeline", headers=world.staff)).json()
    assert sum(1 for s in timeline["items"] if s["action"] == "result_reported") == 2


async def test_a_unit_reports_its_own_projects_results_and_staff_verify_or_reject(world: Any) -> None:
    project, team = await _running(world)
    other, other_team = await _running(world)
    admin = world.unit_admin(team["unit"])
    r = await world.client.post("/results", json=PATENT | {"project_id": project["id"]}, headers=admin)
    assert r.status_code == 201, r.text
    result = r.json()
    assert result["source"] == "unit" and result["state_zh"] == "已填报待核验"
    assert result["project_code"] == project["code"] and result["allowed_actions"] == []
    # another unit's project is not ours to report; a lead does not report for the unit
    r = await world.client.post("/results", json=PATENT | {"project_id": other["id"]}, headers=admin)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "project_id", r.text
    lead = world.applicant(team["person"])
    r = await world.client.post("/results", json=PATENT | {"project_id": project["id"]}, headers=lead)
    assert r.status_code == 403 and r.json()["detail_zh"], r.text
    # bad input: no people, an unknown kind — 422 naming the field in both languages
    r = await world.client.post(
        "/results", json=PATENT | {"project_id": project["id"], "people": [], "kind": "poem"}, headers=admin
    )
    assert r.status_code == 422
    fields = {e["field"] for e in r.json()["errors"]}
    assert {"people", "kind"} <= fields and all(e["message_zh"] for e in r.json()["errors"])

    url = f"/results/{result['id']}"
    staff_view = (await world.client.get(url, headers=world.staff)).json()
    assert staff_view["allowed_actions"] == ["verify", "reject"]
    assert (await world.client.post(url + "/actions/verify", json={}, headers=admin)).status_code == 403
    r = await world.client.post(url + "/actions/reject", json={}, headers=world.staff)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "reason"
    r = await world.client.post(url + "/actions/verify", json={"reason": "材料属实"}, headers=world.staff)
    assert (
        r.status_code == 200 and r.json()["state"] == "verified" and r.json()["decided_at"].endswith("+08:00")
    )
    r = await world.client.post(url + "/actions/reject", json={"reason": "重复"}, headers=world.staff)
    assert r.status_code == 409, r.text
    assert r.json()["current_state"] == "verified" and r.json()["allowed_actions"] == []

    second = (
        await world.client.post(
            "/results", json=PATENT | {"project_id": project["id"], "title": "另一项成果"}, headers=admin
        )
    ).json()
    r = await world.client.post(
        f"/results/{second['id']}/actions/reject", json={"reason": "成果与项目无关"}, headers=world.staff
    )
    assert r.status_code == 200 and r.json()["state_zh"] == "核验未通过"
    assert r.json()["decision_reason"] == "成果与项目无关"

    supervisor = world.auth("department_staff", user_id="sup-1", duties=["supervision"])
    trail = (
        await world.client.get(
            "/audit", params={"entity_type": "project_result", "entity_id": result["id"]}, headers=supervisor
        )
    ).json()["items"]
    assert [e["action"] for e in trail] == ["project_result.reported", "project_result.verified"]
    assert trail[0]["actor_id"] == admin_user(team["unit"]) and trail[1]["reason"] == "材料属实"

    # who sees what: the unit its own, the lead its project's, another unit nothing
    assert (await _results(world, admin)).json()["total"] == 2
    assert (await _results(world, lead)).json()["total"] == 2
    assert (await _results(world, world.unit_admin(other_team["unit"]))).json()["total"] == 0
    assert (await world.client.get(url, headers=world.unit_admin(other_team["unit"]))).status_code == 404


async def test_the_reporting_unit_corrects_a_rejected_result_and_resubmits_it(world: Any) -> None:
    project, team = await _running(world)
    _, other_team = await _running(world)
    admin = world.unit_admin(team["unit"])
    result = (
        await world.client.post("/results", json=PATENT | {"project_id": project["id"]}, headers=admin)
    ).json()
    url = f"/results/{result['id']}"
    # Only a rejected result is resubmitted: 409 naming the state and what is allowed from it.
    r = await world.client.post(url + "/actions/resubmit", json={"reason": "补充材料"}, headers=admin)
    assert r.status_code == 409 and r.json()["current_state"] == "reported", r.text
    assert r.json()["allowed_actions"] == [] and r.json()["detail_zh"]
    r = await world.client.post(
        url + "/actions/reject", json={"reason": "专利号与证书不符"}, headers=world.staff
    )
    assert r.status_code == 200 and r.json()["state"] == "rejected"
    assert (await world.client.get(url, headers=admin)).json()["allowed_actions"] == ["resubmit"]
    assert (await world.client.get(url, headers=world.staff)).json()["allowed_actions"] == []

    correction = {
        "title": "一种稀土永磁材料晶界扩散方法（ZL202710000001.X）",
        "people": ["张三", "李四", "王五"],
    }
    # Staff do not resubmit for the unit, the lead does not, another unit cannot even see it.
    body = {"reason": "按核验意见更正专利号并补充完成人", "correction": correction}
    r = await world.client.post(url + "/actions/resubmit", json=body, headers=world.staff)
    assert r.status_code == 403
    lead = world.applicant(team["person"])
    assert (await world.client.post(url + "/actions/resubmit", json=body, headers=lead)).status_code == 403
    stranger = world.unit_admin(other_team["unit"])
    assert (
        await world.client.post(url + "/actions/resubmit", json=body, headers=stranger)
    ).status_code == 404
    # Bad input is refused whole, in both languages: no note, an unknown kind, correction on verify.
    r = await world.client.post(url + "/actions/resubmit", json={"correction": correction}, headers=admin)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "reason"
    assert "更正说明" in r.json()["errors"][0]["message_zh"]
    r = await world.client.post(
        url + "/actions/resubmit", json=body | {"correction": {"kind": "poem"}}, headers=admin
    )
    assert r.status_code == 422 and r.json()["errors"][0]["message_zh"]
    assert (await world.client.get(url, headers=admin)).json()["state"] == "rejected"  # nothing written

    r = await world.client.post(url + "/actions/resubmit", json=body, headers=admin)
    assert r.status_code == 200, r.text
    again = r.json()
    assert (again["state"], again["state_zh"]) == ("reported", "已填报待核验")
    assert again["title"] == correction["title"] and again["people"] == ["张三", "李四", "王五"]
    assert again["kind"] == "patent" and again["decided_at"] is None and again["decision_reason"] is None
    assert again["code"] == result["code"]  # the same row of the register, corrected
    assert (await world.client.get(url, headers=world.staff)).json()["allowed_actions"] == [
        "verify",
        "reject",
    ]
    r = await world.client.post(
        url + "/actions/verify",
        json={"reason": "更正后属实", "correction": {"title": "改名"}},
        headers=world.staff,
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "correction"
    r = await world.client.post(url + "/actions/verify", json={"reason": "更正后属实"}, headers=world.staff)
    assert r.status_code == 200 and r.json()["state"] == "verified"

    supervisor = world.auth("department_staff", user_id="sup-1", duties=["supervision"])
    trail = (
        await world.client.get(
            "/audit", params={"entity_type": "project_result", "entity_id": result["id"]}, headers=supervisor
        )
    ).json()["items"]
    assert [e["action"] for e in trail] == [
        "project_result.reported",
        "project_result.rejected",
        "project_result.resubmitted",
        "project_result.verified",
    ]
    resubmitted = trail[2]
    assert resubmitted["actor_id"] == admin_user(team["unit"])
    assert resubmitted["reason"] == "按核验意见更正专利号并补充完成人"
    assert resubmitted["changes"]["state"] == ["rejected", "reported"]
    assert resubmitted["changes"]["title"] == [PATENT["title"], correction["title"]]
    assert resubmitted["changes"]["people"] == [["张三", "李四"], ["张三", "李四", "王五"]]
    timeline = (await world.client.get(f"/projects/{project['id']}/timeline", headers=world.staff)).json()
    step = next(s for s in timeline["items"] if s["action"] == "result_resubmit")
    assert step["label_zh"] == f"科技成果更正后重新提交：「{correction['title']}」"
    assert step["details"]["corrected"] == ["people", "title"]


def admin_user(unit: str) -> str:
    return f"ua-{unit[:6]}"


async def test_the_register_filters_by_typed_values_and_exports_with_chinese_labels(world: Any) -> None:
    project, team = await _running(world)
    admin = world.unit_admin(team["unit"])
    for body in (PATENT, PATENT | {"title": "高矫顽力磁体", "kind": "new_product", "maturity": "industrial"}):
        assert (
            await world.client.post("/results", json=body | {"project_id": project["id"]}, headers=admin)
        ).status_code == 201
    listed = (await _results(world, world.staff, kind="new_product")).json()
    assert [i["title"] for i in listed["items"]] == ["高矫顽力磁体"]
    assert set(listed) >= {"items", "total", "page", "size"}
    assert (await _results(world, world.staff, state="verified")).json()["total"] == 0
    r = await _results(world, world.staff, kind="poem")
    assert r.status_code == 422 and r.json()["errors"][0]["message_zh"]
    r = await _results(world, world.staff, colour="red")
    assert r.status_code == 422 and r.json()["errors"][0]["code"] == "unknown_filter"

    r = await world.client.get(
        "/results/export.xlsx", params={"project_id": project["id"]}, headers=world.staff
    )
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/vnd.openxmlformats-officedocument.spreadsheetml")
    rows = list(
        load_workbook(io.BytesIO(r.content), read_only=True).worksheets[0].iter_rows(values_only=True)
    )
    assert rows[0][:3] == ("成果编号", "成果名称", "成果类型")
    assert {row[2] for row in rows[1:]} == {"专利", "新产品"} and rows[1][6] == "张三；李四"
    document = (await world.client.get("/openapi.json")).json()
    responses = document["paths"]["/results/export.xlsx"]["get"]["responses"]["200"]["content"]
    assert "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" in responses
