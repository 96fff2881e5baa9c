"""Journey: a project's whole life through the gateway, every step by the person whose work it is.

An applicant registers and is approved by the admin of the unit; drafts and submits with the
pledge; the unit endorses; the competent department recommends with matching funds; staff run
the formal review. The review office — four staff, one duty each — keeps the expert database,
requests experts, draws them and finalises the results; the experts accept and score. Staff
approve, the task book is signed, the mid-term check and the acceptance run. At each step
someone who does not hold the role tries too, and is refused with nothing changed.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from shared.clock import utcnow

from .conftest import Gateway, Person, World, refused, serial, until

pytestmark = pytest.mark.asyncio

ABSTRACT = "本项目面向稀土永磁材料的高性能化需求，研究晶界扩散工艺与微观结构调控方法，形成可推广的制备技术。"


async def publish_call(staff: Person) -> str:
    now = utcnow()
    r = await staff.post(
        "/api/projects/calls",
        {
            "programme_code": "basic.nsf",
            "year": 2027,
            "title": "2027年度自治区自然科学基金项目申报指南",
            "guideline": "支持稀土功能材料领域的基础研究。",
            "directions": ["稀土功能材料"],
            "opens_at": (now - timedelta(days=1)).isoformat(),
            "closes_at": (now + timedelta(days=10)).isoformat(),
            "budget_fen": 100_000_000,
            "min_funding_fen": 100_000,
            "max_funding_fen": 20_000_000,
            "projects_to_fund": 2,
        },
    )
    assert r.status_code == 201, r.text
    call_id = str(r.json()["id"])
    r = await staff.post(f"/api/projects/calls/{call_id}/actions/publish")
    assert r.status_code == 200, r.text
    return call_id


async def application_state(who: Person, app_id: str) -> str:
    r = await who.get(f"/api/projects/applications/{app_id}")
    assert r.status_code == 200, r.text
    return str(r.json()["state"])


async def enrol_experts(world: World, expert_db: Person, count: int) -> list[Person]:
    """People in the register, accounts of theirs with the expert role, approved in the database."""
    experts = []
    for _ in range(count):
        unit = await world.unit()
        person_id = await world.person(unit["id"], "专家")
        expert = await world.gw.open_account(
            f"expert{serial()}", [{"role": "expert"}], unit_id=unit["id"], person_id=person_id
        )
        body = {
            "person_id": person_id,
            "region": "150100",
            "title": "教授",
            "disciplines": ["F0201"],
            "keywords": ["材料"],
            "max_load": 20,
        }
        enrolled: list[Any] = []

        async def known(body: dict[str, Any] = body, enrolled: list[Any] = enrolled) -> bool:
            r = await expert_db.post("/api/evaluation/experts", body)  # the person arrives by event
            enrolled[:] = [r]
            return r.status_code == 201

        await until(known)
        r = await expert_db.post(f"/api/evaluation/experts/{enrolled[0].json()['id']}/approve")
        assert r.status_code == 200, r.text
        experts.append(expert)
    return experts


async def draw_and_open(requester: Person, drawer: Person, results: Person, round_id: str) -> None:
    r = await requester.post(f"/api/evaluation/rounds/{round_id}/request", {"k": 3, "max_load": 10})
    assert r.status_code == 200, r.text
    # whoever finalises results never chose the experts
    assert refused(await results.post(f"/api/evaluation/rounds/{round_id}/runs", {"mode": "draw", "seed": 3}))
    queued = await drawer.post(
        f"/api/evaluation/rounds/{round_id}/runs", {"mode": "draw", "seed": 11, "commit": True}
    )
    assert queued.status_code == 202, queued.text
    run: dict[str, Any] = {}

    async def ended() -> bool:
        r = await drawer.get(f"/api/evaluation/runs/{queued.json()['id']}")
        run.update(r.json())
        return run["status"] in ("done", "failed", "cancelled")

    await until(ended)
    assert run["status"] == "done" and not run["shortfalls"], run
    r = await drawer.post(f"/api/evaluation/rounds/{round_id}/open")
    assert r.status_code == 200, r.text


async def score(experts: list[Person], percent: float, recommendation: str | None = None) -> int:
    sheets = 0
    for expert in experts:
        tasks = (await expert.get("/api/evaluation/reviews/mine?size=200")).json()["items"]
        for round_id in sorted({t["round_id"] for t in tasks if not t["pledge_signed"]}):
            r = await expert.post(f"/api/evaluation/rounds/{round_id}/pledge", {"accepted": True})
            assert r.status_code == 201, r.text  # 诚信和保密承诺, before any sheet opens
        for task in tasks:
            assignment = task["assignment_id"]
            r = await expert.post(f"/api/evaluation/assignments/{assignment}/respond", {"accept": True})
            assert r.status_code == 200, r.text
            sheet = (await expert.get(f"/api/evaluation/assignments/{assignment}/sheet")).json()
            indicators = sheet["form"]["indicators"]
            body: dict[str, Any] = {
                "scores": {
                    i["code"]: i["min_score"] + (i["max_score"] - i["min_score"]) * percent / 100
                    for i in indicators
                },
                "indicator_comments": {i["code"]: "依据充分" for i in indicators if i["comment_required"]},
                "comment": "材料齐全，论证充分，结论依据专家组逐项核查意见形成。",
            }
            if recommendation is not None:
                body["recommendation"] = recommendation
            r = await expert.post(f"/api/evaluation/assignments/{assignment}/sheet/submit", body)
            assert r.status_code == 200, r.text
            sheets += 1
    return sheets


async def test_an_application_becomes_a_project_and_is_accepted(gateway_door: Gateway, world: World) -> None:
    gw = gateway_door
    staff = await gw.staff(f"plan.office{serial()}")
    unit = await world.unit()
    dept = await world.unit(kind="other")
    unit_admin = await world.unit_admin(unit["id"])
    competent = await gw.open_account(
        f"dept{serial()}", [{"role": "competent_department", "scope_ids": [dept["id"]]}], unit_id=dept["id"]
    )

    # the applicant registers; the unit's admin records the person and approves the account
    username = f"applicant{serial()}"
    account_id = await gw.register(username, unit["id"])
    pending = await gw.sign_in(username)
    assert pending.status_code == 403 and pending.json()["code"] == "account_pending"
    listed = await unit_admin.get("/accounts", params={"status": "pending"})
    assert [a["id"] for a in listed.json()["items"]] == [account_id]
    other_admin = await world.unit_admin((await world.unit())["id"])
    assert refused(await other_admin.post(f"/accounts/{account_id}/approve", {}))  # not their unit
    lead = await world.person(unit["id"], "负责人")  # the unit admin's own record would do as well
    approved = await unit_admin.post(
        f"/accounts/{account_id}/approve", {"person_id": lead, "reason": "本单位在职"}
    )
    assert approved.status_code == 200, approved.text
    applicant = await gw.person(username)
    assert (await applicant.me())["person_id"] == lead

    call_id = await publish_call(staff)
    assert refused(await applicant.post("/api/projects/calls", {"title": "自拟指南"}))
    draft_body = {
        "call_id": call_id,
        "unit_id": unit["id"],
        "competent_department_id": dept["id"],
        "title": "稀土永磁材料晶界扩散关键技术研究",
        "abstract": ABSTRACT,
        "content": "研究内容：晶界扩散工艺参数优化、微观结构表征与磁性能调控。" * 3,
        "keywords": ["稀土", "永磁"],
        "discipline_codes": ["F0201"],
        "team": [{"person_id": lead, "name": "负责人", "role": "lead", "unit_id": unit["id"]}],
        "budget": [
            {"category": "equipment", "amount_fen": 300_000},
            {"category": "business", "amount_fen": 200_000},
        ],
        "plan": "第一年完成制备，第二年完成验证。",
        "milestones": [{"due": "2027-12-31", "deliverable": "样品"}],
        "indicators": [{"name": "发明专利", "category": "output", "unit": "件", "promised": 3}],
    }
    drafted: list[Any] = []

    async def draft() -> bool:  # the lead and the units reach projects by registry's events
        r = await applicant.post("/api/projects/applications", draft_body)
        drafted[:] = [r]
        return r.status_code == 201

    await until(draft)
    app_id = drafted[0].json()["id"]
    base = f"/api/projects/applications/{app_id}/actions"

    # submit without the pledge is refused; with it, it goes
    r = await applicant.post(f"{base}/submit", {"pledge_accepted": False})
    assert r.status_code in (409, 422) and await application_state(applicant, app_id) == "draft"
    r = await applicant.post(f"{base}/submit", {"pledge_accepted": True})
    assert r.status_code == 200, r.text
    # the applicant cannot endorse their own application, nor the department recommend before the unit
    assert refused(await applicant.post(f"{base}/endorse"))
    assert refused(await other_admin.post(f"{base}/endorse"))
    assert await application_state(applicant, app_id) == "submitted"
    assert (await unit_admin.post(f"{base}/endorse")).status_code == 200
    recommendation = {"matching_fund_fen": 100_000, "commitment": "本单位承诺按期足额落实匹配资金"}
    assert refused(await unit_admin.post(f"{base}/recommend", recommendation))
    r = await competent.post(f"{base}/recommend", recommendation)
    assert r.status_code == 200, r.text
    assert refused(await competent.post(f"{base}/accept_formally", {"reason": "自行通过"}))
    for action, body in (("accept_formally", {"reason": "形式审查通过"}), ("send_to_review", {})):
        r = await staff.post(f"{base}/{action}", body)
        assert r.status_code == 200, (action, r.text)

    # the review office: four people, one duty each
    expert_db = await gw.staff(f"expert.db{serial()}", "expert_db")
    requester = await gw.staff(f"requester{serial()}", "request")
    drawer = await gw.staff(f"drawer{serial()}", "draw")
    results = await gw.staff(f"results{serial()}", "results")
    experts = await enrol_experts(world, expert_db, 3)
    assert refused(await staff.post("/api/evaluation/experts", {"person_id": lead}))  # no duty, no database
    rounds: list[dict[str, Any]] = []

    async def review_round() -> bool:
        r = await requester.get("/api/evaluation/rounds", params={"kind": "application_review"})
        rounds[:] = [x for x in r.json()["items"]]
        return bool(rounds)

    await until(review_round)
    round_id = rounds[0]["id"]
    assert refused(await drawer.post(f"/api/evaluation/rounds/{round_id}/request", {"k": 3, "max_load": 10}))
    await draw_and_open(requester, drawer, results, round_id)
    assert await score(experts, 85, recommendation="fund") == 3
    # the results office reads the score sheets; whoever drew the experts never sees the scores
    sheets = await results.get(f"/api/evaluation/rounds/{round_id}/score-sheets")
    assert sheets.status_code == 200, sheets.text
    assert refused(await drawer.get(f"/api/evaluation/rounds/{round_id}/score-sheets"))
    assert refused(await drawer.post(f"/api/evaluation/rounds/{round_id}/finalize"))
    assert refused(await experts[0].post(f"/api/evaluation/rounds/{round_id}/finalize"))
    r = await results.post(f"/api/evaluation/rounds/{round_id}/finalize")
    assert r.status_code == 200, r.text
    ranking = await results.get(f"/api/evaluation/rounds/{round_id}/ranking")
    assert ranking.status_code == 200, ranking.text

    async def reviewed() -> bool:
        return await application_state(staff, app_id) == "reviewed"

    await until(reviewed)
    listed = await staff.get("/api/projects/applications", params={"call_id": call_id})
    assert listed.status_code == 200 and listed.json()["total"] == 1
    decision = {"reason": "评审通过", "funding_fen": 500_000}
    assert refused(await unit_admin.post(f"{base}/approve", decision))
    assert refused(await experts[0].post(f"{base}/approve", decision))
    r = await staff.post(f"{base}/approve", decision)
    assert r.status_code == 200, r.text

    # the task book, the mid-term check and the acceptance
    listed = await staff.get("/api/projects/projects")
    [project] = [x for x in listed.json()["items"] if x["application_id"] == app_id]
    pid = project["id"]
    assert refused(await other_admin.post(f"/api/projects/projects/{pid}/actions/submit_task_book"))
    for action, who in (("submit_task_book", applicant), ("sign_task_book", staff)):
        r = await who.post(f"/api/projects/projects/{pid}/actions/{action}")
        assert r.status_code == 200, (action, r.text)
    assert refused(await applicant.post(f"/api/projects/projects/{pid}/evaluations", {"kind": "mid_term"}))

    async def evaluate(kind: str, percent: float, body: dict[str, Any]) -> dict[str, Any]:
        r = await staff.post(
            f"/api/projects/projects/{pid}/evaluations", {"kind": kind, "due_date": "2029-06-30"}
        )
        assert r.status_code == 201, r.text
        request_id = r.json()["request_id"]
        item: list[dict[str, Any]] = []

        async def arrived() -> bool:
            r = await results.get(f"/api/evaluation/assessments/{request_id}")
            item[:] = [r.json()]
            return r.status_code == 200

        await until(arrived)
        await draw_and_open(requester, drawer, results, str(item[0]["round_id"]))
        await score(experts, percent)
        r = await results.post(f"/api/evaluation/assessments/{request_id}/finalize", body)
        assert r.status_code == 200, r.text
        return dict(r.json())

    assert (await evaluate("mid_term", 80, {}))["result"] == "pass"
    # acceptance needs the project's S&T report (科技报告), which only the lead submits
    report = {"title": "项目科技报告", "number": f"KJBG-{serial()}", "sha256": "b" * 64}
    assert refused(await other_admin.put(f"/api/projects/projects/{pid}/st-report", report))
    r = await applicant.put(f"/api/projects/projects/{pid}/st-report", report)
    assert r.status_code == 200, r.text
    assert (await evaluate("acceptance", 85, {}))["result"] == "pass"

    async def accepted() -> bool:
        r = await applicant.get(f"/api/projects/projects/{pid}")
        return bool(r.json()["state"] not in ("in_progress", "under_acceptance"))

    await until(accepted)
    # the applicant's refresh keeps the session through the day
    await applicant.refresh()
    assert (await applicant.get(f"/api/projects/projects/{pid}")).status_code == 200
