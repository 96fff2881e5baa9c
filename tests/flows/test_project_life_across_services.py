"""A project's life across the real services, from application to a misconduct record.

Registry, projects and evaluation run side by side. People and units are registered in
registry; the application is reviewed by experts drawn and scoring in evaluation; the
mid-term check and the acceptance run as evaluations there; a misconduct finding in projects
becomes an integrity record in registry, which bars the person in projects' later checks.
Every hand-over is an event, and every event is applied once.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from shared.clock import utcnow
from shared.testing.servers import eventually

pytestmark = pytest.mark.asyncio

ABSTRACT = "本项目面向稀土永磁材料的高性能化需求，研究晶界扩散工艺与微观结构调控方法，形成可推广的制备技术。"


async def first_round(p: Any, kind: str) -> dict[str, Any]:
    rounds: list[dict[str, Any]] = []

    async def there() -> bool:
        r = await p.evaluation.client.get("/rounds", params={"kind": kind}, headers=p.duty("request"))
        rounds[:] = r.json()["items"]
        return bool(rounds)

    await eventually(there)
    return rounds[0]


async def audited(p: Any, svc: Any, entity_type: str, entity_id: str, action: str) -> list[dict[str, Any]]:
    """The service's audit rows of one object with that action, read as the department's supervisor."""
    supervisor = p.auth("department_staff", user_id="sup-1", duties=["supervision"])
    r = await svc.client.get(
        "/audit", params={"entity_type": entity_type, "entity_id": entity_id}, headers=supervisor
    )
    assert r.status_code == 200, r.text
    return [e for e in r.json()["items"] if e["action"] == action]


async def test_a_project_from_application_to_verdicts_and_a_misconduct_record(whole_platform: Any) -> None:
    p = whole_platform
    projects = p.projects
    staff = p.staff
    unit = await p.org(1)
    dept = await p.org(2, type="other")
    lead = await p.person(1, unit)
    experts = await p.experts(4)
    applicant = p.auth("applicant", user_id="lead-1", person_id=lead)

    # the call, and an application through the unit, the department and formal review
    now = utcnow()
    r = await projects.client.post(
        "/calls",
        json={
            "programme_code": "basic.nsf",
            "year": 2027,
            "title": "2027年度自治区自然科学基金项目申报指南",
            "guideline": "支持稀土功能材料领域的基础研究。",
            "directions": ["稀土功能材料"],
            "opens_at": (now - timedelta(days=1)).isoformat(),
            "closes_at": (now + timedelta(days=10)).isoformat(),
            "budget_fen": 100_000_000,
            "min_funding_fen": 100_000,
            "max_funding_fen": 20_000_000,
            "projects_to_fund": 2,
        },
        headers=staff,
    )
    assert r.status_code == 201, r.text
    call_id = r.json()["id"]
    r = await projects.client.post(f"/calls/{call_id}/actions/publish", json={}, headers=staff)
    assert r.status_code == 200, r.text
    draft_body = {
        "call_id": call_id,
        "unit_id": unit,
        "competent_department_id": dept,
        "title": "稀土永磁材料晶界扩散关键技术研究",
        "abstract": ABSTRACT,
        "content": "研究内容：晶界扩散工艺参数优化、微观结构表征与磁性能调控。" * 3,
        "keywords": ["稀土", "永磁"],
        "discipline_codes": ["F0201"],
        "team": [{"person_id": lead, "name": "负责人", "role": "lead", "unit_id": unit}],
        "budget": [
            {"category": "equipment", "amount_fen": 300_000},
            {"category": "business", "amount_fen": 200_000},
        ],
        "plan": "第一年完成制备，第二年完成验证。",
        "milestones": [{"due": "2027-12-31", "deliverable": "样品"}],
        "indicators": [{"name": "发明专利", "category": "output", "unit": "件", "promised": 3}],
    }

    async def drafted() -> bool:  # the lead and the units reach projects by registry's events
        r = await projects.client.post("/applications", json=draft_body, headers=applicant)
        drafted_app[:] = [r.json()]
        return r.status_code == 201

    drafted_app: list[dict[str, Any]] = []
    await eventually(drafted)
    app_id = drafted_app[0]["id"]
    steps = [
        ("submit", applicant, {"pledge_accepted": True}),
        ("endorse", p.auth("host_unit_admin", user_id="ua-1", unit_id=unit, units=[unit]), {}),
        (
            "recommend",
            p.auth("competent_department", user_id="cd-1", unit_id=dept, units=[dept]),
            {"matching_fund_fen": 100_000, "commitment": "本单位承诺按期足额落实匹配资金"},
        ),
        ("accept_formally", staff, {"reason": "形式审查通过"}),
        ("send_to_review", staff, {}),
    ]
    for action, who, body in steps:
        r = await projects.client.post(f"/applications/{app_id}/actions/{action}", json=body, headers=who)
        assert r.status_code == 200, (action, r.text)

    # evaluation: the application arrives as an item, three experts review it, results finalized
    review = await first_round(p, "application_review")
    # evaluation's audit trail names the event that brought the item and the projects official
    # whose action sent it (送审), not only the consumer that applied it
    await eventually(lambda: audited(p, p.evaluation, "round_item", app_id, "item_received"))
    [received] = await audited(p, p.evaluation, "round_item", app_id, "item_received")
    assert received["actor_id"] == "event:projects.application.ready_for_review"
    assert received["cause_actor_id"] == "staff-1" and received["cause_event_id"]
    await p.draw_and_open(review["id"], seed=11)
    assert await p.score_everything(experts, 85, recommendation="fund") == 3
    r = await p.evaluation.client.post(f"/rounds/{review['id']}/finalize", headers=p.duty("results"))
    assert r.status_code == 200, r.text

    async def application_in(state: str) -> bool:
        r = await projects.client.get(f"/applications/{app_id}", headers=staff)
        return bool(r.json()["state"] == state)

    await eventually(lambda: application_in("reviewed"))
    r = await projects.client.post(
        f"/applications/{app_id}/actions/approve",
        json={"reason": "评审通过", "funding_fen": 500_000},
        headers=staff,
    )
    assert r.status_code == 200, r.text
    listed = await projects.client.get("/projects", headers=staff)
    [project] = [x for x in listed.json()["items"] if x["application_id"] == app_id]
    pid = project["id"]
    for action, who in (("submit_task_book", applicant), ("sign_task_book", staff)):
        r = await projects.client.post(f"/projects/{pid}/actions/{action}", json={}, headers=who)
        assert r.status_code == 200, (action, r.text)

    async def project_state() -> dict[str, Any]:
        return dict((await projects.client.get(f"/projects/{pid}", headers=staff)).json())

    async def request_evaluation(kind: str) -> str:
        r = await projects.client.post(
            f"/projects/{pid}/evaluations", json={"kind": kind, "due_date": "2029-06-30"}, headers=staff
        )
        assert r.status_code == 201, r.text
        return str(r.json()["request_id"])

    async def evaluate(request_id: str, percent: float, body: dict[str, Any]) -> dict[str, Any]:
        """Evaluation's office draws experts for the request, they score, the result is finalized."""
        item: list[dict[str, Any]] = []

        async def arrived() -> bool:
            r = await p.evaluation.client.get(f"/assessments/{request_id}", headers=p.duty("results"))
            item[:] = [r.json()]
            return r.status_code == 200

        await eventually(arrived)
        await p.draw_and_open(str(item[0]["round_id"]), seed=11)
        await p.score_everything(experts, percent)
        r = await p.evaluation.client.post(
            f"/assessments/{request_id}/finalize", json=body, headers=p.duty("results")
        )
        assert r.status_code == 200, r.text
        return dict(r.json())

    # the mid-term check passes: the second tranche falls due, once, even when evaluation
    # publishes its result again
    mid_term = await request_evaluation("mid_term")
    assert (await evaluate(mid_term, 80, {}))["result"] == "pass"

    async def tranches() -> list[str]:
        r = await projects.client.get(f"/projects/{pid}/disbursements", headers=staff)
        return [t["state"] for t in r.json()["items"]]

    async def second_tranche_due() -> bool:
        return await tranches() == ["due", "due"]

    await eventually(second_tranche_due)
    assert await p.republish_all("evaluation.project_evaluation.finalized") == 1

    async def redelivery_recognised() -> bool:
        return bool(projects.runtime.consumer.duplicates_total >= 1)

    await eventually(redelivery_recognised)
    assert await p.applied(projects, "evaluation.project_evaluation.finalized") == 1
    assert await tranches() == ["due", "due"]

    # acceptance fails and the team did not do its duty; staff find misconduct
    report = {"title": "项目科技报告", "number": "KJBG-2029-001", "sha256": "a" * 64}  # acceptance needs it
    r = await projects.client.put(f"/projects/{pid}/st-report", json=report, headers=applicant)
    assert r.status_code == 200, r.text
    acceptance = await request_evaluation("acceptance")
    final = await evaluate(acceptance, 30, {"diligent": False, "remarks": "未完成任务书约定指标"})
    assert final["result"] == "fail"

    async def failed() -> bool:
        return (await project_state())["state"] == "failed"

    await eventually(failed)
    r = await projects.client.post(
        f"/projects/{pid}/fault-assessment",
        json={
            "outcome": "misconduct",
            "reason": "伪造实验数据",
            "misconduct_type": "fabrication",
            "decision_document": "内科监〔2029〕2号",
        },
        headers=staff,
    )
    assert r.status_code == 200, r.text

    # registry records the integrity entry; it comes back and bars the lead in projects' checks
    async def barred_in_registry() -> bool:
        r = await p.registry.client.get(
            "/integrity/check", params={"person": lead, "on": now.date().isoformat()}, headers=staff
        )
        return bool(r.status_code == 200 and r.json()["barred"])

    await eventually(barred_in_registry)
    assert await p.applied(p.registry, "projects.project.misconduct_found") == 1
    r = await p.registry.client.get(
        "/integrity/check", params={"person": lead, "on": now.date().isoformat()}, headers=staff
    )
    record_id = r.json()["reasons"][0]["record_id"]
    [recorded] = await audited(p, p.registry, "integrity", record_id, "integrity.recorded")
    assert recorded["actor_id"] == "event:projects.project.misconduct_found"
    assert recorded["cause_actor_id"] == "staff-1"  # who made the fault assessment in projects
    draft_body |= {"title": "稀土永磁材料再申报", "content": "后续研究：高丰度稀土永磁材料的低成本制备。" * 3}
    r = await projects.client.post("/applications", json=draft_body, headers=applicant)
    assert r.status_code == 201, r.text
    second = r.json()["id"]
    for action, who, body in steps[:3]:
        r = await projects.client.post(f"/applications/{second}/actions/{action}", json=body, headers=who)
        assert r.status_code == 200, (action, r.text)

    async def integrity_check_fails() -> bool:
        r = await projects.client.post(f"/applications/{second}/formal-check", headers=staff)
        checks = {c["check"]: c for c in r.json()["checks"]}
        return checks["integrity"]["passed"] is False

    await eventually(integrity_check_fails)
    timeline = (await projects.client.get(f"/projects/{pid}/timeline", headers=staff)).json()["items"]
    actions = [entry["action"] for entry in timeline]
    milestones = [
        "submit",
        "send_to_review",
        "complete_review",
        "approve",
        "sign_task_book",
        "mid_term_finalized",
        "acceptance_finalized",
        "fault_assessment",
    ]
    assert [a for a in dict.fromkeys(actions) if a in milestones] == milestones, actions
    assert actions.count("request_mid_term") == 1 and actions.count("request_acceptance") == 1, actions
    assert [entry["at"] for entry in timeline] == sorted(entry["at"] for entry in timeline)
