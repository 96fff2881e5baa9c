"""Journeys through the gateway with real accounts: a cluster's year of work (seed 002) and a lab's
projects read by its own people (seed 004 基地、人才、项目、资金一体化).

- The secretariat files a guideline suggestion; the expert committee's outcome is recorded; only a
  passed one reaches the department's call drafters in projects.
- A member unit's admin reports its talent, results, needs and resources; the secretariat sees who
  has not reported; an outsider cannot report for the member.
- Staff record the first year's operating funds for the service organisation.
- The host unit's admin and the appointed director read their lab's projects; another unit's admin
  cannot.
"""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import Gateway, World, refused, serial, until
from .test_labs_and_clusters import established_cluster, lab, secretariat_of

pytestmark = pytest.mark.asyncio


async def test_a_cluster_year_suggestions_reports_and_funds(gateway_door: Gateway, world: World) -> None:
    gw = gateway_door
    member = await world.unit()
    cluster_id = await established_cluster(world, member)
    secretariat = await secretariat_of(gw, cluster_id)
    drafter = await gw.staff(f"planning.office{serial()}")
    base = f"/api/registry/clusters/{cluster_id}"

    # 指南建议: one passes the expert committee, one does not; only the passed one reaches projects
    suggestions = []
    for title in ("稀土永磁材料高端应用", "稀土资源综合回收"):
        r = await secretariat.post(
            f"{base}/guideline-suggestions",
            {
                "year": 2027,
                "title": title,
                "directions": [f"{title}方向一", f"{title}方向二"],
                "field": "materials",
                "rationale": "服务稀土产业链延链补链",
            },
        )
        assert r.status_code == 201, r.text
        suggestions.append(r.json()["id"])
    passed, failed = suggestions
    r = await secretariat.post(f"{base}/guideline-suggestions/{passed}/vetting", {"outcome": "passed"})
    assert r.status_code == 200 and r.json()["sent_to_projects"] is True, r.text
    r = await secretariat.post(
        f"{base}/guideline-suggestions/{failed}/vetting",
        {"outcome": "rejected", "comments": "与现有指南方向重复"},
    )
    assert r.status_code == 200 and r.json()["sent_to_projects"] is False, r.text
    # vetted once is vetted: a second outcome without a revision is refused with what remains
    again = await secretariat.post(f"{base}/guideline-suggestions/{passed}/vetting", {"outcome": "rejected"})
    assert again.status_code == 409 and again.json()["current_state"] == "passed", again.text

    async def drafters_see() -> list[str]:
        r = await drafter.get("/api/projects/calls/guideline-suggestions", params={"year": 2027})
        assert r.status_code == 200, r.text
        return [s["title"] for s in r.json()["items"] if s["cluster_id"] == cluster_id]

    async def only_the_passed_one() -> bool:
        return await drafters_see() == ["稀土永磁材料高端应用"]

    await until(only_the_passed_one)
    assert refused(await secretariat.get("/api/projects/calls/guideline-suggestions"))

    # the member unit's admin reports for its own unit; an outsider may not
    member_admin = await world.unit_admin(member["id"])
    report = {
        "period": "2026-H2",
        "member_name": member["name"],
        "talent": ["引进稀土材料青年博士2名"],
        "results": ["稀土永磁中试线投产"],
        "needs": ["高通量表征平台共享"],
        "resources": ["X射线衍射仪对成员单位开放"],
    }
    outsider = await world.unit_admin((await world.unit())["id"])
    assert refused(await outsider.post(f"{base}/member-reports", report))
    missing = await secretariat.get(f"{base}/member-reports/missing", params={"period": "2026-H2"})
    assert missing.status_code == 200 and [m["member_name"] for m in missing.json()["items"]] == [
        member["name"]
    ], missing.text
    r = await member_admin.post(f"{base}/member-reports", report)
    assert r.status_code == 201 and r.json()["submitted_by"] == member_admin.account_id, r.text
    twice = await member_admin.post(f"{base}/member-reports", report)
    assert twice.status_code == 409, twice.text
    listed = await secretariat.get(f"{base}/member-reports")
    assert [x["results"] for x in listed.json()["items"]] == [["稀土永磁中试线投产"]]
    missing = await secretariat.get(f"{base}/member-reports/missing", params={"period": "2026-H2"})
    assert missing.json()["items"] == []
    assert refused(await member_admin.get(f"{base}/member-reports"))

    # the first year's operating funds (policy value 50万元), for the one service organisation
    assert refused(await secretariat.post(f"{base}/operating-funds/2026"))
    r = await drafter.post(f"{base}/operating-funds/2026")
    assert r.status_code == 201, r.text
    [fund] = r.json()["items"]
    assert (fund["organisation_name"], fund["basis"], fund["amount_fen"]) == (
        "包头稀土科技服务中心",
        "first_year",
        50_000_000,
    )
    assert fund["recorded_by"] == drafter.account_id
    seen = await member_admin.get(f"{base}/operating-funds")
    assert seen.status_code == 200 and seen.json()["items"] == [fund]


async def test_a_labs_own_people_read_its_projects(gateway_door: Gateway, world: World) -> None:
    gw = gateway_door
    unit = await world.unit()
    own = await lab(world, unit["id"], f"内蒙古自治区草原生态重点实验室{serial()}")
    director_person = await world.person(unit["id"], "主任")
    director = await gw.open_account(
        f"director{serial()}",
        [{"role": "lab_director", "scope_ids": [own["id"]]}],
        unit_id=unit["id"],
        person_id=director_person,
    )
    unit_admin = await world.unit_admin(unit["id"])
    stranger = await world.unit_admin((await world.unit())["id"])
    path = f"/api/projects/platforms/{own['id']}/funding"

    async def projects_knows_the_lab() -> bool:
        r = await unit_admin.get(path)
        return r.status_code == 200

    await until(projects_knows_the_lab)
    for reader in (unit_admin, director):
        r = await reader.get(path)
        assert r.status_code == 200, r.text
        body: dict[str, Any] = r.json()
        assert body["platform"]["code"] == own["code"] and body["projects"] == body["funding_fen"] == 0
        listed = await reader.get(f"/api/projects/platforms/{own['id']}/projects")
        assert listed.status_code == 200 and listed.json()["items"] == [], listed.text
    assert refused(await stranger.get(path))
    assert refused(await stranger.get(f"/api/projects/platforms/{own['id']}/projects"))
