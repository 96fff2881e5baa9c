"""Projects as SPA teams and partners build on it: filters that refuse what they do not know,
a detail route for every collection with ids, and signers named on the printed 申报书."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

import pytest

from shared.auth import TokenIssuer

pytestmark = pytest.mark.asyncio

PROBLEM = "application/problem+json"
PROMISES = [{"name": "发明专利", "category": "output", "unit": "项", "promised": 5}]


def named(token_issuer: TokenIssuer, role: str, user_id: str, name: str, **claims: Any) -> dict[str, str]:
    """Headers of a signed-in user whose token carries a display name, as the gateway issues it."""
    unit_id = claims.pop("unit_id", None)
    token = token_issuer.issue(user_id, roles=[role], name=name, unit_id=unit_id, scopes=claims)
    return {"Authorization": f"Bearer {token}"}


async def test_state_and_mode_filters_refuse_unknown_values_naming_the_parameter(world: Any) -> None:
    for path, params in (
        ("/projects", {"state": "running"}),
        ("/projects", {"organisation_mode": "lottery"}),
        ("/projects/export.xlsx", {"state": "running"}),
        ("/applications", {"state": "pending"}),
        ("/applications/export.xlsx", {"state": "pending"}),
        ("/calls", {"state": "open"}),
        ("/catalogue/programmes", {"plan_category": "misc"}),
    ):
        r = await world.client.get(path, params=params, headers=world.staff)
        assert r.status_code == 422, (path, params, r.text)
        assert r.headers["content-type"] == PROBLEM
        (name,) = params
        assert [(e["field"], e["in"]) for e in r.json()["errors"]] == [(name, "query")], path
        assert r.json()["errors"][0]["message_zh"]
    for path, params in (
        ("/projects", {"state": "in_progress", "organisation_mode": "filing"}),
        ("/applications", {"state": "submitted"}),
        ("/calls", {"state": "published"}),
    ):
        r = await world.client.get(path, params=params, headers=world.staff)
        assert r.status_code == 200 and r.json()["total"] == 0, (path, r.text)
    document = (await world.client.get("/openapi.json")).json()
    state = next(p for p in document["paths"]["/projects"]["get"]["parameters"] if p["name"] == "state")
    assert "in_progress" in str(state["schema"])  # the values are in the document for generated clients


async def test_every_collection_of_a_project_has_a_detail_route(world: Any) -> None:
    call = await world.call()
    team = await world.team()
    lead = world.applicant(team["person"])
    project = await world.approved(call, team, indicators=PROMISES, approve={"funding_fen": 500_000})
    pid = project["id"]
    await world.running(project, team["person"])
    report = {"year": 2028, "summary": "完成晶界扩散工艺优化，申请发明专利两项。", "spent_fen": 200_000}
    assert (
        await world.client.post(f"/projects/{pid}/annual-reports", json=report, headers=lead)
    ).status_code == 201
    await world.request_evaluation(pid, "mid_term")
    change = {"kind": "extension", "reason": "设备到货延迟", "new_end_date": "2031-06-30"}
    assert (await world.client.post(f"/projects/{pid}/changes", json=change, headers=lead)).status_code == 201
    other = await world.approved(call, await world.team(), title="另一个项目")
    r = await world.st_report(pid)
    assert r.status_code == 200 and r.json()["st_report"]["submitted_at"].endswith("+08:00")

    for collection, key in (
        ("annual-reports", "id"),
        ("evaluations", "request_id"),
        ("disbursements", "id"),
        ("changes", "id"),
    ):
        items = (await world.client.get(f"/projects/{pid}/{collection}", headers=lead)).json()["items"]
        assert items, collection
        for item in items:
            r = await world.client.get(f"/projects/{pid}/{collection}/{item[key]}", headers=lead)
            assert r.status_code == 200 and r.json() == item, (collection, r.text)
        # an id of this project read under another project, and an id nobody knows: not found
        for url in (
            f"/projects/{other['id']}/{collection}/{items[0][key]}",
            f"/projects/{pid}/{collection}/{uuid4()}",
        ):
            r = await world.client.get(url, headers=world.staff)
            assert r.status_code == 404 and r.headers["content-type"] == PROBLEM, url
            assert r.json()["detail_zh"].startswith("该项目无此")
    assert (
        (await world.client.get(f"/projects/{pid}/changes", headers=lead))
        .json()["items"][0]["requested_at"]
        .endswith("+08:00")
    )
    # the lead of another project does not read this one's parts
    stranger = world.applicant(str(uuid4()))
    assert (await world.client.get(f"/projects/{pid}/changes/{uuid4()}", headers=stranger)).status_code in {
        403,
        404,
    }


async def test_the_printed_application_names_who_signed_it(world: Any, token_issuer: TokenIssuer) -> None:
    call = await world.call()
    team = await world.team()
    p, u, d = team["person"], team["unit"], team["dept"]
    app = await world.draft(call["id"], p, u, d)
    # the applicant's token carries no name: the seal takes the person's registered name
    r = await world.act(
        app["id"], "submit", world.applicant(p, user_id="acct-applicant"), pledge_accepted=True
    )
    assert r.status_code == 200, r.text
    unit_admin = named(token_issuer, "host_unit_admin", "acct-unit-7", "李建国", unit_id=u, units=[u])
    r = await world.act(app["id"], "endorse", unit_admin, comments="材料齐全")
    assert r.status_code == 200, r.text
    department = named(token_issuer, "competent_department", "acct-dept-9", "赵敏", unit_id=d, units=[d])
    r = await world.act(
        app["id"],
        "recommend",
        department,
        matching_fund_fen=100_000,
        commitment="本单位承诺按期足额落实匹配资金",
    )
    assert r.status_code == 200, r.text

    checked = await world.client.post(f"/applications/{app['id']}/formal-check", headers=world.staff)
    assert checked.status_code == 200, checked.text
    stored = (await world.client.get(f"/applications/{app['id']}", headers=world.staff)).json()
    assert stored["formal_report"]["checked_at"].endswith("+08:00")  # Beijing time, as officials read it

    seals = (await world.client.get(f"/applications/{app['id']}/seals", headers=world.staff)).json()["items"]
    person_name = f"人员{p[:4]}"  # the name registry gave the lead (conftest)
    assert [(s["kind"], s["actor_name"]) for s in seals] == [
        ("pledge", person_name),
        ("endorsement", "李建国"),
        ("recommendation", "赵敏"),
    ]
    steps = (await world.client.get(f"/applications/{app['id']}/steps", headers=world.staff)).json()["items"]
    assert [s["actor_name"] for s in steps] == [person_name, "李建国", "赵敏"]

    printed = await world.client.get(f"/applications/{app['id']}/document", headers=world.staff)
    assert printed.status_code == 200 and printed.headers["content-type"].startswith("text/html")
    html = printed.text
    signatures = html[html.index("签章记录") :]
    for name in (person_name, "李建国", "赵敏"):
        assert name in signatures
    for account in ("acct-applicant", "acct-unit-7", "acct-dept-9"):
        assert account not in html


async def test_the_task_book_names_who_signed_it(world: Any, token_issuer: TokenIssuer) -> None:
    call = await world.call(projects_to_fund=2)
    team, other = await world.team(), await world.team()
    project = await world.approved(call, team, indicators=PROMISES)
    url = f"/projects/{project['id']}"
    r = await world.project_act(project["id"], "submit_task_book", world.applicant(team["person"]))
    assert r.status_code == 200, r.text
    book = (await world.client.get(url + "/task-book", headers=world.staff)).json()
    assert (book["signed_by"], book["signed_by_name"]) == (None, None)  # not signed yet
    signer = named(token_issuer, "department_staff", "acct-staff-3", "王芳")
    r = await world.project_act(project["id"], "sign_task_book", signer)
    assert r.status_code == 200 and r.json()["state"] == "in_progress", r.text
    book = (await world.client.get(url + "/task-book", headers=world.applicant(team["person"]))).json()
    assert (book["state"], book["signed_by"], book["signed_by_name"]) == ("signed", "acct-staff-3", "王芳")
    assert book["signed_at"].endswith("+08:00")
    timeline = (await world.client.get(url + "/timeline", headers=world.staff)).json()["items"]
    step = next(s for s in timeline if s["action"] == "sign_task_book")
    assert step["details"]["signed_by_name"] == "王芳"
    # A signer whose token carries no name and who is no registered person: the id, marked.
    unnamed = await world.approved(call, other, indicators=PROMISES)
    await world.running(unnamed, other["person"])
    book = (await world.client.get(f"/projects/{unnamed['id']}/task-book", headers=world.staff)).json()
    assert (book["signed_by"], book["signed_by_name"]) == ("staff-1", "〔未知〕staff-1")
