"""Sign-in, refresh, logout, self-registration and one's own password."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request, Response, status
from fastapi.exceptions import HTTPException, RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError

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
from shared.errors import DomainError, NotFound, Unauthenticated
from shared.http.deps import RuntimeDep, UnitOfWorkDep
from shared.uow import UnitOfWork

router = APIRouter(prefix="/auth", tags=["auth"])

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
FORM = "application/x-www-form-urlencoded"


class OAuthTokenRequest(BaseModel):
    """An RFC 6749 token request (form-encoded): the password or the refresh-token grant."""

    model_config = ConfigDict(extra="ignore")  # client_id, scope … are accepted and not used

    grant_type: Literal["password", "refresh_token"]
    username: str | None = Field(default=None, min_length=1, max_length=254)
    password: str | None = Field(default=None, min_length=1, max_length=1024)
    refresh_token: str | None = Field(default=None, min_length=1, max_length=200)


class OAuthRefusal(Exception):
    """An RFC 6749 §5.2 error answer (``error``, ``error_description``), with the Chinese text."""

    def __init__(
        self, error: str, description: str, description_zh: str | None, *, status: int = 400
    ) -> None:
        super().__init__(description)
        self.error, self.description = error, description
        self.description_zh, self.status = description_zh, status

    def response(self, headers: Mapping[str, str] | None = None) -> JSONResponse:
        body = {"error": self.error, "error_description": self.description}
        if self.description_zh:
            body["error_description_zh"] = self.description_zh
        return JSONResponse(body, status_code=self.status, headers={**NO_STORE, **(headers or {})})


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


TOKEN_REQUEST_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": SignInRequest.model_json_schema()},
            FORM: {"schema": OAuthTokenRequest.model_json_schema()},
        },
    }
}


@router.post(
    "/token",
    response_model=TokenResponse,
    summary="Sign in (登录): JSON for the SPAs, or an OAuth 2.0 token request",
    description=(
        "With a JSON body (`username`, `password`) errors are RFC 9457 problems. Form-encoded, "
        "this is an RFC 6749 token endpoint: `grant_type=password` (`username`, `password`) or "
        "`grant_type=refresh_token` (`refresh_token`), with RFC 6749 error bodies (`error`, "
        "`error_description`); see `/.well-known/openid-configuration`."
    ),
    openapi_extra=TOKEN_REQUEST_BODY,
)
async def sign_in(
    request: Request,
    uow: AnonymousUowDep,
    identity: IdentityDep,
    origin: OriginDep,
    runtime: RuntimeDep,
    response: Response,
) -> TokenResponse | JSONResponse:
    if not request.headers.get("content-type", "").startswith(FORM):
        try:
            body = SignInRequest.model_validate_json(await request.body())
        except ValidationError as exc:
            raise RequestValidationError(exc.errors(include_url=False), body=None) from exc
        return await password_grant(body.username, body.password, uow, identity, origin, runtime, response)
    form = dict(parse_qsl((await request.body()).decode(errors="replace"), keep_blank_values=True))
    try:
        grant = OAuthTokenRequest.model_validate(form)
        if grant.grant_type == "password":
            if not grant.username or not grant.password:
                raise OAuthRefusal(
                    "invalid_request", "username and password are required", "缺少用户名或密码"
                )
            return await password_grant(
                grant.username, grant.password, uow, identity, origin, runtime, response
            )
        if not grant.refresh_token:
            raise OAuthRefusal("invalid_request", "refresh_token is required", "缺少刷新令牌")
        return await refresh_grant(grant.refresh_token, uow, identity, origin, response)
    except ValidationError as exc:
        unsupported = any(e["loc"] == ("grant_type",) and e["type"] == "literal_error" for e in exc.errors())
        refusal = (
            OAuthRefusal(
                "unsupported_grant_type", "grant_type must be password or refresh_token", "不支持的授权类型"
            )
            if unsupported
            else OAuthRefusal(
                "invalid_request", "; ".join(str(e["msg"]) for e in exc.errors()), "请求参数有误"
            )
        )
        return refusal.response()
    except OAuthRefusal as refusal:
        return refusal.response()
    except DomainError as exc:
        error = "invalid_grant" if exc.status in (401, 403, 409) else "invalid_request"
        return OAuthRefusal(error, exc.detail, exc.detail_zh).response()
    except HTTPException as exc:
        if exc.status_code != 429:
            raise
        return OAuthRefusal("slow_down", str(exc.detail), "尝试过于频繁，请稍后再试", status=429).response(
            exc.headers
        )


async def password_grant(
    username: str,
    password: str,
    uow: UnitOfWork,
    identity: Any,
    origin: Any,
    runtime: Any,
    response: Response,
) -> TokenResponse:
    settings = identity.settings
    window = settings.sign_in_window_seconds
    failures_key = f"signin:failed:ip:{origin.ip}"
    identifier_key = f"signin:id:{service.digest(repository.normalise_identifier(username))}"
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
        identifier=username,
        password=password,
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


async def refresh_grant(
    refresh_token: str, uow: UnitOfWork, identity: Any, origin: Any, response: Response
) -> TokenResponse:
    rotated = await service.refresh(uow, refresh_token, identity.sessions, origin)
    if rotated is None:
        await uow.commit()
        raise Unauthenticated("refresh token is invalid, expired or revoked", "刷新令牌无效或已失效")
    if rotated.replay is not None:
        await uow.commit()
        response.headers.update(NO_STORE)
        return TokenResponse.model_validate(rotated.replay)
    tokens = await issue_tokens(uow, identity, rotated.account, rotated.refresh_token, method=rotated.method)
    service.seal(rotated, refresh_token, tokens.model_dump())
    await uow.commit()
    response.headers.update(NO_STORE)
    return tokens


@router.post("/refresh", response_model=TokenResponse, summary="New tokens for a refresh token (rotated)")
async def refresh(
    body: RefreshRequest, uow: AnonymousUowDep, identity: IdentityDep, origin: OriginDep, response: Response
) -> TokenResponse:
    return await refresh_grant(body.refresh_token, uow, identity, origin, response)


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
