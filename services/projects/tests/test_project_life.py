"""A project's life after approval: task book, reports, changes, evaluations, 容错, timeline."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID, uuid4

import pytest
from sqlalchemy import select

from projects.registry_views.events import INTEGRITY_RECORDED, IntegritySnapshot
from projects.registry_views.models import IntegrityView
from shared.testing.servers import eventually

pytestmark = pytest.mark.asyncio

PROMISES = [
    {"name": "发明专利", "category": "output", "unit": "项", "promised": 5},
    {"name": "新增产值", "category": "economic", "unit": "万元", "promised": 1000},
]


def _codes(r: Any) -> list[tuple[str, str]]:
    return [(e["field"], e["code"]) for e in r.json()["errors"]]


async def test_indicators_go_from_promise_to_verdict_through_mid_term_acceptance_and_performance(
    world: Any,
) -> None:
    call = await world.call()
    team = await world.team()
    lead = world.applicant(team["person"])
    project = await world.approved(call, team, indicators=PROMISES, approve={"funding_fen": 500_000})
    pid = project["id"]
    book = (await world.client.get(f"/projects/{pid}/task-book", headers=lead)).json()
    patents, output = book["indicators"]
    editable = {k: patents[k] for k in ("id", "name", "category", "unit")}
    assert (patents["promised"], patents["target"], patents["source"]) == (5, 5, "application")
    r = await world.client.patch(
        f"/projects/{pid}/task-book", json={"indicators": [{**editable, "target": 3}]}, headers=lead
    )
    assert r.status_code == 422 and ("indicators.0.target", "below_promise") in _codes(r)
    new = {"name": "培养研究生", "category": "social", "unit": "人", "target": 4}
    r = await world.client.patch(
        f"/projects/{pid}/task-book",
        json={"indicators": [{**editable, "target": 6}, new]},
        headers=lead,
    )
    assert r.status_code == 200 and [i["target"] for i in r.json()["indicators"]] == [6, 1000, 4]
    r = await world.project_act(pid, "sign_task_book", world.staff)
    assert r.status_code == 409 and r.json()["code"] == "task_book_not_submitted"
    await world.running(project, team["person"])
    r = await world.client.patch(f"/projects/{pid}/task-book", json={"objectives": "改"}, headers=lead)
    assert r.status_code == 409  # a signed task book holds

    r = await world.client.post(
        f"/projects/{pid}/annual-reports",
        json={
            "year": 2028,
            "summary": "完成晶界扩散工艺优化，申请发明专利两项。",
            "spent_fen": 200_000,
            "progress": [{"indicator_id": patents["id"], "value": 2}],
        },
        headers=lead,
    )
    assert r.status_code == 201, r.text
    report = r.json()
    assert report["state"] == "submitted" and report["state_zh"] == "待审核"
    review = f"/projects/{pid}/annual-reports/{report['id']}/actions"
    r = await world.client.post(f"{review}/return", json={}, headers=world.staff)
    assert r.status_code == 422 and ("comments", "required") in _codes(r)
    r = await world.client.post(f"{review}/accept", json={}, headers=lead)
    assert r.status_code == 403
    r = await world.client.post(
        f"{review}/return", json={"comments": "请补充经费支出明细"}, headers=world.staff
    )
    assert r.status_code == 200 and r.json()["state"] == "returned"
    again = {
        "year": 2028,
        "summary": "完成晶界扩散工艺优化，申请发明专利两项；设备费支出二十万元。",
        "spent_fen": 200_000,
        "progress": [{"indicator_id": patents["id"], "value": 2}],
    }
    r = await world.client.post(f"/projects/{pid}/annual-reports", json=again, headers=lead)
    assert r.status_code == 201 and r.json()["id"] == report["id"] and r.json()["state"] == "submitted"
    r = await world.client.post(f"/projects/{pid}/annual-reports", json=again, headers=lead)
    assert r.status_code == 409 and r.json()["code"] == "duplicate_report"
    r = await world.client.post(f"{review}/accept", json={"comments": "同意"}, headers=world.staff)
    assert r.status_code == 200 and r.json()["state_zh"] == "审核通过"
    r = await world.client.post(f"{review}/return", json={"comments": "再改"}, headers=world.staff)
    assert r.status_code == 409 and r.json()["code"] == "report_not_submitted"
    mid = await world.request_evaluation(pid, "mid_term")
    requested = (await world.events("projects.evaluation.requested"))[-1]["data"]
    assert requested["kind"] == "mid_term" and requested["indicators"][0]["reported"] == 2
    assert requested["indicators"][0]["target"] == 6 and requested["team_unit_ids"] == [team["unit"]]
    envelope = await world.finalize(mid, pid, "mid_term", "pass", verdicts=[(patents["id"], 3, "on_track")])

    async def mid_term_paid() -> bool:
        return [t["state"] for t in await world.disbursements(pid)] == ["due", "due"]

    await eventually(mid_term_paid, timeout=10)  # the second tranche follows the mid-term check
    bus = world.svc.runtime.bus
    await bus.js.publish(bus.subject_for(envelope.type), envelope.model_dump_json(exclude_none=True).encode())

    acceptance = await world.request_evaluation(pid, "acceptance")
    assert (await world.get_project(pid))["state"] == "accepting"
    await world.finalize(acceptance, pid, "acceptance", "pass", verdicts=[(patents["id"], 4, "partly_met")])
    await world.until_state(pid, "accepted")
    performance = await world.request_evaluation(pid, "performance")
    await world.finalize(
        performance,
        pid,
        "performance",
        "excellent",
        score=91,
        verdicts=[(patents["id"], 4, "partly_met"), (output["id"], 1200, "exceeded")],
    )
    closed = await world.until_state(pid, "closed")
    assert (closed["result"], closed["result_zh"]) == ("excellent", "优秀")

    paths = (await world.client.get(f"/projects/{pid}/indicators", headers=lead)).json()["items"]
    assert [s["stage"] for s in paths[0]["path"]] == [
        "promised",
        "task_book",
        "annual_report",
        "mid_term",
        "acceptance",
        "performance",
    ]
    assert [s["value"] for s in paths[0]["path"]] == [5, 6, 2, 3, 4, 4]
    assert (paths[0]["achieved"], paths[0]["verdict"], paths[0]["deviation_from_promise"]) == (
        4,
        "partly_met",
        -0.2,
    )
    assert paths[1]["deviation_from_promise"] == 0.2
    assert (
        paths[2]["promised"] is None and paths[2]["achieved"] is None
    )  # added in the task book, never judged

    history = (await world.client.get(f"/projects/{pid}/timeline", headers=lead)).json()["items"]
    actions = [h["action"] for h in history]
    assert actions[:7] == [
        "submit",
        "endorse",
        "recommend",
        "accept_formally",
        "send_to_review",
        "complete_review",
        "approve",
    ]
    assert actions.count("mid_term_finalized") == 1  # the redelivered verdict applied once
    for before, after in (
        ("approve", "submit_task_book"),
        ("sign_task_book", "annual_report"),
        ("request_mid_term", "mid_term_finalized"),
        ("request_acceptance", "pass_acceptance"),
        ("request_performance", "conclude"),
    ):
        assert actions.index(before) < actions.index(after)
    assert [h["at"] for h in history] == sorted(h["at"] for h in history)
    concluded = history[actions.index("conclude")]
    assert concluded["actor_roles"] == ["system"] and concluded["reason"] == "专家组意见"
    signed = history[actions.index("sign_task_book")]
    assert signed["actor_id"] == "staff-1" and signed["label_zh"] == "签订任务书"


async def test_every_change_to_a_running_project_needs_its_approval(world: Any) -> None:
    call = await world.call()
    team = await world.team()
    lead, unit = world.applicant(team["person"]), world.unit_admin(team["unit"])
    project = await world.approved(call, team, indicators=PROMISES[:1])
    pid = project["id"]
    await world.running(project, team["person"])

    async def change(headers: dict[str, str], **body: Any) -> Any:
        return await world.client.post(
            f"/projects/{pid}/changes", json={"reason": "工作调动", **body}, headers=headers
        )

    async def decide(change_id: str, action: str, headers: dict[str, str], **body: Any) -> Any:
        return await world.client.post(
            f"/projects/{pid}/changes/{change_id}/actions/{action}", json=body, headers=headers
        )

    successor = await world.person(unit_id=team["unit"])
    await world.synced(successor)
    asked = await change(lead, kind="pi_change", new_pi_person_id=successor)
    assert asked.status_code == 201 and asked.json()["state"] == "requested"
    r = await decide(asked.json()["id"], "approve", world.staff)
    assert r.status_code == 409 and r.json()["allowed_actions"] == ["endorse"]  # the unit first
    assert (await decide(asked.json()["id"], "endorse", lead)).status_code == 403
    assert (await decide(asked.json()["id"], "endorse", unit)).json()["state"] == "endorsed"
    assert (await decide(asked.json()["id"], "approve", world.staff, reason="同意")).json()[
        "state"
    ] == "approved"
    assert (await world.get_project(pid))["pi_person_id"] == successor
    lead = world.applicant(successor)

    new_unit = await world.org()
    await world.org_synced(new_unit)
    asked = await change(unit, kind="unit_change", new_unit_id=new_unit)
    assert asked.json().get("state") == "endorsed", asked.text  # the host unit asked itself
    r = await decide(asked.json()["id"], "reject", world.staff)
    assert r.status_code == 422 and _codes(r) == [("reason", "required")]
    assert (
        await decide(asked.json()["id"], "reject", world.staff, reason="新单位不具备条件")
    ).status_code == 200
    assert (await world.get_project(pid))["unit_id"] == team["unit"]

    # the department tightens the extension limit (a policy value), and the rule follows it
    limit = "/policy/max_extension_months"
    assert (
        await world.client.put(limit, json={"value": 6, "reason": "从严"}, headers=lead)
    ).status_code == 403
    r = await world.client.put(limit, json={"value": 6.5, "reason": "从严"}, headers=world.staff)
    assert r.status_code == 422 and _codes(r) == [("value", "policy_value")]
    r = await world.client.put(limit, json={"value": 6, "reason": "从严控制项目延期"}, headers=world.staff)
    assert r.status_code == 200 and r.json()["value"] == 6
    r = await change(lead, kind="extension", new_end_date="2031-09-30")
    assert r.status_code == 422 and "延期不超过6个月" in r.json()["detail_zh"]
    listed = {i["key"]: i for i in (await world.client.get("/policy", headers=lead)).json()["items"]}
    assert listed["max_extension_months"]["value"] == 6 and listed["max_extension_months"]["default"] == 12
    history = (await world.client.get(f"{limit}/history", headers=world.staff)).json()["items"]
    assert [h["reason"] for h in history] == ["从严控制项目延期"]
    r = await change(lead, kind="extension", new_end_date="2032-06-30")
    assert r.status_code == 422 and ("new_end_date", "too_long") in _codes(r)
    asked = await change(lead, kind="extension", new_end_date="2031-06-30")
    await decide(asked.json()["id"], "endorse", unit)
    await decide(asked.json()["id"], "approve", world.staff, reason="同意延期")
    assert (await world.get_project(pid))["end_date"] == "2031-06-30"

    budget = [{"category": "equipment", "amount_fen": 100_000}, {"category": "labour", "amount_fen": 300_000}]
    r = await change(lead, kind="budget_adjustment", budget=budget)
    assert r.status_code == 422 and ("budget", "total_changed") in _codes(r)
    budget[1]["amount_fen"] = 400_000
    asked = await change(lead, kind="budget_adjustment", budget=budget)
    assert (await decide(asked.json()["id"], "endorse", unit)).json()[
        "state"
    ] == "approved"  # the unit decides
    book = (await world.client.get(f"/projects/{pid}/task-book", headers=lead)).json()
    assert book["budget"] == [
        {"category": "equipment", "amount_fen": 100_000, "note": ""},
        {**budget[1], "note": ""},
    ]

    asked = await change(world.staff, kind="termination", reason="技术路线已被证明不可行")
    assert (await decide(asked.json()["id"], "approve", world.staff, reason="同意终止")).status_code == 200
    ended = await world.get_project(pid)
    assert (ended["state"], ended["result"]) == ("terminated", "terminated")
    assert [t["state"] for t in await world.disbursements(pid)] == ["due", "cancelled"]
    r = await change(lead, kind="extension", new_end_date="2030-12-31")
    assert r.status_code == 409
    kinds = [
        c["kind"] for c in (await world.client.get(f"/projects/{pid}/changes", headers=lead)).json()["items"]
    ]
    assert kinds == ["pi_change", "unit_change", "extension", "budget_adjustment", "termination"]
    updates = [e["data"]["action"] for e in await world.events("projects.project.updated")]
    assert updates[-5:] == ["sign_task_book", "pi_change", "extension", "budget_adjustment", "terminate"][-5:]


async def test_a_diligent_failure_is_spared_in_later_checks_and_misconduct_goes_to_registry(
    world: Any,
) -> None:
    call = await world.call()
    diligent, careless = await world.team(), await world.team()
    projects = {}
    for name, team in (("diligent", diligent), ("careless", careless)):
        project = await world.approved(call, team, indicators=PROMISES[:1], title=f"容错{name}")
        await world.running(project, team["person"])
        request_id = await world.request_evaluation(project["id"], "acceptance")
        await world.finalize(
            request_id,
            project["id"],
            "acceptance",
            "fail",
            diligent=name == "diligent",
            remarks="未达预期目标",
        )
        projects[name] = await world.until_state(project["id"], "failed")
    spared = projects["diligent"]
    assert spared["diligent_exempt"] is True and spared["fault_assessment"]["by"] == "evaluation"
    failed = projects["careless"]
    assert failed["diligent_exempt"] is False and failed["fault_assessment"] is None
    r = await world.client.post(
        f"/projects/{failed['id']}/fault-assessment",
        json={"outcome": "misconduct", "reason": "伪造实验数据", "misconduct_type": "fabrication"},
        headers=world.staff,
    )
    assert r.status_code == 422 and _codes(r) == [("decision_document", "required")]
    r = await world.client.post(
        f"/projects/{failed['id']}/fault-assessment",
        json={
            "outcome": "misconduct",
            "reason": "伪造实验数据",
            "misconduct_type": "fabrication",
            "decision_document": "内科监〔2029〕2号",
        },
        headers=world.staff,
    )
    assert r.status_code == 200 and r.json()["misconduct"] is True
    found = (await world.events("projects.project.misconduct_found"))[0]["data"]
    assert found["person_ids"] == [careless["person"]] and found["decision_document"] == "内科监〔2029〕2号"
    record_id = uuid4()  # what registry records and publishes back
    await world.publish(
        INTEGRITY_RECORDED,
        IntegritySnapshot(
            id=record_id,
            subject_type="person",
            person_id=UUID(careless["person"]),
            misconduct_type="fabrication",
            decision_document="内科监〔2029〕2号",
            barred_from=date(2026, 1, 1),
            barred_until=None,
            scope=["applying", "reviewing"],
            version=1,
        ),
        f"integrity/{record_id}",
    )

    async def recorded() -> bool:
        async with world.svc.runtime.sessionmaker() as s:
            return await s.get(IntegrityView, record_id) is not None

    await eventually(recorded, timeout=10)
    later = await world.call(title="后续年度指南", year=2028)
    reports = {}
    for name, team in (("diligent", diligent), ("careless", careless)):
        app = await world.draft(
            later["id"], team["person"], team["unit"], team["dept"], title=f"再申报{name}"
        )
        await world.to_recommended(app, team["person"], team["unit"], team["dept"])
        r = await world.client.post(f"/applications/{app['id']}/formal-check", headers=world.staff)
        reports[name] = {c["check"]: c for c in r.json()["checks"]}
    spared_check = reports["diligent"]["limits.failed_projects"]
    assert (
        spared_check["passed"] is True and spared_check["evidence"]["exempted"][0]["code"] == spared["code"]
    )
    assert reports["diligent"]["integrity"]["passed"] is True
    counted = reports["careless"]["limits.failed_projects"]
    assert counted["passed"] is False and counted["evidence"]["counted"][0]["misconduct"] is True
    assert reports["careless"]["integrity"]["evidence"][0]["record_id"] == str(record_id)
    async with world.svc.runtime.sessionmaker() as s:
        assert (await s.execute(select(IntegrityView.person_id))).scalars().all() == [
            UUID(careless["person"])
        ]
