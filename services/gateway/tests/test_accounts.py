"""Registration and approval, roles, password policy, resets and disabling."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from gateway.accounts.models import Account

from .conftest import admin_headers, sign_in
from .test_sign_in import PASSWORD, make_account

pytestmark = pytest.mark.asyncio


def registration(username: str = "li.na", **overrides: Any) -> dict[str, Any]:
    body = {
        "username": username,
        "email": f"{username}@imu.edu.cn",
        "display_name": "李娜",
        "password": PASSWORD,
        "unit_id": "unit-1",
        "role": "applicant",
    }
    body.update(overrides)
    return body


async def bearer(gw: Any, username: str, password: str = PASSWORD) -> dict[str, str]:
    response = await sign_in(gw, username, password)
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def test_applicant_registers_and_is_approved_by_the_admin_of_the_unit(gateway: Any) -> None:
    registered = await gateway.client.post("/auth/register", json=registration())
    assert registered.status_code == 202, registered.text
    assert registered.json()["status"] == "pending" and registered.json()["status_zh"] == "待审核"
    pending = await sign_in(gateway, "li.na", PASSWORD)
    assert pending.status_code == 403 and pending.json()["code"] == "account_pending"

    await make_account(gateway, "unit1.admin", unit_id="unit-1", roles=[{"role": "host_unit_admin"}])
    await make_account(gateway, "unit2.admin", unit_id="unit-2", roles=[{"role": "host_unit_admin"}])
    other_unit = await bearer(gateway, "unit2.admin")
    account_id = registered.json()["id"]
    # another unit's admin neither sees nor approves it
    assert (
        await gateway.client.post(f"/accounts/{account_id}/approve", json={}, headers=other_unit)
    ).status_code == 404
    listed = await gateway.client.get("/accounts", params={"pending_role": "applicant"}, headers=other_unit)
    assert listed.json()["total"] == 0

    own_unit = await bearer(gateway, "unit1.admin")
    listed = await gateway.client.get("/accounts", params={"pending_role": "applicant"}, headers=own_unit)
    assert [a["username"] for a in listed.json()["items"]] == ["li.na"]
    approved = await gateway.client.post(
        f"/accounts/{account_id}/approve", json={"person_id": "person-7"}, headers=own_unit
    )
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "active"
    principal = await gateway.runtime.verifier.verify(
        (await sign_in(gateway, "li.na", PASSWORD)).json()["access_token"]
    )
    assert (
        principal.roles == {"applicant"}
        and principal.person_id == "person-7"
        and principal.unit_id == "unit-1"
    )


async def test_unit_admins_are_approved_by_staff_not_by_other_unit_admins(gateway: Any) -> None:
    registered = await gateway.client.post(
        "/auth/register", json=registration("wang.admin", role="host_unit_admin", email=None)
    )
    account_id = registered.json()["id"]
    await make_account(gateway, "unit1.admin", unit_id="unit-1", roles=[{"role": "host_unit_admin"}])
    peer = await gateway.client.post(
        f"/accounts/{account_id}/approve", json={}, headers=await bearer(gateway, "unit1.admin")
    )
    assert peer.status_code == 403
    await make_account(gateway, "staff", roles=[{"role": "department_staff"}])
    approved = await gateway.client.post(
        f"/accounts/{account_id}/approve", json={}, headers=await bearer(gateway, "staff")
    )
    assert approved.status_code == 200
    assert approved.json()["roles"] == [
        {
            "role": "host_unit_admin",
            "role_zh": "依托单位管理员",
            "scope_ids": ["unit-1"],
            "duties": [],
            "regions": [],
            "status": "active",
        }
    ]


async def test_registration_cannot_set_roles_status_or_scopes(gateway: Any) -> None:
    for extra in ({"status": "active"}, {"roles": ["administrator"]}, {"scopes": {"units": ["x"]}}):
        response = await gateway.client.post("/auth/register", json={**registration(), **extra})
        assert response.status_code == 422
        assert response.json()["errors"][0]["code"] == "extra_forbidden"
    administrator = await gateway.client.post("/auth/register", json=registration(role="administrator"))
    assert administrator.status_code == 422
    async with gateway.runtime.sessionmaker() as session:
        assert (await session.execute(select(Account).where(Account.username == "li.na"))).first() is None


@pytest.mark.parametrize(
    ("password", "code"),
    [
        ("Short-1", "password_too_short"),
        ("alllowercaseletters", "password_too_simple"),
        ("Password@123", "password_common"),
        ("Li.na-2026-pass", "password_contains_identifier"),
    ],
)
async def test_password_policy_names_the_rule_in_both_languages(
    gateway: Any, password: str, code: str
) -> None:
    response = await gateway.client.post("/auth/register", json=registration(password=password))
    assert response.status_code == 422
    issue = response.json()["errors"][0]
    assert issue["field"] == "password" and issue["code"] == code and issue["message_zh"]


async def test_taken_username_or_email_is_a_409_naming_the_field(gateway: Any) -> None:
    await gateway.client.post("/auth/register", json=registration())
    again = await gateway.client.post("/auth/register", json=registration(email="other@imu.edu.cn"))
    assert again.status_code == 409 and again.json()["errors"][0]["field"] == "username"
    email = await gateway.client.post("/auth/register", json=registration("li.na2", email="LI.NA@imu.edu.cn"))
    assert email.status_code == 409 and email.json()["errors"][0]["field"] == "email"


async def test_role_change_shows_in_the_next_token_and_is_audited(gateway: Any) -> None:
    account = await make_account(gateway, roles=[{"role": "applicant"}])
    admin = await admin_headers(gateway)
    changed = await gateway.client.put(
        f"/accounts/{account['id']}/roles",
        json={
            "roles": [{"role": "expert"}, {"role": "cluster_secretariat", "scope_ids": ["cl-1"]}],
            "reason": "聘任",
        },
        headers=admin,
    )
    assert changed.status_code == 200, changed.text
    principal = await gateway.runtime.verifier.verify(
        (await sign_in(gateway, "zhang.wei", PASSWORD)).json()["access_token"]
    )
    assert principal.roles == {"expert", "cluster_secretariat"} and principal.scope("clusters") == {"cl-1"}
    audit = (await gateway.client.get(f"/accounts/{account['id']}/audit", headers=admin)).json()["items"]
    change = next(e for e in audit if e["action"] == "roles_changed")
    assert change["reason"] == "聘任" and change["changes"]["before"][0]["role"] == "applicant"


async def test_only_administrators_manage_accounts(gateway: Any) -> None:
    account = await make_account(gateway, "staff", roles=[{"role": "department_staff"}])
    staff = await bearer(gateway, "staff")
    for method, path, body in (
        ("PUT", f"/accounts/{account['id']}/roles", {"roles": [{"role": "administrator"}]}),
        ("POST", f"/accounts/{account['id']}/password-reset", None),
        ("POST", f"/accounts/{account['id']}/disable", {}),
        ("POST", "/accounts", {"username": "x1x", "display_name": "x"}),
    ):
        response = await gateway.client.request(method, path, json=body, headers=staff)
        assert response.status_code == 403, (path, response.text)


async def test_disabled_account_cannot_sign_in_or_refresh(gateway: Any) -> None:
    account = await make_account(gateway)
    tokens = (await sign_in(gateway, "zhang.wei", PASSWORD)).json()
    admin = await admin_headers(gateway)
    disabled = await gateway.client.post(
        f"/accounts/{account['id']}/disable", json={"reason": "离职"}, headers=admin
    )
    assert disabled.json()["status"] == "disabled"
    refused = await sign_in(gateway, "zhang.wei", PASSWORD)
    assert refused.status_code == 403 and refused.json()["code"] == "account_disabled"
    assert (
        await gateway.client.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    ).status_code == 401
    await gateway.client.post(f"/accounts/{account['id']}/enable", json={}, headers=admin)
    assert (await sign_in(gateway, "zhang.wei", PASSWORD)).status_code == 200


async def test_password_change_needs_the_current_password_and_ends_other_sessions(gateway: Any) -> None:
    await make_account(gateway)
    tokens = (await sign_in(gateway, "zhang.wei", PASSWORD)).json()
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    wrong = await gateway.client.post(
        "/auth/password",
        json={"current_password": "nope", "new_password": "Another-Pass-43"},
        headers=headers,
    )
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "current_password"
    ok = await gateway.client.post(
        "/auth/password",
        json={"current_password": PASSWORD, "new_password": "Another-Pass-43"},
        headers=headers,
    )
    assert ok.status_code == 204
    assert (
        await gateway.client.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    ).status_code == 401
    assert (await sign_in(gateway, "zhang.wei", "Another-Pass-43")).status_code == 200


async def test_account_list_pages_filters_and_never_shows_password_hashes(gateway: Any) -> None:
    for n in range(3):
        await gateway.client.post("/auth/register", json=registration(f"user{n}", email=None))
    admin = await admin_headers(gateway)
    page = await gateway.client.get(
        "/accounts", params={"status": "pending", "size": 2, "sort": "-username"}, headers=admin
    )
    body = page.json()
    assert body["total"] == 3 and [a["username"] for a in body["items"]] == ["user2", "user1"]
    assert "password_hash" not in page.text and "$argon2id$" not in page.text
    too_big = await gateway.client.get("/accounts", params={"size": 10_000}, headers=admin)
    assert too_big.status_code == 422


async def test_wrong_current_passwords_on_change_count_toward_the_lockout(start_gateway: Any) -> None:
    async with start_gateway(lockout_threshold=3, lockout_base_seconds=60) as gw:
        await make_account(gw)
        headers = await bearer(gw, "zhang.wei")
        guesses = [
            await gw.client.post(
                "/auth/password",
                json={"current_password": f"Guess-{i}-Pass", "new_password": "Another-Pass-43"},
                headers=headers,
            )
            for i in range(3)
        ]
        assert [g.status_code for g in guesses] == [422, 422, 422]
        # locked now: neither the right current password here nor a sign-in gets through
        locked = await gw.client.post(
            "/auth/password",
            json={"current_password": PASSWORD, "new_password": "Another-Pass-43"},
            headers=headers,
        )
        assert locked.status_code == 403 and locked.json()["code"] == "account_locked"
        assert (await sign_in(gw, "zhang.wei", PASSWORD)).status_code == 401
        admin = await admin_headers(gw)
        audit = await gw.client.get(
            "/admin/audit", params={"action": "password_change_failed"}, headers=admin
        )
        assert audit.status_code == 200, audit.text
        assert len(audit.json()["items"]) == 3


async def test_registration_is_limited_per_email_and_phone_not_only_per_address(start_gateway: Any) -> None:
    async with start_gateway(registration_limit_per_identifier=2, registration_limit_per_ip=100) as gw:
        # the same mailbox, under ever new user names: refused after the limit
        statuses = [
            (
                await gw.client.post(
                    "/auth/register", json=registration(f"taken.{n}", email="li.na@imu.edu.cn")
                )
            ).status_code
            for n in range(3)
        ]
        assert statuses == [202, 409, 429]
        phones = [
            (
                await gw.client.post(
                    "/auth/register",
                    json=registration(f"phone.{n}", email=f"p{n}@imu.edu.cn", phone="13912345678"),
                )
            ).status_code
            for n in range(3)
        ]
        assert phones == [202, 409, 429]
        # other people from the same address still register
        assert (await gw.client.post("/auth/register", json=registration("wang.fang"))).status_code == 202
