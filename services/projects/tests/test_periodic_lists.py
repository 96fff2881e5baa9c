"""成果清单 / 应用场景清单: staff freeze the period's verified results or published scenarios; the
frozen list reads the same afterwards, whatever changes, and downloads as Excel."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

from openpyxl import load_workbook

from shared.clock import utcnow
from shared.timestamps import beijing

PAPERS = {"name": "发表论文", "category": "output", "unit": "篇", "promised": 3}


def _year() -> str:
    return str(beijing(utcnow()).year)


async def _verified_result(world: Any, project: dict[str, Any], admin: dict[str, str], title: str) -> str:
    body = {
        "project_id": project["id"],
        "title": title,
        "kind": "technology",
        "people": ["王五"],
        "maturity": "demonstration",
        "transfer_status": "self_applied",
    }
    r = await world.client.post("/results", json=body, headers=admin)
    assert r.status_code == 201, r.text
    r = await world.client.post(f"/results/{r.json()['id']}/actions/verify", json={}, headers=world.staff)
    assert r.status_code == 200, r.text
    return str(r.json()["id"])


async def test_a_frozen_results_list_keeps_its_entries_and_downloads(world: Any) -> None:
    call = await world.call()
    team = await world.team()
    project = await world.approved(call, team, indicators=[PAPERS])
    admin = world.unit_admin(team["unit"])
    year = _year()
    body = {"kind": "results", "period": year}
    r = await world.client.post("/periodic-lists", json=body, headers=world.staff)
    assert r.status_code == 409 and r.json()["code"] == "nothing_to_list" and r.json()["detail_zh"]
    first = await _verified_result(world, project, admin, "草原退化监测关键技术")
    unverified = {"project_id": project["id"], "title": "未核验成果", "kind": "paper", "people": ["赵六"]}
    r = await world.client.post("/results", json=unverified | {"maturity": "principle"}, headers=admin)
    assert r.status_code == 201
    assert (await world.client.post("/periodic-lists", json=body, headers=admin)).status_code == 403

    r = await world.client.post("/periodic-lists", json=body | {"note": "年度成果发布"}, headers=world.staff)
    assert r.status_code == 201, r.text
    listed = r.json()
    assert listed["title"] == f"{year}年度科技成果清单" and listed["code"] == f"CGQD-{year}"
    assert [e["id"] for e in listed["entries"]] == [first] and listed["entry_count"] == 1
    entry = listed["entries"][0]
    assert (entry["category_zh"], entry["project_code"], entry["people"]) == (
        "关键技术",
        project["code"],
        ["王五"],
    )
    assert entry["dated_at"].endswith("+08:00") and listed["frozen_at"].endswith("+08:00")

    # later verifications do not alter it, and the period is not frozen twice
    await _verified_result(world, project, admin, "后来核验的成果")
    again = (await world.client.get(f"/periodic-lists/{listed['id']}", headers=admin)).json()
    assert again["entries"] == listed["entries"]
    r = await world.client.post("/periodic-lists", json=body, headers=world.staff)
    assert r.status_code == 409 and r.json()["existing_id"] == listed["id"]

    page = (await world.client.get("/periodic-lists", params={"kind": "results"}, headers=admin)).json()
    assert [x["id"] for x in page["items"]] == [listed["id"]] and "entries" not in page["items"][0]
    r = await world.client.get(f"/periodic-lists/{listed['id']}/export.xlsx", headers=admin)
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/vnd.openxmlformats")
    rows = list(
        load_workbook(io.BytesIO(r.content), read_only=True).worksheets[0].iter_rows(values_only=True)
    )
    assert rows[0][:3] == ("序号", "成果编号", "成果名称") and [row[2] for row in rows[1:]] == [
        "草原退化监测关键技术"
    ]

    supervisor = world.auth("department_staff", user_id="sup-1", duties=["supervision"])
    trail = (
        await world.client.get(
            "/audit", params={"entity_type": "periodic_list", "entity_id": listed["id"]}, headers=supervisor
        )
    ).json()["items"]
    assert [(e["action"], e["actor_id"], e["reason"]) for e in trail] == [
        ("periodic_list.frozen", "staff-1", "年度成果发布")
    ]


async def test_a_scenario_list_holds_the_published_scenarios_of_the_period(world: Any) -> None:
    unit = await world.org(type="hospital")
    await world.org_synced(unit)
    admin = world.unit_admin(unit)
    ids = []
    for title in ("远程诊疗应用场景", "医学影像智能辅助诊断场景", "未发布的场景"):
        body = {
            "kind": "scenario",
            "unit_id": unit,
            "title": title,
            "field": "medicine",
            "description": "面向基层医疗机构开放真实诊疗场景，征集成熟技术方案。",
            "budget_min_fen": 1_000_000,
            "budget_max_fen": 3_000_000,
            "deadline": str(utcnow().date() + timedelta(days=60)),
        }
        r = await world.client.post("/technology-demands", json=body, headers=admin)
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])
    for demand_id in ids[:2]:
        r = await world.client.post(
            f"/technology-demands/{demand_id}/actions/publish", json={}, headers=world.staff
        )
        assert r.status_code == 200
    quarter = (beijing(utcnow()).month - 1) // 3 + 1
    period = f"{_year()}-Q{quarter}"
    r = await world.client.post(
        "/periodic-lists", json={"kind": "scenarios", "period": period}, headers=world.staff
    )
    assert r.status_code == 201, r.text
    listed = r.json()
    assert [e["id"] for e in listed["entries"]] == ids[:2] and listed["kind_zh"] == "应用场景清单"
    assert (
        listed["entries"][0]["budget_max_fen"] == 3_000_000 and listed["entries"][0]["category_zh"] == "医药"
    )
    # closing a scenario afterwards leaves the frozen list as it was
    r = await world.client.post(
        f"/technology-demands/{ids[0]}/actions/close", json={"reason": "已完成对接"}, headers=world.staff
    )
    assert r.status_code == 200
    assert (await world.client.get(f"/periodic-lists/{listed['id']}", headers=admin)).json() == listed
    r = await world.client.get(f"/periodic-lists/{listed['id']}/export.xlsx", headers=admin)
    rows = list(
        load_workbook(io.BytesIO(r.content), read_only=True).worksheets[0].iter_rows(values_only=True)
    )
    assert [row[5] for row in rows[1:]] == [10_000, 10_000]  # 预算下限 in yuan

    # a period that is no period, an unknown kind: 422 in both languages
    for bad in (
        {"kind": "scenarios", "period": "2027-Q5"},
        {"kind": "results", "period": "0000"},
        {"kind": "awards", "period": "2027"},
    ):
        r = await world.client.post("/periodic-lists", json=bad, headers=world.staff)
        assert r.status_code == 422 and r.json()["errors"][0]["message_zh"], r.text
    r = await world.client.get("/periodic-lists", params={"kind": "awards"}, headers=world.staff)
    assert r.status_code == 422
