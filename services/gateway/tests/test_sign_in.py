"""Signing in with a password, refresh-token rotation, lockout, logout."""

from __future__ import annotations

import asyncio
from typing import Any

import jwt
import pytest
from sqlalchemy import select

from gateway.accounts.models import Account, RefreshToken

from .conftest import ADMIN_PASSWORD, admin_headers, sign_in

pytestmark = pytest.mark.asyncio

PASSWORD = "Strong-Pass-42"


async def make_account(gw: Any, username: str = "zhang.wei", **body: Any) -> dict[str, Any]:
    """An active account with the given roles, whose password is PASSWORD."""
    admin = await admin_headers(gw)
    created = await gw.client.post(
        "/accounts",
        json={"username": username, "display_name": "张伟", **body},
        headers=admin,
    )
    assert created.status_code == 201, created.text
    first = await sign_in(gw, username, created.json()["one_time_password"])
    assert first.json()["must_change_password"] is True
    # a one-time password opens nothing but the password change
    assert (await gw.runtime.verifier.verify(first.json()["access_token"])).roles == frozenset()
    change = await gw.client.post(
        "/auth/password",
        json={"current_password": created.json()["one_time_password"], "new_password": PASSWORD},
        headers={"Authorization": f"Bearer {first.json()['access_token']}"},
    )
    assert change.status_code == 204, change.text
    return dict(created.json()["account"])


async def test_bootstrap_administrator_signs_in_and_token_carries_claims(gateway: Any) -> None:
    response = await sign_in(gateway, "root-admin", ADMIN_PASSWORD)
    assert response.status_code == 200, response.text
    body = response.json()
    assert response.headers["cache-control"] == "no-store"
    header = jwt.get_unverified_header(body["access_token"])
    assert header["alg"] == "EdDSA" and header["kid"]
    principal = await gateway.runtime.verifier.verify(body["access_token"])
    assert principal.roles == {"administrator"}
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert {"iss", "aud", "exp", "iat", "jti", "sub", "roles", "scopes"} <= claims.keys()


async def test_scoped_roles_become_the_claims_the_services_read(gateway: Any) -> None:
    await make_account(
        gateway,
        "lab.director",
        unit_id="unit-1",
        person_id="person-9",
        roles=[
            {"role": "lab_director", "scope_ids": ["lab-1", "lab-2"]},
            {"role": "host_unit_admin"},
            {"role": "department_staff", "scope_ids": ["basic_research"]},
        ],
    )
    token = (await sign_in(gateway, "lab.director", PASSWORD)).json()["access_token"]
    principal = await gateway.runtime.verifier.verify(token)
    assert principal.roles == {"lab_director", "host_unit_admin", "department_staff"}
    assert principal.unit_id == "unit-1" and principal.person_id == "person-9"
    assert principal.scope("platforms") == {"lab-1", "lab-2"}
    assert principal.scope("units") == {"unit-1"}  # a unit admin acts for the own unit by default
    assert principal.scope("plan_categories") == {"basic_research"}
    assert principal.scope("duties") == frozenset()  # no duty unless granted


async def test_duties_granted_and_revoked_by_the_administrator_reach_the_token(gateway: Any) -> None:
    account = await make_account(gateway, "review.office", roles=[{"role": "department_staff"}])
    admin = await admin_headers(gateway)
    granted = await gateway.client.post(
        f"/accounts/{account['id']}/grants",
        json={"role": "department_staff", "duties": ["draw", "expert_db"], "reason": "评审处分工"},
        headers=admin,
    )
    assert granted.status_code == 200, granted.text
    [grant] = granted.json()["roles"]
    assert grant["duties"] == [{"code": "draw", "zh": "专家抽取"}, {"code": "expert_db", "zh": "专家库管理"}]
    principal = await gateway.runtime.verifier.verify(
        (await sign_in(gateway, "review.office", PASSWORD)).json()["access_token"]
    )
    assert principal.scope("duties") == {"draw", "expert_db"}
    revoked = await gateway.client.post(
        f"/accounts/{account['id']}/grants/department_staff/revoke", json={"reason": "调岗"}, headers=admin
    )
    assert revoked.status_code == 200 and revoked.json()["roles"] == []
    principal = await gateway.runtime.verifier.verify(
        (await sign_in(gateway, "review.office", PASSWORD)).json()["access_token"]
    )
    assert principal.roles == frozenset() and principal.scope("duties") == frozenset()
    audit = (await gateway.client.get(f"/accounts/{account['id']}/audit", headers=admin)).json()["items"]
    actions = {e["action"]: e for e in audit}
    assert actions["role_granted"]["reason"] == "评审处分工"
    assert actions["role_granted"]["changes"]["after"]["duties"] == ["draw", "expert_db"]
    assert actions["role_revoked"]["reason"] == "调岗"


async def test_a_grant_needs_a_reason_and_duties_fit_the_role(gateway: Any) -> None:
    account = await make_account(gateway, "someone", roles=[{"role": "expert"}])
    admin = await admin_headers(gateway)
    url = f"/accounts/{account['id']}/grants"
    for body, field in (
        ({"role": "department_staff", "duties": ["draw"]}, "reason"),
        ({"role": "department_staff", "duties": ["sign_everything"], "reason": "x"}, "duties"),
        ({"role": "expert", "duties": ["draw"], "reason": "x"}, "duties"),
        ({"role": "expert", "scope_ids": ["u-1"], "reason": "x"}, "scope_ids"),
    ):
        refused = await gateway.client.post(url, json=body, headers=admin)
        assert refused.status_code == 422, (body, refused.text)
        assert field in refused.json()["errors"][0]["field"]
    unexplained = await gateway.client.put(
        f"/accounts/{account['id']}/roles", json={"roles": [{"role": "department_staff"}]}, headers=admin
    )
    assert unexplained.status_code == 422 and unexplained.json()["errors"][0]["field"] == "reason"
    missing = await gateway.client.post(
        f"/accounts/{account['id']}/grants/department_staff/revoke", json={"reason": "x"}, headers=admin
    )
    assert missing.status_code == 404
    shown = (await gateway.client.get(f"/accounts/{account['id']}", headers=admin)).json()
    assert [g["role"] for g in shown["roles"]] == ["expert"]  # nothing changed
    staff = await make_account(gateway, "staff.member", roles=[{"role": "department_staff"}])
    own = (await sign_in(gateway, "staff.member", PASSWORD)).json()["access_token"]
    self_grant = await gateway.client.post(
        f"/accounts/{staff['id']}/grants",
        json={"role": "department_staff", "duties": ["results"], "reason": "自己授权"},
        headers={"Authorization": f"Bearer {own}"},
    )
    assert self_grant.status_code == 403


async def test_dev_token_carries_the_claims_a_real_token_has(gateway: Any) -> None:
    body = {
        "user_id": "u-7",
        "roles": ["department_staff", "expert"],
        "unit_id": "unit-1",
        "person_id": "person-7",
        "scopes": {"duties": ["draw"], "plan_categories": ["basic_research"]},
    }
    token = (await gateway.client.post("/dev/token", json=body)).json()["access_token"]
    principal = await gateway.runtime.verifier.verify(token)
    assert principal.person_id == "person-7" and principal.unit_id == "unit-1"
    assert principal.scope("duties") == {"draw"}
    # what no real account can hold, a dev token cannot express either
    for bad in (
        {"roles": ["expert"], "scopes": {"duties": ["draw"]}},
        {"roles": ["department_staff"], "scopes": {"duties": ["approve_all"]}},
        {"roles": ["applicant"], "scopes": {"units": ["unit-1"]}},
    ):
        assert (await gateway.client.post("/dev/token", json=bad)).status_code == 422, bad


async def test_unknown_user_and_wrong_password_get_the_same_answer(gateway: Any) -> None:
    await make_account(gateway)
    unknown = await sign_in(gateway, "nobody", PASSWORD)
    wrong = await sign_in(gateway, "zhang.wei", "Wrong-Pass-42")
    assert unknown.status_code == wrong.status_code == 401
    strip = ("request_id", "instance")
    assert {k: v for k, v in unknown.json().items() if k not in strip} == {
        k: v for k, v in wrong.json().items() if k not in strip
    }


async def test_repeated_failures_lock_the_account_even_for_the_right_password(start_gateway: Any) -> None:
    async with start_gateway(lockout_threshold=3, lockout_base_seconds=60) as gw:
        await make_account(gw)
        for _ in range(3):
            assert (await sign_in(gw, "zhang.wei", "Wrong-Pass-42")).status_code == 401
        locked = await sign_in(gw, "zhang.wei", PASSWORD)
        assert locked.status_code == 401
        assert locked.json()["code"] == "invalid_credentials"  # a lock is not disclosed either
        async with gw.runtime.sessionmaker() as session:
            account = (
                await session.execute(select(Account).where(Account.username == "zhang.wei"))
            ).scalar_one()
        assert account.failed_sign_ins == 3 and account.locked_until is not None
        # the administrator sees it and unlocks by a reset
        admin = await admin_headers(gw)
        shown = await gw.client.get(f"/accounts/{account.id}", headers=admin)
        assert shown.json()["locked"] is True
        reset = await gw.client.post(f"/accounts/{account.id}/password-reset", headers=admin)
        assert (await sign_in(gw, "zhang.wei", reset.json()["one_time_password"])).status_code == 200


async def test_brute_force_from_one_address_gets_429_with_retry_after(start_gateway: Any) -> None:
    async with start_gateway(sign_in_failures_per_ip=5, sign_in_limit_per_account=100) as gw:
        statuses = [(await sign_in(gw, f"guess{i}", "Wrong-Pass-42")).status_code for i in range(7)]
        assert statuses[:5] == [401] * 5
        limited = await sign_in(gw, "root-admin", ADMIN_PASSWORD)
        assert limited.status_code == 429
        assert int(limited.headers["retry-after"]) >= 1
        assert limited.headers["content-type"].startswith("application/problem+json")


async def test_guessing_one_account_from_many_addresses_is_limited_per_account(start_gateway: Any) -> None:
    async with start_gateway(sign_in_failures_per_ip=100, sign_in_limit_per_account=3) as gw:
        for _ in range(3):
            await sign_in(gw, "someone", "Wrong-Pass-42")
        assert (await sign_in(gw, "SOMEONE", "Wrong-Pass-42")).status_code == 429
        assert (await sign_in(gw, "root-admin", ADMIN_PASSWORD)).status_code == 200


async def test_refresh_rotates_and_reuse_revokes_the_whole_family(start_gateway: Any) -> None:
    async with start_gateway(refresh_grace_seconds=0) as gateway:
        await _reuse_revokes_the_family(gateway)


async def _reuse_revokes_the_family(gateway: Any) -> None:
    first = (await sign_in(gateway, "root-admin", ADMIN_PASSWORD)).json()
    second = await gateway.client.post("/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert second.status_code == 200
    assert second.json()["refresh_token"] != first["refresh_token"]
    # the old token is presented again: it leaked, so every token of the sign-in dies
    reused = await gateway.client.post("/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert reused.status_code == 401
    latest = await gateway.client.post(
        "/auth/refresh", json={"refresh_token": second.json()["refresh_token"]}
    )
    assert latest.status_code == 401
    async with gateway.runtime.sessionmaker() as session:
        reasons = set((await session.execute(select(RefreshToken.revoked_reason))).scalars())
    assert reasons == {"reuse_detected"}


async def test_two_refreshes_within_the_grace_window_get_the_same_new_pair(gateway: Any) -> None:
    first = (await sign_in(gateway, "root-admin", ADMIN_PASSWORD)).json()
    body = {"refresh_token": first["refresh_token"]}
    # two tabs at once, then a retry after a lost answer
    tab1, tab2 = await asyncio.gather(
        gateway.client.post("/auth/refresh", json=body), gateway.client.post("/auth/refresh", json=body)
    )
    retry = await gateway.client.post("/auth/refresh", json=body)
    assert tab1.status_code == tab2.status_code == retry.status_code == 200, (tab1.text, tab2.text)
    pair = {k: tab1.json()[k] for k in ("access_token", "refresh_token")}
    assert {k: tab2.json()[k] for k in pair} == pair == {k: retry.json()[k] for k in pair}
    assert pair["refresh_token"] != first["refresh_token"]
    # the new pair works and rotates on as usual
    onward = await gateway.client.post("/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    assert onward.status_code == 200
    async with gateway.runtime.sessionmaker() as session:
        rows = list((await session.execute(select(RefreshToken))).scalars())
    assert len(rows) == 3 and not any(r.revoked_at for r in rows)
    # the database alone cannot open the kept answer: it holds no token in the clear
    assert all(pair["refresh_token"] not in (r.successor_sealed or "") for r in rows)


async def test_reuse_after_the_grace_window_still_revokes_the_whole_family(start_gateway: Any) -> None:
    async with start_gateway(refresh_grace_seconds=1) as gw:
        first = (await sign_in(gw, "root-admin", ADMIN_PASSWORD)).json()
        body = {"refresh_token": first["refresh_token"]}
        second = await gw.client.post("/auth/refresh", json=body)
        assert second.status_code == 200
        await asyncio.sleep(1.5)
        assert (await gw.client.post("/auth/refresh", json=body)).status_code == 401
        latest = {"refresh_token": second.json()["refresh_token"]}
        assert (await gw.client.post("/auth/refresh", json=latest)).status_code == 401


async def test_a_deadline_day_at_one_address_signs_everyone_in_but_stops_a_spray(start_gateway: Any) -> None:
    async with start_gateway(sign_in_failures_per_ip=5, sign_in_limit_per_account=100) as gw:
        for n in range(8):
            await make_account(gw, f"teacher{n}")
        # more people than the failure limit sign in from the same address: all succeed
        assert [(await sign_in(gw, f"teacher{n}", PASSWORD)).status_code for n in range(8)] == [200] * 8
        # wrong passwords across many accounts from that address are stopped after five
        statuses = [(await sign_in(gw, f"teacher{n}", "Wrong-Pass-42")).status_code for n in range(7)]
        assert statuses == [401] * 5 + [429] * 2
        # one account's own lockout is unchanged: a failure counts on that account only
        async with gw.runtime.sessionmaker() as session:
            failures = dict((await session.execute(select(Account.username, Account.failed_sign_ins))).all())
        assert failures["teacher0"] == 1 and failures["teacher7"] == 0


async def test_refresh_tokens_are_stored_only_as_hashes(gateway: Any) -> None:
    token = (await sign_in(gateway, "root-admin", ADMIN_PASSWORD)).json()["refresh_token"]
    async with gateway.runtime.sessionmaker() as session:
        stored = list((await session.execute(select(RefreshToken.token_hash))).scalars())
    assert token not in stored and len(stored[0]) == 64


async def test_logout_revokes_the_sign_in(gateway: Any) -> None:
    tokens = (await sign_in(gateway, "root-admin", ADMIN_PASSWORD)).json()
    out = await gateway.client.post("/auth/logout", json={"refresh_token": tokens["refresh_token"]})
    assert out.status_code == 204
    again = await gateway.client.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert again.status_code == 401


async def test_sign_ins_and_failures_are_audited_with_the_address(gateway: Any) -> None:
    account = await make_account(gateway)
    await sign_in(gateway, "zhang.wei", "Wrong-Pass-42")
    await sign_in(gateway, "zhang.wei", PASSWORD)
    history = await gateway.client.get(
        f"/accounts/{account['id']}/audit", headers=await admin_headers(gateway)
    )
    actions = [e["action"] for e in history.json()["items"]]
    assert actions[:3] == ["signed_in", "sign_in_failed", "password_changed"]
    assert all(e["changes"]["ip"] == "127.0.0.1" for e in history.json()["items"][:3])
    assert "password" not in str(history.json()["items"][0]["changes"]).replace("password_", "")


async def test_operators_see_failed_sign_ins_for_any_identifier_in_the_audit_log(gateway: Any) -> None:
    await sign_in(gateway, "no-such-user", "Wrong-Pass-42")
    admin = await admin_headers(gateway)
    log = await gateway.client.get("/admin/audit", params={"action": "sign_in_failed"}, headers=admin)
    assert log.status_code == 200
    [entry] = log.json()["items"]
    assert entry["changes"]["outcome"] == "unknown_identifier" and entry["changes"]["ip"] == "127.0.0.1"
    assert "no-such-user" not in log.text  # the identifier is kept as a digest only
    signed_in = await gateway.client.get("/admin/audit", params={"action": "signed_in"}, headers=admin)
    assert signed_in.json()["total"] == 1
    applicant = await gateway.client.get(
        "/admin/audit",
        headers={
            "Authorization": f"Bearer {gateway.runtime.extras['issuer'].issue('x', roles=['applicant'])}"
        },
    )
    assert applicant.status_code == 403
