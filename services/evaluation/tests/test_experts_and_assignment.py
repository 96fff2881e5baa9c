"""Experts, 回避 and assignment through the evaluation API, with events published as producers would."""

from __future__ import annotations

import asyncio
from typing import Any
from uuid import UUID, uuid4

import pytest
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError

from evaluation.rounds.models import Assignment

pytestmark = pytest.mark.asyncio


async def requested_round(office: Any, items: int, k: int = 2, **kw: Any) -> tuple[str, list[UUID], UUID]:
    call = uuid4()
    ids = [await office.item(call, **kw) for _ in range(items)]
    round_id = await office.round_with(call, items)
    r = await office.client.post(
        f"/rounds/{round_id}/request", json={"k": k, "max_load": 5, "reserve": 2}, headers=office.requester
    )
    assert r.status_code == 200, r.text
    return round_id, ids, call


async def live(office: Any, round_id: str) -> list[Assignment]:
    async with office.svc.runtime.sessionmaker() as s:
        q = select(Assignment).where(
            Assignment.round_id == UUID(round_id), Assignment.status.in_(("assigned", "accepted"))
        )
        return list((await s.execute(q)).scalars())


# ------------------------------------------------------------------ expert database


async def test_only_a_verified_person_can_apply_and_staff_approve(office: Any) -> None:
    person = await office.person()
    body = {"region": "150100", "title": "研究员", "disciplines": ["F0201"], "keywords": ["草原"]}

    async def applied() -> Any:
        r = await office.client.post("/experts/apply", json=body, headers=office.as_person(person))
        return r if r.status_code == 201 else None

    await asyncio.sleep(0)
    from shared.testing.servers import eventually

    result: list[Any] = []

    async def ok() -> bool:
        r = await applied()
        if r is not None:
            result.append(r)
        return r is not None

    await eventually(ok)
    expert = result[0].json()
    assert expert["status"] == "applied" and expert["status_zh"] == "待审核" and expert["origin"] == "self"
    stranger = await office.client.post("/experts/apply", json=body, headers=office.as_person(uuid4()))
    assert stranger.status_code == 422 and "person_id" in stranger.text
    # the expert may not approve themselves; the database staff can
    own = await office.client.post(
        f"/experts/{expert['id']}/approve", json={}, headers=office.as_person(person)
    )
    assert own.status_code == 403
    done = await office.client.post(f"/experts/{expert['id']}/approve", json={}, headers=office.db_staff)
    assert done.json()["status"] == "active" and done.json()["confirmed_until"]
    again = await office.client.post(f"/experts/{expert['id']}/approve", json={}, headers=office.db_staff)
    assert again.status_code == 409
    async with office.svc.runtime.sessionmaker() as s:
        types = (await s.execute(select(office.svc.runtime.tables.outbox.c.event_type))).scalars().all()
    assert "evaluation.expert.applied" in types and "evaluation.expert.approved" in types


async def test_an_expert_sees_only_their_own_profile(office: Any) -> None:
    a = await office.expert()
    b = await office.expert()
    mine = await office.client.get("/experts/me", headers=office.as_person(a["person_id"]))
    assert mine.json()["id"] == a["id"]
    other = await office.client.get(f"/experts/{b['id']}", headers=office.as_person(a["person_id"]))
    assert other.status_code == 404
    search = await office.client.get("/experts", headers=office.as_person(a["person_id"]))
    assert search.status_code == 403


async def test_search_by_discipline_parent_keyword_and_region_and_export(office: Any) -> None:
    await office.expert(disciplines=("F0201",), keywords=("草原",), region="150100")
    await office.expert(disciplines=("A0105",), keywords=("稀土",), region="out")
    by_parent = await office.client.get("/experts", params={"discipline": "F02"}, headers=office.db_staff)
    assert [e["disciplines"] for e in by_parent.json()["items"]] == [["F0201"]]
    by_kw = await office.client.get("/experts", params={"keyword": "稀土"}, headers=office.requester)
    assert by_kw.json()["total"] == 1
    out = await office.client.get("/experts", params={"region": "out"}, headers=office.db_staff)
    assert out.json()["items"][0]["keywords"] == ["稀土"]
    xlsx = await office.client.get("/experts.xlsx", headers=office.db_staff)
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"


# ------------------------------------------------------------------ rounds and assignment


async def test_a_conflicted_expert_is_never_drawn_and_the_draw_repeats_from_its_seed(office: Any) -> None:
    unit = uuid4()
    conflicted = await office.expert(unit_id=unit)
    for _ in range(4):
        await office.expert()
    round_id, _, _ = await requested_round(office, 3, unit=unit)
    body = {"mode": "draw", "seed": 42, "commit": False}
    first = await office.run(round_id, body)
    again = await office.run(round_id, body)
    pairs = [(a["item_id"], a["expert_id"], a["status"]) for a in first["assignments"]]
    assert pairs == [(a["item_id"], a["expert_id"], a["status"]) for a in again["assignments"]]
    assert first["seed"] == 42 and not first["shortfalls"]
    assert conflicted["id"] not in {a["expert_id"] for a in first["assignments"]}
    assert all("same_unit" in a["rules_checked"] for a in first["assignments"])
    assert not await live(office, round_id)  # a preview writes nothing


async def test_the_drawn_list_is_sealed_until_the_review_opens(office: Any) -> None:
    experts = [await office.expert() for _ in range(3)]
    round_id, _, _ = await requested_round(office, 1)
    refused = await office.client.post(
        f"/rounds/{round_id}/runs", json={"commit": True}, headers=office.requester
    )
    assert refused.status_code == 403  # requesting and drawing are separate duties
    run = await office.run(round_id, {"commit": True, "seed": 7})
    assert run["status"] == "done", run
    assert (
        await office.client.get(f"/rounds/{round_id}/assignments", headers=office.requester)
    ).status_code == 403
    assert (
        await office.client.get(f"/rounds/{round_id}/assignments", headers=office.drawer)
    ).status_code == 200
    chosen = next(a for a in run["assignments"] if a["status"] == "assigned")
    person = next(e["person_id"] for e in experts if e["id"] == chosen["expert_id"])
    mine = await office.client.get("/assignments/mine", headers=office.as_person(person))
    assert [a["item_id"] for a in mine.json()["items"]] == [chosen["item_id"]]
    opened = await office.client.post(f"/rounds/{round_id}/open", headers=office.drawer)
    assert opened.json()["status"] == "open"
    assert (
        await office.client.get(f"/rounds/{round_id}/assignments", headers=office.requester)
    ).status_code == 200


async def test_optimal_run_explains_choices_and_names_items_without_enough_experts(office: Any) -> None:
    await office.expert(disciplines=("F0201",), keywords=("草原", "生态"))
    await office.expert(disciplines=("F0203",), keywords=("草原",))
    await office.expert(disciplines=("A01",), keywords=("稀土",))
    call = uuid4()
    await office.item(call, disciplines=("F0201",), keywords=("草原", "生态"))
    lonely = await office.item(call, disciplines=("Z9999",), keywords=("深空",))
    round_id = await office.round_with(call, 2)
    await office.client.post(f"/rounds/{round_id}/request", json={"k": 2}, headers=office.requester)
    run = await office.run(round_id, {"mode": "optimal"})
    best = max(run["assignments"], key=lambda a: a["affinity"])
    assert best["candidate_rank"] == 1 and best["discipline_score"] == 1.0 and best["keyword_score"] == 1.0
    assert [s["item_id"] for s in run["shortfalls"]] == [str(lonely)]
    short = run["shortfalls"][0]
    assert short["candidates"] == 0 and "需要2名" in short["reason_zh"]
    # no expert of its disciplines: none was a candidate, so no rule excluded any
    assert short["excluded_by_rule"] == {} and short["unknown_discipline_codes"] == ["Z9999"]


async def test_the_database_refuses_a_conflicted_assignment_whatever_writes_it(office: Any) -> None:
    unit = uuid4()
    expert = await office.expert(unit_id=unit)
    round_id, items, _ = await requested_round(office, 1, unit=unit)
    async with office.svc.runtime.sessionmaker() as s:
        s.add(
            Assignment(
                round_id=UUID(round_id),
                item_id=items[0],
                expert_id=UUID(expert["id"]),
                status="assigned",
                rules_checked=[],
            )
        )
        with pytest.raises(DBAPIError, match="conflict of interest"):
            await s.commit()


async def test_a_late_declaration_voids_the_assignment_and_a_replacement_is_recorded(office: Any) -> None:
    experts = [await office.expert() for _ in range(4)]
    applicant = uuid4()
    round_id, _, _ = await requested_round(office, 1, k=1, applicant=applicant)
    run = await office.run(round_id, {"commit": True, "seed": 1})
    first = next(a for a in run["assignments"] if a["status"] == "assigned")
    who = next(e for e in experts if e["id"] == first["expert_id"])
    declared = await office.client.post(
        f"/experts/{who['id']}/declarations",
        json={"person_id": str(applicant), "reason": "导师关系"},
        headers=office.as_person(who["person_id"]),
    )
    assert declared.status_code == 201, declared.text
    rows = (await office.client.get(f"/rounds/{round_id}/assignments", headers=office.drawer)).json()["items"]
    old = next(a for a in rows if a["expert_id"] == who["id"])
    assert old["status"] == "voided" and "declared" in old["reason"]
    new = [a for a in rows if a["status"] == "assigned"]
    assert len(new) == 1 and new[0]["replaces_id"] == old["id"] and "补抽" in new[0]["reason"]


async def test_a_decline_needs_a_reason_and_is_replaced(office: Any) -> None:
    experts = [await office.expert() for _ in range(3)]
    round_id, _, _ = await requested_round(office, 1, k=1)
    run = await office.run(round_id, {"commit": True, "seed": 3})
    a = next(x for x in run["assignments"] if x["status"] == "assigned")
    mine = await office.client.get(
        "/assignments/mine",
        headers=office.as_person(next(e["person_id"] for e in experts if e["id"] == a["expert_id"])),
    )
    a_id = mine.json()["items"][0]["id"]
    who = office.as_person(next(e["person_id"] for e in experts if e["id"] == a["expert_id"]))
    stranger = await office.client.post(
        f"/assignments/{a_id}/respond", json={"accept": True}, headers=office.as_person(uuid4())
    )
    assert stranger.status_code == 404
    bare = await office.client.post(f"/assignments/{a_id}/respond", json={"accept": False}, headers=who)
    assert bare.status_code == 422 and "reason" in bare.text
    ok = await office.client.post(
        f"/assignments/{a_id}/respond", json={"accept": False, "reason": "出差"}, headers=who
    )
    assert ok.json()["status"] == "declined"
    rows = await live(office, round_id)
    assert len(rows) == 1 and rows[0].replaces_id == UUID(a_id)


async def test_concurrent_runs_and_a_declaration_never_leave_a_conflicted_assignment(office: Any) -> None:
    experts = [await office.expert() for _ in range(6)]
    applicant = uuid4()
    round_id, _, _ = await requested_round(office, 3, k=2, applicant=applicant)
    target = experts[0]

    async def run(seed: int) -> int:
        done = await office.run(round_id, {"commit": True, "seed": seed})
        return 200 if done["status"] in ("done", "failed") else 500

    async def declare() -> int:
        r = await office.client.post(
            f"/experts/{target['id']}/declarations",
            json={"person_id": str(applicant), "reason": "亲属"},
            headers=office.db_staff,
        )
        return int(r.status_code)

    codes = await asyncio.gather(run(1), declare(), run(2), run(3))
    assert all(c in (200, 201, 409) for c in codes), codes
    rows = await live(office, round_id)
    assert target["id"] not in {str(a.expert_id) for a in rows}
    per_item: dict[UUID, int] = {}
    for a in rows:
        per_item[a.item_id] = per_item.get(a.item_id, 0) + 1
    assert set(per_item.values()) == {2}  # k met once, never exceeded by concurrent runs


async def test_excel_import_matches_people_by_verified_identifier_all_or_nothing(office: Any) -> None:
    from evaluation.experts.workbook import IMPORT_COLUMNS
    from shared.excel import export_xlsx
    from shared.testing.servers import eventually

    person = await office.person()
    digest = person.hex * 2

    def sheet(digests: list[str]) -> bytes:
        rows = [
            {
                "id_number_digest": d,
                "region": "150200",
                "title": "研究员",
                "disciplines": "F0201，F0203",
                "keywords": "草原,风电",
                "max_load": 10,
            }
            for d in digests
        ]
        return export_xlsx(IMPORT_COLUMNS, rows)

    bad = await office.client.post(
        "/experts/import", content=sheet([digest, "0" * 64]), headers=office.db_staff
    )
    assert bad.status_code == 422 and "rows[3].id_number_digest" in bad.text
    empty = await office.client.post("/experts/import", content=sheet([]), headers=office.db_staff)
    assert empty.status_code == 422 and empty.json()["errors"][0]["code"] == "empty_sheet"
    assert (await office.client.get("/experts", headers=office.db_staff)).json()["total"] == 0

    async def imported() -> bool:
        r = await office.client.post("/experts/import", content=sheet([digest]), headers=office.db_staff)
        report = r.json()
        return (
            r.status_code == 201
            and (report["rows"], report["created"], report["rejected"]) == (1, 1, 0)
            and report["experts"][0]["disciplines"] == ["F0201", "F0203"]
        )

    await eventually(imported)
