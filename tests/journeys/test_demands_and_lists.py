"""Journey through the gateway with real accounts: an enterprise's admin registers a technology
demand and opens an application scenario (技术需求库, 应用场景); department staff publish them and
freeze the quarter's scenario list (应用场景清单); other people read only what is published."""

from __future__ import annotations

from datetime import timedelta

import pytest

from shared.clock import utcnow
from shared.timestamps import beijing

from .conftest import Gateway, World, refused, serial, until

pytestmark = pytest.mark.asyncio


async def test_an_enterprise_demand_and_scenario_published_and_listed(
    gateway_door: Gateway, world: World
) -> None:
    gw = gateway_door
    enterprise = await world.unit("enterprise")
    admin = await world.unit_admin(enterprise["id"])
    reader = await world.unit_admin((await world.unit())["id"])
    staff = await gw.staff(f"transfer.office{serial()}")
    deadline = str(utcnow().date() + timedelta(days=90))
    base = {
        "unit_id": enterprise["id"],
        "field": "materials",
        "description": "企业量产电机在150℃以上出现不可逆退磁，需要晶界扩散等抑制技术。",
        "budget_min_fen": 50_000_000,
        "budget_max_fen": 200_000_000,
        "deadline": deadline,
    }
    created: list[str] = []

    async def registered() -> bool:  # the unit reaches projects by registry's event
        r = await admin.post(
            "/api/projects/technology-demands",
            base | {"kind": "demand", "title": "稀土永磁电机高温退磁抑制技术"},
        )
        if r.status_code == 201:
            created.append(r.json()["id"])
        return r.status_code == 201

    await until(registered)
    r = await admin.post(
        "/api/projects/technology-demands", base | {"kind": "scenario", "title": "稀土永磁电机产线应用场景"}
    )
    assert r.status_code == 201, r.text
    demand_id, scenario_id = created[0], r.json()["id"]
    assert refused(await reader.get(f"/api/projects/technology-demands/{demand_id}"))
    assert refused(await admin.post(f"/api/projects/technology-demands/{demand_id}/actions/publish"))

    for item in (demand_id, scenario_id):
        r = await staff.post(f"/api/projects/technology-demands/{item}/actions/publish")
        assert r.status_code == 200 and r.json()["state"] == "published", r.text
    seen = await reader.get(f"/api/projects/technology-demands/{demand_id}")
    assert seen.status_code == 200 and seen.json()["unit_name"] == enterprise["name"], seen.text

    quarter = (beijing(utcnow()).month - 1) // 3 + 1
    period = f"{beijing(utcnow()).year}-Q{quarter}"
    assert refused(await admin.post("/api/projects/periodic-lists", {"kind": "scenarios", "period": period}))
    r = await staff.post("/api/projects/periodic-lists", {"kind": "scenarios", "period": period})
    assert r.status_code == 201, r.text
    frozen = r.json()
    assert scenario_id in [e["id"] for e in frozen["entries"]]
    assert demand_id not in [e["id"] for e in frozen["entries"]]  # a demand is not a scenario
    r = await reader.get(f"/api/projects/periodic-lists/{frozen['id']}")
    assert r.status_code == 200 and r.json()["entries"] == frozen["entries"]
