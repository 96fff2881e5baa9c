"""Each organisation mode's own path from call to project (issue 7)."""

from __future__ import annotations

import io
from typing import Any
from uuid import uuid4

import pytest
from openpyxl import load_workbook

pytestmark = pytest.mark.asyncio

MAGNET = {"name": "磁体矫顽力", "unit": "kOe", "target": 25, "category": "technical"}
REWARD_BUDGET = [
    {"category": "equipment", "amount_fen": 1_800_000},
    {"category": "business", "amount_fen": 1_200_000},
]


def _codes(r: Any) -> list[tuple[str, str]]:
    return [(e["field"], e["code"]) for e in r.json()["errors"]]


async def test_unveiling_call_states_a_fundable_reward_for_every_challenge(world: Any) -> None:
    base = {"programme_code": "rd.key_rd_transfer", "organisation_mode": "unveiling"}
    no_reward = {"id": "JB-0", "title": "无奖励榜单", "goals": [MAGNET]}
    too_big = no_reward | {"id": "JB-9", "reward_fen": 20_000_001}
    r = await world.client.post(
        "/calls",
        json=world.call_body(**base, challenges=[no_reward, too_big]),
        headers=world.staff,
    )
    assert r.status_code == 422 and _codes(r) == [
        ("challenges.0.reward_fen", "reward_out_of_range"),
        ("challenges.1.reward_fen", "reward_out_of_range"),
    ]
    assert r.json()["errors"][0]["message_zh"].startswith("榜单奖励即立项经费")


async def test_unveiling_one_team_takes_the_challenge_and_is_paid_the_reward_on_delivery(world: Any) -> None:
    challenge = {"id": "JB-1", "title": "低重稀土高矫顽力磁体", "goals": [MAGNET], "reward_fen": 3_000_000}
    call = await world.call(
        programme_code="rd.key_rd_transfer", organisation_mode="unveiling", challenges=[challenge]
    )
    first, second = await world.team(), await world.team()
    p, u, d = first["person"], first["unit"], first["dept"]
    app = await world.draft(call["id"], p, u, d)
    r = await world.act(app["id"], "submit", world.applicant(p), pledge_accepted=True)
    assert r.status_code == 422 and ("challenge_id", "required") in _codes(r)  # 揭榜 names the 榜单
    await world.client.patch(
        f"/applications/{app['id']}", json={"challenge_id": "JB-1"}, headers=world.applicant(p)
    )
    r = await world.act(app["id"], "submit", world.applicant(p), pledge_accepted=True)
    assert r.status_code == 422 and _codes(r) == [("budget", "not_the_reward")]  # asks for the reward
    await world.client.patch(
        f"/applications/{app['id']}", json={"budget": REWARD_BUDGET}, headers=world.applicant(p)
    )
    await world.to_recommended(app, p, u, d)
    await world.reviewed(app)
    r = await world.act(app["id"], "approve", world.staff, reason="揭榜团队", funding_fen=500_000)
    assert r.status_code == 422 and _codes(r) == [("funding_fen", "not_the_reward")]  # grant = reward
    error = r.json()["errors"][0]
    assert "3000000" in error["message"] and "30000.00元" in error["message_zh"]
    r = await world.act(app["id"], "approve", world.staff, reason="揭榜团队")
    assert r.status_code == 200 and r.json()["approved_funding_fen"] == 3_000_000, r.text
    other = await world.draft(
        call["id"],
        second["person"],
        second["unit"],
        second["dept"],
        challenge_id="JB-1",
        budget=REWARD_BUDGET,
    )
    await world.to_recommended(other, second["person"], second["unit"], second["dept"])
    await world.reviewed(other, score=90)
    r = await world.act(other["id"], "approve", world.staff, reason="x")
    assert r.status_code == 409 and r.json()["code"] == "challenge_taken"

    project = await world.project_of(app["id"])
    assert (
        project["challenge_id"] == "JB-1" and project["funding_basis"]["challenge"]["reward_fen"] == 3_000_000
    )
    book = (await world.client.get(f"/projects/{project['id']}/task-book", headers=world.applicant(p))).json()
    goal = next(i for i in book["indicators"] if i["source"] == "challenge")
    assert (goal["name"], goal["promised"], goal["target"]) == ("磁体矫顽力", 25, 25)
    assert [(t["percent"], t["condition"]) for t in book["payment_plan"]] == [
        (30, "signing"),
        (70, "delivery"),
    ]
    await world.running(project, p)
    tranches = await world.disbursements(project["id"])
    assert [(t["amount_fen"], t["state"]) for t in tranches] == [(900_000, "due"), (2_100_000, "scheduled")]
    r = await world.client.post(
        f"/projects/{project['id']}/disbursements/{tranches[1]['id']}/pay",
        json={"voucher": "BK-2"},
        headers=world.staff,
    )
    assert r.status_code == 409 and r.json()["code"] == "not_due"  # the reward waits for delivery

    request_id = await world.request_evaluation(project["id"], "acceptance")
    requested = (await world.events("projects.evaluation.requested"))[-1]["data"]
    assert requested["kind"] == "acceptance" and requested["indicators"][0]["promised"] == 25
    await world.finalize(
        request_id, project["id"], "acceptance", "pass", verdicts=[(goal["id"], True, "achieved")]
    )
    accepted = await world.until_state(project["id"], "accepted")
    assert accepted["result"] == "pass"
    paths = (await world.client.get(f"/projects/{project['id']}/indicators", headers=world.staff)).json()
    assert (paths["items"][0]["verdict"], paths["items"][0]["verdict_stage"]) == ("achieved", "acceptance")
    r = await world.client.post(
        f"/projects/{project['id']}/disbursements/{tranches[1]['id']}/pay",
        json={"voucher": "BK-2"},
        headers=world.staff,
    )
    assert r.status_code == 200 and r.json()["state"] == "paid"


async def test_horse_race_funds_teams_in_parallel_and_stops_the_weaker_at_a_milestone(world: Any) -> None:
    task = {"id": "SM-1", "title": "氢能储运关键材料", "goals": [MAGNET], "teams": 2}
    call = await world.call(
        programme_code="major.breakthrough", organisation_mode="horse_race", challenges=[task]
    )
    teams = [await world.team(), await world.team()]
    projects = [await world.approved(call, t, challenge_id="SM-1") for t in teams]
    for project, team in zip(projects, teams, strict=True):
        await world.running(project, team["person"])
    r = await world.client.post(
        f"/calls/{call['id']}/races/SM-1/rounds",
        json={"label": "第一阶段里程碑", "keep": 1, "due_date": "2028-12-31"},
        headers=world.staff,
    )
    assert r.status_code == 201, r.text
    requests = [e["data"] for e in await world.events("projects.evaluation.requested")]
    assert sorted(q["project_id"] for q in requests) == sorted(p["id"] for p in projects)
    assert {q["kind"] for q in requests} == {"milestone"}
    strong, weak = projects
    by_project = {q["project_id"]: q["request_id"] for q in requests}
    await world.finalize(by_project[weak["id"]], weak["id"], "milestone", "pass", score=71)
    await world.finalize(by_project[strong["id"]], strong["id"], "milestone", "pass", score=88)
    eliminated = await world.until_state(weak["id"], "eliminated")
    assert eliminated["state_zh"] == "赛马淘汰"
    assert [t["state"] for t in await world.disbursements(weak["id"])] == ["due", "cancelled"]
    assert [t["state"] for t in await world.disbursements(strong["id"])] == [
        "due",
        "due",
    ]  # funding continues
    assert (await world.get_project(strong["id"]))["state"] == "in_progress"
    rounds = (await world.client.get(f"/calls/{call['id']}/races/SM-1/rounds", headers=world.staff)).json()[
        "items"
    ]
    assert rounds[0]["state"] == "decided"
    assert [(o["place"], o["continues"]) for o in rounds[0]["outcome"]] == [(1, True), (2, False)]
    one = await world.client.get(
        f"/calls/{call['id']}/races/SM-1/rounds/{rounds[0]['id']}", headers=world.staff
    )
    assert one.status_code == 200 and one.json() == rounds[0]
    missing = await world.client.get(f"/calls/{call['id']}/races/SM-1/rounds/{uuid4()}", headers=world.staff)
    assert missing.status_code == 404 and missing.headers["content-type"] == "application/problem+json"


async def test_directed_call_admits_only_the_designated_team_without_expert_review(world: Any) -> None:
    call = await world.call(programme_code="major.demonstration", organisation_mode="directed")
    chosen, outsider = await world.team(), await world.team()
    p, u, d = chosen["person"], chosen["unit"], chosen["dept"]
    r = await world.client.post(
        f"/calls/{call['id']}/designations",
        json={"unit_id": u, "pi_person_id": p, "justification": "该单位承担自治区稀土新材料中试基地建设"},
        headers=world.staff,
    )
    assert r.status_code == 201, r.text
    url = f"/calls/{call['id']}/designations/{r.json()['id']}"
    one = await world.client.get(url, headers=world.staff)
    assert one.status_code == 200 and one.json() == r.json() and one.json()["at"].endswith("+08:00")
    missing = await world.client.get(f"/calls/{call['id']}/designations/{uuid4()}", headers=world.staff)
    assert missing.status_code == 404 and missing.json()["detail_zh"] == "该指南无此定向委托"
    body = {"call_id": call["id"], "unit_id": outsider["unit"], "title": "未被指定的申报"}
    r = await world.client.post("/applications", json=body, headers=world.applicant(outsider["person"]))
    assert r.status_code == 403  # no open competition
    app = await world.draft(call["id"], p, u, d)
    await world.to_recommended(app, p, u, d)
    r = await world.act(app["id"], "accept_formally", world.staff)  # formal review still applies
    assert r.status_code == 200, r.text
    r = await world.act(app["id"], "approve_directly", world.staff, reason="定向委托", funding_fen=500_000)
    assert r.status_code == 200 and r.json()["state"] == "approved", r.text
    project = await world.project_of(app["id"])
    assert project["funding_basis"]["designation"]["justification"].startswith("该单位承担")
    assert not await world.events("projects.application.ready_for_review")  # never sent to experts
    book = (await world.client.get(f"/projects/{project['id']}/task-book", headers=world.applicant(p))).json()
    assert book["state"] == "draft"  # still a task book to sign


async def test_post_subsidy_is_paid_only_after_its_results_are_verified(world: Any) -> None:
    call = await world.call(programme_code="capacity.policy_guidance", organisation_mode="post_subsidy")
    team = await world.team()
    p, u, d = team["person"], team["unit"], team["dept"]
    app = await world.draft(call["id"], p, u, d)
    r = await world.act(app["id"], "submit", world.applicant(p), pledge_accepted=True)
    assert r.status_code == 422 and ("results", "required") in _codes(r)
    results = [{"title": "年产千吨级磁材生产线投产", "evidence": "验收报告", "spent_fen": 2_000_000}]
    await world.client.patch(
        f"/applications/{app['id']}", json={"results": results}, headers=world.applicant(p)
    )
    await world.to_recommended(app, p, u, d)
    await world.act(app["id"], "accept_formally", world.staff)
    r = await world.act(app["id"], "approve_directly", world.staff, funding_fen=400_000)
    assert r.status_code == 409 and r.json()["code"] == "not_verified"
    verification = {
        "conclusion": "verified",
        "eligible_expenditure_fen": 1_600_000,
        "subsidy_fen": 400_000,
        "report_document": "核验报告〔2027〕8号",
    }
    r = await world.client.post(
        f"/applications/{app['id']}/verification", json=verification, headers=world.staff
    )
    assert r.status_code == 200, r.text
    r = await world.act(app["id"], "approve_directly", world.staff, funding_fen=450_000)
    assert r.status_code == 422 and ("funding_fen", "above_verified") in _codes(r)
    r = await world.act(app["id"], "approve_directly", world.staff, funding_fen=400_000, reason="核验通过")
    assert r.status_code == 200, r.text
    project = await world.project_of(app["id"])
    assert (project["state"], project["result"]) == ("closed", "pass")  # the work was done before
    [tranche] = await world.disbursements(project["id"])
    assert (tranche["amount_fen"], tranche["condition"], tranche["state"]) == (400_000, "verification", "due")


async def test_case_by_case_decision_records_its_justification_and_decides_one_matter(world: Any) -> None:
    call = await world.call(programme_code="major.breakthrough", organisation_mode="case_by_case")
    apps = []
    for _ in range(2):
        team = await world.team()
        p, u, d = team["person"], team["unit"], team["dept"]
        await world.client.post(
            f"/calls/{call['id']}/designations",
            json={"unit_id": u, "pi_person_id": p, "justification": "科技突围重大事项"},
            headers=world.staff,
        )
        app = await world.draft(call["id"], p, u, d, title=f"科技突围{len(apps)}")
        await world.to_recommended(app, p, u, d)
        await world.act(app["id"], "accept_formally", world.staff, reason="x")
        apps.append(app)
    r = await world.act(apps[0]["id"], "approve_directly", world.staff, reason="厅党组会议研究")
    assert r.status_code == 422
    assert {f for f, _ in _codes(r)} == {"justification", "decision_document"}
    decision = {
        "justification": "事关稀土产业链安全，一事一议予以支持",
        "decision_document": "厅党组会议纪要〔2027〕5号",
    }
    r = await world.act(apps[0]["id"], "approve_directly", world.staff, reason="一事一议", **decision)
    assert r.status_code == 200, r.text
    basis = (await world.project_of(apps[0]["id"]))["funding_basis"]
    assert basis["decision_document"] == "厅党组会议纪要〔2027〕5号" and basis["justification"].startswith(
        "事关"
    )
    r = await world.act(apps[1]["id"], "approve_directly", world.staff, reason="x", **decision)
    assert r.status_code == 409 and r.json()["code"] == "matter_decided"


async def test_filed_project_counts_toward_limits_and_reports_without_review(world: Any) -> None:
    team = await world.team()
    p, u, d = team["person"], team["unit"], team["dept"]
    filing = {
        "kind": "national",
        "title": "国家重点研发计划稀土新材料专项课题",
        "funder": "科学技术部",
        "external_code": "2027YFB3500100",
        "pi_person_id": p,
        "unit_id": u,
        "start_date": "2027-01-01",
        "end_date": "2029-12-31",
        "external_funding_fen": 8_000_000,
    }
    other_unit = await world.org()
    r = await world.client.post("/filings", json=filing, headers=world.unit_admin(other_unit))
    assert r.status_code == 403
    r = await world.client.post("/filings", json=filing, headers=world.unit_admin(u))
    assert r.status_code == 201, r.text
    r = await world.client.post(f"/filings/{r.json()['id']}/actions/accept", json={}, headers=world.staff)
    assert r.status_code == 200 and r.json()["state"] == "filed"
    project = await world.get_project(r.json()["project_id"])
    assert (project["source"], project["state"], project["organisation_mode"]) == (
        "filing",
        "in_progress",
        "filing",
    )
    filed = (await world.events("projects.project.filed"))[0]["data"]
    assert filed["pi_person_id"] == p and filed["external_funding_fen"] == 8_000_000
    mine = (await world.client.get("/filings", headers=world.unit_admin(u))).json()
    assert mine["total"] == 1 and mine["items"][0]["state"] == "filed"
    assert (await world.client.get("/filings", headers=world.unit_admin(other_unit))).json()["total"] == 0

    call = await world.call(limits={"lead_running_max": 1})
    app = await world.draft(call["id"], p, u, d)
    await world.to_recommended(app, p, u, d)
    report = (await world.client.post(f"/applications/{app['id']}/formal-check", headers=world.staff)).json()
    running = next(c for c in report["checks"] if c["check"] == "limits.running.lead")
    assert running["passed"] is False
    assert running["evidence"]["running"] == [
        {"code": project["code"], "title": filing["title"], "source": "备案"}
    ]
    sheet = await world.client.get(
        "/projects/export.xlsx", params={"organisation_mode": "filing"}, headers=world.staff
    )
    rows = list(
        load_workbook(io.BytesIO(sheet.content), read_only=True).worksheets[0].iter_rows(values_only=True)
    )
    assert rows[0][:4] == ("项目编号", "项目名称", "组织方式", "承担单位")
    assert [(r[0], r[2], r[9]) for r in rows[1:]] == [(project["code"], "备案", "执行中")]
    stats = (await world.client.get("/projects/statistics", headers=world.staff)).json()
    assert {"organisation_mode": "filing", "state": "in_progress", "projects": 1} in [
        {k: row[k] for k in ("organisation_mode", "state", "projects")} for row in stats["rows"]
    ]
    r = await world.client.post(
        f"/projects/{project['id']}/evaluations",
        json={"kind": "mid_term", "due_date": "2028-06-30"},
        headers=world.staff,
    )
    assert r.status_code == 409  # not reviewed or evaluated here


async def test_non_consensus_project_funded_on_a_recorded_minority_with_a_long_term(world: Any) -> None:
    call = await world.call()
    team = await world.team()
    p, u, d = team["person"], team["unit"], team["dept"]
    app = await world.draft(call["id"], p, u, d)
    await world.to_recommended(app, p, u, d)
    await world.act(app["id"], "accept_formally", world.staff)
    r = await world.act(app["id"], "approve_directly", world.staff, reason="x")
    assert r.status_code == 409 and r.json()["code"] == "expert_review_required"  # open competition
    await world.act(app["id"], "send_to_review", world.staff)
    await world.review_result(
        app, score=62, recommendation="do_not_fund", non_consensus=True, reviewer_count=7
    )
    r = await world.act(app["id"], "approve", world.staff, reason="x")
    assert r.status_code == 409 and r.json()["code"] == "review_not_supportive"
    minority = {"funding_basis": "non_consensus", "reason": "两位专家认为思路原创、值得探索"}
    r = await world.act(app["id"], "approve", world.staff, supporting_experts=1, **minority)
    assert r.status_code == 422 and ("supporting_experts", "not_a_strong_minority") in _codes(r)
    term = {"start_date": "2028-01-01", "end_date": "2032-12-31"}
    r = await world.act(app["id"], "approve", world.staff, supporting_experts=2, **minority, **term)
    assert r.status_code == 422 and ("end_date", "term_too_long") in _codes(r)
    r = await world.act(
        app["id"], "approve", world.staff, supporting_experts=2, long_cycle=True, **minority, **term
    )
    assert r.status_code == 200, r.text
    project = await world.project_of(app["id"])
    assert (
        project["non_consensus"] is True
        and project["long_cycle"] is True
        and project["end_date"] == "2032-12-31"
    )
    basis = project["funding_basis"]
    assert (basis["rule"], basis["supporting_experts"], basis["reviewer_count"]) == (
        "non_consensus_minority",
        2,
        7,
    )
