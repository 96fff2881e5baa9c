"""No endpoint is open unless it says so; only tokens the gateway signed are accepted."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from shared.auth import TokenIssuer

pytestmark = pytest.mark.asyncio


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    base = {
        "iss": "sci-platform-gateway",
        "aud": "sci-platform",
        "sub": "intruder",
        "iat": now,
        "exp": now + 600,
        "roles": ["administrator"],
    }
    base.update(overrides)
    return base


@pytest.fixture
async def registry(start_service: Any) -> Any:
    async with start_service("registry") as svc:
        yield svc


async def status_with(registry: Any, token: str | None) -> int:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return (await registry.client.get("/organisations", headers=headers)).status_code


async def test_a_valid_token_is_accepted(registry: Any, auth: Any) -> None:
    assert (await registry.client.get("/organisations", headers=auth("applicant"))).status_code == 200


async def test_no_token_is_401_with_a_problem(registry: Any) -> None:
    response = await registry.client.get("/organisations")
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.json()["title_zh"] == "需要登录"


async def test_a_token_signed_by_another_key_is_refused(registry: Any, token_issuer: TokenIssuer) -> None:
    stranger = TokenIssuer(
        issuer=token_issuer.issuer,
        audience=token_issuer.audience,
        keys=[(token_issuer.current_kid, Ed25519PrivateKey.generate())],
    )
    assert await status_with(registry, stranger.issue("x", roles=["administrator"])) == 401


async def test_an_expired_token_is_refused(registry: Any, token_issuer: TokenIssuer) -> None:
    expired = token_issuer.issue("x", roles=["applicant"], ttl_seconds=-120)
    response = await registry.client.get("/organisations", headers={"Authorization": f"Bearer {expired}"})
    assert response.status_code == 401
    assert response.json()["detail"] == "token expired"


async def test_alg_none_is_refused(registry: Any, token_issuer: TokenIssuer) -> None:
    token = f"{_b64({'alg': 'none', 'typ': 'JWT', 'kid': token_issuer.current_kid})}.{_b64(claims())}."
    assert await status_with(registry, token) == 401


async def test_hs256_signed_with_the_public_key_is_refused(registry: Any, token_issuer: TokenIssuer) -> None:
    jwk = token_issuer.jwks()["keys"][0]
    public = jwt.PyJWK(jwk).key.public_bytes(Encoding.Raw, PublicFormat.Raw)
    header = {"alg": "HS256", "kid": token_issuer.current_kid}
    token = jwt.encode(claims(), public, algorithm="HS256", headers=header)
    assert await status_with(registry, token) == 401


@pytest.mark.parametrize(
    "override", [{"aud": "another-app"}, {"iss": "https://evil.example"}, {"exp": None}, {"sub": None}]
)
async def test_wrong_audience_issuer_or_missing_claims_are_refused(
    registry: Any, token_issuer: TokenIssuer, override: dict[str, Any]
) -> None:
    body = {k: v for k, v in claims(**override).items() if v is not None}
    kid, key = token_issuer._keys[-1]
    token = jwt.encode(body, key, algorithm="EdDSA", headers={"kid": kid})
    assert await status_with(registry, token) == 401


async def test_an_unknown_key_id_is_refused(registry: Any, token_issuer: TokenIssuer) -> None:
    _, key = token_issuer._keys[-1]
    token = jwt.encode(claims(), key, algorithm="EdDSA", headers={"kid": "not-a-key"})
    assert await status_with(registry, token) == 401


async def test_garbage_is_refused(registry: Any) -> None:
    assert await status_with(registry, "not.a.token") == 401
    assert await status_with(registry, "") == 401


async def test_health_and_readiness_are_open_but_admin_is_not(registry: Any) -> None:
    assert (await registry.client.get("/healthz")).status_code == 200
    ready = await registry.client.get("/readyz")
    assert ready.json()["checks"]["database"] == "ok"
    assert ready.json()["checks"]["migrations"] == "ok"
    assert (await registry.client.get("/admin/events/gaps")).status_code == 401
