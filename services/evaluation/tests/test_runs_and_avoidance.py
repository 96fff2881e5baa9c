"""Assignment runs as jobs (queue, lease, retake, cancel) and 回避 on every rule, service and database."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError

from evaluation.assignment import jobs
from evaluation.experts.events import PERSON_UPDATED, PROJECT_APPROVED, PersonSnapshot, ProjectApproved
from evaluation.organisations.events import ORGANISATION_REGISTERED, OrganisationSnapshot
from evaluation.rounds.models import Assignment
from shared.testing.servers import eventually

pytestmark = pytest.mark.asyncio


async def test_a_run_is_a_job_that_survives_its_worker_and_can_be_cancelled(
    start_service: Any, office_for: Any
) -> None:
    async with start_service("evaluation", run_workers=0) as svc:  # this test is the only worker
        office = office_for(svc)
        workers = svc.app.state.runtime.extras["run_workers"]
        for _ in range(3):
            await office.expert()
        round_id, _, _ = await office.requested_round(2, k=1)

        async def queue(body: dict[str, Any]) -> str:
            r = await office.client.post(f"/rounds/{round_id}/runs", json=body, headers=office.drawer)
            assert r.status_code == 202 and r.json()["status"] == "queued", r.text
            return str(r.json()["id"])

        async def state(run_id: str) -> dict[str, Any]:
            return dict((await office.client.get(f"/runs/{run_id}", headers=office.drawer)).json())

        # cancelled while running: stops at its next stage and writes nothing
        first = await queue({"commit": True, "seed": 5})
        taken = await jobs.claim(
            svc.runtime.sessionmaker, worker="w1", lease=timedelta(seconds=30), max_attempts=3
        )
        assert str(taken) == first and (await state(first))["status"] == "running"
        asked = await office.client.post(
            f"/runs/{first}/cancel", json={"reason": "参数有误"}, headers=office.drawer
        )
        assert asked.json()["cancel_requested"] is True and asked.json()["status"] == "running"
        ended = await jobs.execute(
            svc.runtime.sessionmaker, svc.runtime.tables, taken, worker="w1", lease=timedelta(seconds=30)
        )
        assert ended == "cancelled" and (await state(first))["status_zh"] == "已取消"
        assert not await office.live(round_id)

        # a worker dies holding a run: once its lease runs out the next worker takes it up again
        second = await queue({"commit": True, "seed": 5})
        await jobs.claim(svc.runtime.sessionmaker, worker="dead", lease=timedelta(0), max_attempts=3)
        stuck = await state(second)
        assert stuck["status"] == "running" and stuck["attempts"] == 1
        assert await workers.work_once("w2") == "done"
        done = await state(second)
        assert done["status"] == "done" and done["attempts"] == 2 and done["progress"] == 100
        assert done["seed"] == 5 and len([a for a in done["assignments"] if a["status"] == "assigned"]) == 2
        assert len(await office.live(round_id)) == 2

        # a queued run is cancelled at once; a finished one cannot be
        third = await queue({"mode": "optimal"})
        gone = await office.client.post(f"/runs/{third}/cancel", json={}, headers=office.drawer)
        assert gone.json()["status"] == "cancelled"
        assert await workers.work_once("w2") is None
        late = await office.client.post(f"/runs/{second}/cancel", json={}, headers=office.drawer)
        assert late.status_code == 409
        # the run list and each run are for the draw duty only (they name the experts)
        listed = await office.client.get(f"/rounds/{round_id}/runs", headers=office.drawer)
        assert [r["status"] for r in listed.json()["items"]] == ["cancelled", "done", "cancelled"]
        assert (await office.client.get(f"/runs/{second}", headers=office.requester)).status_code == 403


async def test_every_rule_is_checked_by_the_run_and_again_by_the_database(office: Any) -> None:
    # one unit registered twice (same unified social credit code), a department, a collaboration
    twin_a, twin_b = uuid4(), uuid4()
    for unit in (twin_a, twin_b):
        snap = OrganisationSnapshot(
            id=unit,
            name="内蒙古大学",
            credit_code="12150000460000123X",
            type="university",
            region="150100",
            address="呼和浩特",
            version=1,
        )
        await office.publish(ORGANISATION_REGISTERED, snap, f"organisation/{unit}")
    department, applicant = uuid4(), uuid4()
    same_unit = await office.expert(unit_id=twin_a)
    same_dept = await office.expert()
    collaborator = await office.expert()
    free = [await office.expert() for _ in range(2)]
    await office.publish(
        PERSON_UPDATED,
        PersonSnapshot(
            id=UUID(same_dept["person_id"]),
            name="专家",
            id_number_digest=UUID(same_dept["person_id"]).hex * 2,
            unit_id=UUID(same_dept["unit_id"]),
            department_id=department,
            version=2,
        ),
        f"person/{same_dept['person_id']}",
    )
    approved = ProjectApproved(
        project_id=uuid4(),
        pi_person_id=UUID(collaborator["person_id"]),
        unit_id=uuid4(),
        team_person_ids=[applicant],
        start_date=office_today(-1),
        end_date=office_today(1),
    )
    await office.publish(PROJECT_APPROVED, approved, f"project/{approved.project_id}")
    call = uuid4()
    item = await office.item(call, applicant=applicant, unit=twin_b)
    round_id = await office.round_with(call, 1)
    rules = {"same_department": {"enabled": True}}

    async def settled() -> bool:  # the read models have caught up with the events
        async with office.svc.runtime.sessionmaker() as s:
            from evaluation.experts.models import Collaboration, PersonView

            person = await s.get(PersonView, UUID(same_dept["person_id"]))
            collab = (await s.execute(select(Collaboration.project_id))).first()
            return bool(person and person.department_id == department and collab)

    await eventually(settled)
    # the department rule is the round's choice; with it on, the item's competent department counts too
    async with office.svc.runtime.sessionmaker() as s:
        from evaluation.rounds.models import RoundItem

        row = await s.get(RoundItem, item)
        assert row is not None
        row.competent_department_id = department
        await s.commit()
    r = await office.client.post(
        f"/rounds/{round_id}/request", json={"k": 4, "max_load": 5, "rules": rules}, headers=office.requester
    )
    assert r.status_code == 200, r.text
    run = await office.run(round_id, {"mode": "optimal"})
    assert {a["expert_id"] for a in run["assignments"]} == {e["id"] for e in free}
    excluded = run["shortfalls"][0]["excluded_by_rule"]
    assert excluded == {"same_unit": 1, "same_department": 1, "collaborator": 1}
    # whatever writes an assignment, the database applies the same rules
    for expert, rule in (
        (same_unit, "same_unit"),
        (same_dept, "same_department"),
        (collaborator, "collaborator"),
    ):
        async with office.svc.runtime.sessionmaker() as s:
            s.add(
                Assignment(
                    round_id=UUID(round_id),
                    item_id=item,
                    expert_id=UUID(expert["id"]),
                    status="assigned",
                    rules_checked=[],
                )
            )
            with pytest.raises(DBAPIError, match=f"conflict of interest \\({rule}\\)"):
                await s.commit()
    # a collaboration that arrives after the draw voids the assignment and replaces it
    body = {
        "mode": "draw",
        "seed": 9,
        "commit": True,
        "accept_partial": True,
        "partial_reason": "本轮仅需两名",
    }
    committed = await office.run(round_id, body)
    assert committed["status"] == "done"
    target = free[0]
    later = ProjectApproved(
        project_id=uuid4(),
        pi_person_id=applicant,
        unit_id=uuid4(),
        team_person_ids=[UUID(target["person_id"])],
        start_date=office_today(0),
        end_date=office_today(2),
    )
    await office.publish(PROJECT_APPROVED, later, f"project/{later.project_id}")

    async def voided() -> bool:
        return target["id"] not in {str(a.expert_id) for a in await office.live(round_id)}

    await eventually(voided)


def office_today(years: int) -> Any:
    from datetime import date

    today = date.today()
    return today.replace(year=today.year + years)


async def test_expert_self_service_availability_reconfirmation_and_applicant_avoidance(office: Any) -> None:
    busy, lapsing, named, free = [await office.expert() for _ in range(4)]
    avoided_unit = uuid4()
    in_avoided_unit = await office.expert(unit_id=avoided_unit)
    me = office.as_person(busy["person_id"])
    # the expert edits what is theirs; title, region and unit stay with the staff
    edited = await office.client.patch(
        "/experts/me",
        json={"keywords": ["草原", "遥感"], "availability": [{"from": "2027-03-01", "to": "2027-03-31"}]},
        headers=me,
    )
    assert edited.status_code == 200, edited.text
    assert edited.json()["availability"] == [{"from": "2027-03-01", "to": "2027-03-31"}]
    refused = await office.client.patch("/experts/me", json={"region": "out"}, headers=me)
    assert refused.status_code == 422 and "region" in refused.text
    backwards = await office.client.patch(
        "/experts/me", json={"availability": [{"from": "2027-03-31", "to": "2027-03-01"}]}, headers=me
    )
    assert backwards.status_code == 422
    other = await office.client.patch(f"/experts/{free['id']}", json={"max_load": 1}, headers=me)
    assert other.status_code == 403
    staff = await office.client.patch(
        f"/experts/{busy['id']}", json={"title": "研究员"}, headers=office.db_staff
    )
    assert staff.json()["title"] == "研究员" and staff.json()["keywords"] == ["草原", "遥感"]
    # a lapsed confirmation: the sweep asks and lists it; the expert is not drawn until re-confirmed
    async with office.svc.runtime.sessionmaker() as s:
        from evaluation.experts.models import Expert

        row = await s.get(Expert, UUID(lapsing["id"]))
        assert row is not None
        row.confirmed_until = office_today(-1)
        await s.commit()
    swept = (await office.client.post("/experts/reconfirmation-sweep", headers=office.db_staff)).json()
    assert swept["asked"] == [lapsing["id"]] and swept["lapsed"] == [lapsing["id"]]
    again = (await office.client.post("/experts/reconfirmation-sweep", headers=office.db_staff)).json()
    assert again["asked"] == []  # asked once per lapse
    # the applicant asks to avoid one expert and one unit, with reasons; at most three names in all
    applicant = uuid4()
    call = uuid4()
    item = await office.item(call, applicant=applicant)
    round_id = await office.round_with(call, 1)
    body = {
        "requests": [
            {"person_id": named["person_id"], "reason": "学术观点长期对立"},
            {"unit_id": str(avoided_unit), "reason": "竞争单位"},
        ]
    }
    path = f"/reviews/applications/{item}/avoidance"
    assert (await office.client.post(path, json=body, headers=office.as_person(uuid4()))).status_code == 404
    asked = await office.client.post(path, json=body, headers=office.as_person(applicant))
    assert asked.status_code == 201, asked.text
    more = {
        "requests": [
            {"person_id": str(uuid4()), "reason": "其他"},
            {"unit_id": str(uuid4()), "reason": "其他"},
        ]
    }
    too_many = await office.client.post(path, json=more, headers=office.as_person(applicant))
    assert too_many.status_code == 422 and "too_many" in too_many.text
    request = {"k": 3, "max_load": 5, "reserve": 0, "review_starts": "2027-01-10"}
    assert (
        await office.client.post(f"/rounds/{round_id}/request", json=request, headers=office.requester)
    ).status_code == 200
    preview = await office.run(round_id, {"mode": "draw", "seed": 1})
    assert {a["expert_id"] for a in preview["assignments"]} == {free["id"]}
    assert preview["shortfalls"][0]["excluded_by_rule"] == {
        "unavailable": 1,
        "unconfirmed": 1,
        "applicant_avoid": 2,
    }
    confirmed = await office.client.post(
        "/experts/me/reconfirm", headers=office.as_person(lapsing["person_id"])
    )
    assert confirmed.json()["confirmed_until"] > str(office_today(1))
    # two of the three asked for: the round is infeasible and nothing is written unless accepted
    refused_run = await office.run(round_id, {"mode": "draw", "seed": 1, "commit": True})
    assert refused_run["status"] == "infeasible" and not await office.live(round_id)
    partial = {
        "mode": "draw",
        "seed": 1,
        "commit": True,
        "accept_partial": True,
        "partial_reason": "仅两名可用",
    }
    drawn = await office.run(round_id, partial)
    assert {a["expert_id"] for a in drawn["assignments"]} == {free["id"], lapsing["id"]}
    # the database refuses the avoided unit's expert whatever writes it; the requests are now closed
    async with office.svc.runtime.sessionmaker() as s:
        s.add(
            Assignment(
                round_id=UUID(round_id),
                item_id=item,
                expert_id=UUID(in_avoided_unit["id"]),
                status="assigned",
                rules_checked=[],
            )
        )
        with pytest.raises(DBAPIError, match="conflict of interest"):
            await s.commit()
    closed = await office.client.post(
        path, json={"requests": body["requests"][:1]}, headers=office.as_person(applicant)
    )
    assert closed.status_code == 409 and "avoidance_closed" in closed.text
