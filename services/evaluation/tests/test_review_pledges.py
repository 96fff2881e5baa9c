"""诚信和保密承诺: an expert signs the round's integrity and confidentiality pledge before any
application or score sheet of the round opens; the signature is recorded with its time."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

import pytest

pytestmark = pytest.mark.asyncio


async def test_a_sheet_opens_only_after_the_expert_signs_the_rounds_pledge(office: Any) -> None:
    experts = [await office.expert() for _ in range(3)]
    call = uuid4()
    await office.item(call, funding_fen=100)
    round_id = await office.round_with(call, 1)
    await office.open_for_review(round_id, k=2)
    live = await office.live(round_id)
    person_of = {e["id"]: e["person_id"] for e in experts}
    first, second = (person_of[str(a.expert_id)] for a in live)
    task = (await office.tasks(first))[0]
    assert task["round_id"] == round_id and task["pledge_signed"] is False
    me = office.as_person(first)
    sheet = f"/assignments/{task['assignment_id']}/sheet"

    # the sheet (the application's content) stays shut: 409 naming the pledge and where to sign
    for r in (
        await office.client.get(sheet, headers=me),
        await office.client.put(sheet, json={"scores": {}}, headers=me),
        await office.client.post(sheet + "/submit", json={"scores": {}}, headers=me),
    ):
        assert r.status_code == 409, r.text
        problem = r.json()
        assert problem["code"] == "pledge_required" and "承诺" in problem["detail_zh"]
        assert problem["pledge"] == f"/rounds/{round_id}/pledge" and problem["round_id"] == round_id

    pledge = (await office.client.get(f"/rounds/{round_id}/pledge", headers=me)).json()
    assert pledge["signed"] is False and "保密" in pledge["text"]
    r = await office.client.post(f"/rounds/{round_id}/pledge", json={"accepted": False}, headers=me)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "accepted"
    r = await office.client.post(
        f"/rounds/{round_id}/pledge", json={"accepted": True, "text_version": "2019-1"}, headers=me
    )
    assert (
        r.status_code == 422 and r.json()["errors"][0]["message_zh"] == "承诺书内容已更新，请重新阅读后签署"
    )
    # nobody signs for a round they have no task in
    stranger = office.as_person(uuid4())
    assert (
        await office.client.post(f"/rounds/{round_id}/pledge", json={"accepted": True}, headers=stranger)
    ).status_code == 404

    r = await office.client.post(f"/rounds/{round_id}/pledge", json={"accepted": True}, headers=me)
    assert r.status_code == 201, r.text
    signed = r.json()
    assert signed["signed"] is True and signed["signed_at"].endswith("+08:00")
    again = await office.client.post(f"/rounds/{round_id}/pledge", json={"accepted": True}, headers=me)
    assert again.status_code == 200 and again.json()["signed_at"] == signed["signed_at"]
    assert (await office.tasks(first))[0]["pledge_signed"] is True

    r = await office.client.get(sheet, headers=me)
    assert r.status_code == 200 and r.json()["form"]["indicators"], r.text
    # one expert's pledge opens nobody else's sheet
    other = (await office.tasks(second))[0]
    r = await office.client.get(
        f"/assignments/{other['assignment_id']}/sheet", headers=office.as_person(second)
    )
    assert r.status_code == 409 and r.json()["code"] == "pledge_required"
    # the expert scores as before once signed
    assert (await office.score(first, task["assignment_id"], 8.0, recommendation="fund")).status_code == 200

    # the office sees who signed and when; the audit trail has it too
    listed = (await office.client.get(f"/rounds/{round_id}/pledges", headers=office.results)).json()
    assert [p["expert_id"] for p in listed["items"]] == [str(live[0].expert_id)]
    assert listed["items"][0]["signed_at"] == signed["signed_at"] and listed["total"] == 1
    supervisor = office.auth("department_staff", user_id="sup-1", duties=["supervision"])
    trail = (
        await office.client.get(
            "/audit", params={"entity_type": "review_round", "entity_id": round_id}, headers=supervisor
        )
    ).json()["items"]
    signatures = [e for e in trail if e["action"] == "review_pledge.signed"]
    assert [e["actor_id"] for e in signatures] == [f"p-{first}"]


async def test_recusing_needs_no_pledge(office: Any) -> None:
    experts = [await office.expert() for _ in range(3)]
    call = uuid4()
    await office.item(call, funding_fen=100)
    round_id = await office.round_with(call, 1)
    await office.open_for_review(round_id, k=1, reserve=1)
    person_of = {e["id"]: e["person_id"] for e in experts}
    a = (await office.live(round_id))[0]
    r = await office.client.post(
        f"/assignments/{a.id}/recuse",
        json={"reason": "申请人为本人近三年合作者"},
        headers=office.as_person(person_of[str(a.expert_id)]),
    )
    assert r.status_code == 200 and r.json()["status"] == "voided", r.text
