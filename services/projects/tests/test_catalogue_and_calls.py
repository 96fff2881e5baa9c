"""The plan catalogue (seed 003) and calls: rules as data, states, events, suggestions from clusters."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

import pytest

from projects.registry_views.events import (
    GUIDELINE_SUGGESTED,
    GUIDELINE_WITHDRAWN,
    GuidelineSuggested,
    GuidelineWithdrawn,
)
from shared.testing.servers import eventually

pytestmark = pytest.mark.asyncio


async def test_catalogue_has_the_five_plan_categories_and_their_programmes(world: Any) -> None:
    codes = (await world.client.get("/catalogue/codes", headers=world.auth("applicant"))).json()
    assert [c["zh"] for c in codes["plan_categories"]] == [
        "科技重大专项计划",
        "重点研发和成果转化计划",
        "创新平台建设计划",
        "创新能力提升计划",
        "基础研究计划",
    ]
    r = await world.client.get("/catalogue/programmes", headers=world.auth("applicant"))
    body = r.json()
    assert body["total"] == 14 and body["next_cursor"] is None
    assert {p["plan_category"] for p in body["items"]} == {c["code"] for c in codes["plan_categories"]}
    nsf = next(p for p in body["items"] if p["code"] == "basic.nsf")
    assert nsf["name"] == "自然科学基金项目" and nsf["funding_source"] == "自治区自然科学基金"
    assert nsf["organisation_modes_zh"] == ["竞争立项（自由申报）"] and "前资助" in nsf["funding_types_zh"]
    one = await world.client.get("/catalogue/programmes/basic.nsf", headers=world.auth("applicant"))
    assert one.status_code == 200 and one.json() == nsf
    basic = await world.client.get(
        "/catalogue/programmes", params={"plan_category": "basic_research"}, headers=world.staff
    )
    assert {p["plan_category_zh"] for p in basic.json()["items"]} == {"基础研究计划"}


async def test_staff_edit_a_programme_with_a_reason_and_others_may_not(world: Any) -> None:
    body = {"organisation_modes": ["open_competition", "unveiling"], "reason": "2027年起试行揭榜挂帅"}
    assert (
        await world.client.patch(
            "/catalogue/programmes/basic.nsf", json=body, headers=world.auth("applicant")
        )
    ).status_code == 403
    r = await world.client.patch("/catalogue/programmes/basic.nsf", json=body, headers=world.staff)
    assert r.status_code == 200 and r.json()["version"] == 2
    bad = await world.client.patch(
        "/catalogue/programmes/basic.nsf",
        json={"funding_types": ["gift"], "reason": "试行"},
        headers=world.staff,
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "funding_types"
    assert (
        await world.client.patch("/catalogue/programmes/none", json=body, headers=world.staff)
    ).status_code == 404


async def test_a_call_must_fit_its_programme_and_its_own_numbers(world: Any) -> None:
    now = "2027-01-01T09:00:00"
    base = {
        "programme_code": "basic.nsf",
        "year": 2027,
        "title": "指南",
        "opens_at": now,
        "closes_at": "2027-03-01T17:00:00",
        "budget_fen": 1000,
        "max_funding_fen": 100,
        "projects_to_fund": 1,
    }
    r = await world.client.post("/calls", json=base | {"organisation_mode": "unveiling"}, headers=world.staff)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "organisation_mode"
    r = await world.client.post(
        "/calls",
        json=base | {"closes_at": "2026-12-01T00:00:00", "max_funding_fen": 5000},
        headers=world.staff,
    )
    assert {e["field"] for e in r.json()["errors"]} == {"closes_at", "max_funding_fen"}
    r = await world.client.post(
        "/calls", json=base | {"limits": {"lead_running_max": -1}}, headers=world.staff
    )
    assert r.status_code == 422
    r = await world.client.post("/calls", json=base, headers=world.staff)
    assert r.status_code == 201
    # Beijing time when no offset is given.
    assert r.json()["closes_at"] in (
        "2027-03-01T09:00:00Z",
        "2027-03-01T09:00:00+00:00",
        "2027-03-01T17:00:00+08:00",
    )
    assert r.json()["state"] == "draft" and r.json()["allowed_actions"] == ["publish"]
    assert (
        await world.client.get(f"/calls/{r.json()['id']}", headers=world.auth("applicant"))
    ).status_code == 404


async def test_call_states_move_in_order_and_publishing_emits_the_event(world: Any) -> None:
    call = await world.call(publish=False)
    cid = call["id"]
    r = await world.client.post(f"/calls/{cid}/actions/close", json={}, headers=world.staff)
    assert r.status_code == 409 and r.json()["allowed_actions"] == ["publish"]
    r = await world.client.post(f"/calls/{cid}/actions/publish", json={}, headers=world.auth("applicant"))
    assert r.status_code == 403
    for action, state in [
        ("publish", "published"),
        ("close", "closed"),
        ("start_review", "reviewing"),
        ("publish_results", "results_published"),
        ("archive", "archived"),
    ]:
        r = await world.client.post(f"/calls/{cid}/actions/{action}", json={}, headers=world.staff)
        assert r.status_code == 200 and r.json()["state"] == state
    published = await world.events("projects.call.published")
    assert len(published) == 1 and published[0]["data"]["programme_code"] == "basic.nsf"
    assert published[0]["data"]["plan_category"] == "basic_research"
    r = await world.client.patch(f"/calls/{cid}", json={"title": "改名"}, headers=world.staff)
    assert r.status_code == 409


async def test_a_published_call_changes_only_its_window_and_text_with_a_reason(world: Any) -> None:
    call = await world.call()
    r = await world.client.patch(f"/calls/{call['id']}", json={"budget_fen": 1}, headers=world.staff)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "budget_fen"
    r = await world.client.patch(
        f"/calls/{call['id']}", json={"title": "更正后的指南名称"}, headers=world.staff
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "reason"
    listed = await world.client.get(
        "/calls", params={"year": 2027, "state": "published"}, headers=world.auth("applicant")
    )
    assert listed.json()["total"] == 1 and listed.json()["items"][0]["open_now"] is True


async def test_directions_suggested_by_lab_clusters_reach_staff_drafting_calls(world: Any) -> None:
    sid = uuid4()
    payload = GuidelineSuggested(
        suggestion_id=sid,
        cluster_id=uuid4(),
        cluster_name="稀土新材料实验室群",
        year=2027,
        title="稀土永磁材料方向",
        directions=["高丰度稀土永磁", "稀土储氢"],
        field="materials",
        rationale="产业链急需",
    )
    envelope = await world.publish(GUIDELINE_SUGGESTED, payload, f"cluster/{payload.cluster_id}")
    bus = world.svc.runtime.bus
    await bus.js.publish(
        bus.subject_for(GUIDELINE_SUGGESTED.name), envelope.model_dump_json(exclude_none=True).encode()
    )

    async def seen() -> bool:
        r = await world.client.get("/calls/guideline-suggestions", params={"year": 2027}, headers=world.staff)
        return bool(r.json()["total"] == 1)

    await eventually(seen, timeout=10)
    r = await world.client.get("/calls/guideline-suggestions", headers=world.staff)
    assert r.json()["items"][0]["directions"] == ["高丰度稀土永磁", "稀土储氢"] and r.json()["total"] == 1
    one = r.json()["items"][0]
    url = f"/calls/guideline-suggestions/{one['suggestion_id']}"
    assert (await world.client.get(url, headers=world.staff)).json() == one
    missing = await world.client.get(f"/calls/guideline-suggestions/{uuid4()}", headers=world.staff)
    assert missing.status_code == 404 and missing.json()["detail_zh"] == "未找到该指南建议"
    assert (
        await world.client.get("/calls/guideline-suggestions", headers=world.auth("applicant"))
    ).status_code == 403


async def test_a_withdrawn_suggestion_leaves_the_drafters_list(world: Any) -> None:
    sid, cluster_id = uuid4(), uuid4()
    payload = GuidelineSuggested(
        suggestion_id=sid,
        cluster_id=cluster_id,
        cluster_name="稀土新材料实验室群",
        year=2028,
        title="稀土储氢材料",
        directions=["稀土储氢合金"],
        field="materials",
        rationale="服务氢能产业链",
    )
    await world.publish(GUIDELINE_SUGGESTED, payload, f"cluster/{cluster_id}")

    async def listed() -> int:
        r = await world.client.get("/calls/guideline-suggestions", params={"year": 2028}, headers=world.staff)
        return int(r.json()["total"])

    await eventually(lambda: _equals(listed, 1), timeout=10)
    await world.publish(
        GUIDELINE_WITHDRAWN,
        GuidelineWithdrawn(suggestion_id=sid, cluster_id=cluster_id, version=2),
        f"cluster/{cluster_id}",
    )
    await eventually(lambda: _equals(listed, 0), timeout=10)


async def _equals(probe: Any, expected: int) -> bool:
    return bool(await probe() == expected)
