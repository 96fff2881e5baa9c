"""Single sign-on against a real OpenID provider running on a local port."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from shared.testing.servers import serving

from .conftest import admin_headers
from .oidc_provider import CLIENT_ID, CLIENT_SECRET, Provider
from .test_sign_in import make_account

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
