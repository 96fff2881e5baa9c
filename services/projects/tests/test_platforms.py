"""Platforms and projects together (基地、人才、项目、资金一体化): the platform that undertakes an
application and its project, validated against projects' copy of registry's platforms."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

from projects.platforms.events import PLATFORM_EVENTS, PlatformSnapshot
from projects.platforms.models import PlatformView
from shared.testing.servers import eventually

ACCEPTED = next(e for e in PLATFORM_EVENTS if e.name.endswith(".accepted"))
REVOKED = next(e for e in PLATFORM_EVENTS if e.name.endswith(".revoked"))


async def platform(
    world: Any, host: str, *, state: str = "operating", event: Any = ACCEPTED, pid: Any = None
) -> str:
    pid = pid or uuid4()
    version = 1 if event is ACCEPTED else 2
    await world.publish(
        event,
        PlatformSnapshot(
            id=pid,
            code=f"ZDSYS-{str(pid)[:4]}",
            name="稀土功能材料自治区重点实验室",
            kind="provincial_key_lab",
            state=state,
            host_unit_id=UUID(host),
            version=version,
        ),
        f"platform/{pid}",
    )

    async def there() -> bool:
        async with world.svc.runtime.sessionmaker() as s:
            row = await s.get(PlatformView, pid)
            return row is not None and row.version == version

    await eventually(there, timeout=10)
    return str(pid)


async def test_a_project_names_the_platform_that_undertakes_it_and_a_lab_lists_its_projects(
    world: Any,
) -> None:
    call = await world.call()
    team = await world.team()
    p, u, d = team["person"], team["unit"], team["dept"]
    lab = await platform(world, u)
    elsewhere = await platform(world, await world.org())

    app = await world.draft(call["id"], p, u, d, platform_id=str(uuid4()))
    r = await world.act(app["id"], "submit", world.applicant(p), pledge_accepted=True)
    assert r.status_code == 422 and r.json()["errors"][0]["code"] == "unknown"
    await world.client.patch(
        f"/applications/{app['id']}", json={"platform_id": elsewhere}, headers=world.applicant(p)
    )
    r = await world.act(app["id"], "submit", world.applicant(p), pledge_accepted=True)
    assert r.status_code == 422 and r.json()["errors"][0]["code"] == "not_the_unit"
    assert "依托单位" in r.json()["errors"][0]["message_zh"]
    await world.client.patch(
        f"/applications/{app['id']}", json={"platform_id": lab}, headers=world.applicant(p)
    )
    await world.to_recommended(app, p, u, d)
    await world.reviewed(app)
    assert (await world.act(app["id"], "approve", world.staff, reason="评审通过")).status_code == 200
    project = await world.project_of(app["id"])
    assert project["platform_id"] == lab
    listed = (await world.client.get(f"/platforms/{lab}/projects", headers=world.staff)).json()
    assert [i["code"] for i in listed["items"]] == [project["code"]] and listed["total"] == 1
    funding = (await world.client.get(f"/platforms/{lab}/funding", headers=world.staff)).json()
    assert funding["by_mode"] == [
        {
            "organisation_mode": "open_competition",
            "organisation_mode_zh": "竞争立项（自由申报）",
            "projects": 1,
            "funding_fen": project["funding_fen"],
        }
    ]
    assert funding["projects"] == 1 and funding["funding_fen"] == project["funding_fen"]
    assert (await world.client.get(f"/platforms/{uuid4()}/funding", headers=world.staff)).status_code == 404
    assert (await world.client.get(f"/platforms/{uuid4()}/projects", headers=world.staff)).status_code == 404

    await platform(world, u, state="revoked", event=REVOKED, pid=UUID(lab))
    again = await world.draft(call["id"], p, u, d, title="撤销后的申报", platform_id=lab)
    r = await world.act(again["id"], "submit", world.applicant(p), pledge_accepted=True)
    assert r.status_code == 422 and r.json()["errors"][0]["code"] == "ended"


async def test_stable_support_names_the_lab_it_funds(world: Any) -> None:
    call = await world.call(
        programme_code="platform.national_cultivation", organisation_mode="stable_support"
    )
    team = await world.team()
    p, u, d = team["person"], team["unit"], team["dept"]
    r = await world.client.post(
        f"/calls/{call['id']}/designations",
        json={"unit_id": u, "pi_person_id": p, "justification": "国家级平台培育，稳定支持"},
        headers=world.staff,
    )
    assert r.status_code == 201, r.text
    app = await world.draft(call["id"], p, u, d)
    r = await world.act(app["id"], "submit", world.applicant(p), pledge_accepted=True)
    assert r.status_code == 422 and [(e["field"], e["code"]) for e in r.json()["errors"]] == [
        ("platform_id", "required")
    ]
    lab = await platform(world, u)
    await world.client.patch(
        f"/applications/{app['id']}", json={"platform_id": lab}, headers=world.applicant(p)
    )
    r = await world.act(app["id"], "submit", world.applicant(p), pledge_accepted=True)
    assert r.status_code == 200, r.text
    sealed = (await world.client.get(f"/applications/{app['id']}/versions", headers=world.staff)).json()
    assert sealed["items"][0]["content"]["platform_id"] == lab
    # Funded, the project is the lab's: its money per lab is traceable under 稳定支持.
    await world.act(app["id"], "endorse", world.unit_admin(u))
    await world.act(app["id"], "recommend", world.department(d), matching_fund_fen=0, commitment="同意")
    await world.act(app["id"], "accept_formally", world.staff)
    r = await world.act(app["id"], "approve_directly", world.staff, reason="稳定支持", funding_fen=800_000)
    assert r.status_code == 200, r.text
    project = await world.project_of(app["id"])
    assert (project["platform_id"], project["organisation_mode"]) == (lab, "stable_support")
    listed = (await world.client.get(f"/platforms/{lab}/projects", headers=world.staff)).json()
    assert [i["code"] for i in listed["items"]] == [project["code"]]
    funding = (await world.client.get(f"/platforms/{lab}/funding", headers=world.staff)).json()
    assert [
        (m["organisation_mode"], m["organisation_mode_zh"], m["funding_fen"]) for m in funding["by_mode"]
    ] == [("stable_support", "稳定支持", 800_000)]


async def test_a_directed_call_may_entrust_a_platform_and_the_project_is_that_labs(world: Any) -> None:
    call = await world.call(programme_code="major.demonstration", organisation_mode="directed")
    team = await world.team()
    p, u, d = team["person"], team["unit"], team["dept"]
    lab = await platform(world, u)
    foreign = await platform(world, await world.org())
    designation = {"unit_id": u, "pi_person_id": p, "justification": "委托重点实验室承担稀土示范任务"}
    url = f"/calls/{call['id']}/designations"
    r = await world.client.post(url, json=designation | {"platform_id": foreign}, headers=world.staff)
    assert r.status_code == 422 and r.json()["errors"][0]["code"] == "not_the_unit"
    r = await world.client.post(url, json=designation | {"platform_id": lab}, headers=world.staff)
    assert r.status_code == 201 and r.json()["platform_id"] == lab, r.text
    app = await world.draft(call["id"], p, u, d)
    await world.to_recommended(app, p, u, d)
    await world.act(app["id"], "accept_formally", world.staff)
    r = await world.act(app["id"], "approve_directly", world.staff, reason="定向委托", funding_fen=500_000)
    assert r.status_code == 200, r.text
    project = await world.project_of(app["id"])
    assert project["platform_id"] == lab and project["funding_basis"]["designation"]["platform_id"] == lab
