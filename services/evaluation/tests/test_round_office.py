"""What a review office relies on: only live reviews count, one person one duty per round, a
traceable result, and a round API that says what it holds and what may be done next."""

from __future__ import annotations

import itertools
from typing import Any
from uuid import UUID, uuid4

import pytest
from sqlalchemy import select

from evaluation.experts.events import APPLICATION_READY, ApplicationReady
from shared.testing.events import publish_as_producer
from shared.testing.servers import eventually

pytestmark = pytest.mark.asyncio


def supervisor(office: Any) -> dict[str, str]:
    return office.auth("department_staff", user_id="sup-1", duties=["supervision"])  # type: ignore[no-any-return]


async def summary(office: Any, round_id: str) -> dict[str, Any]:
    r = await office.client.get(f"/rounds/{round_id}/score-sheets", headers=office.results)
    assert r.status_code == 200, r.text
    return dict(r.json())


async def test_a_voided_review_never_counts_in_aggregation_flags_ranking_or_finalizing(office: Any) -> None:
    experts = [await office.expert() for _ in range(5)]
    call = uuid4()
    item = await office.item(call, funding_fen=100)
    round_id = await office.round_with(call, 1)
    await office.open_for_review(round_id, k=4)
    person_of = {e["id"]: e["person_id"] for e in experts}
    live = await office.live(round_id)
    assert len(live) == 4
    # three experts give 60, one gives 95: 35 apart, a dispersion flag for the panel
    outlier = live[0]
    for a in live:
        value = 9.5 if a is outlier else 6.0
        r = await office.score(person_of[str(a.expert_id)], str(a.id), value, recommendation="fund")
        assert r.status_code == 200, r.text
    before = (await summary(office, round_id))["items"][0]
    assert (before["reviewers"], before["mean"], before["dispersion_flag"]) == (4, 68.75, True)

    # the expert who gave 95 is suspended: the assignment is voided and replaced (补抽)
    suspended = await office.client.post(
        f"/experts/{outlier.expert_id}/suspend", json={"reason": "诚信问题核查中"}, headers=office.db_staff
    )
    assert suspended.status_code == 200, suspended.text
    after = await summary(office, round_id)
    counted = after["items"][0]
    assert (counted["reviewers"], counted["mean"], counted["trimmed_mean"]) == (3, 60.0, 60.0)
    assert not counted["dispersion_flag"]
    set_aside = [s for s in after["sheets"] if not s["counted"]]
    assert [s["expert_id"] for s in set_aside] == [str(outlier.expert_id)]
    assert "suspended" in set_aside[0]["voided_reason"] and set_aside[0]["z_score"] is None
    queue = (await office.client.get(f"/rounds/{round_id}/dispersion", headers=office.results)).json()
    assert (queue["items"], queue["total"]) == ([], 0)
    ranking = (await office.client.get(f"/rounds/{round_id}/ranking", headers=office.results)).json()
    assert [(i["item_id"], i["score"]) for i in ranking["items"]] == [(str(item), 60.0)]

    done = await office.client.post(f"/rounds/{round_id}/finalize", headers=office.results)
    assert done.status_code == 200, done.text
    result = done.json()["results"][0]
    assert (result["score"], result["finalized_by"]) == (60.0, "res-1") and result["finalized_at"]
    t = office.svc.runtime.tables.outbox
    async with office.svc.runtime.sessionmaker() as s:
        sent = (
            (await s.execute(select(t.c.envelope).where(t.c.event_type == "evaluation.review.completed")))
            .scalars()
            .all()
        )
    assert [(e["data"]["score"], e["data"]["reviewer_count"], e["actorid"]) for e in sent] == [
        (60.0, 3, "res-1")
    ]
    event_id = sent[0]["id"]
    final = (await summary(office, round_id))["items"][0]
    assert final["finalized"] and final["finalized_by"] == "res-1" and final["finalized_at"]

    # the audit trail of the result names who finalized it, when, and the event it sent
    trail = await office.client.get(
        "/audit", params={"entity_type": "round_item", "entity_id": str(item)}, headers=supervisor(office)
    )
    assert trail.status_code == 200, trail.text
    completed = [e for e in trail.json()["items"] if e["action"] == "review_completed"]
    assert len(completed) == 1
    assert completed[0]["actor_id"] == "res-1" and completed[0]["occurred_at"]
    assert completed[0]["event_id"] == event_id
    round_trail = await office.client.get(
        "/audit", params={"entity_type": "review_round", "entity_id": round_id}, headers=supervisor(office)
    )
    actions = [(e["action"], e["actor_id"]) for e in round_trail.json()["items"]]
    assert ("round_finalized", "res-1") in actions and ("experts_requested", "req-1") in actions


async def test_one_person_holding_two_duties_for_one_round_is_refused(office: Any) -> None:
    for _ in range(3):
        await office.expert()
    both = office.auth("department_staff", user_id="both-1", duties=["request", "draw"])
    round_id, _, _ = await office.requested_round(1, k=2)
    # both-1 may draw this round (someone else requested it) ...
    queued = await office.client.post(f"/rounds/{round_id}/runs", json={"mode": "draw"}, headers=both)
    assert queued.status_code == 202, queued.text
    await office.finished(queued.json()["id"])
    # ... but not request experts for it as well
    refused = await office.client.post(f"/rounds/{round_id}/request", json={"k": 2}, headers=both)
    assert refused.status_code == 403
    problem = refused.json()
    assert problem["code"] == "separation_of_duties" and problem["rule"] == "separation_of_duties"
    assert (problem["held_duty"], problem["refused_duty"]) == ("draw", "request")
    assert problem["detail_zh"].startswith("职责分离")

    # whoever drew a round may not read its scores, even with the results duty in the token
    drawer_and_results = office.auth("department_staff", user_id="draw-1", duties=["draw", "results"])
    await office.run(round_id, {"mode": "draw", "seed": 3, "commit": True})
    opened = await office.client.post(f"/rounds/{round_id}/open", headers=office.drawer)
    assert opened.status_code == 200, opened.text
    sheets = await office.client.get(f"/rounds/{round_id}/score-sheets", headers=drawer_and_results)
    assert sheets.status_code == 403 and sheets.json()["code"] == "separation_of_duties"

    # who took which duty is kept with the round
    detail = (await office.client.get(f"/rounds/{round_id}", headers=office.requester)).json()
    held = {(d["duty"], d["actor_id"]) for d in detail["duties"]}
    assert {("request", "req-1"), ("draw", "both-1"), ("draw", "draw-1")} <= held

    # the expert-database keeper who suspends a drawn expert acts on that round: not its drawer
    db_and_draw = office.auth("department_staff", user_id="db-2", duties=["expert_db", "draw"])
    drawn = await office.live(round_id)
    suspended = await office.client.post(
        f"/experts/{drawn[0].expert_id}/suspend", json={"reason": "暂停"}, headers=db_and_draw
    )
    assert suspended.status_code == 200, suspended.text
    sealed = await office.client.get(f"/rounds/{round_id}/assignments", headers=db_and_draw)
    assert sealed.status_code == 403 and sealed.json()["held_duty"] == "expert_db"


async def test_round_detail_filters_items_names_and_the_actions_that_remain(office: Any) -> None:
    unit_expert = await office.expert()
    await office.expert()
    call = uuid4()
    await office.item(call)
    round_id = await office.round_with(call, 1)

    detail = await office.client.get(f"/rounds/{round_id}", headers=office.drawer)
    assert detail.status_code == 200, detail.text
    body = detail.json()
    assert (body["status"], body["status_zh"], body["items"]) == ("collecting", "收集项目", 1)
    assert body["allowed_actions"] == ["request", "configure", "edit_item"]
    missing = await office.client.get(f"/rounds/{uuid4()}", headers=office.drawer)
    assert missing.status_code == 404

    listed = await office.client.get("/rounds", params={"call_id": str(call)}, headers=office.results)
    assert [r["id"] for r in listed.json()["items"]] == [round_id] and listed.json()["total"] == 1
    by_status = await office.client.get(
        "/rounds", params={"call_id": str(call), "status": "open"}, headers=office.results
    )
    assert by_status.json()["total"] == 0
    unknown = await office.client.get("/rounds", params={"colour": "red"}, headers=office.results)
    assert unknown.status_code == 422
    assert [e["field"] for e in unknown.json()["errors"]] == ["query.colour"]
    bad_value = await office.client.get("/rounds", params={"status": "finalised"}, headers=office.results)
    assert bad_value.status_code == 422
    for path, who in (("/experts", office.db_staff), ("/assessments", office.results)):
        ignored = await office.client.get(path, params={"colour": "red"}, headers=who)
        assert ignored.status_code == 422 and ignored.json()["errors"][0]["field"] == "query.colour", path
    seen = await office.client.get(f"/rounds/{round_id}", headers=supervisor(office))
    assert seen.status_code == 200

    # the request and draw duties list the items before the draw; the results duty does not
    for who in (office.requester, office.drawer):
        items = await office.client.get(f"/rounds/{round_id}/items", headers=who)
        assert items.status_code == 200 and items.json()["total"] == 1
    assert (await office.client.get(f"/rounds/{round_id}/items", headers=office.results)).status_code == 403

    # a refusal names what remains: never "none" while run or open are possible
    too_early = await office.client.post(f"/rounds/{round_id}/open", headers=office.drawer)
    assert too_early.status_code == 409
    assert too_early.json()["allowed_actions"] == ["request", "configure", "edit_item"]
    r = await office.client.post(f"/rounds/{round_id}/request", json={"k": 2}, headers=office.requester)
    assert r.status_code == 200 and r.json()["allowed_actions"] == [
        "request",
        "run",
        "configure",
        "edit_item",
    ]
    not_yet = await office.client.post(f"/rounds/{round_id}/open", headers=office.drawer)
    assert not_yet.status_code == 409 and "run" in not_yet.json()["allowed_actions"]
    await office.run(round_id, {"mode": "draw", "seed": 1, "commit": True})
    finalize_early = await office.client.post(f"/rounds/{round_id}/finalize", headers=office.results)
    assert finalize_early.status_code == 409
    assert finalize_early.json()["allowed_actions"] == ["run", "open", "configure"]

    # the sealed list carries each expert's name and unit, for the draw duty
    drawn = (await office.client.get(f"/rounds/{round_id}/assignments", headers=office.drawer)).json()
    drawn = drawn["items"]
    assert len(drawn) == 2 and all(a["expert_name"] == "专家" for a in drawn)
    mine = next(a for a in drawn if a["expert_id"] == unit_expert["id"])
    assert mine["expert_unit_id"] == unit_expert["unit_id"]
    for path, who in (("assignments", office.requester), ("progress", office.requester)):
        sealed = await office.client.get(f"/rounds/{round_id}/{path}", headers=who)
        assert sealed.status_code == 403, path
    opened = await office.client.post(f"/rounds/{round_id}/open", headers=office.drawer)
    assert opened.status_code == 200
    progress = await office.client.get(f"/rounds/{round_id}/progress", headers=office.requester)
    assert progress.status_code == 200 and len(progress.json()["tasks"]) == 2
    named = (await office.client.get(f"/rounds/{round_id}/assignments", headers=office.requester)).json()
    named = named["items"]
    assert {a["expert_name"] for a in named} == {"专家"}


async def test_a_step_applied_from_another_services_event_names_the_event_and_its_actor(
    office: Any,
) -> None:
    app_id, call = uuid4(), uuid4()
    payload = ApplicationReady(
        application_id=app_id,
        code="2026-CAUSE",
        call_id=call,
        title="草原生态修复",
        keywords=["草原"],
        discipline_codes=["F0201"],
        applicant_person_id=uuid4(),
        applicant_unit_id=uuid4(),
        team_person_ids=[],
        team_unit_ids=[],
    )
    seq = office.seqs.setdefault(APPLICATION_READY.source, itertools.count(1))
    envelope = await publish_as_producer(
        office.svc.runtime.bus,
        APPLICATION_READY,
        payload,
        subject=f"application/{app_id}",
        sequence=next(seq),
        actor_id="projects-staff-7",
    )
    query = {"entity_type": "round_item", "entity_id": str(app_id)}
    entries: list[dict[str, Any]] = []

    async def recorded() -> bool:
        r = await office.client.get("/audit", params=query, headers=supervisor(office))
        entries[:] = r.json()["items"]
        return bool(entries)

    await eventually(recorded)
    received = next(e for e in entries if e["action"] == "item_received")
    assert received["actor_id"] == f"event:{APPLICATION_READY.name}"
    assert UUID(received["cause_event_id"]) == envelope.id
    assert received["cause_actor_id"] == "projects-staff-7"

    # only supervisors read the trail, and its filters are typed
    for who in (office.results, office.auth("administrator")):
        assert (await office.client.get("/audit", params=query, headers=who)).status_code == 403
    odd = await office.client.get("/audit", params={**query, "actor": "x"}, headers=supervisor(office))
    assert odd.status_code == 422 and odd.json()["errors"][0]["field"] == "query.actor"
    assert (await office.client.get("/audit", headers=supervisor(office))).status_code == 422
