"""A review from the expert's sheet to the ranking, the funding line and the applicant's anonymous result."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest
from openpyxl import load_workbook
from sqlalchemy import select, update

from evaluation.experts.events import CALL_PUBLISHED, CallPublished
from evaluation.rounds.models import ReviewRound
from shared.clock import utcnow
from shared.testing.servers import eventually

pytestmark = pytest.mark.asyncio


async def outbox(office: Any, event_type: str) -> list[dict[str, Any]]:
    t = office.svc.runtime.tables.outbox
    async with office.svc.runtime.sessionmaker() as s:
        rows = (await s.execute(select(t.c.envelope).where(t.c.event_type == event_type))).scalars().all()
    return [dict(r["data"]) for r in rows]


async def test_an_application_review_from_sheets_to_funding_line_and_anonymous_result(office: Any) -> None:
    call = uuid4()
    await office.publish(
        CALL_PUBLISHED,
        CallPublished(
            id=call, programme_code="JC", year=2026, title="基础研究 2026", budget_fen=150, version=1
        ),
        f"call/{call}",
    )
    # forms are data: a programme's own form is versioned and checked field by field
    form = {
        "code": "zz_form",
        "name": "重大专项评审表",
        "assessment_type": "application_review",
        "programme_code": "ZZ",
        "indicators": [
            {"code": "innovation", "name_zh": "创新性", "weight": 0.5, "max_score": 10},
            {"code": "innovation", "name_zh": "重复", "weight": 0.5, "min_score": 5, "max_score": 5},
        ],
        "policy": {"grade_bands": [[60, "pass"]]},
    }
    refused = await office.client.post("/review-forms", json=form, headers=office.requester)
    assert refused.status_code == 422
    assert {e["field"] for e in refused.json()["errors"]} == {
        "indicators[1].code",
        "indicators[1].max_score",
        "policy.grade_bands[0]",
    }
    form["indicators"] = form["indicators"][:1]
    form["policy"] = {"trim_from": 3}
    v1 = (await office.client.post("/review-forms", json=form, headers=office.requester)).json()
    v2 = (await office.client.post("/review-forms", json=form, headers=office.requester)).json()
    assert (v1["version"], v2["version"], v2["policy"]["trim_from"]) == (1, 2, 3)
    listed = await office.client.get(
        "/review-forms", params={"assessment_type": "application_review", "size": 100}, headers=office.results
    )
    active = listed.json()
    assert [f["id"] for f in active["items"] if f["code"] == "zz_form"] == [v2["id"]]
    assert active["total"] == len(active["items"]) and v2["created_at"].endswith("+08:00")
    unknown = await office.client.get(
        "/review-forms", params={"assessment_type": "x"}, headers=office.results
    )
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "assessment_type"

    experts = [await office.expert() for _ in range(4)]
    applicant = uuid4()
    first = await office.item(call, applicant=applicant, funding_fen=100)
    second = await office.item(call, funding_fen=100)
    third = await office.item(call, funding_fen=10)
    round_id = await office.round_with(call, 3)
    await office.open_for_review(round_id, k=3, reserve=1)
    tasks = {e["person_id"]: await office.tasks(e["person_id"]) for e in experts}
    assert sum(len(t) for t in tasks.values()) == 9
    drawn = (await office.client.get(f"/rounds/{round_id}/assignments", headers=office.drawer)).json()
    drawn = drawn["items"]
    person_of = {e["id"]: e["person_id"] for e in experts}
    reserve = next(
        person_of[a["expert_id"]] for a in drawn if a["item_id"] == str(third) and a["status"] == "reserve"
    )

    # an expert scores only after accepting, and only a complete, in-range sheet is submitted
    someone = next(p for p, t in tasks.items() if t)
    task = tasks[someone][0]
    await office.pledge(someone, task["assignment_id"])
    early = await office.client.put(
        f"/assignments/{task['assignment_id']}/sheet", json={"scores": {}}, headers=office.as_person(someone)
    )
    assert early.status_code == 409 and early.json()["allowed_actions"] == ["accept", "decline"]
    await office.client.post(
        f"/assignments/{task['assignment_id']}/respond",
        json={"accept": True},
        headers=office.as_person(someone),
    )
    bad = await office.client.post(
        f"/assignments/{task['assignment_id']}/sheet/submit",
        json={"scores": {"innovation": 11, "feasibility": 8}, "comment": "短"},
        headers=office.as_person(someone),
    )
    assert bad.status_code == 422
    fields = {e["field"] for e in bad.json()["errors"]}
    assert {
        "scores.innovation",
        "scores.team",
        "indicator_comments.budget",
        "comment",
        "recommendation",
    } <= fields
    assert all(e["message_zh"] for e in bad.json()["errors"])
    stranger = await office.client.get(
        f"/assignments/{task['assignment_id']}/sheet", headers=office.as_person(uuid4())
    )
    assert stranger.status_code == 404

    # one expert recuses from the third application: the reserve takes the task over
    recusing = next(
        p for p, t in tasks.items() if p != someone and any(x["item_id"] == str(third) for x in t)
    )
    on_third = next(x for x in tasks[recusing] if x["item_id"] == str(third))
    recused = await office.client.post(
        f"/assignments/{on_third['assignment_id']}/recuse",
        json={"reason": "申请人曾为本人指导的博士后"},
        headers=office.as_person(recusing),
    )
    assert recused.json() == {
        "assignment_id": on_third["assignment_id"],
        "status": "voided",
        "replaced": True,
    }
    assert str(third) in [t["item_id"] for t in await office.tasks(reserve)]
    gone = await office.client.get(
        f"/assignments/{on_third['assignment_id']}/sheet", headers=office.as_person(recusing)
    )
    assert gone.status_code == 404

    # the first application is strong, the second good, the third splits the experts (90 vs 40)
    plan = {
        str(first): [(9, "fund")] * 3,
        str(second): [(8, "fund")] * 3,
        str(third): [(9, "fund"), (4, "do_not_fund"), (4, "do_not_fund")],
    }
    pending = [(p, t) for p in tasks for t in await office.tasks(p)]
    late_ones = pending[4:]
    for person, t in pending[:4]:
        value, rec = plan[t["item_id"]].pop()
        r = await office.score(
            person, t["assignment_id"], value, recommendation=rec, accept=t["assignment_status"] == "assigned"
        )
        assert r.status_code == 200 and r.json()["status"] == "submitted", r.text

    # the deadline passes: the dashboard names who is late, and late sheets are refused until it moves
    async with office.svc.runtime.sessionmaker() as s:
        await s.execute(
            update(ReviewRound)
            .where(ReviewRound.id == UUID(round_id))
            .values(review_deadline=utcnow().date() - timedelta(days=2))
        )
        await s.commit()
    progress = (await office.client.get(f"/rounds/{round_id}/progress", headers=office.requester)).json()
    assert {x["assignment_id"] for x in progress["late"]} == {t["assignment_id"] for _, t in late_ones}
    assert all(x["days_late"] == 2 and x["expert_name"] for x in progress["late"])
    person, t = late_ones[0]
    value, rec = plan[t["item_id"]][-1]
    refused = await office.score(
        person, t["assignment_id"], value, recommendation=rec, accept=t["assignment_status"] == "assigned"
    )
    assert refused.status_code == 409 and refused.json()["code"] == "deadline_passed"
    extended = await office.client.put(
        f"/rounds/{round_id}/review-settings",
        json={"review_deadline": (utcnow().date() + timedelta(days=7)).isoformat()},
        headers=office.requester,
    )
    assert extended.status_code == 200
    for n, (person, t) in enumerate(late_ones):
        value, rec = plan[t["item_id"]].pop()
        accept = n > 0 and t["assignment_status"] == "assigned"  # the refused one had accepted already
        r = await office.score(person, t["assignment_id"], value, recommendation=rec, accept=accept)
        assert r.status_code == 200, r.text

    # the office: the drawer sees no scores; the split item waits for the panel
    assert (
        await office.client.get(f"/rounds/{round_id}/score-sheets", headers=office.drawer)
    ).status_code == 403
    queue = (await office.client.get(f"/rounds/{round_id}/dispersion", headers=office.results)).json()
    queue = queue["items"]
    assert [q["item_id"] for q in queue] == [str(third)]
    assert queue[0]["spread"] == 50.0 and queue[0]["dispersion_flag"] and not queue[0]["non_consensus"]
    assert queue[0]["trimmed_mean"] == pytest.approx(56.6667, abs=1e-3)
    blocked = await office.client.post(f"/rounds/{round_id}/finalize", headers=office.results)
    assert blocked.status_code == 409 and blocked.json()["items"][0]["reason"] == "panel_discussion_pending"
    panel = await office.client.post(
        f"/rounds/{round_id}/items/{third}/panel",
        json={"note": "会议评审认为方案可行但预算偏高", "score": 60, "recommendation": "fund_with_changes"},
        headers=office.results,
    )
    assert panel.status_code == 200

    ranking = (await office.client.get(f"/rounds/{round_id}/ranking", headers=office.results)).json()
    assert ranking["budget_fen"] == 150 and ranking["funding_line_rank"] == 1
    assert [(i["item_id"], i["rank"], i["score"], i["above_funding_line"]) for i in ranking["items"]] == [
        (str(first), 1, 90.0, True),
        (str(second), 2, 80.0, False),  # 100 + 100 > 150
        (str(third), 3, 60.0, False),  # would fit, but the line is strict
    ]
    xlsx = await office.client.get(f"/rounds/{round_id}/score-sheets.xlsx", headers=office.results)
    sheet = load_workbook(io.BytesIO(xlsx.content), read_only=True).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:4] == ("编号", "名称", "评审专家", "创新性") and len(rows) == 1 + 9

    done = await office.client.post(f"/rounds/{round_id}/finalize", headers=office.results)
    assert done.status_code == 200, done.text
    events = {e["application_id"]: e for e in await outbox(office, "evaluation.review.completed")}
    assert set(events) == {str(first), str(second), str(third)}
    assert events[str(first)]["rank"] == 1 and events[str(first)]["recommendation"] == "fund"
    assert (
        events[str(third)]["recommendation"] == "fund_with_changes" and events[str(third)]["dispersion_flag"]
    )
    assert events[str(first)]["reviewer_count"] == 3 and events[str(first)]["above_funding_line"] is True

    # the applicant reads the result and the comments, never who wrote them
    mine = await office.client.get(
        f"/reviews/applications/{first}", headers=office.auth("applicant", person_id=str(applicant))
    )
    assert mine.status_code == 200
    body = mine.json()
    assert (
        body["score"] == 90.0
        and body["recommendation_zh"] == "建议资助"
        and len(body["anonymised_comments"]) == 3
    )
    identities = {str(v) for e in experts for v in (e["id"], e["person_id"], e["unit_id"], e["name"])}
    assert not any(i in mine.text for i in identities)
    assert not {"expert_id", "expert_name", "sheets", "scores"} & set(body)
    other = await office.client.get(
        f"/reviews/applications/{first}", headers=office.auth("applicant", person_id=str(uuid4()))
    )
    assert other.status_code == 404
    # and once the review is final, the experts' tasks are closed
    person, t = pending[0]
    assert (
        await office.client.get(f"/assignments/{t['assignment_id']}/sheet", headers=office.as_person(person))
    ).status_code == 404
    assert await office.tasks(person) == []

    async def audited() -> bool:
        audit = office.svc.runtime.tables.audit_log
        async with office.svc.runtime.sessionmaker() as s:
            actions = set((await s.execute(select(audit.c.action))).scalars())
        return {
            "review_submitted",
            "expert_recused",
            "panel_decided",
            "review_completed",
            "round_finalized",
        } <= actions

    await eventually(audited)
