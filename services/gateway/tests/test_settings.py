"""Settings an operator cannot get wrong silently, and the local-only conveniences."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from gateway.settings import GatewaySettings
from shared.auth import new_signing_key_pem

from .conftest import ADMIN_PASSWORD

pytestmark = pytest.mark.asyncio

PRODUCTION = {
    "environment": "production",
    "database_url": "postgresql+asyncpg://db/gateway",
    "nats_url": "nats://nats:4222",
    "auth_jwks_url": "https://gateway.example/.well-known/jwks.json",
    "registry_url": "http://registry",
    "projects_url": "http://projects",
    "evaluation_url": "http://evaluation",
    "signing_key_pem": new_signing_key_pem(),
    "webhook_secret_key": "Vq3sCqvEmaq7J6zWl7tM1Kz1b5q4iO2U8bGm3wDqz2E=",
}


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        ({"signing_key_pem": None}, "signing_key_pem"),
        ({"webhook_secret_key": None}, "webhook_secret_key"),
        ({"bootstrap_admin_username": "admin", "bootstrap_admin_password": "changeme"}, "placeholder"),
    ],
)
async def test_production_refuses_missing_secrets_and_placeholder_passwords(
    change: dict[str, Any], complaint: str
) -> None:
    GatewaySettings(**PRODUCTION)
    with pytest.raises(ValidationError, match=complaint):
        GatewaySettings(**{**PRODUCTION, **change})


async def test_dev_tokens_exist_only_in_local_and_test(start_gateway: Any) -> None:
    async with start_gateway(environment="test") as gw:
        assert (await gw.client.post("/dev/token", json={"roles": ["applicant"]})).status_code == 200
    async with start_gateway(
        environment="staging", webhook_secret_key=PRODUCTION["webhook_secret_key"]
    ) as gw:
        assert (await gw.client.post("/dev/token", json={"roles": ["administrator"]})).status_code == 404


async def test_the_bootstrap_administrator_is_created_once(start_gateway: Any) -> None:
    async with start_gateway() as first:
        database = first.database
    async with start_gateway(database=database, bootstrap_admin_password="Another-Pass-2027!") as again:
        signed_in = await again.client.post(
            "/auth/token", json={"username": "root-admin", "password": ADMIN_PASSWORD}
        )
        assert signed_in.status_code == 200  # the password of the first start still holds
        listed = await again.client.get(
            "/accounts",
            params={"role": "administrator"},
            headers={"Authorization": f"Bearer {signed_in.json()['access_token']}"},
        )
        assert listed.json()["total"] == 1
