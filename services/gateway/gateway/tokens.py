"""The gateway is the token issuer: its keys, the JWKS it publishes, local dev tokens.

Besides real sign-in (``/auth/token``), a local (or test) environment can mint a token for
any role so that the platform can be tried end to end without accounts.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from gateway.settings import GatewaySettings
from shared.auth import Role, TokenIssuer
from shared.errors import NotFound

router = APIRouter(tags=["auth"])


def build_issuer(settings: GatewaySettings) -> TokenIssuer:
    """Keys come from settings (a secret store in production): the current key signs, previous
    keys are only published so that the tokens they signed verify until they expire."""
    if settings.signing_key_pem:
        return TokenIssuer.from_pems(
            settings.signing_key_pem,
            previous=settings.previous_signing_keys_pem,
            issuer=settings.auth_issuer,
            audience=settings.auth_audience,
        )
    return TokenIssuer.generate(issuer=settings.auth_issuer, audience=settings.auth_audience)


@router.get("/.well-known/jwks.json", summary="Public keys that verify access tokens")
async def jwks(request: Request) -> dict[str, Any]:
    issuer: TokenIssuer = request.app.state.runtime.extras["issuer"]
    return issuer.jwks()


class DevTokenRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user_id: str = Field(default="dev-user", max_length=100)
    roles: list[Role] = Field(min_length=1)
    unit_id: str | None = None
    scopes: dict[str, list[str]] = Field(default_factory=dict)


@router.post("/dev/token", summary="Local only: a token for any role", include_in_schema=False)
async def dev_token(body: DevTokenRequest, request: Request) -> dict[str, Any]:
    runtime = request.app.state.runtime
    if runtime.settings.environment not in ("local", "test"):
        raise NotFound("no such route", "未找到")
    issuer: TokenIssuer = runtime.extras["issuer"]
    token = issuer.issue(
        body.user_id,
        roles=[r.value for r in body.roles],
        unit_id=body.unit_id,
        scopes=body.scopes,
        ttl_seconds=runtime.settings.access_token_ttl_seconds,
    )
    return {
        "access_token": token,
        "token_type": "Bearer",
        "expires_in": runtime.settings.access_token_ttl_seconds,
    }
