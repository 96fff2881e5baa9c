"""Journey: people who only ever sign in through the regional platform (统一身份认证).

A researcher unknown to the platform signs in; the regional platform names their unit by its
unified social credit code, so the account waits for that unit's admin, who approves it. They
then draft and submit an application, with two browser tabs refreshing the session at once.
An expert whose account the administrator opened (with a one-time password they never use)
works through single sign-on alone. Neither can do what their role does not allow.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest

from shared.clock import utcnow

from .conftest import Gateway, Person, World, refused, serial, until

pytestmark = pytest.mark.asyncio


async def test_a_researcher_signs_in_only_through_the_regional_platform(
    gateway_door: Gateway, world: World
) -> None:
    gw = gateway_door
    unit = await world.unit()
    unit_admin = await world.unit_admin(unit["id"])
    user = {"sub": f"mkj-{serial()}", "name": "乌兰", "unit_credit_code": unit["credit_code"]}
    answer: dict[str, Any] = {}

    async def waiting_for_the_unit() -> bool:  # the unit reaches the gateway by registry's event
        r = await gw.sso(user)
        answer.update(r.json())
        return r.status_code == 403 and answer.get("unit_id") == unit["id"]

    await until(waiting_for_the_unit)
    assert answer["code"] == "account_pending" and "unit_ticket" not in answer
    account_id = answer["account_id"]
    other_admin = await world.unit_admin((await world.unit())["id"])
    assert account_id not in [a["id"] for a in (await other_admin.get("/accounts")).json()["items"]]
    assert refused(await other_admin.post(f"/accounts/{account_id}/approve", {}))
    pending = await unit_admin.get("/accounts", params={"status": "pending"})
    assert account_id in [a["id"] for a in pending.json()["items"]]
    person_id = await world.person(unit["id"], "乌兰")
    r = await unit_admin.post(
        f"/accounts/{account_id}/approve", {"person_id": person_id, "reason": "本单位职工"}
    )
    assert r.status_code == 200, r.text

    signed_in = await gw.sso(user)
    assert signed_in.status_code == 200, signed_in.text
    me = Person(gw.client, "", account_id, signed_in.json())
    assert (await me.me())["person_id"] == person_id and signed_in.json()["must_change_password"] is False

    # two tabs refresh the same session at once: both keep working, with the same new pair
    body = {"refresh_token": me.tokens["refresh_token"]}
    tab1, tab2 = await asyncio.gather(
        gw.client.post("/auth/refresh", json=body), gw.client.post("/auth/refresh", json=body)
    )
    assert tab1.status_code == tab2.status_code == 200
    assert tab1.json()["refresh_token"] == tab2.json()["refresh_token"]
    me.tokens = tab1.json()

    # their work: an application to an open call
    staff = await gw.staff(f"call.office{serial()}")
    now = utcnow()
    call = await staff.post(
        "/api/projects/calls",
        {
            "programme_code": "basic.nsf",
            "year": 2027,
            "title": "2027年度自然科学基金（统一认证）",
            "guideline": "支持基础研究。",
            "directions": ["基础研究"],
            "opens_at": (now - timedelta(days=1)).isoformat(),
            "closes_at": (now + timedelta(days=10)).isoformat(),
            "budget_fen": 10_000_000,
            "min_funding_fen": 100_000,
            "max_funding_fen": 1_000_000,
            "projects_to_fund": 1,
        },
    )
    assert call.status_code == 201, call.text
    assert (await staff.post(f"/api/projects/calls/{call.json()['id']}/actions/publish")).status_code == 200
    dept = await world.unit(kind="other")
    draft = {
        "call_id": call.json()["id"],
        "unit_id": unit["id"],
        "competent_department_id": dept["id"],
        "title": "草原生态遥感监测方法研究",
        "abstract": "本项目研究草原生态遥感监测的新方法，建立覆盖全区的监测指标体系和数据处理流程。",
        "content": "研究内容：多源遥感数据融合、植被指数反演与退化评估模型。" * 3,
        "keywords": ["遥感", "草原"],
        "discipline_codes": ["D0101"],
        "team": [{"person_id": person_id, "name": "乌兰", "role": "lead", "unit_id": unit["id"]}],
        "budget": [{"category": "business", "amount_fen": 300_000}],
        "plan": "两年完成。",
        "milestones": [{"due": "2027-12-31", "deliverable": "监测模型"}],
        "indicators": [{"name": "论文", "category": "output", "unit": "篇", "promised": 2}],
    }
    created: list[Any] = []

    async def drafted() -> bool:
        r = await me.post("/api/projects/applications", draft)
        created[:] = [r]
        return r.status_code == 201

    await until(drafted)
    app_id = created[0].json()["id"]
    r = await me.post(f"/api/projects/applications/{app_id}/actions/submit", {"pledge_accepted": True})
    assert r.status_code == 200, r.text

    # what the applicant's role does not allow
    assert refused(await me.post(f"/api/projects/applications/{app_id}/actions/endorse"))
    assert refused(await me.get("/accounts"))
    assert refused(
        await me.post(f"/accounts/{account_id}/grants", {"role": "administrator", "reason": "自己"})
    )
    state = (await me.get(f"/api/projects/applications/{app_id}")).json()["state"]
    assert state == "submitted"
    assert {g["role"] for g in (await me.me())["roles"]} == {"applicant"}


async def test_an_expert_opened_by_the_administrator_works_through_sign_on_alone(
    gateway_door: Gateway, world: World
) -> None:
    gw = gateway_door
    unit = await world.unit()
    person_id = await world.person(unit["id"], "专家")
    email = f"expert{serial()}@imau.edu.cn"
    admin = await gw.administrator()
    created = await admin.post(
        "/accounts",
        {
            "username": f"sso.expert{serial()}",
            "display_name": "巴雅尔",
            "email": email,
            "unit_id": unit["id"],
            "person_id": person_id,
            "roles": [{"role": "expert"}],
        },
    )
    assert created.status_code == 201 and created.json()["account"]["must_change_password"] is True
    # the one-time password is never used: the platform vouches for the verified e-mail
    r = await gw.sso({"sub": f"mkj-{serial()}", "name": "巴雅尔", "email": email, "email_verified": True})
    assert r.status_code == 200, r.text
    expert = Person(gw.client, "", created.json()["account"]["id"], r.json())
    assert r.json()["must_change_password"] is False
    tasks = await expert.get("/api/evaluation/reviews/mine")
    assert tasks.status_code == 200 and tasks.json()["items"] == []
    await expert.refresh()
    assert (await expert.get("/api/evaluation/reviews/mine")).status_code == 200
    # an expert neither keeps the expert database nor draws
    assert refused(await expert.post("/api/evaluation/experts", {"person_id": person_id}))
    assert refused(await expert.get("/api/evaluation/rounds"))


async def test_without_a_unit_from_the_platform_the_person_names_it_and_its_admin_approves(
    gateway_door: Gateway, world: World
) -> None:
    gw = gateway_door
    unit = await world.unit()
    unit_admin = await world.unit_admin(unit["id"])
    user = {"sub": f"mkj-{serial()}", "name": "其木格"}
    first = await gw.sso(user)
    assert first.status_code == 403 and first.json()["code"] == "account_pending"
    ticket, account_id = first.json()["unit_ticket"], first.json()["account_id"]
    assert account_id not in [a["id"] for a in (await unit_admin.get("/accounts")).json()["items"]]
    named = await gw.client.post("/auth/oidc/unit", json={"unit_ticket": ticket, "unit_id": unit["id"]})
    assert named.status_code == 202 and named.json()["unit_id"] == unit["id"], named.text
    reused = await gw.client.post("/auth/oidc/unit", json={"unit_ticket": ticket, "unit_id": unit["id"]})
    assert reused.status_code == 401
    assert refused(
        await (await world.unit_admin((await world.unit())["id"])).post(f"/accounts/{account_id}/approve", {})
    )
    r = await unit_admin.post(f"/accounts/{account_id}/approve", {"reason": "本单位职工"})
    assert r.status_code == 200, r.text
    signed_in = await gw.sso(user)
    assert signed_in.status_code == 200, signed_in.text
    me = Person(gw.client, "", account_id, signed_in.json())
    assert (await me.me())["unit_id"] == unit["id"]
    assert (await me.get("/api/registry/organisations")).status_code == 200
    assert refused(await me.post("/api/registry/organisations", {"name": "自建单位"}))
