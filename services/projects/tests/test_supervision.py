"""Supervision by whoever recommended (谁推荐、谁负责) and staff's annual spot checks (抽查)."""

from __future__ import annotations

from typing import Any

PAPERS = {"name": "发表论文", "category": "output", "unit": "篇", "promised": 3}


async def test_the_recommending_department_reads_its_projects_and_nothing_else(world: Any) -> None:
    call = await world.call()
    ours, theirs = await world.team(), await world.team()
    project = await world.approved(call, ours, indicators=[PAPERS])
    other = await world.approved(call, theirs, indicators=[PAPERS])
    await world.running(project, ours["person"])
    department = world.department(ours["dept"])
    assert project["competent_department_id"] == ours["dept"]

    listed = (await world.client.get("/projects", headers=department)).json()
    assert [p["id"] for p in listed["items"]] == [project["id"]]
    base = f"/projects/{project['id']}"
    for path in ("", "/timeline", "/task-book", "/indicators", "/annual-reports", "/evaluations", "/changes"):
        r = await world.client.get(base + path, headers=department)
        assert r.status_code == 200, (path, r.text)
    timeline = (await world.client.get(base + "/timeline", headers=department)).json()["items"]
    assert any(s.get("action") == "sign_task_book" for s in timeline)
    # Another department's project does not exist for it; the applications likewise.
    assert (await world.client.get(f"/projects/{other['id']}", headers=department)).status_code == 404
    apps = (await world.client.get("/applications", headers=department)).json()["items"]
    assert [a["id"] for a in apps] == [project["application_id"]]
    for path in ("", "/steps", "/versions", "/seals", "/document"):
        r = await world.client.get(f"/applications/{project['application_id']}{path}", headers=department)
        assert r.status_code == 200, (path, r.text)
    steps = (
        await world.client.get(f"/applications/{project['application_id']}/steps", headers=department)
    ).json()["items"]
    assert [s["action"] for s in steps][:3] == ["submit", "endorse", "recommend"]
    r = await world.client.get(f"/applications/{other['application_id']}", headers=department)
    assert r.status_code == 404
    evaluation = await world.request_evaluation(project["id"], "mid_term")
    r = await world.client.get(f"{base}/evaluations/{evaluation}", headers=department)
    assert r.status_code == 200 and r.json()["kind"] == "mid_term", r.text
    # It supervises; it takes no step of the project.
    r = await world.client.post(
        base + "/changes",
        json={"kind": "extension", "reason": "需延期一年", "new_end_date": "2031-12-31"},
        headers=department,
    )
    assert r.status_code == 403
    r = await world.client.post(
        base + "/annual-reports",
        json={"year": 2028, "summary": "本年度完成样品制备与测试。", "spent_fen": 1},
        headers=department,
    )
    assert r.status_code == 403
    r = await world.client.post(
        base + "/evaluations", json={"kind": "mid_term", "due_date": "2029-06-30"}, headers=department
    )
    assert r.status_code == 403


async def test_an_annual_spot_check_is_a_seeded_recorded_sample_with_findings(world: Any) -> None:
    call = await world.call(projects_to_fund=10)
    running = []
    for _ in range(4):
        team = await world.team()
        project = await world.approved(call, team, indicators=[PAPERS])
        await world.running(project, team["person"])
        running.append(project)
    await world.approved(call, await world.team(), indicators=[PAPERS])  # approved, not yet running
    body = {"year": 2028, "title": "2028年度在研项目抽查", "sample_size": 2, "seed": 20280301}
    applicant = world.applicant(running[0]["pi_person_id"])
    assert (await world.client.post("/spot-checks", json=body, headers=applicant)).status_code == 403
    r = await world.client.post("/spot-checks", json=body, headers=world.staff)
    assert r.status_code == 201, r.text
    check = r.json()
    assert check["population"] == sorted(p["code"] for p in running)  # only running projects
    assert len(check["sample"]) == 2 and check["seed"] == 20280301 and check["state_zh"] == "抽查中"
    # The same seed over the same population draws the same sample, here and from the record.
    again = (await world.client.post("/spot-checks", json=body, headers=world.staff)).json()
    assert again["sample"] == check["sample"] and again["code"] != check["code"]
    redraw = (await world.client.get(f"/spot-checks/{check['id']}/redraw", headers=world.staff)).json()
    assert redraw == {"code": check["code"], "seed": 20280301, "sample": check["sample"], "matches": True}
    unseeded = (
        await world.client.post("/spot-checks", json=body | {"seed": None}, headers=world.staff)
    ).json()
    assert isinstance(unseeded["seed"], int)  # drawn at random, then kept on the record

    first, second = check["items"]
    url = f"/spot-checks/{check['id']}"
    r = await world.client.post(url + "/close", json={"summary": "完成"}, headers=world.staff)
    assert r.status_code == 409 and r.json()["missing"] == [first["code"], second["code"]]
    r = await world.client.put(
        f"{url}/findings/{first['project_id']}",
        json={"outcome": "issues", "findings": "经费支出凭证不全"},
        headers=world.staff,
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "rectification_due"
    r = await world.client.put(
        f"{url}/findings/{first['project_id']}",
        json={"outcome": "issues", "findings": "经费支出凭证不全", "rectification_due": "2028-06-30"},
        headers=world.staff,
    )
    assert r.status_code == 200 and r.json()["items"][0]["outcome_zh"] == "发现问题，限期整改"
    outsider = next(p for p in running if p["code"] not in check["sample"])
    r = await world.client.put(
        f"{url}/findings/{outsider['id']}",
        json={"outcome": "compliant", "findings": "无问题"},
        headers=world.staff,
    )
    assert r.status_code == 404  # only the sample is checked
    await world.client.put(
        f"{url}/findings/{second['project_id']}",
        json={"outcome": "compliant", "findings": "按任务书执行"},
        headers=world.staff,
    )
    r = await world.client.post(url + "/close", json={"summary": "抽查2项，1项限期整改"}, headers=world.staff)
    assert r.status_code == 200 and r.json()["state"] == "closed"
    r = await world.client.put(
        f"{url}/findings/{second['project_id']}",
        json={"outcome": "serious", "findings": "整改不到位", "rectification_due": "2028-07-01"},
        headers=world.staff,
    )
    assert r.status_code == 409 and r.json()["code"] == "spot_check_closed"
    timeline = (
        await world.client.get(f"/projects/{first['project_id']}/timeline", headers=world.staff)
    ).json()["items"]
    labels = [s["label_zh"] for s in timeline if s.get("action", "").startswith("spot_check")]
    assert labels[:1] == ["列入2028年度抽查"] and "抽查结论：发现问题，限期整改" in labels
