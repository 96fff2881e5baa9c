"""Standard sign-in protocols: an off-the-shelf OAuth 2.0 client (authlib) discovers the gateway,
signs in with the password grant, refreshes, and reads RFC 6749 errors."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.httpx_client import AsyncOAuth2Client

from .conftest import ADMIN_PASSWORD

pytestmark = pytest.mark.asyncio


@pytest.fixture
async def door(start_gateway: Any) -> AsyncIterator[Any]:
    async with start_gateway(http=True) as gw:
        yield gw


async def discover(base_url: str) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=base_url) as client:
        response = await client.get("/.well-known/openid-configuration")
    assert response.status_code == 200
    return dict(response.json())


async def test_a_standard_oauth_client_signs_in_and_refreshes(door: Any) -> None:
    config = await discover(door.base_url)
    assert config["token_endpoint"] == f"{door.base_url}/auth/token"
    assert {"password", "refresh_token"} <= set(config["grant_types_supported"])
    async with httpx.AsyncClient() as plain:
        jwks = (await plain.get(config["jwks_uri"])).json()
    assert jwks["keys"]

    async with AsyncOAuth2Client(client_id="spa", token_endpoint=config["token_endpoint"]) as client:
        token = await client.fetch_token(
            config["token_endpoint"], username="root-admin", password=ADMIN_PASSWORD
        )
        assert token["token_type"] == "Bearer" and token["access_token"] and token["refresh_token"]
        principal = await door.runtime.verifier.verify(token["access_token"])
        assert principal.roles == {"administrator"}
        # the client's own Authorization header opens the platform's routes
        me = await client.get(f"{door.base_url}/auth/me")
        assert me.status_code == 200 and me.json()["username"] == "root-admin"

        renewed = await client.refresh_token(config["token_endpoint"], refresh_token=token["refresh_token"])
        assert renewed["access_token"] != token["access_token"]
        assert renewed["refresh_token"] != token["refresh_token"]


async def test_refusals_are_rfc_6749_errors_the_client_understands(door: Any) -> None:
    endpoint = (await discover(door.base_url))["token_endpoint"]
    async with AsyncOAuth2Client(client_id="spa", token_endpoint=endpoint) as client:
        with pytest.raises(OAuthError) as wrong:
            await client.fetch_token(endpoint, username="root-admin", password="not-the-password-1")
        assert wrong.value.error == "invalid_grant"
        with pytest.raises(OAuthError) as stale:
            await client.refresh_token(endpoint, refresh_token="no-such-token")
        assert stale.value.error == "invalid_grant"

    async with httpx.AsyncClient() as plain:
        unsupported = await plain.post(endpoint, data={"grant_type": "client_credentials"})
        missing = await plain.post(endpoint, data={"grant_type": "password", "username": "root-admin"})
        json_body = await plain.post(
            endpoint, json={"username": "root-admin", "password": "wrong-password-1"}
        )
    assert unsupported.status_code == 400 and unsupported.json()["error"] == "unsupported_grant_type"
    assert missing.status_code == 400 and missing.json()["error"] == "invalid_request"
    assert missing.json()["error_description_zh"]
    assert unsupported.headers["cache-control"] == "no-store"
    # the SPAs' JSON form keeps its RFC 9457 problems
    assert json_body.status_code == 401
    assert json_body.headers["content-type"].startswith("application/problem+json")
