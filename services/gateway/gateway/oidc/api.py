"""SSO endpoints for the SPA: start a sign-in, then hand back the provider's code and state.

No cookies: the SPA keeps ``state`` in memory, receives ``code`` and ``state`` on its own
redirect URI, and posts both here; the gateway checks the state it stored, exchanges the code
with PKCE and answers with the platform's own tokens.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, StringConstraints

from gateway import ratelimit
from gateway.accounts import repository
from gateway.accounts.schemas import AccountOut, Id, TokenResponse
from gateway.deps import AnonymousUowDep, IdentityDep, OriginDep
from gateway.oidc import service
from gateway.oidc.provider import OidcProvider
from gateway.sessions import service as sessions
from gateway.sessions.api import NO_STORE, issue_tokens
from gateway.settings import GatewaySettings
from shared.clock import utcnow
from shared.errors import NotFound
from shared.http.deps import RuntimeDep

router = APIRouter(prefix="/auth/oidc", tags=["auth"])


class AuthorizationOut(BaseModel):
    authorization_url: str
    state: str


class CallbackIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: Annotated[str, StringConstraints(min_length=1, max_length=2000)]
    state: Annotated[str, StringConstraints(min_length=1, max_length=200)]


def _provider(runtime: RuntimeDep) -> OidcProvider:
    provider: OidcProvider | None = runtime.extras.get("oidc")
    if provider is None:
        raise NotFound("single sign-on is not configured", "未配置统一身份认证")
    return provider


@router.post(
    "/authorize", response_model=AuthorizationOut, summary="Start a sign-in at the regional platform"
)
async def authorize(uow: AnonymousUowDep, runtime: RuntimeDep, origin: OriginDep) -> AuthorizationOut:
    provider = _provider(runtime)
    settings = runtime.settings
    assert isinstance(settings, GatewaySettings)
    wait = await ratelimit.hit(
        runtime.sessionmaker,
        f"oidc:ip:{origin.ip}",
        limit=settings.sign_in_limit_per_ip,
        window_seconds=settings.sign_in_window_seconds,
    )
    if wait is not None:
        raise ratelimit.too_many(wait, "sign-in attempts")
    url, state = await service.begin(uow, provider)
    await uow.commit()
    return AuthorizationOut(authorization_url=url, state=state)


@router.post("/callback", response_model=TokenResponse, summary="Finish it: the platform's tokens")
async def callback(
    body: CallbackIn,
    uow: AnonymousUowDep,
    runtime: RuntimeDep,
    identity: IdentityDep,
    origin: OriginDep,
    response: Response,
) -> TokenResponse:
    settings = identity.settings
    result = await service.complete(
        uow,
        _provider(runtime),
        code=body.code,
        state=body.state,
        origin=origin,
        unit_claim=settings.oidc_unit_claim,
    )
    if result.account is None:
        await uow.commit()
        assert result.refusal is not None
        raise result.refusal
    refresh_token = await sessions.open_session(uow, result.account, identity.sessions, method="sso")
    tokens = await issue_tokens(uow, identity, result.account, refresh_token, method="sso")
    await uow.commit()
    response.headers.update(NO_STORE)
    return tokens


class UnitIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    unit_ticket: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    unit_id: Id


@router.post(
    "/unit",
    response_model=AccountOut,
    status_code=202,
    summary="A pending single-sign-on account names its unit, whose admin then approves it",
)
async def name_unit(body: UnitIn, uow: AnonymousUowDep, origin: OriginDep) -> AccountOut:
    account = await service.name_unit(uow, ticket=body.unit_ticket, unit_id=body.unit_id, origin=origin)
    grants = await repository.grants(uow.session, account.id)
    await uow.commit()
    return AccountOut.of(account, grants, now=utcnow())
