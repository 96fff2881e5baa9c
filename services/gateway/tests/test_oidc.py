"""Single sign-on against a real OpenID provider running on a local port."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from gateway.opendata.models import OpenDataRecord
from shared.testing.servers import serving

from .conftest import admin_headers, sign_in
from .oidc_provider import CLIENT_ID, CLIENT_SECRET, Provider
from .test_sign_in import PASSWORD, make_account

pytestmark = pytest.mark.asyncio
SPA_CALLBACK = "https://kjt.nmg.gov.cn/sso/callback"


@pytest.fixture
async def sso(start_gateway: Any) -> AsyncIterator[tuple[Any, Provider]]:
    provider = Provider(
        user={"sub": "mkj-001", "name": "张伟", "email": "zhang.wei@imu.edu.cn", "email_verified": True}
    )
    async with serving(provider.app()) as url:  # type: ignore[arg-type]
        provider.issuer = url
        async with start_gateway(
            oidc_issuer=url,
            oidc_client_id=CLIENT_ID,
            oidc_client_secret=CLIENT_SECRET,
            oidc_redirect_uri=SPA_CALLBACK,
        ) as gw:
            yield gw, provider


async def browser_round_trip(gw: Any) -> dict[str, str]:
    """What the SPA and the browser do: start, follow to the provider, come back with a code."""
    started = (await gw.client.post("/auth/oidc/authorize")).json()
    query = parse_qs(urlsplit(started["authorization_url"]).query)
    assert (
        query["code_challenge_method"] == ["S256"] and query["nonce"] and query["state"] == [started["state"]]
    )
    async with httpx.AsyncClient() as browser:
        redirect = await browser.get(started["authorization_url"])
    assert redirect.status_code in (302, 307), redirect.text
    back = parse_qs(urlsplit(redirect.headers["location"]).query)
    assert redirect.headers["location"].startswith(SPA_CALLBACK)
    return {"code": back["code"][0], "state": back["state"][0]}


async def test_first_sign_in_links_an_account_with_the_same_verified_email(sso: Any) -> None:
    gw, _ = sso
    account = await make_account(gw, email="zhang.wei@imu.edu.cn", roles=[{"role": "expert"}])
    tokens = await gw.client.post("/auth/oidc/callback", json=await browser_round_trip(gw))
    assert tokens.status_code == 200, tokens.text
    principal = await gw.runtime.verifier.verify(tokens.json()["access_token"])
    assert principal.user_id == account["id"] and principal.roles == {"expert"}
    # the second time the link is used directly
    again = await gw.client.post("/auth/oidc/callback", json=await browser_round_trip(gw))
    assert (await gw.runtime.verifier.verify(again.json()["access_token"])).user_id == account["id"]


async def test_an_unknown_person_becomes_a_pending_applicant(sso: Any) -> None:
    gw, provider = sso
    provider.user = {"sub": "mkj-777", "name": "新用户", "email": "new@example.org", "email_verified": False}
    refused = await gw.client.post("/auth/oidc/callback", json=await browser_round_trip(gw))
    assert refused.status_code == 403 and refused.json()["code"] == "account_pending"
    pending = await gw.client.get(
        "/accounts", params={"pending_role": "applicant"}, headers=await admin_headers(gw)
    )
    [account] = pending.json()["items"]
    assert account["display_name"] == "新用户" and account["email"] is None  # unverified: not taken over


async def test_an_unverified_email_never_links_to_an_existing_account(sso: Any) -> None:
    gw, provider = sso
    await make_account(gw, email="zhang.wei@imu.edu.cn", roles=[{"role": "administrator"}])
    provider.user = {"sub": "attacker", "email": "zhang.wei@imu.edu.cn", "email_verified": False}
    response = await gw.client.post("/auth/oidc/callback", json=await browser_round_trip(gw))
    assert response.status_code == 403 and response.json()["code"] == "account_pending"


async def test_state_is_single_use_and_must_be_ours(sso: Any) -> None:
    gw, _ = sso
    await make_account(gw, email="zhang.wei@imu.edu.cn", roles=[{"role": "expert"}])
    round_trip = await browser_round_trip(gw)
    forged = await gw.client.post("/auth/oidc/callback", json={**round_trip, "state": "made-up"})
    assert forged.status_code == 401
    assert (await gw.client.post("/auth/oidc/callback", json=round_trip)).status_code == 200
    assert (await gw.client.post("/auth/oidc/callback", json=round_trip)).status_code == 401


MISBEHAVIOURS = {
    "wrong_nonce": 401,
    "wrong_audience": 401,
    "wrong_issuer": 401,
    "expired": 401,
    "foreign_key": 401,
    "alg_none": 401,
    "garbage": 502,
    "no_id_token": 502,
}


async def test_provider_answers_are_validated_before_use(sso: Any) -> None:
    gw, provider = sso
    await make_account(gw, email="zhang.wei@imu.edu.cn", roles=[{"role": "administrator"}])
    for misbehaviour, status in MISBEHAVIOURS.items():
        provider.misbehave = misbehaviour
        response = await gw.client.post("/auth/oidc/callback", json=await browser_round_trip(gw))
        assert response.status_code == status, (misbehaviour, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
        assert "access_token" not in response.text


async def test_sso_is_404_when_not_configured(gateway: Any) -> None:
    assert (await gateway.client.post("/auth/oidc/authorize")).status_code == 404


async def test_a_one_time_password_does_not_hold_back_a_single_sign_on(sso: Any) -> None:
    gw, _ = sso
    admin = await admin_headers(gw)
    created = await gw.client.post(
        "/accounts",
        json={
            "username": "sso.only",
            "display_name": "张伟",
            "email": "zhang.wei@imu.edu.cn",
            "roles": [{"role": "expert"}],
        },
        headers=admin,
    )
    assert created.json()["account"]["must_change_password"] is True
    tokens = await gw.client.post("/auth/oidc/callback", json=await browser_round_trip(gw))
    assert tokens.status_code == 200 and tokens.json()["must_change_password"] is False
    assert (await gw.runtime.verifier.verify(tokens.json()["access_token"])).roles == {"expert"}
    # and the session keeps them when refreshed
    refreshed = await gw.client.post("/auth/refresh", json={"refresh_token": tokens.json()["refresh_token"]})
    assert (await gw.runtime.verifier.verify(refreshed.json()["access_token"])).roles == {"expert"}
    # the one-time password itself still opens nothing but the password change
    by_password = await sign_in(gw, "sso.only", created.json()["one_time_password"])
    assert (await gw.runtime.verifier.verify(by_password.json()["access_token"])).roles == frozenset()


async def test_a_new_sign_on_account_belongs_to_the_unit_the_platform_names(sso: Any) -> None:
    gw, provider = sso
    async with gw.runtime.sessionmaker() as session:
        session.add(
            OpenDataRecord(
                kind="organisations",
                id="unit-imu",
                data={"id": "unit-imu", "name": "内蒙古大学", "credit_code": "12150000460029552M"},
            )
        )
        await session.commit()
    provider.user = {"sub": "mkj-900", "name": "王芳", "unit_credit_code": "12150000460029552M"}
    refused = await gw.client.post("/auth/oidc/callback", json=await browser_round_trip(gw))
    assert refused.status_code == 403 and refused.json()["unit_id"] == "unit-imu"
    assert "unit_ticket" not in refused.json()
    await make_account(gw, "imu.admin", unit_id="unit-imu", roles=[{"role": "host_unit_admin"}])
    unit_admin = {
        "Authorization": f"Bearer {(await sign_in(gw, 'imu.admin', PASSWORD)).json()['access_token']}"
    }
    [pending] = (await gw.client.get("/accounts", params={"status": "pending"}, headers=unit_admin)).json()[
        "items"
    ]
    assert pending["display_name"] == "王芳"
    approved = await gw.client.post(
        f"/accounts/{pending['id']}/approve", json={"person_id": "person-900"}, headers=unit_admin
    )
    assert approved.status_code == 200, approved.text
    tokens = await gw.client.post("/auth/oidc/callback", json=await browser_round_trip(gw))
    principal = await gw.runtime.verifier.verify(tokens.json()["access_token"])
    assert principal.roles == {"applicant"} and principal.unit_id == "unit-imu"
    assert principal.person_id == "person-900"


async def test_without_a_unit_claim_the_person_names_the_unit_whose_admin_approves(sso: Any) -> None:
    gw, provider = sso
    provider.user = {"sub": "mkj-901", "name": "刘洋"}
    refused = (await gw.client.post("/auth/oidc/callback", json=await browser_round_trip(gw))).json()
    assert refused["code"] == "account_pending" and refused.get("unit_id") is None
    ticket = refused["unit_ticket"]
    await make_account(gw, "u2.admin", unit_id="unit-2", roles=[{"role": "host_unit_admin"}])
    unit_admin = {
        "Authorization": f"Bearer {(await sign_in(gw, 'u2.admin', PASSWORD)).json()['access_token']}"
    }
    listed = await gw.client.get("/accounts", params={"status": "pending"}, headers=unit_admin)
    assert listed.json()["items"] == []  # no unit yet: no unit admin sees it
    named = await gw.client.post("/auth/oidc/unit", json={"unit_ticket": ticket, "unit_id": "unit-2"})
    assert named.status_code == 202 and named.json()["unit_id"] == "unit-2"
    again = await gw.client.post("/auth/oidc/unit", json={"unit_ticket": ticket, "unit_id": "unit-3"})
    assert again.status_code == 401  # a ticket is used once
    [pending] = (await gw.client.get("/accounts", params={"status": "pending"}, headers=unit_admin)).json()[
        "items"
    ]
    assert (
        await gw.client.post(f"/accounts/{pending['id']}/approve", json={}, headers=unit_admin)
    ).status_code == 200
    tokens = await gw.client.post("/auth/oidc/callback", json=await browser_round_trip(gw))
    assert (await gw.runtime.verifier.verify(tokens.json()["access_token"])).roles == {"applicant"}
