"""科研诚信 across the whole life: bars checked at approval, task-book signing and every payment;
staff go on only with a recorded reason; ethics review where the call requires it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

PAPERS = {"name": "发表论文", "category": "output", "unit": "篇", "promised": 3}


async def bar(world: Any, *, person: str | None = None, unit: str | None = None) -> str:
    return str(await world.bar(person=person, unit=unit))


async def audit(world: Any, action: str) -> list[Any]:
    audit_log = world.svc.runtime.tables.audit_log
    async with world.svc.runtime.sessionmaker() as s:
        return list((await s.execute(select(audit_log).where(audit_log.c.action == action))).all())


async def test_a_lead_barred_after_formal_review_is_not_approved_without_a_recorded_reason(
    world: Any, people: Any
) -> None:
    call = await world.call()
    p, u, d = people["person"], people["unit"], people["dept"]
    app = await world.draft(call["id"], p, u, d)
    await world.to_recommended(app, p, u, d)
    await world.reviewed(app)  # formal review passed before the bar
    record = await bar(world, person=p)
    r = await world.act(app["id"], "approve", world.staff, reason="评审通过")
    assert r.status_code == 409 and r.json()["code"] == "integrity_barred", r.text
    assert r.json()["stage"] == "approval" and r.json()["evidence"][0]["record_id"] == record
    assert r.json()["evidence"][0]["decision_document"] == "内科监〔2027〕9号"
    assert "科研失信惩戒期" in r.json()["detail_zh"]
    assert (await world.client.get("/projects", headers=world.staff)).json()["total"] == 0  # nothing written
    r = await world.act(app["id"], "approve", world.staff, reason="评审通过", integrity_override_reason="   ")
    assert r.status_code == 409
    r = await world.act(
        app["id"],
        "approve",
        world.staff,
        reason="评审通过",
        integrity_override_reason="失信记录已申诉复核，厅务会决定继续立项",
    )
    assert r.status_code == 200, r.text
    project = await world.project_of(app["id"])
    override = project["funding_basis"]["integrity_override"]
    assert (
        override["reason"].startswith("失信记录已申诉复核") and override["records"][0]["record_id"] == record
    )
    assert override["by"] == "staff-1"
    [row] = await audit(world, "integrity.overridden")
    assert row.entity_id == app["id"] and row.reason.startswith("失信记录已申诉复核")


async def test_a_unit_barred_before_signing_stops_the_task_book_and_the_payments(world: Any) -> None:
    call = await world.call()
    team = await world.team()
    project = await world.approved(call, team, indicators=[PAPERS])
    r = await world.project_act(project["id"], "submit_task_book", world.applicant(team["person"]))
    assert r.status_code == 200, r.text
    record = await bar(world, unit=team["unit"])
    r = await world.project_act(project["id"], "sign_task_book", world.staff)
    assert r.status_code == 409 and r.json()["code"] == "integrity_barred"
    assert r.json()["stage"] == "signing" and r.json()["evidence"][0]["organisation_id"] == team["unit"]
    assert (await world.get_project(project["id"]))["state"] == "approved"
    r = await world.project_act(
        project["id"], "sign_task_book", world.staff, integrity_override_reason="单位已整改，经批准继续执行"
    )
    assert r.status_code == 200 and r.json()["state"] == "in_progress", r.text
    tranche = (await world.disbursements(project["id"]))[0]
    url = f"/projects/{project['id']}/disbursements/{tranche['id']}/pay"
    r = await world.client.post(url, json={"voucher": "BK-1"}, headers=world.staff)
    assert r.status_code == 409 and r.json()["stage"] == "payment"  # every payment is checked again
    assert (await world.disbursements(project["id"]))[0]["state"] == "due"
    r = await world.client.post(
        url,
        json={"voucher": "BK-1", "integrity_override_reason": "按整改协议拨付首笔经费"},
        headers=world.staff,
    )
    assert r.status_code == 200 and r.json()["state"] == "paid"
    steps = (await world.client.get(f"/projects/{project['id']}/timeline", headers=world.staff)).json()
    overrides = [
        s["details"]["integrity_override"]
        for s in steps["items"]
        if "integrity_override" in (s.get("details") or {})
    ]
    assert [(o["stage"], o["records"][0]["record_id"]) for o in overrides] == [
        ("signing", record),
        ("payment", record),
    ]
    assert len(await audit(world, "integrity.overridden")) == 2


async def test_an_application_records_its_ethics_review_where_the_call_requires_it(
    world: Any, people: Any
) -> None:
    call = await world.call(eligibility={"ethics_review_required": True})
    p, u, d = people["person"], people["unit"], people["dept"]
    app = await world.draft(call["id"], p, u, d)
    r = await world.act(app["id"], "submit", world.applicant(p), pledge_accepted=True)
    assert r.status_code == 422 and [(e["field"], e["code"]) for e in r.json()["errors"]] == [
        ("ethics_review", "required")
    ]
    assert "伦理审查" in r.json()["errors"][0]["message_zh"]
    review = {
        "committee": "内蒙古医科大学医学伦理委员会",
        "approval_number": "YXLL-2027-015",
        "approved_on": "2027-01-05",
    }
    r = await world.client.patch(
        f"/applications/{app['id']}", json={"ethics_review": review}, headers=world.applicant(p)
    )
    assert r.status_code == 200
    r = await world.act(app["id"], "submit", world.applicant(p), pledge_accepted=True)
    assert r.status_code == 200, r.text
    sealed = (await world.client.get(f"/applications/{app['id']}/versions", headers=world.staff)).json()
    assert sealed["items"][0]["content"]["ethics_review"]["approval_number"] == "YXLL-2027-015"
    other = await world.draft((await world.call())["id"], p, u, d, title="不涉及伦理的另一项研究")
    r = await world.act(other["id"], "submit", world.applicant(p), pledge_accepted=True)
    assert r.status_code == 200  # a call that does not require it does not ask
