"""Platforms: registration, the lifecycle state machine, 充实/调整/整合/撤销, history, access."""

from __future__ import annotations

from typing import Any

import pytest

from registry.platforms.machine import PLATFORM_MACHINE
from registry.platforms.models import Platform, PlatformHistory

pytestmark = pytest.mark.asyncio

# (action, from-state) for every allowed transition, and the state it leads to.
ALLOWED = [
    (t.action, source, t.target)
    for t in PLATFORM_MACHINE.transitions
    if t.action != "merge"
    for source in sorted(t.sources)
]
PATH_TO = {
    "proposed": [],
    "under_construction": ["start_construction"],
    "operating": ["start_construction", "accept"],
    "under_rectification": ["start_construction", "accept", "open_rectification"],
}


async def proposed_platform(reg: Any) -> dict[str, Any]:
    org = await reg.org(1)
    return await reg.platform(org["id"], initial_state="proposed", approved_on="2026-01-10")


async def test_registering_gives_a_readable_code_zh_labels_and_one_event(reg: Any) -> None:
    org = await reg.org(1)
    p = await reg.platform(org["id"])
    assert p["code"] == "ZDS-2015-001"
    assert p["kind_zh"] == "自治区重点实验室" and p["state_zh"] == "运行" and p["region_zh"] == "包头市"
    assert p["sub_field_zh"] == "稀土新材料"
    second = await reg.platform(org["id"], name="内蒙古自治区稀土冶金重点实验室")
    assert second["code"] == "ZDS-2015-002"
    events = await reg.events("registry.platform.")
    assert [e["type"] for e in events] == ["registry.platform.proposed"] * 2
    assert events[0]["data"]["code"] == "ZDS-2015-001"


async def test_sub_field_must_belong_to_the_field(reg: Any) -> None:
    org = await reg.org(1)
    response = await reg.client.post(
        "/platforms", json=reg.platform_body(org["id"], sub_field="dairy"), headers=reg.staff
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "sub_field"
    assert await reg.count(Platform) == 0


@pytest.mark.parametrize(("action", "source", "target"), ALLOWED)
async def test_every_allowed_transition(reg: Any, action: str, source: str, target: str) -> None:
    p = await proposed_platform(reg)
    for step in PATH_TO[source]:
        assert (await reg.act(p["id"], step)).status_code == 200
    response = await reg.act(p["id"], action, document_number="内科发〔2026〕1号")
    assert response.status_code == 200, response.text
    assert response.json()["state"] == target
    history = (await reg.client.get(f"/platforms/{p['id']}/history", headers=reg.staff)).json()["items"]
    last = history[-1]
    assert (last["action"], last["from_state"], last["to_state"]) == (action, source, target)
    assert last["actor_id"] == "staff-1" and last["document_number"] == "内科发〔2026〕1号"
    assert last["reason"] == "依据评估结果"


@pytest.mark.parametrize(
    ("path", "action"),
    [
        ([], "accept"),
        ([], "open_rectification"),
        (["start_construction"], "close_rectification"),
        (["start_construction", "accept"], "accept"),
        (["start_construction", "accept", "revoke"], "start_construction"),
        (["start_construction", "accept", "revoke"], "strengthen"),
    ],
)
async def test_refused_transitions_name_the_state_and_the_allowed_actions(
    reg: Any, path: list[str], action: str
) -> None:
    p = await proposed_platform(reg)
    for step in path:
        assert (await reg.act(p["id"], step)).status_code == 200
    before = (await reg.client.get(f"/platforms/{p['id']}", headers=reg.staff)).json()
    events_before = len(await reg.events())
    response = await reg.act(p["id"], action)
    assert response.status_code == 409
    problem = response.json()
    assert problem["current_state"] == before["state"]
    assert problem["allowed_actions"] == PLATFORM_MACHINE.allowed_actions(before["state"])
    after = (await reg.client.get(f"/platforms/{p['id']}", headers=reg.staff)).json()
    assert after["version"] == before["version"]
    assert len(await reg.events()) == events_before


async def test_only_staff_take_lifecycle_steps(reg: Any) -> None:
    org = await reg.org(1)
    p = await reg.platform(org["id"])
    admin = reg.auth("host_unit_admin", unit_id=org["id"])
    response = await reg.client.post(
        f"/platforms/{p['id']}/actions/revoke", json={"reason": "自行撤销"}, headers=admin
    )
    assert response.status_code == 403
    assert (await reg.client.get(f"/platforms/{p['id']}", headers=admin)).json()["state"] == "operating"


async def test_adjust_replaces_the_director_and_keeps_the_old_one_in_history(reg: Any) -> None:
    org = await reg.org(1)
    old, new = await reg.person(1), await reg.person(2)
    p = await reg.platform(
        org["id"], director={"person_id": old["id"], "term_start": "2016-01-01", "term_end": "2020-12-31"}
    )
    response = await reg.act(
        p["id"],
        "adjust",
        director={"person_id": new["id"], "term_start": "2026-01-01", "term_end": "2030-12-31"},
        research_directions=["稀土永磁材料制备"],
    )
    assert response.status_code == 200, response.text
    assert response.json()["director_person_id"] == new["id"]
    assert response.json()["research_directions"] == ["稀土永磁材料制备"]
    last = (await reg.client.get(f"/platforms/{p['id']}/history", headers=reg.staff)).json()["items"][-1]
    assert last["action"] == "adjust" and last["action_zh"] == "调整"
    assert last["details"]["director"][0]["director_person_id"] == old["id"]
    assert last["details"]["research_directions"] == [
        ["稀土永磁材料制备", "稀土发光材料"],
        ["稀土永磁材料制备"],
    ]
    [event] = await reg.events("registry.platform.adjusted")
    assert event["data"]["director_person_id"] == new["id"] and event["data"]["action"] == "adjust"


async def test_host_unit_admin_cannot_touch_another_units_platform(reg: Any) -> None:
    mine, other = await reg.org(1), await reg.org(2)
    theirs = await reg.platform(other["id"])
    admin = reg.auth("host_unit_admin", unit_id=mine["id"], units=[mine["id"]])
    patch = await reg.client.patch(
        f"/platforms/{theirs['id']}", json={"name": "被篡改的实验室名称"}, headers=admin
    )
    assert patch.status_code == 403
    output = await reg.client.put(
        f"/platforms/{theirs['id']}/outputs/2025", json={"papers": 99}, headers=admin
    )
    assert output.status_code == 403
    propose = await reg.client.post(
        "/platforms", json=reg.platform_body(other["id"], initial_state="proposed"), headers=admin
    )
    assert propose.status_code == 403
    after = (await reg.client.get(f"/platforms/{theirs['id']}", headers=admin)).json()
    assert after["name"] == theirs["name"] and after["version"] == 1
    assert len(await reg.events("registry.platform.")) == 1
    own = await reg.client.post(
        "/platforms", json=reg.platform_body(mine["id"], initial_state="proposed"), headers=admin
    )
    assert own.status_code == 201
    approved = await reg.client.post("/platforms", json=reg.platform_body(mine["id"]), headers=admin)
    assert approved.status_code == 403


async def test_lab_director_runs_team_and_outputs_of_their_own_lab_only(reg: Any) -> None:
    org = await reg.org(1)
    lab, other = (
        await reg.platform(org["id"]),
        await reg.platform(org["id"], name="内蒙古自治区稀土冶金重点实验室"),
    )
    member = await reg.person(3)
    director = reg.auth("lab_director", platforms=[lab["id"]])
    ok = await reg.client.post(
        f"/platforms/{lab['id']}/members", json={"person_id": member["id"]}, headers=director
    )
    assert ok.status_code == 201
    out = await reg.client.put(
        f"/platforms/{lab['id']}/outputs/2025", json={"papers": 12, "patents": 3}, headers=director
    )
    assert out.status_code == 200 and out.json()["total"] == 15
    refused = await reg.client.post(
        f"/platforms/{other['id']}/members", json={"person_id": member["id"]}, headers=director
    )
    assert refused.status_code == 403
    rename = await reg.client.patch(
        f"/platforms/{lab['id']}", json={"name": "主任自行改名的实验室"}, headers=director
    )
    assert rename.status_code == 403
    topic = await reg.client.post(
        "/topics",
        json={"platform_id": other["id"], "year": 2026, "title": "稀土催化开放课题"},
        headers=director,
    )
    assert topic.status_code == 403


async def test_list_filters_sorts_pages_and_searches_directions(reg: Any) -> None:
    org = await reg.org(1)
    await reg.platform(org["id"])
    await reg.platform(
        org["id"],
        name="内蒙古自治区乳品质量安全重点实验室",
        field="agriculture",
        sub_field="dairy",
        research_directions=["乳品质量安全检测"],
        region="150100",
    )
    await reg.platform(
        org["id"],
        name="内蒙古自治区草原生态重点实验室",
        field="agriculture",
        sub_field="grassland",
        research_directions=["草原生态修复"],
        region="150100",
        initial_state="proposed",
    )
    reader = reg.auth("applicant")
    page = (await reg.client.get("/platforms", params={"size": 2, "sort": "-name"}, headers=reader)).json()
    assert page["total"] == 3 and len(page["items"]) == 2
    agri = (
        await reg.client.get(
            "/platforms", params={"field": "agriculture", "state": "operating"}, headers=reader
        )
    ).json()
    assert [p["name"] for p in agri["items"]] == ["内蒙古自治区乳品质量安全重点实验室"]
    by_direction = (await reg.client.get("/platforms", params={"q": "生态修复"}, headers=reader)).json()
    assert [p["sub_field"] for p in by_direction["items"]] == ["grassland"]
    bad = await reg.client.get("/platforms", params={"kind": "bank"}, headers=reader)
    assert bad.status_code == 422


async def test_history_is_append_only_and_kept_per_platform(reg: Any) -> None:
    org = await reg.org(1)
    p = await reg.platform(org["id"])
    await reg.act(p["id"], "open_rectification")
    await reg.act(p["id"], "close_rectification")
    items = (await reg.client.get(f"/platforms/{p['id']}/history", headers=reg.auth("applicant"))).json()[
        "items"
    ]
    assert [i["action"] for i in items] == ["propose", "open_rectification", "close_rectification"]
    assert await reg.count(PlatformHistory) == 3
    types = [e["type"] for e in await reg.events("registry.platform.")]
    assert types == [
        "registry.platform.proposed",
        "registry.platform.rectification_opened",
        "registry.platform.rectification_closed",
    ]


async def test_staff_edit_is_recorded_with_its_reason_and_emits_updated(reg: Any) -> None:
    org = await reg.org(1)
    p = await reg.platform(org["id"])
    response = await reg.client.patch(
        f"/platforms/{p['id']}",
        json={"staff_count": 42, "approved_on": "2015-07-01", "reason": "年报更正"},
        headers=reg.staff,
    )
    assert response.status_code == 200, response.text
    assert response.json()["staff_count"] == 42 and response.json()["version"] == 2
    last = (await reg.client.get(f"/platforms/{p['id']}/history", headers=reg.staff)).json()["items"][-1]
    assert last["reason"] == "年报更正"
    assert last["details"]["changed"] == {"staff_count": [0, 42], "approved_on": ["2015-06-01", "2015-07-01"]}
    assert [e["type"] for e in await reg.events("registry.platform.updated")] == ["registry.platform.updated"]


async def test_history_rows_cannot_be_edited_or_deleted(reg: Any) -> None:
    from sqlalchemy import delete, update
    from sqlalchemy.exc import DBAPIError

    org = await reg.org(1)
    await reg.platform(org["id"])
    async with reg.svc.runtime.sessionmaker() as session:
        with pytest.raises(DBAPIError, match="append-only"):
            await session.execute(update(PlatformHistory).values(reason="改写历史"))
        await session.rollback()
        with pytest.raises(DBAPIError, match="append-only"):
            await session.execute(delete(PlatformHistory))


async def test_lab_director_updates_only_their_labs_instruments(reg: Any) -> None:
    org = await reg.org(1)
    lab, other = (
        await reg.platform(org["id"]),
        await reg.platform(org["id"], name="内蒙古自治区稀土冶金重点实验室"),
    )
    ids = []
    for platform in (lab, other):
        created = await reg.client.post(
            "/instruments",
            json={
                "platform_id": platform["id"],
                "owner_unit_id": org["id"],
                "name": "X射线衍射仪",
                "category": "analytical",
                "value_fen": 180_000_000,
            },
            headers=reg.staff,
        )
        ids.append(created.json()["id"])
    director = reg.auth("lab_director", platforms=[lab["id"]])
    ok = await reg.client.patch(
        f"/instruments/{ids[0]}", json={"open_for_sharing": False, "reason": "设备检修"}, headers=director
    )
    assert ok.status_code == 200 and ok.json()["open_for_sharing"] is False and ok.json()["version"] == 2
    refused = await reg.client.patch(
        f"/instruments/{ids[1]}", json={"open_for_sharing": False}, headers=director
    )
    assert refused.status_code == 403
    still_open = (
        await reg.client.get("/instruments", params={"platform_id": other["id"]}, headers=director)
    ).json()
    assert still_open["items"][0]["open_for_sharing"] is True
