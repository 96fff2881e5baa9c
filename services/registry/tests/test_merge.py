"""整合: members, instruments and open topics move to the survivor together, or not at all."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import select

from registry.platforms import repository
from registry.platforms import service as platform_service
from registry.platforms.schemas import ActionRequest
from registry.sharing.models import Instrument, OpenTopic
from shared.auth import Principal
from shared.uow import UnitOfWork

pytestmark = pytest.mark.asyncio


async def two_labs_with_things(reg: Any) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    org = await reg.org(1)
    absorbed = await reg.platform(org["id"], name="内蒙古自治区稀土永磁重点实验室")
    survivor = await reg.platform(org["id"], name="内蒙古自治区稀土功能材料重点实验室")
    a, b, shared_person = await reg.person(1), await reg.person(2), await reg.person(3)
    for pid in (a["id"], shared_person["id"]):
        await reg.client.post(
            f"/platforms/{absorbed['id']}/members", json={"person_id": pid}, headers=reg.staff
        )
    await reg.client.post(
        f"/platforms/{survivor['id']}/members", json={"person_id": shared_person["id"]}, headers=reg.staff
    )
    await reg.client.post(
        f"/platforms/{survivor['id']}/members", json={"person_id": b["id"]}, headers=reg.staff
    )
    instrument = await reg.client.post(
        "/instruments",
        json={
            "platform_id": absorbed["id"],
            "owner_unit_id": org["id"],
            "name": "场发射扫描电镜",
            "category": "analytical",
            "value_fen": 450_000_000,
        },
        headers=reg.staff,
    )
    assert instrument.status_code == 201, instrument.text
    for title in ("稀土永磁体晶界扩散开放课题", "稀土永磁回收开放课题"):
        topic = await reg.client.post(
            "/topics", json={"platform_id": absorbed["id"], "year": 2026, "title": title}, headers=reg.staff
        )
        assert topic.status_code == 201
    closed = (
        await reg.client.get("/topics", params={"platform_id": absorbed["id"]}, headers=reg.staff)
    ).json()["items"][0]
    await reg.client.post(f"/topics/{closed['id']}/close", headers=reg.staff)
    return absorbed, survivor, {"a": a, "b": b, "shared": shared_person}


async def test_merge_moves_members_instruments_and_open_topics(reg: Any) -> None:
    absorbed, survivor, people = await two_labs_with_things(reg)
    response = await reg.act(
        absorbed["id"], "merge", into_id=survivor["id"], document_number="内科发〔2026〕8号"
    )
    assert response.status_code == 200, response.text
    assert response.json()["state"] == "merged" and response.json()["merged_into_id"] == survivor["id"]

    members = (await reg.client.get(f"/platforms/{survivor['id']}/members", headers=reg.staff)).json()[
        "items"
    ]
    assert sorted(m["person_id"] for m in members) == sorted(p["id"] for p in people.values())
    left = (await reg.client.get(f"/platforms/{absorbed['id']}/members", headers=reg.staff)).json()["items"]
    assert left == []
    instruments = (
        await reg.client.get("/instruments", params={"platform_id": survivor["id"]}, headers=reg.staff)
    ).json()
    assert instruments["total"] == 1
    open_topics = (
        await reg.client.get("/topics", params={"platform_id": survivor["id"]}, headers=reg.staff)
    ).json()
    assert open_topics["total"] == 1  # the closed topic stays with the absorbed lab's record
    still_there = (
        await reg.client.get("/topics", params={"platform_id": absorbed["id"]}, headers=reg.staff)
    ).json()
    assert [t["status"] for t in still_there["items"]] == ["closed"]

    absorbed_history = (
        await reg.client.get(f"/platforms/{absorbed['id']}/history", headers=reg.staff)
    ).json()["items"]
    assert absorbed_history[-1]["action"] == "merge"
    assert absorbed_history[-1]["related_platform_id"] == survivor["id"]
    survivor_history = (
        await reg.client.get(f"/platforms/{survivor['id']}/history", headers=reg.staff)
    ).json()["items"]
    assert survivor_history[-1]["action"] == "absorb"
    assert survivor_history[-1]["details"]["absorbed_code"] == absorbed["code"]
    merged = await reg.events("registry.platform.merged")
    absorbed_events = await reg.events("registry.platform.absorbed")
    assert len(merged) == 1 and len(absorbed_events) == 1
    assert merged[0]["data"]["merged_into_id"] == survivor["id"]
    # The absorbed lab's record stays readable and linked, and is read-only.
    record = (await reg.client.get(f"/platforms/{absorbed['id']}", headers=reg.auth("applicant"))).json()
    assert record["merged_into_id"] == survivor["id"] and record["allowed_actions"] == []
    patch = await reg.client.patch(f"/platforms/{absorbed['id']}", json={"staff_count": 3}, headers=reg.staff)
    assert patch.status_code == 409


async def test_merge_that_fails_halfway_changes_nothing(reg: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    absorbed, survivor, _ = await two_labs_with_things(reg)
    events_before = len(await reg.events())

    async def broken(*args: Any) -> list[str]:
        raise RuntimeError("disk full while moving topics")

    monkeypatch.setattr(repository, "move_open_topics", broken)
    staff = Principal(user_id="staff-1", roles=frozenset({"department_staff"}))
    async with reg.svc.runtime.sessionmaker() as session:
        uow = UnitOfWork(session, reg.svc.runtime.tables, actor=staff.actor())
        with pytest.raises(RuntimeError):
            await platform_service.merge(
                uow, staff, UUID(absorbed["id"]), ActionRequest(reason="整合", into_id=survivor["id"])
            )
        await uow.rollback()

    after = (await reg.client.get(f"/platforms/{absorbed['id']}", headers=reg.staff)).json()
    assert after["state"] == "operating" and after["merged_into_id"] is None
    members = (await reg.client.get(f"/platforms/{absorbed['id']}/members", headers=reg.staff)).json()[
        "items"
    ]
    assert len(members) == 2
    async with reg.svc.runtime.sessionmaker() as session:
        owners = (await session.execute(select(Instrument.platform_id))).scalars().all()
        topic_owners = (await session.execute(select(OpenTopic.platform_id))).scalars().all()
    assert {str(o) for o in owners} == {absorbed["id"]}
    assert {str(o) for o in topic_owners} == {absorbed["id"]}
    assert len(await reg.events()) == events_before


@pytest.mark.parametrize("survivor_state", ["proposed", "revoked"])
async def test_merge_into_a_platform_that_is_not_running_is_refused(reg: Any, survivor_state: str) -> None:
    org = await reg.org(1)
    absorbed = await reg.platform(org["id"])
    survivor = await reg.platform(org["id"], name="内蒙古自治区稀土冶金重点实验室", initial_state="proposed")
    if survivor_state == "revoked":
        await reg.act(survivor["id"], "revoke")
    response = await reg.act(absorbed["id"], "merge", into_id=survivor["id"])
    assert response.status_code == 409
    assert (await reg.client.get(f"/platforms/{absorbed['id']}", headers=reg.staff)).json()[
        "state"
    ] == "operating"


async def test_merge_needs_a_survivor_other_than_itself(reg: Any) -> None:
    org = await reg.org(1)
    p = await reg.platform(org["id"])
    missing = await reg.act(p["id"], "merge")
    assert missing.status_code == 422 and missing.json()["errors"][0]["field"] == "into_id"
    itself = await reg.act(p["id"], "merge", into_id=p["id"])
    assert itself.status_code == 422
