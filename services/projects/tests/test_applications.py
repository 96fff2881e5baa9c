"""The competitive application path, draft to funding decision, through the API and the bus."""

from __future__ import annotations

import asyncio
import io
from datetime import timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from projects.applications.events import REVIEW_COMPLETED, ReviewCompleted
from projects.applications.models import ApplicationStep, ApplicationVersion
from shared.clock import utcnow
from shared.testing.servers import eventually

pytestmark = pytest.mark.asyncio


async def _review(world: Any, app: dict[str, Any], score: float, recommendation: str = "fund") -> Any:
    payload = ReviewCompleted(
        application_id=UUID(app["id"]),
        call_id=UUID(app["call_id"]),
        round_id=uuid4(),
        score=score,
        recommendation=recommendation,
        reviewer_count=5,
        anonymised_comments=["创新性较强"],
    )
    return await world.publish(REVIEW_COMPLETED, payload, f"application/{app['id']}")


async def _state(world: Any, app_id: str) -> str:
    r = await world.client.get(f"/applications/{app_id}", headers=world.staff)
    return str(r.json()["state"])


async def test_competitive_flow_from_draft_to_approval_with_review_results_from_events(
    world: Any, people: Any
) -> None:
    call = await world.call()
    p, u, d = people["person"], people["unit"], people["dept"]
    app = await world.draft(call["id"], p, u, d)
    assert app["state"] == "draft" and app["requested_funding_fen"] == 500_000
    await world.to_recommended(app, p, u, d)
    r = await world.act(app["id"], "accept_formally", world.staff)
    assert r.status_code == 200, r.text
    assert r.json()["formal_report"]["passed"] is True
    r = await world.act(app["id"], "send_to_review", world.staff, review_due="2027-03-01")
    assert r.status_code == 200 and r.json()["state"] == "in_review"
    ready = (await world.events("projects.application.ready_for_review"))[0]["data"]
    assert ready["application_id"] == app["id"] and ready["team_person_ids"] == [p]
    assert ready["requested_funding_fen"] == 500_000 and ready["review_due"] == "2027-03-01"

    envelope = await _review(world, app, 88.5)
    await eventually(lambda: _is(world, app["id"], "reviewed"), timeout=10)
    # The same result delivered again is applied once.
    bus = world.svc.runtime.bus
    await bus.js.publish(
        bus.subject_for(REVIEW_COMPLETED.name), envelope.model_dump_json(exclude_none=True).encode()
    )
    r = await world.act(app["id"], "approve", world.staff, reason="评审排名第一", funding_fen=450_000)
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "approved" and r.json()["review_score"] == 88.5
    approved = (await world.events("projects.project.approved"))[0]["data"]
    assert approved["application_id"] == app["id"] and approved["funding_fen"] == 450_000
    assert approved["pi_person_id"] == p and approved["organisation_mode"] == "open_competition"
    kinds = [e["type"].rsplit(".", 1)[1] for e in await world.events("projects.application.")]
    assert kinds == [
        "submitted",
        "endorsed",
        "recommended",
        "formally_accepted",
        "ready_for_review",
        "sent_to_review",
        "reviewed",
        "approved",
    ]
    steps = (await world.client.get(f"/applications/{app['id']}/steps", headers=world.applicant(p))).json()[
        "items"
    ]
    assert [s["action"] for s in steps] == [
        "submit",
        "endorse",
        "recommend",
        "accept_formally",
        "send_to_review",
        "complete_review",
        "approve",
    ]
    assert steps[1]["actor_id"].startswith("ua-") and steps[1]["comments"] == "材料齐全"
    assert steps[-1]["reason"] == "评审排名第一"


async def _is(world: Any, app_id: str, state: str) -> bool:
    return await _state(world, app_id) == state


async def test_rejection_states_its_reason_and_the_funding_table_draws_the_line(
    world: Any, people: Any
) -> None:
    call = await world.call(projects_to_fund=1)
    p, u, d = people["person"], people["unit"], people["dept"]
    others = [await world.person(unit_id=u) for _ in range(2)]
    for o in others:
        await world.synced(o)
    apps = [
        await world.draft(call["id"], who, u, d, title=f"第{i}个不同题目的研究：{'草原生态' * (i + 1)}修复")
        for i, who in enumerate([p, *others])
    ]
    for a, who in zip(apps, [p, *others], strict=True):
        await world.to_recommended(a, who, u, d)
        assert (await world.act(a["id"], "accept_formally", world.staff)).status_code == 200
        assert (await world.act(a["id"], "send_to_review", world.staff)).status_code == 200
    for a, score in zip(apps, [70.0, 91.0, 80.0], strict=True):
        await _review(world, a, score)
    for a in apps:
        await eventually(lambda a=a: _is(world, a["id"], "reviewed"), timeout=10)
    table = (await world.client.get(f"/applications/funding-table/{call['id']}", headers=world.staff)).json()
    assert [r["review_score"] for r in table["rows"]] == [91.0, 80.0, 70.0]
    assert [r["above_line"] for r in table["rows"]] == [True, False, False]
    refused = await world.act(apps[0]["id"], "reject", world.staff)
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "reason"
    r = await world.act(apps[0]["id"], "reject", world.staff, reason="评审得分低于资助线")
    assert r.json()["state"] == "rejected" and r.json()["decision_reason"] == "评审得分低于资助线"
    rejected = (await world.events("projects.application.rejected"))[0]["data"]
    assert rejected["reason"] == "评审得分低于资助线"
    xlsx = await world.client.get(
        f"/applications/funding-table/{call['id']}/export.xlsx", headers=world.staff
    )
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert [c.value for c in sheet[1]][:3] == ["排名", "申报编号", "项目名称"]
    assert sheet.max_row == 4


async def test_refused_transitions_are_409_with_the_allowed_actions(world: Any, people: Any) -> None:
    call = await world.call()
    p, u, d = people["person"], people["unit"], people["dept"]
    app = await world.draft(call["id"], p, u, d)
    r = await world.act(app["id"], "approve", world.staff, reason="x")
    assert r.status_code == 409
    assert r.json()["current_state"] == "draft" and r.json()["allowed_actions"] == []
    r = await world.act(app["id"], "endorse", world.unit_admin(u))
    assert (r.status_code == 409 and "submit" in r.json()["allowed_actions"]) or r.status_code == 404
    r = await world.act(app["id"], "submit", world.applicant(p))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "pledge_accepted"
    r = await world.act(call["id"], "submit", world.applicant(p), pledge_accepted=True)
    assert r.status_code == 404


async def test_late_submission_is_refused_at_the_window_edge(world: Any, people: Any) -> None:
    call = await world.call()
    p, u, d = people["person"], people["unit"], people["dept"]
    app = await world.draft(call["id"], p, u, d)
    just_closed = (utcnow() - timedelta(seconds=1)).isoformat()
    r = await world.client.patch(
        f"/calls/{call['id']}", json={"closes_at": just_closed, "reason": "按通知截止"}, headers=world.staff
    )
    assert r.status_code == 200, r.text
    r = await world.act(app["id"], "submit", world.applicant(p), pledge_accepted=True)
    assert r.status_code == 409 and r.json()["code"] == "window_closed"
    assert "北京时间" in r.json()["detail_zh"] or "北京时间" in str(r.json())
    still_open = (utcnow() + timedelta(seconds=30)).isoformat()
    await world.client.patch(
        f"/calls/{call['id']}", json={"closes_at": still_open, "reason": "延期"}, headers=world.staff
    )
    r = await world.act(app["id"], "submit", world.applicant(p), pledge_accepted=True)
    assert r.status_code == 200


async def test_concurrent_double_submit_of_one_draft_creates_one_submission(world: Any, people: Any) -> None:
    call = await world.call()
    p, u, d = people["person"], people["unit"], people["dept"]
    app = await world.draft(call["id"], p, u, d)
    answers = await asyncio.gather(
        *[world.act(app["id"], "submit", world.applicant(p), pledge_accepted=True) for _ in range(5)]
    )
    assert sorted(a.status_code for a in answers) == [200, 409, 409, 409, 409]
    assert len(await world.events("projects.application.submitted")) == 1
    async with world.svc.runtime.sessionmaker() as s:
        versions = (await s.execute(select(func.count()).select_from(ApplicationVersion))).scalar_one()
        steps = (await s.execute(select(func.count()).select_from(ApplicationStep))).scalar_one()
    assert (versions, steps) == (1, 1)


async def test_editing_a_returned_application_invalidates_the_seal_and_resubmission_keeps_versions(
    world: Any, people: Any
) -> None:
    call = await world.call()
    p, u, d = people["person"], people["unit"], people["dept"]
    app = await world.draft(call["id"], p, u, d)
    await world.act(app["id"], "submit", world.applicant(p), pledge_accepted=True)
    await world.act(app["id"], "endorse", world.unit_admin(u))
    seals = (await world.client.get(f"/applications/{app['id']}/seals", headers=world.unit_admin(u))).json()
    assert [s["kind"] for s in seals["items"]] == ["pledge", "endorsement"]
    assert all(s["valid"] for s in seals["items"]) and seals["items"][1]["digest"] == seals["current_digest"]
    r = await world.act(app["id"], "return_by_department", world.department(d))
    assert r.status_code == 422  # a return needs its reason
    r = await world.act(app["id"], "return_by_department", world.department(d), reason="预算编制不合理")
    assert r.json()["state"] == "returned"
    r = await world.client.patch(
        f"/applications/{app['id']}", json={"plan": "调整后的实施计划。"}, headers=world.applicant(p)
    )
    assert r.status_code == 200
    seals = (await world.client.get(f"/applications/{app['id']}/seals", headers=world.applicant(p))).json()
    assert [s["valid"] for s in seals["items"]] == [False, False]
    r = await world.act(app["id"], "submit", world.applicant(p), pledge_accepted=True)
    assert r.json()["revision"] == 2
    versions = (
        await world.client.get(f"/applications/{app['id']}/versions", headers=world.applicant(p))
    ).json()
    assert [v["revision"] for v in versions["items"]] == [1, 2]
    assert versions["items"][0]["content"]["plan"] != versions["items"][1]["content"]["plan"]
    # A submitted application no longer changes.
    r = await world.client.patch(
        f"/applications/{app['id']}", json={"plan": "再改"}, headers=world.applicant(p)
    )
    assert r.status_code == 409


async def test_recommendation_records_the_commitment_and_matching_fund(world: Any, people: Any) -> None:
    call = await world.call()
    p, u, d = people["person"], people["unit"], people["dept"]
    app = await world.draft(call["id"], p, u, d, matching_fund_fen=80_000)
    await world.act(app["id"], "submit", world.applicant(p), pledge_accepted=True)
    await world.act(app["id"], "endorse", world.unit_admin(u))
    r = await world.act(app["id"], "recommend", world.department(d))
    assert r.status_code == 422
    r = await world.act(
        app["id"], "recommend", world.department(d), matching_fund_fen=250_000, commitment="承诺配套"
    )
    assert r.status_code == 200
    # The applicant's own matching funds stay what was sealed; the department's sit beside them.
    assert (r.json()["matching_fund_fen"], r.json()["recommended_matching_fund_fen"]) == (80_000, 250_000)
    seal = (await world.client.get(f"/applications/{app['id']}/seals", headers=world.staff)).json()["items"][
        -1
    ]
    assert seal["kind"] == "recommendation" and seal["statement"]["matching_fund_fen"] == 250_000
    assert seal["unit_id"] == d and seal["valid"] is True


async def test_a_recommendation_with_matching_funds_leaves_the_pledge_and_endorsement_valid(
    world: Any, people: Any
) -> None:
    call = await world.call()
    p, u, d = people["person"], people["unit"], people["dept"]
    app = await world.draft(call["id"], p, u, d)
    await world.to_recommended(app, p, u, d)  # the department commits 1,000.00 元
    seals = (await world.client.get(f"/applications/{app['id']}/seals", headers=world.staff)).json()
    assert [(s["kind"], s["valid"]) for s in seals["items"]] == [
        ("pledge", True),
        ("endorsement", True),
        ("recommendation", True),
    ]
    page = (await world.client.get(f"/applications/{app['id']}/document", headers=world.staff)).text
    assert "已失效" not in page and page.count("有效（与现行内容一致）") == 3
    assert "推荐单位匹配资金（元）</th><td>1,000.00</td>" in page
    assert "申报单位自筹经费（元）</th><td>0.00</td>" in page
    code = "-".join(seals["current_digest"][:20].upper()[i : i + 4] for i in range(0, 20, 4))
    checked = (await world.client.get(f"/applications/printed/{code}", headers=world.staff)).json()
    assert [s["valid"] for s in checked["seals"]] == [True, True, True]


async def test_withdraw_before_the_deadline(world: Any, people: Any) -> None:
    call = await world.call()
    p, u, d = people["person"], people["unit"], people["dept"]
    app = await world.draft(call["id"], p, u, d)
    await world.act(app["id"], "submit", world.applicant(p), pledge_accepted=True)
    other = await world.person()
    r = await world.act(app["id"], "withdraw", world.applicant(other))
    assert r.status_code == 404
    r = await world.act(app["id"], "withdraw", world.applicant(p), reason="团队调整")
    assert r.status_code == 200 and r.json()["state"] == "withdrawn"


async def test_each_role_sees_only_its_own_applications_and_work_queue(world: Any, people: Any) -> None:
    call = await world.call()
    p, u, d = people["person"], people["unit"], people["dept"]
    other_unit = await world.org()
    app = await world.draft(call["id"], p, u, d)
    draft_only = await world.draft(call["id"], p, u, d, title="另一个尚未提交的草稿题目")
    await world.act(app["id"], "submit", world.applicant(p), pledge_accepted=True)

    queue = await world.client.get(
        "/applications", params={"queue": "endorsement"}, headers=world.unit_admin(u)
    )
    assert [a["id"] for a in queue.json()["items"]] == [app["id"]]  # drafts are the applicant's own
    assert queue.json()["items"][0]["state_zh"] == "已提交"
    assert (await world.client.get("/applications", headers=world.unit_admin(other_unit))).json()[
        "total"
    ] == 0
    assert (
        await world.client.get(f"/applications/{app['id']}", headers=world.unit_admin(other_unit))
    ).status_code == 404
    stranger = world.applicant(await world.person())
    assert (await world.client.get(f"/applications/{app['id']}", headers=stranger)).status_code == 404
    assert (await world.client.get("/applications", headers=stranger)).json()["total"] == 0
    mine = await world.client.get("/applications", params={"sort": "code"}, headers=world.applicant(p))
    assert [a["id"] for a in mine.json()["items"]] == [app["id"], draft_only["id"]]
    assert (await world.client.get("/applications", headers=world.auth("expert"))).status_code == 403
    other_department = world.department(await world.org(type="government"))
    assert (await world.client.get(f"/applications/{app['id']}", headers=other_department)).status_code == 404
    await world.act(app["id"], "endorse", world.unit_admin(u))
    dept_queue = await world.client.get(
        "/applications", params={"queue": "recommendation"}, headers=world.department(d)
    )
    assert dept_queue.json()["total"] == 1
    r = await world.act(
        app["id"], "recommend", world.department(await world.org()), matching_fund_fen=1, commitment="x"
    )
    assert r.status_code == 404
    found = await world.client.get("/applications", params={"q": "晶界扩散"}, headers=world.staff)
    assert [a["id"] for a in found.json()["items"]] == [app["id"]]
    xlsx = await world.client.get(
        "/applications/export.xlsx", params={"queue": "recommendation"}, headers=world.department(d)
    )
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet["A1"].value == "申报编号" and sheet.max_row == 2


async def test_drafts_created_at_the_same_moment_get_distinct_codes(world: Any, people: Any) -> None:
    call = await world.call()
    p, u, d = people["person"], people["unit"], people["dept"]
    made = await asyncio.gather(*[world.draft(call["id"], p, u, d, title=f"并发草稿{i}") for i in range(6)])
    assert sorted(a["code"] for a in made) == [f"SB2027{n:06d}" for n in range(1, 7)]


async def test_work_queue_pages_by_cursor_to_the_end_with_unsubmitted_last(world: Any, people: Any) -> None:
    call = await world.call()
    p, u, d = people["person"], people["unit"], people["dept"]
    apps = [await world.draft(call["id"], p, u, d, title=f"草原生态修复技术研究之{i}") for i in range(5)]
    for a in apps[:4]:
        r = await world.act(a["id"], "submit", world.applicant(p), pledge_accepted=True)
        assert r.status_code == 200, r.text

    async def walk(sort: str) -> list[str]:
        seen: list[str] = []
        cursor = None
        while True:
            params = {"call_id": call["id"], "sort": sort, "size": 2} | ({"cursor": cursor} if cursor else {})
            r = await world.client.get("/applications", params=params, headers=world.staff)
            assert r.status_code == 200, r.text
            assert r.json()["total"] == 5 and r.json()["total_exact"] is True
            seen += [a["id"] for a in r.json()["items"]]
            cursor = r.json()["next_cursor"]
            if cursor is None:
                return seen

    ids = [a["id"] for a in apps]
    assert await walk("-submitted_at") == [*ids[3::-1], ids[4]]  # the draft has no submission time
    assert await walk("submitted_at") == ids
    second = await world.client.get(
        "/applications",
        params={"call_id": call["id"], "sort": "submitted_at", "size": 2, "page": 2},
        headers=world.staff,
    )
    assert [a["id"] for a in second.json()["items"]] == ids[2:4]
    found = await world.client.get("/applications", params={"q": "生态修复技术"}, headers=world.staff)
    assert set(ids) <= {a["id"] for a in found.json()["items"]}
    for bad in ("not-a-cursor", second.json()["next_cursor"]):
        r = await world.client.get(
            "/applications", params={"sort": "-code", "cursor": bad}, headers=world.staff
        )
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "cursor", r.text


async def test_printed_application_carries_its_digest_seals_and_a_verification_code(
    world: Any, people: Any
) -> None:
    call = await world.call()
    p, u, d = people["person"], people["unit"], people["dept"]
    app = await world.draft(call["id"], p, u, d, title="磁体<b>晶界</b>扩散研究")
    url = f"/applications/{app['id']}/document"
    assert (await world.client.get(url, headers=world.applicant(p))).status_code == 404  # nothing submitted
    await world.act(app["id"], "submit", world.applicant(p), pledge_accepted=True)
    await world.act(app["id"], "endorse", world.unit_admin(u), comments="同意推荐")
    r = await world.client.get(url, headers=world.unit_admin(u))
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    digest = (await world.client.get(f"/applications/{app['id']}/versions", headers=world.staff)).json()[
        "items"
    ][0]["digest"]
    code = "-".join(digest[:20].upper()[i : i + 4] for i in range(0, 20, 4))
    page = r.text
    assert app["code"] in page and digest in page and code in page and r.headers["x-content-digest"] == digest
    assert "磁体&lt;b&gt;晶界&lt;/b&gt;扩散研究" in page and "<b>晶界" not in page  # user text is escaped
    assert "依托单位审核意见" in page and "同意推荐" in page and "有效（与现行内容一致）" in page
    assert (await world.client.get(url, headers=world.unit_admin(await world.org()))).status_code == 404

    checked = (await world.client.get(f"/applications/printed/{code}", headers=world.staff)).json()
    assert checked["found"] is True and checked["application_code"] == app["code"]
    assert checked["revision"] == 1 and [s["valid"] for s in checked["seals"]] == [True, True]
    assert "title" not in checked  # a code holder learns nothing the paper does not show
    await world.act(app["id"], "return_by_department", world.department(d), reason="预算编制不合理")
    await world.client.patch(
        f"/applications/{app['id']}", json={"plan": "调整后的计划。"}, headers=world.applicant(p)
    )
    checked = (await world.client.get(f"/applications/printed/{code}", headers=world.staff)).json()
    assert [s["valid"] for s in checked["seals"]] == [False, False]
    reprint = await world.client.get(url, params={"revision": 1}, headers=world.applicant(p))
    assert "已失效（内容已变更）" in reprint.text
    unknown = await world.client.get("/applications/printed/0000-0000-0000-0000-0000", headers=world.staff)
    assert unknown.json() == {"code": "0000-0000-0000-0000-0000", "found": False}
    bad = await world.client.get("/applications/printed/not-a-code", headers=world.staff)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "code"
