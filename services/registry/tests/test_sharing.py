"""Shared instruments and open topics: edit, retire, close, merge moves; one event per change."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.asyncio


async def test_instruments_and_topics_change_retire_close_and_move_with_one_event_each(reg: Any) -> None:
    org, other_org = await reg.org(1), await reg.org(2)
    lab = await reg.platform(org["id"])
    survivor = await reg.platform(org["id"], name="内蒙古自治区稀土冶金重点实验室")
    director = reg.auth("lab_director", user_id="director-1", platforms=[lab["id"]])
    stranger = reg.auth("host_unit_admin", unit_id=other_org["id"])

    body = {
        "platform_id": lab["id"],
        "owner_unit_id": org["id"],
        "name": "场发射扫描电子显微镜",
        "category": "analytical",
        "value_fen": 350_000_000,
    }
    created = await reg.client.post("/instruments", json=body, headers=director)
    assert created.status_code == 201, created.text
    spare = await reg.client.post("/instruments", json=body | {"name": "X射线衍射仪"}, headers=director)
    instrument, spare_id = created.json(), spare.json()["id"]
    assert instrument["status"] == "in_service" and instrument["status_zh"] == "在用"

    edited = await reg.client.patch(
        f"/instruments/{instrument['id']}",
        json={"booking_contact": "0472-5100000", "annual_service_hours": 1200, "reason": "年度更新"},
        headers=director,
    )
    assert edited.status_code == 200 and edited.json()["version"] == 2
    refused = await reg.client.post(
        f"/instruments/{instrument['id']}/retire", json={"reason": "越权报废"}, headers=stranger
    )
    assert refused.status_code == 403
    retired = await reg.client.post(
        f"/instruments/{instrument['id']}/retire",
        json={"reason": "设备老化报废", "retired_on": "2026-10-31"},
        headers=director,
    )
    assert retired.status_code == 200, retired.text
    assert retired.json()["status"] == "retired" and retired.json()["open_for_sharing"] is False
    assert retired.json()["retired_on"] == "2026-10-31"
    again = await reg.client.post(
        f"/instruments/{instrument['id']}/retire", json={"reason": "重复报废"}, headers=director
    )
    assert again.status_code == 409
    frozen = await reg.client.patch(
        f"/instruments/{instrument['id']}", json={"open_for_sharing": True}, headers=director
    )
    assert frozen.status_code == 409
    in_service = (await reg.client.get("/instruments", headers=director)).json()["items"]
    assert [i["id"] for i in in_service] == [spare_id]
    everything = (await reg.client.get("/instruments", params={"status": "all"}, headers=director)).json()
    assert len(everything["items"]) == 2

    topic = await reg.client.post(
        "/topics",
        json={"platform_id": lab["id"], "year": 2026, "title": "稀土永磁材料晶界扩散开放课题"},
        headers=director,
    )
    assert topic.status_code == 201
    topic_id = topic.json()["id"]
    patched = await reg.client.patch(
        f"/topics/{topic_id}",
        json={"principal_name": "王立新", "funding_fen": 20_000_000, "reason": "确定负责人"},
        headers=director,
    )
    assert patched.status_code == 200 and patched.json()["version"] == 2
    assert (
        await reg.client.patch(f"/topics/{topic_id}", json={"title": "他人修改"}, headers=stranger)
    ).status_code == 403
    closed_topic = await reg.client.post(
        "/topics",
        json={"platform_id": lab["id"], "year": 2025, "title": "稀土发光材料开放课题"},
        headers=director,
    )
    closed_id = closed_topic.json()["id"]
    closing = await reg.client.post(
        f"/topics/{closed_id}/close", json={"reason": "结题验收"}, headers=director
    )
    assert closing.json()["status"] == "closed"
    late = await reg.client.patch(f"/topics/{closed_id}", json={"funding_fen": 1}, headers=director)
    assert late.status_code == 409

    merged = await reg.act(lab["id"], "merge", into_id=survivor["id"], document_number="内科发〔2026〕9号")
    assert merged.status_code == 200, merged.text
    moved = await reg.client.get(f"/instruments/{spare_id}", headers=director)
    assert moved.json()["platform_id"] == survivor["id"]

    def summary(events: list[dict[str, Any]]) -> list[tuple[str, Any, Any]]:
        return [
            (e["type"].removeprefix("registry."), e["data"].get("changed_fields"), e["data"]["version"])
            for e in events
        ]

    assert summary(await reg.events("registry.instrument.")) == [
        ("instrument.registered", None, 1),
        ("instrument.registered", None, 1),
        ("instrument.updated", ["annual_service_hours", "booking_contact"], 2),
        ("instrument.retired", ["open_for_sharing", "retired_on", "status"], 3),
        # 整合 moves both instruments (retired ones stay on the absorbed lab's record too)
        ("instrument.updated", ["platform_id"], 4),
        ("instrument.updated", ["platform_id"], 2),
    ]
    assert summary(await reg.events("registry.topic.")) == [
        ("topic.opened", None, 1),
        ("topic.updated", ["funding_fen", "principal_name"], 2),
        ("topic.opened", None, 1),
        ("topic.closed", ["status"], 2),
        ("topic.updated", ["platform_id"], 3),
    ]
    [moved_topic] = [e for e in await reg.events("registry.topic.updated") if e["data"]["version"] == 3]
    assert moved_topic["data"]["platform_id"] == survivor["id"] and moved_topic["data"]["status"] == "open"


async def test_policy_change_is_an_event_once_and_no_event_when_unchanged(reg: Any) -> None:
    for _ in range(2):
        response = await reg.client.put(
            "/policy/director_max_age", json={"value": 62, "reason": "延迟退休政策"}, headers=reg.staff
        )
        assert response.status_code == 200
    [event] = await reg.events("registry.policy.")
    assert event["type"] == "registry.policy.changed"
    assert event["data"] == {
        "key": "director_max_age",
        "value": 62,
        "previous": 60,
        "default": 60,
        "reason": "延迟退休政策",
        "version": 1,
    }


async def test_an_instrument_not_open_for_sharing_is_seen_only_by_those_who_manage_it(reg: Any) -> None:
    org, other_org = await reg.org(1), await reg.org(2)
    lab = await reg.platform(org["id"])
    body = {
        "owner_unit_id": org["id"],
        "name": "高分辨透射电子显微镜",
        "category": "analytical",
        "value_fen": 900_000_000,
        "location": "呼和浩特市赛罕区某楼204室",
    }
    closed = await reg.client.post(
        "/instruments", json=body | {"platform_id": lab["id"], "open_for_sharing": False}, headers=reg.staff
    )
    own = await reg.client.post(
        "/instruments", json=body | {"name": "单位自用质谱仪", "open_for_sharing": False}, headers=reg.staff
    )
    shared = await reg.client.post("/instruments", json=body | {"name": "共享核磁共振仪"}, headers=reg.staff)
    assert {closed.status_code, own.status_code, shared.status_code} == {201}
    closed_id, own_id, shared_id = closed.json()["id"], own.json()["id"], shared.json()["id"]

    async def names(headers: dict[str, str]) -> set[str]:
        page = await reg.client.get("/instruments", headers=headers)
        assert page.status_code == 200, page.text
        return {i["id"] for i in page.json()["items"]}

    managers = {
        "staff": reg.staff,
        "host unit": reg.auth("host_unit_admin", unit_id=org["id"]),
    }
    for who, headers in managers.items():
        assert await names(headers) == {closed_id, own_id, shared_id}, who
        assert (await reg.client.get(f"/instruments/{own_id}", headers=headers)).status_code == 200
    director = reg.auth("lab_director", platforms=[lab["id"]])
    assert await names(director) == {closed_id, shared_id}
    for headers in (reg.auth("applicant"), reg.auth("host_unit_admin", unit_id=other_org["id"])):
        assert await names(headers) == {shared_id}
        for hidden in (closed_id, own_id):
            response = await reg.client.get(f"/instruments/{hidden}", headers=headers)
            assert response.status_code == 404 and "赛罕区" not in response.text
        assert (await reg.client.get(f"/instruments/{shared_id}", headers=headers)).status_code == 200
