"""Platforms: registration, the lifecycle state machine, 充实/调整/整合/撤销, history, access."""

from __future__ import annotations

import re
from typing import Any

import pytest

from registry.platforms.machine import PLATFORM_MACHINE
from registry.platforms.models import Platform, PlatformHistory
from registry.platforms.service import KIND_CHANGES

pytestmark = pytest.mark.asyncio

# (action, from-state) for every allowed transition, and the state it leads to.
ALLOWED = [
    (t.action, source, t.target)
    for t in PLATFORM_MACHINE.transitions
    if t.action not in ("merge", *KIND_CHANGES)  # these need more than a reason: own tests
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
    # the Chinese text names the state and the action by their labels, never by their codes
    assert f"「{before['state_zh']}」" in problem["detail_zh"]
    assert not re.search(r"[a-z]", problem["detail_zh"]), problem["detail_zh"]
    assert problem["current_state_zh"] == before["state_zh"]
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


async def test_kind_specific_attributes_are_checked_against_the_platforms_kind(reg: Any) -> None:
    org = await reg.org(1)
    clinical = {"disease_area": "心血管疾病", "hospital_grade": "tertiary_a", "network_member_units": 38}
    wrong = await reg.client.post(
        "/platforms",
        json=reg.platform_body(org["id"], kind="national_key_lab", kind_attributes=clinical),
        headers=reg.staff,
    )
    assert wrong.status_code == 422
    errors = {e["field"]: e for e in wrong.json()["errors"]}
    assert set(errors) == {
        "kind_attributes.disease_area",
        "kind_attributes.hospital_grade",
        "kind_attributes.network_member_units",
    }
    assert errors["kind_attributes.disease_area"]["code"] == "not_an_attribute_of_kind"
    assert "全国重点实验室" in errors["kind_attributes.disease_area"]["message_zh"]
    assert await reg.count(Platform) == 0
    centre = await reg.platform(
        org["id"],
        name="内蒙古自治区心血管疾病临床医学研究中心",
        kind="clinical_research_centre",
        field="medicine",
        sub_field="clinical",
        kind_attributes=clinical,
    )
    assert centre["kind_attributes"] == clinical
    bad_patch = await reg.client.patch(
        f"/platforms/{centre['id']}",
        json={"kind_attributes": {"hospital_grade": "tertiary_b", "academicians": []}},
        headers=reg.staff,
    )
    assert bad_patch.status_code == 422
    assert {e["field"] for e in bad_patch.json()["errors"]} == {
        "kind_attributes.hospital_grade",
        "kind_attributes.academicians",
    }
    assert bad_patch.json()["errors"][0]["message_zh"]
    patched = await reg.client.patch(
        f"/platforms/{centre['id']}",
        json={"kind_attributes": clinical | {"clinical_trials_per_year": 12}, "reason": "年报"},
        headers=reg.staff,
    )
    assert patched.status_code == 200 and patched.json()["kind_attributes"]["clinical_trials_per_year"] == 12
    assert patched.json()["version"] == 2
    codes = (await reg.client.get("/metadata/codes", headers=reg.staff)).json()
    assert {a["name"] for a in codes["platform_kind_attributes"]["clinical_research_centre"]} >= set(clinical)


async def _walk(reg: Any, path: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = ""
    while cursor is not None:
        page = await reg.client.get(path, params=params | {"cursor": cursor}, headers=reg.staff)
        assert page.status_code == 200, page.text
        body = page.json()
        assert body["total"] is None and body["page"] is None and len(body["items"]) <= params["size"]
        items += body["items"]
        cursor = body["next_cursor"]
    return items


async def test_cursor_paging_walks_the_same_order_as_pages_without_skips_or_repeats(reg: Any) -> None:
    org = await reg.org(1)
    dates = ["2015-06-01", None, "2018-03-01", "2015-06-01", None, "2020-01-01", "2012-09-09"]
    for n, approved in enumerate(dates):
        await reg.platform(org["id"], name=f"内蒙古自治区第{n}号重点实验室", approved_on=approved, code=None)
    walks = {}
    for sort in ("-approved_on", "approved_on", "name", "-code"):
        by_pages = []
        for number in (1, 2, 3, 4):
            page = await reg.client.get(
                "/platforms", params={"sort": sort, "size": 2, "page": number}, headers=reg.staff
            )
            assert page.json()["total"] == 7
            by_pages += page.json()["items"]
        walks[sort] = await _walk(reg, "/platforms", {"sort": sort, "size": 2})
        assert [p["id"] for p in walks[sort]] == [p["id"] for p in by_pages], sort
        assert len({p["id"] for p in walks[sort]}) == 7
    newest_first = [p["approved_on"] for p in walks["-approved_on"]]
    assert newest_first == ["2020-01-01", "2018-03-01", "2015-06-01", "2015-06-01", "2012-09-09", None, None]
    first = (
        await reg.client.get(
            "/platforms", params={"sort": "name", "size": 3, "cursor": ""}, headers=reg.staff
        )
    ).json()
    # A lab registered meanwhile that sorts before the cursor does not shift the next page.
    await reg.platform(org["id"], name="内蒙古自治区第0号乙重点实验室")
    rest = await reg.client.get(
        "/platforms", params={"sort": "name", "size": 10, "cursor": first["next_cursor"]}, headers=reg.staff
    )
    seen = [p["name"] for p in first["items"] + rest.json()["items"]]
    assert len(seen) == len(set(seen)) == 7 and "内蒙古自治区第0号乙重点实验室" not in seen
    counted = await reg.client.get(
        "/platforms", params={"size": 3, "cursor": "", "with_total": "true"}, headers=reg.staff
    )
    assert counted.json()["total"] == 8
    other_sort = await reg.client.get(
        "/platforms", params={"sort": "code", "cursor": first["next_cursor"]}, headers=reg.staff
    )
    assert other_sort.status_code == 422 and other_sort.json()["errors"][0]["field"] == "cursor"
    garbage = await reg.client.get("/platforms", params={"cursor": "not-a-cursor"}, headers=reg.staff)
    assert garbage.status_code == 422 and garbage.json()["errors"][0]["message_zh"] == "分页游标无效"
    for n in range(5):
        await reg.person(10 + n, name=f"测试人员{n % 2}")
    people = await _walk(reg, "/people", {"sort": "-name", "size": 2})
    assert [p["name"] for p in people] == ["测试人员1"] * 2 + ["测试人员0"] * 3
    assert len({p["id"] for p in people}) == 5
    orgs = await _walk(reg, "/organisations", {"size": 1})
    instruments = await _walk(reg, "/instruments", {"size": 1, "sort": "-value_fen"})
    assert [o["id"] for o in orgs] == [org["id"]] and instruments == []


async def test_concurrent_registrations_of_one_series_get_distinct_consecutive_codes(reg: Any) -> None:
    import asyncio

    org = await reg.org(1)
    bodies = [reg.platform_body(org["id"], name=f"内蒙古自治区第{n}批并发登记重点实验室") for n in range(8)]
    responses = await asyncio.gather(
        *(reg.client.post("/platforms", json=body, headers=reg.staff) for body in bodies)
    )
    assert [r.status_code for r in responses] == [201] * 8, [
        r.text for r in responses if r.status_code != 201
    ]
    assert sorted(r.json()["code"] for r in responses) == [f"ZDS-2015-{n:03d}" for n in range(1, 9)]
    explicit = await reg.platform(org["id"], name="内蒙古自治区指定编号重点实验室", code="ZDS-2015-020")
    following = await reg.platform(org["id"], name="内蒙古自治区后续登记重点实验室")
    other_year = await reg.platform(org["id"], name="内蒙古自治区新批重点实验室", approved_on="2026-02-01")
    assert (explicit["code"], following["code"], other_year["code"]) == (
        "ZDS-2015-020",
        "ZDS-2015-021",
        "ZDS-2026-001",
    )
