"""Forms of support seeds 003 and 004 name: 长周期 projects, S&T reports (科技报告) at acceptance."""

from __future__ import annotations

from typing import Any

PAPERS = {"name": "发表论文", "category": "output", "unit": "篇", "promised": 3}


async def _reviewed(world: Any, call: dict[str, Any]) -> dict[str, Any]:
    team = await world.team()
    p, u, d = team["person"], team["unit"], team["dept"]
    app = await world.draft(call["id"], p, u, d, title=f"长周期{next(world.seq)}")
    await world.to_recommended(app, p, u, d)
    await world.reviewed(app)
    return dict(app)


async def test_long_cycle_projects_run_up_to_ten_years_on_the_programmes_that_permit_them(world: Any) -> None:
    nsf = await world.call()
    app = await _reviewed(world, nsf)
    eleven = {"start_date": "2028-01-01", "end_date": "2038-06-30", "long_cycle": True}
    r = await world.act(app["id"], "approve", world.staff, reason="长周期稳定支持", **eleven)
    assert r.status_code == 422 and r.json()["errors"][0]["code"] == "term_too_long"
    assert "10年" in r.json()["errors"][0]["message_zh"]
    ten = eleven | {"end_date": "2037-12-31"}
    r = await world.act(app["id"], "approve", world.staff, reason="长周期稳定支持", **ten)
    assert r.status_code == 200, r.text
    project = await world.project_of(app["id"])
    assert (project["long_cycle"], project["end_date"]) == (True, "2037-12-31")

    rd = await world.call(programme_code="rd.key_rd_transfer", title="重点研发指南")
    other = await _reviewed(world, rd)
    r = await world.act(other["id"], "approve", world.staff, reason="x", **ten)
    assert r.status_code == 422 and [(e["field"], e["code"]) for e in r.json()["errors"]] == [
        ("long_cycle", "not_allowed")
    ]
    listed = (await world.client.get("/catalogue/programmes", headers=world.staff)).json()["items"]
    assert {p["code"] for p in listed if p["long_cycle_allowed"]} == {"basic.nsf", "basic.joint_fund"}


async def test_acceptance_needs_the_s_and_t_report_the_lead_submitted(world: Any) -> None:
    call = await world.call()
    team = await world.team()
    project = await world.approved(call, team, indicators=[PAPERS])
    pid = project["id"]
    url = f"/projects/{pid}/st-report"
    report = {"title": "稀土永磁材料晶界扩散技术科技报告", "number": "KJBG-2029-015", "sha256": "b" * 64}
    r = await world.client.put(url, json=report, headers=world.applicant(team["person"]))
    assert r.status_code == 409 and r.json()["code"] == "not_running"  # not before the task book
    await world.running(project, team["person"])
    r = await world.client.post(
        f"/projects/{pid}/evaluations",
        json={"kind": "acceptance", "due_date": "2029-06-30"},
        headers=world.staff,
    )
    assert r.status_code == 409 and r.json()["code"] == "st_report_missing"
    assert "科技报告" in r.json()["detail_zh"]
    assert (await world.get_project(pid))["state"] == "in_progress"  # nothing moved
    r = await world.client.put(url, json=report | {"sha256": "xyz"}, headers=world.applicant(team["person"]))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "sha256"
    r = await world.client.put(url, json=report, headers=world.staff)
    assert r.status_code == 403  # the lead's deliverable
    r = await world.client.put(url, json=report, headers=world.applicant(team["person"]))
    assert r.status_code == 200 and r.json()["st_report"]["number"] == "KJBG-2029-015"
    assert r.json()["st_report"]["access"] == "public"
    r = await world.client.post(
        f"/projects/{pid}/evaluations",
        json={"kind": "acceptance", "due_date": "2029-06-30"},
        headers=world.staff,
    )
    assert r.status_code == 201, r.text
    timeline = (await world.client.get(f"/projects/{pid}/timeline", headers=world.staff)).json()["items"]
    step = next(s for s in timeline if s["action"] == "submit_st_report")
    assert step["label_zh"] == "提交科技报告" and step["details"]["number"] == "KJBG-2029-015"


async def test_chief_experts_are_on_the_project_and_the_task_book_and_count_in_limits_and_integrity(
    world: Any,
) -> None:
    call = await world.call(limits={"chief_expert_running_max": 1}, projects_to_fund=5)
    first, second = await world.team(), await world.team()
    chief = await world.person(unit_id=first["unit"])
    await world.synced(chief)

    def team(lead: str) -> list[dict[str, Any]]:
        return [
            {"person_id": lead, "name": "负责人", "role": "lead"},
            {"person_id": chief, "name": "首席专家甲", "role": "chief_expert"},
        ]

    p, u, d = first["person"], first["unit"], first["dept"]
    app = await world.draft(call["id"], p, u, d, title="重大项目", team=team(p), indicators=[PAPERS])
    await world.to_recommended(app, p, u, d)
    await world.reviewed(app)
    assert (await world.act(app["id"], "approve", world.staff, reason="评审通过")).status_code == 200
    project = await world.project_of(app["id"])
    assert project["chief_expert_person_ids"] == [chief]
    book = (await world.client.get(f"/projects/{project['id']}/task-book", headers=world.staff)).json()
    assert book["chief_experts"] == [{"person_id": chief, "name": f"人员{chief[:4]}"}]

    p, u, d = second["person"], second["unit"], second["dept"]
    app = await world.draft(call["id"], p, u, d, title="另一重大项目", team=team(p))
    await world.to_recommended(app, p, u, d)
    report = (await world.client.post(f"/applications/{app['id']}/formal-check", headers=world.staff)).json()
    limit = next(c for c in report["checks"] if c["check"] == "limits.running.chief_expert")
    assert limit["passed"] is False and limit["evidence"]["running"][0]["code"] == project["code"]
    page = (await world.client.get(f"/applications/{app['id']}/document", headers=world.staff)).text
    assert "首席专家" in page

    record = await world.bar(person=chief)
    await world.reviewed(app)  # accepted at formal review with a reason
    r = await world.act(app["id"], "approve", world.staff, reason="评审通过")
    assert r.status_code == 409 and r.json()["code"] == "integrity_barred"
    assert [(e["record_id"], e["person_id"]) for e in r.json()["evidence"]] == [(record, chief)]


LUMP_SUM = [{"category": "lump_sum", "amount_fen": 500_000, "note": "包干使用"}]


async def test_a_lump_sum_call_takes_one_budget_line_without_categories(world: Any) -> None:
    rd = world.call_body(programme_code="rd.key_rd_transfer", budget_form="lump_sum")
    r = await world.client.post("/calls", json=rd, headers=world.staff)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "budget_form"
    call = await world.call(budget_form="lump_sum")
    assert call["budget_form"] == "lump_sum"
    team = await world.team()
    p, u, d = team["person"], team["unit"], team["dept"]
    app = await world.draft(call["id"], p, u, d, indicators=[PAPERS])  # by category, as other calls
    r = await world.act(app["id"], "submit", world.applicant(p), pledge_accepted=True)
    assert r.status_code == 422 and [(e["field"], e["code"]) for e in r.json()["errors"]] == [
        ("budget", "lump_sum_only")
    ]
    await world.client.patch(
        f"/applications/{app['id']}", json={"budget": LUMP_SUM}, headers=world.applicant(p)
    )
    await world.to_recommended(app, p, u, d)
    await world.reviewed(app)
    assert (await world.act(app["id"], "approve", world.staff, reason="评审通过")).status_code == 200
    project = await world.project_of(app["id"])
    book = f"/projects/{project['id']}/task-book"
    split = [{"category": "equipment", "amount_fen": 500_000}]
    r = await world.client.patch(book, json={"budget": split}, headers=world.applicant(p))
    assert r.status_code == 422 and r.json()["errors"][0]["code"] == "lump_sum_only"
    await world.running(project, p)
    r = await world.client.post(
        f"/projects/{project['id']}/changes",
        json={"kind": "budget_adjustment", "reason": "调剂", "budget": LUMP_SUM},
        headers=world.applicant(p),
    )
    assert r.status_code == 409 and r.json()["code"] == "lump_sum_budget"
    other = await world.call(title="分科目的指南")
    app = await world.draft(other["id"], p, u, d, title="另一项目", budget=LUMP_SUM)
    r = await world.act(app["id"], "submit", world.applicant(p), pledge_accepted=True)
    assert [(e["field"], e["code"]) for e in r.json()["errors"]] == [("budget", "categories_required")]


async def _finished(
    world: Any, call: dict[str, Any], team: dict[str, str], result: str, diligent: bool
) -> str:
    """A project of ``team`` through acceptance (and performance when it passes) to ``result``."""
    project = await world.approved(call, team, indicators=[PAPERS], title=f"原项目{next(world.seq)}")
    await world.running(project, team["person"])
    pid = project["id"]
    acceptance = await world.request_evaluation(pid, "acceptance")
    if result == "fail":
        await world.finalize(acceptance, pid, "acceptance", "fail", diligent=diligent)
        await world.until_state(pid, "failed")
        return str(pid)
    await world.finalize(acceptance, pid, "acceptance", "pass")
    await world.until_state(pid, "accepted")
    performance = await world.request_evaluation(pid, "performance")
    await world.finalize(performance, pid, "performance", result)
    await world.until_state(pid, "closed")
    return str(pid)


async def test_rolling_support_follows_an_excellent_result_and_continued_support_a_diligent_failure(
    world: Any,
) -> None:
    call = await world.call(
        projects_to_fund=10, limits={"lead_running_max": 3, "lead_applications_per_year": 5}
    )
    team = await world.team()
    p, u, d = team["person"], team["unit"], team["dept"]
    excellent = await _finished(world, call, team, "excellent", diligent=False)
    passed = await _finished(world, call, team, "pass", diligent=False)
    failed_diligent = await _finished(world, call, team, "fail", diligent=True)
    nxt = await world.call(title="下一年度指南", limits={"lead_applications_per_year": 5})

    async def submit(follow_on: dict[str, Any], who: str = p) -> Any:
        unit = u if who == p else (await world.team())["unit"]
        app = await world.draft(
            nxt["id"], who, unit, d, title=f"后续项目{next(world.seq)}", follow_on=follow_on
        )
        return app, await world.act(app["id"], "submit", world.applicant(who), pledge_accepted=True)

    def codes(r: Any) -> list[tuple[str, str]]:
        return [(e["field"], e["code"]) for e in r.json()["errors"]]

    _, r = await submit({"kind": "rolling", "project_id": passed})
    assert r.status_code == 422 and codes(r) == [("follow_on.kind", "not_excellent")]
    _, r = await submit({"kind": "continued", "project_id": excellent})
    assert codes(r) == [("follow_on.kind", "not_diligent_failure")]
    _, r = await submit({"kind": "continued", "project_id": failed_diligent})
    assert codes(r) == [("follow_on.route_change", "required")]
    stranger = await world.person(unit_id=u)
    await world.synced(stranger)
    _, r = await submit({"kind": "rolling", "project_id": excellent}, who=stranger)
    assert codes(r) == [("follow_on.project_id", "not_the_lead")]

    rolling, r = await submit({"kind": "rolling", "project_id": excellent})
    assert r.status_code == 200, r.text
    route = "改用低温烧结技术路线，避开原晶界扩散方案的瓶颈"
    continued, r = await submit({"kind": "continued", "project_id": failed_diligent, "route_change": route})
    assert r.status_code == 200, r.text
    # Not penalised: the diligent failure does not count against the lead at formal review.
    await world.act(continued["id"], "endorse", world.unit_admin(u))
    await world.act(
        continued["id"], "recommend", world.department(d), matching_fund_fen=0, commitment="同意继续支持"
    )
    report = (
        await world.client.post(f"/applications/{continued['id']}/formal-check", headers=world.staff)
    ).json()
    failed_check = next(c for c in report["checks"] if c["check"] == "limits.failed_projects")
    assert failed_check["passed"] is True and failed_check["evidence"]["exempted"][0]["result"] == "fail"
    await world.reviewed(continued)
    r = await world.act(continued["id"], "approve", world.staff, reason="容错继续支持")
    assert r.status_code == 200, r.text
    project = await world.project_of(continued["id"])
    assert project["funding_basis"]["follow_on"]["project_id"] == failed_diligent
    earlier = (await world.client.get(f"/projects/{failed_diligent}/timeline", headers=world.staff)).json()
    step = next(s for s in earlier["items"] if s["action"] == "follow_on_approved")
    assert step["label_zh"] == "容错继续支持立项" and step["details"]["project"] == project["code"]
    assert rolling["id"] != continued["id"]
