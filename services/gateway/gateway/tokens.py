"""The gateway is the token issuer: its keys, the JWKS it publishes, local dev tokens.

Besides real sign-in (``/auth/token``), a local (or test) environment can mint a token with
any claims a real token can carry (roles, unit, person, scopes and duties) so that the
platform can be tried end to end without accounts.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from gateway.claims import TokenClaims
from gateway.settings import GatewaySettings
from shared.auth import ALLOWED_ALGORITHMS, TokenIssuer
from shared.errors import NotFound

router = APIRouter(tags=["auth"])
CLAIMS = ["sub", "iss", "aud", "exp", "iat", "roles", "unit_id", "person_id", "name", "scopes"]


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


class JsonWebKey(BaseModel):
    """One public key (RFC 7517, an Ed25519 key as RFC 8037 writes it)."""

    model_config = ConfigDict(extra="allow")
    kty: str = Field(description="key type: OKP")
    crv: str = Field(description="curve: Ed25519")
    x: str = Field(description="the public key, base64url")
    kid: str = Field(description="key id, as in the tokens' header")
    alg: str = Field(description="EdDSA")
    use: str = Field(description="sig")


class JsonWebKeySet(BaseModel):
    """RFC 7517 §5: the current key and the previous ones still verifying unexpired tokens."""

    keys: list[JsonWebKey]


@router.get(
    "/.well-known/jwks.json", response_model=JsonWebKeySet, summary="Public keys that verify access tokens"
)
async def jwks(request: Request) -> JsonWebKeySet:
    issuer: TokenIssuer = request.app.state.runtime.extras["issuer"]
    return JsonWebKeySet.model_validate(issuer.jwks())


class ProviderMetadata(BaseModel):
    """OpenID Connect Discovery 1.0 / RFC 8414 metadata of the gateway as token issuer."""

    issuer: str
    token_endpoint: str
    jwks_uri: str
    grant_types_supported: list[str]
    token_endpoint_auth_methods_supported: list[str]
    response_types_supported: list[str]
    subject_types_supported: list[str]
    id_token_signing_alg_values_supported: list[str]
    claims_supported: list[str]
    service_documentation: str


@router.get(
    "/.well-known/openid-configuration",
    response_model=ProviderMetadata,
    summary="Discovery: issuer, token endpoint and keys, for standard OAuth 2.0 / OpenID clients",
)
async def openid_configuration(request: Request) -> ProviderMetadata:
    settings: GatewaySettings = request.app.state.runtime.settings
    base = str(request.base_url).rstrip("/")
    return ProviderMetadata(
        issuer=settings.auth_issuer,
        token_endpoint=f"{base}/auth/token",
        jwks_uri=f"{base}/.well-known/jwks.json",
        grant_types_supported=["password", "refresh_token"],
        token_endpoint_auth_methods_supported=["none"],
        response_types_supported=["token"],
        subject_types_supported=["public"],
        id_token_signing_alg_values_supported=sorted(ALLOWED_ALGORITHMS),
        claims_supported=CLAIMS,
        service_documentation=f"{base}/docs",
    )


class DevTokenRequest(TokenClaims):
    """The claims of a real token (``gateway.claims``), for any subject."""

    user_id: str = Field(default="dev-user", max_length=100)


@router.post("/dev/token", summary="Local only: a token for any claims", include_in_schema=False)
async def dev_token(body: DevTokenRequest, request: Request) -> dict[str, Any]:
    runtime = request.app.state.runtime
    if runtime.settings.environment not in ("local", "test"):
        raise NotFound("no such route", "未找到")
    issuer: TokenIssuer = runtime.extras["issuer"]
    token = issuer.issue(
        body.user_id,
        roles=[r.value for r in body.roles],
        unit_id=body.unit_id,
        person_id=body.person_id,
        name=body.name,
        scopes=body.scopes,
        ttl_seconds=runtime.settings.access_token_ttl_seconds,
    )
    return {
        "access_token": token,
        "token_type": "Bearer",
        "expires_in": runtime.settings.access_token_ttl_seconds,
    }
