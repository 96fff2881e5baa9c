"""Sign-in, refresh, logout, self-registration and one's own password."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response, status

from gateway import ratelimit
from gateway.accounts import repository
from gateway.accounts import service as accounts
from gateway.accounts.schemas import (
    AccountOut,
    ChangePasswordRequest,
    RefreshRequest,
    RegisterRequest,
    SignInRequest,
    TokenResponse,
)
from gateway.deps import AnonymousUowDep, IdentityDep, OriginDep
from gateway.sessions import service
from shared.clock import utcnow
from shared.errors import NotFound, Unauthenticated
from shared.http.deps import RuntimeDep, UnitOfWorkDep
from shared.uow import UnitOfWork

router = APIRouter(prefix="/auth", tags=["auth"])

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
BAD_CREDENTIALS = Unauthenticated(
    "user name or password is wrong", "用户名或密码错误", code="invalid_credentials"
)


async def issue_tokens(
    uow: UnitOfWork, identity: Any, account: Any, refresh_token: str, *, method: str = "password"
) -> TokenResponse:
    grants = await repository.grants(uow.session, account.id)
    password = method == "password"
    return TokenResponse(
        access_token=identity.access_token(account, grants, password_sign_in=password),
        expires_in=identity.settings.access_token_ttl_seconds,
        refresh_token=refresh_token,
        must_change_password=password and account.must_change_password,
    )


@router.post("/token", response_model=TokenResponse, summary="Sign in with a password (登录)")
async def sign_in(
    body: SignInRequest,
    uow: AnonymousUowDep,
    identity: IdentityDep,
    origin: OriginDep,
    runtime: RuntimeDep,
    response: Response,
) -> TokenResponse:
    settings = identity.settings
    window = settings.sign_in_window_seconds
    failures_key = f"signin:failed:ip:{origin.ip}"
    identifier_key = f"signin:id:{service.digest(repository.normalise_identifier(body.username))}"
    wait = await ratelimit.check(
        runtime.sessionmaker,
        count=[(identifier_key, settings.sign_in_limit_per_account)],
        watch=[(failures_key, settings.sign_in_failures_per_ip)],
        window_seconds=window,
    )
    if wait is not None:
        raise ratelimit.too_many(wait, "sign-in attempts")
    result = await service.sign_in(
        uow,
        identifier=body.username,
        password=body.password,
        passwords=identity.passwords,
        lockout=identity.lockout,
        origin=origin,
    )
    if result.account is None:
        await uow.commit()
        if result.refusal is None:
            await ratelimit.hit(runtime.sessionmaker, failures_key, limit=0, window_seconds=window)
        raise result.refusal or BAD_CREDENTIALS
    refresh_token = await service.open_session(uow, result.account, identity.sessions)
    tokens = await issue_tokens(uow, identity, result.account, refresh_token)
    await uow.commit()
    response.headers.update(NO_STORE)
    return tokens


@router.post("/refresh", response_model=TokenResponse, summary="New tokens for a refresh token (rotated)")
async def refresh(
    body: RefreshRequest, uow: AnonymousUowDep, identity: IdentityDep, origin: OriginDep, response: Response
) -> TokenResponse:
    rotated = await service.refresh(uow, body.refresh_token, identity.sessions, origin)
    if rotated is None:
        await uow.commit()
        raise Unauthenticated("refresh token is invalid, expired or revoked", "刷新令牌无效或已失效")
    if rotated.replay is not None:
        await uow.commit()
        response.headers.update(NO_STORE)
        return TokenResponse.model_validate(rotated.replay)
    tokens = await issue_tokens(uow, identity, rotated.account, rotated.refresh_token, method=rotated.method)
    service.seal(rotated, body.refresh_token, tokens.model_dump())
    await uow.commit()
    response.headers.update(NO_STORE)
    return tokens


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT, summary="Sign out: revoke this sign-in")
async def logout(body: RefreshRequest, uow: AnonymousUowDep, origin: OriginDep) -> Response:
    await service.logout(uow, body.refresh_token, origin)
    await uow.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/register",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=AccountOut,
    summary="Self-registration of an applicant or unit admin, pending approval (注册)",
)
async def register(
    body: RegisterRequest, uow: AnonymousUowDep, identity: IdentityDep, origin: OriginDep, runtime: RuntimeDep
) -> AccountOut:
    settings = identity.settings
    limits = [(f"register:ip:{origin.ip}", settings.registration_limit_per_ip)]
    # Per identifier too: one address must not flood a person's mailbox or phone with accounts.
    for kind, value in (("username", body.username), ("email", body.email), ("phone", body.phone)):
        if value:
            key = f"register:{kind}:{service.digest(repository.normalise_identifier(value))}"
            limits.append((key, settings.registration_limit_per_identifier))
    wait = await ratelimit.check(
        runtime.sessionmaker, count=limits, watch=[], window_seconds=settings.registration_window_seconds
    )
    if wait is not None:
        raise ratelimit.too_many(wait, "registrations")
    account = await accounts.register(
        uow,
        username=body.username,
        email=body.email,
        phone=body.phone,
        display_name=body.display_name,
        password=body.password,
        unit_id=body.unit_id,
        role=body.role,
        passwords=identity.passwords,
        policy=identity.policy,
        origin=origin,
    )
    grants = await repository.grants(uow.session, account.id)
    await uow.commit()
    return AccountOut.of(account, grants, now=utcnow())


async def _me(uow: UnitOfWork) -> Any:
    from uuid import UUID

    try:
        account_id = UUID(uow.actor.id)
    except ValueError as exc:
        raise NotFound("this token belongs to no account", "该令牌不属于任何账号") from exc
    account = await repository.get(uow.session, account_id, for_update=True)
    if account is None:
        raise NotFound("this token belongs to no account", "该令牌不属于任何账号")
    return account


@router.get("/me", response_model=AccountOut, summary="My account, roles and scopes")
async def me(uow: UnitOfWorkDep) -> AccountOut:
    account = await _me(uow)
    return AccountOut.of(account, await repository.grants(uow.session, account.id), now=utcnow())


@router.post("/password", status_code=status.HTTP_204_NO_CONTENT, summary="Change my password (修改密码)")
async def change_password(
    body: ChangePasswordRequest, uow: UnitOfWorkDep, identity: IdentityDep, origin: OriginDep
) -> Response:
    account = await _me(uow)
    refusal = await accounts.change_password(
        uow,
        account,
        current_password=body.current_password,
        new_password=body.new_password,
        passwords=identity.passwords,
        policy=identity.policy,
        origin=origin,
        lockout=identity.lockout,
    )
    await uow.commit()  # a wrong current password is counted even though the change is refused
    if refusal is not None:
        raise refusal
    return Response(status_code=status.HTTP_204_NO_CONTENT)
