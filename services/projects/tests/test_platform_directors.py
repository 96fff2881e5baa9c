"""A lab's director and its host unit's admin list the lab's projects (基地、人才、项目一体化);
projects knows the director from registry's platform events (``director_person_id``)."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

from projects.platforms.events import PLATFORM_EVENTS, PlatformSnapshot
from projects.platforms.models import PlatformView
from shared.testing.servers import eventually

ACCEPTED = next(e for e in PLATFORM_EVENTS if e.name.endswith(".accepted"))
UPDATED = next(e for e in PLATFORM_EVENTS if e.name.endswith(".updated"))


async def lab(world: Any, host: str, director: str | None, *, pid: Any = None, version: int = 1) -> str:
    pid = pid or uuid4()
    await world.publish(
        ACCEPTED if version == 1 else UPDATED,
        PlatformSnapshot(
            id=pid,
            code=f"ZDSYS-{str(pid)[:4]}",
            name="草原生态自治区重点实验室",
            kind="provincial_key_lab",
            state="operating",
            host_unit_id=UUID(host),
            director_person_id=UUID(director) if director else None,
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


async def test_the_director_and_the_host_units_admin_list_the_labs_projects_others_do_not(
    world: Any,
) -> None:
    call = await world.call()
    team = await world.team()
    p, u, d = team["person"], team["unit"], team["dept"]
    director = await world.person(unit_id=u)
    platform = await lab(world, u, director)
    app = await world.draft(call["id"], p, u, d, platform_id=platform)
    await world.to_recommended(app, p, u, d)
    await world.reviewed(app)
    assert (await world.act(app["id"], "approve", world.staff, reason="评审通过")).status_code == 200
    project = await world.project_of(app["id"])
    url = f"/platforms/{platform}/projects"

    as_director = world.auth("lab_director", user_id="dir-1", person_id=director)
    r = await world.client.get(url, headers=as_director)
    assert r.status_code == 200, r.text
    assert [i["code"] for i in r.json()["items"]] == [project["code"]]
    by_scope = world.auth("lab_director", user_id="dir-2", person_id=str(uuid4()), platforms=[platform])
    assert (await world.client.get(url, headers=by_scope)).status_code == 200
    r = await world.client.get(url, headers=world.unit_admin(u))
    assert r.status_code == 200 and r.json()["total"] == 1

    other = await world.org()
    another_director = world.auth("lab_director", user_id="dir-3", person_id=str(uuid4()))
    for headers in (world.unit_admin(other), another_director, world.applicant(p)):
        r = await world.client.get(url, headers=headers)
        assert r.status_code == 403, r.text
        assert "平台主任" in r.json()["detail_zh"]

    # registry appoints someone else: the former director no longer lists the lab's projects
    successor = await world.person(unit_id=u)
    await lab(world, u, successor, pid=UUID(platform), version=2)
    assert (await world.client.get(url, headers=as_director)).status_code == 403
    as_successor = world.auth("lab_director", user_id="dir-4", person_id=successor)
    assert (await world.client.get(url, headers=as_successor)).status_code == 200
