"""技术需求库: enterprises register technology demands, units open application scenarios (应用场景);
staff publish and close them; everyone signed in reads what is published."""

from __future__ import annotations

import io
from datetime import date, timedelta
from typing import Any

from openpyxl import load_workbook

from shared.clock import utcnow


def demand(unit: str, **overrides: Any) -> dict[str, Any]:
    return {
        "kind": "demand",
        "unit_id": unit,
        "title": "稀土永磁电机高温退磁抑制技术",
        "field": "materials",
        "description": "企业量产电机在150℃以上出现不可逆退磁，需要晶界扩散等抑制技术。",
        "budget_min_fen": 50_000_000,
        "budget_max_fen": 200_000_000,
        "deadline": str(utcnow().date() + timedelta(days=90)),
    } | overrides


async def _enterprise(world: Any) -> str:
    unit = await world.org(type="enterprise")
    await world.org_synced(unit)
    return str(unit)


async def test_an_enterprise_registers_a_demand_and_staff_publish_then_close_it(world: Any) -> None:
    unit = await _enterprise(world)
    admin = world.unit_admin(unit)
    r = await world.client.post("/technology-demands", json=demand(unit), headers=admin)
    assert r.status_code == 201, r.text
    d = r.json()
    assert d["code"].startswith("XQ") and d["state"] == "registered" and d["state_zh"] == "已登记待发布"
    assert (d["kind_zh"], d["field_zh"]) == ("技术需求", "材料") and d["unit_name"]
    assert d["registered_at"].endswith("+08:00")
    reader = world.applicant(await world.person())
    url = f"/technology-demands/{d['id']}"
    # not public before it is published; the unit reads its own
    assert (await world.client.get(url, headers=reader)).status_code == 404
    assert (await world.client.get(url, headers=admin)).status_code == 200
    assert (await world.client.post(url + "/actions/publish", json={}, headers=admin)).status_code == 403

    r = await world.client.post(url + "/actions/publish", json={}, headers=world.staff)
    assert r.status_code == 200 and r.json()["state_zh"] == "已发布" and r.json()["published_at"]
    assert r.json()["allowed_actions"] == ["close"]
    listed = (await world.client.get("/technology-demands", headers=reader)).json()
    assert [i["id"] for i in listed["items"]] == [d["id"]]
    r = await world.client.post(url + "/actions/publish", json={}, headers=world.staff)
    assert r.status_code == 409 and r.json()["current_state"] == "published"
    assert r.json()["allowed_actions"] == ["close"]
    r = await world.client.post(url + "/actions/close", json={}, headers=world.staff)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "reason"
    r = await world.client.post(url + "/actions/close", json={"reason": "已对接成功"}, headers=world.staff)
    assert r.status_code == 200 and r.json()["state"] == "closed" and r.json()["close_reason"] == "已对接成功"
    assert (await world.client.get("/technology-demands", headers=reader)).json()["total"] == 0

    supervisor = world.auth("department_staff", user_id="sup-1", duties=["supervision"])
    trail = (
        await world.client.get(
            "/audit", params={"entity_type": "technology_demand", "entity_id": d["id"]}, headers=supervisor
        )
    ).json()["items"]
    assert [e["action"] for e in trail] == [
        "technology_demand.registered",
        "technology_demand.published",
        "technology_demand.closed",
    ]
    assert trail[2]["reason"] == "已对接成功" and trail[1]["actor_id"] == "staff-1"


async def test_a_demand_is_an_enterprises_and_bad_input_is_refused_in_both_languages(world: Any) -> None:
    university = await world.org(type="university")
    await world.org_synced(university)
    admin = world.unit_admin(university)
    r = await world.client.post("/technology-demands", json=demand(university), headers=admin)
    assert r.status_code == 422 and r.json()["errors"][0]["code"] == "not_enterprise", r.text
    # a university opens an application scenario (应用场景) instead
    scenario = demand(university, kind="scenario", title="智慧牧场应用场景", field="agriculture")
    r = await world.client.post("/technology-demands", json=scenario, headers=admin)
    assert r.status_code == 201 and r.json()["code"].startswith("CJ") and r.json()["kind_zh"] == "应用场景"

    enterprise = await _enterprise(world)
    mine = world.unit_admin(enterprise)
    bad = demand(enterprise, budget_min_fen=300, budget_max_fen=100, deadline=str(date(2020, 1, 1)))
    r = await world.client.post("/technology-demands", json=bad, headers=mine)
    assert r.status_code == 422
    assert {e["field"] for e in r.json()["errors"]} == {"budget_max_fen", "deadline"}
    assert all(e["message_zh"] for e in r.json()["errors"])
    r = await world.client.post("/technology-demands", json=demand(enterprise, field="alchemy"), headers=mine)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "field"
    # another unit's admin does not register for this enterprise
    r = await world.client.post("/technology-demands", json=demand(enterprise), headers=admin)
    assert r.status_code == 403 and r.json()["detail_zh"]


async def test_the_demand_register_filters_by_typed_values_and_exports(world: Any) -> None:
    unit = await _enterprise(world)
    admin = world.unit_admin(unit)
    for body in (
        demand(unit),
        demand(unit, kind="scenario", title="露天矿无人驾驶应用场景", field="information"),
    ):
        assert (await world.client.post("/technology-demands", json=body, headers=admin)).status_code == 201
    scenarios = (await world.client.get("/technology-demands?kind=scenario", headers=world.staff)).json()
    assert [i["title"] for i in scenarios["items"]] == ["露天矿无人驾驶应用场景"]
    r = await world.client.get("/technology-demands?kind=wish", headers=world.staff)
    assert r.status_code == 422 and r.json()["errors"][0]["message_zh"]
    r = await world.client.get("/technology-demands?budget=1", headers=world.staff)
    assert r.status_code == 422 and r.json()["errors"][0]["code"] == "unknown_filter"
    r = await world.client.get("/technology-demands/export.xlsx?state=registered", headers=world.staff)
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/vnd.openxmlformats")
    rows = list(
        load_workbook(io.BytesIO(r.content), read_only=True).worksheets[0].iter_rows(values_only=True)
    )
    assert rows[0][:4] == ("编号", "类别", "名称", "技术领域")
    assert sorted(row[1] for row in rows[1:]) == ["应用场景", "技术需求"]
    assert {row[5] for row in rows[1:]} == {500_000}  # 预算下限, in yuan
