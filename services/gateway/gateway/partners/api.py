"""Partner clients: administration, the OAuth2 token endpoint, and the partner dependency."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Awaitable, Callable
from typing import Annotated
from urllib.parse import parse_qs
from uuid import UUID

import jwt
from fastapi import APIRouter, Depends, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from sqlalchemy import select

from gateway import ratelimit
from gateway.deps import AnonymousUowDep, IdentityDep, OriginDep
from gateway.partners import service
from gateway.partners.models import PartnerClient
from gateway.partners.service import SCOPE_LABELS_ZH, PartnerScope
from shared.auth import Principal, Role, TokenVerifier
from shared.errors import DomainError, Forbidden, NotFound, Unauthenticated
from shared.http.auth import require_roles
from shared.http.deps import PageDep, RuntimeDep, SessionDep, UnitOfWorkDep
from shared.http.schemas import Page
from shared.timestamps import Timestamp

router = APIRouter(tags=["partners"])
AdminDep = Annotated[Principal, Depends(require_roles(Role.administrator))]
EventPattern = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z_]*(\.([a-z][a-z_]*|\*)){1,2}$")]


class PartnerCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True)]
    scopes: list[PartnerScope] = Field(min_length=1)
    allowed_event_types: list[EventPattern] = Field(default_factory=list, max_length=50)
    rate_limit_per_minute: int = Field(default=120, ge=1, le=100_000)


class PartnerOut(BaseModel):
    id: UUID
    client_id: str
    name: str
    scopes: list[str]
    scopes_zh: list[str]
    allowed_event_types: list[str]
    rate_limit_per_minute: int
    status: str
    created_at: Timestamp

    @classmethod
    def of(cls, c: PartnerClient) -> PartnerOut:
        return cls(
            id=c.id,
            client_id=c.client_id,
            name=c.name,
            scopes=list(c.scopes),
            scopes_zh=[SCOPE_LABELS_ZH.get(PartnerScope(s), s) for s in c.scopes],
            allowed_event_types=list(c.allowed_event_types),
            rate_limit_per_minute=c.rate_limit_per_minute,
            status=c.status,
            created_at=c.created_at,
        )


class PartnerCreated(BaseModel):
    partner: PartnerOut
    client_secret: str = Field(description="shown once; stored only as a hash")


class SecretOut(BaseModel):
    client_secret: str


async def _load(partner_id: UUID, uow: UnitOfWorkDep, _: AdminDep) -> PartnerClient:
    client = await service.get(uow, partner_id)
    if client is None:
        raise NotFound(f"partner {partner_id} not found", "未找到该合作平台")
    return client


PartnerDep = Annotated[PartnerClient, Depends(_load)]


@router.post("/partners", status_code=status.HTTP_201_CREATED, response_model=PartnerCreated)
async def register_partner(
    body: PartnerCreate, uow: UnitOfWorkDep, _: AdminDep, origin: OriginDep
) -> PartnerCreated:
    """Register a partner platform (合作平台接入) and show its client secret once."""
    client, secret = await service.register(
        uow,
        name=body.name,
        scopes=[s.value for s in body.scopes],
        allowed_event_types=body.allowed_event_types,
        rate_limit_per_minute=body.rate_limit_per_minute,
        origin=origin,
    )
    await uow.commit()
    return PartnerCreated(partner=PartnerOut.of(client), client_secret=secret)


@router.get("/partners", response_model=Page[PartnerOut])
async def list_partners(uow: UnitOfWorkDep, _: AdminDep, page: PageDep) -> Page[PartnerOut]:
    items, total = await service.list_page(uow, offset=page.offset, limit=page.size)
    return Page(items=[PartnerOut.of(c) for c in items], total=total, page=page.page, size=page.size)


@router.get("/partners/{partner_id}", response_model=PartnerOut)
async def get_partner(client: PartnerDep) -> PartnerOut:
    return PartnerOut.of(client)


@router.post("/partners/{partner_id}/secret", response_model=SecretOut, summary="Rotate the client secret")
async def rotate_secret(client: PartnerDep, uow: UnitOfWorkDep, origin: OriginDep) -> SecretOut:
    secret = await service.rotate_secret(uow, client, origin)
    await uow.commit()
    return SecretOut(client_secret=secret)


@router.post("/partners/{partner_id}/disable", response_model=PartnerOut)
async def disable_partner(client: PartnerDep, uow: UnitOfWorkDep, origin: OriginDep) -> PartnerOut:
    await service.set_status(uow, client, active=False, origin=origin)
    await uow.commit()
    return PartnerOut.of(client)


@router.post("/partners/{partner_id}/enable", response_model=PartnerOut)
async def enable_partner(client: PartnerDep, uow: UnitOfWorkDep, origin: OriginDep) -> PartnerOut:
    await service.set_status(uow, client, active=True, origin=origin)
    await uow.commit()
    return PartnerOut.of(client)


class OAuthError(DomainError):
    """RFC 6749 §5.2 errors, as problem+json that also carries the OAuth ``error`` code."""

    def __init__(self, status_code: int, error: str, detail: str, detail_zh: str) -> None:
        self.status = status_code
        self.title = "OAuth error"
        self.title_zh = "授权失败"
        super().__init__(detail, detail_zh, code=error, extra={"error": error})


class ClientTokenResponse(BaseModel):
    access_token: str
    token_type: str = "Bearer"  # noqa: S105 - the OAuth token type, not a secret
    expires_in: int
    scope: str


def _client_credentials(request: Request, form: dict[str, str]) -> tuple[str, str]:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "basic":
        try:
            client_id, _, secret = base64.b64decode(value, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError) as exc:
            raise OAuthError(
                401, "invalid_client", "malformed Basic credentials", "客户端凭据格式错误"
            ) from exc
        return client_id, secret
    return form.get("client_id", ""), form.get("client_secret", "")


@router.post(
    "/oauth/token",
    response_model=ClientTokenResponse,
    summary="OAuth2 client credentials for partner systems (RFC 6749 §4.4)",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/x-www-form-urlencoded": {
                    "schema": {
                        "type": "object",
                        "required": ["grant_type"],
                        "properties": {
                            "grant_type": {"type": "string", "enum": ["client_credentials"]},
                            "scope": {"type": "string"},
                            "client_id": {"type": "string"},
                            "client_secret": {"type": "string"},
                        },
                    }
                }
            },
        }
    },
)
async def client_token(
    request: Request,
    uow: AnonymousUowDep,
    identity: IdentityDep,
    runtime: RuntimeDep,
    origin: OriginDep,
    response: Response,
) -> ClientTokenResponse:
    raw = (await request.body()).decode("utf-8", "replace")
    try:
        form = {k: v[0] for k, v in parse_qs(raw, max_num_fields=10).items()}
    except ValueError as exc:
        raise OAuthError(400, "invalid_request", "too many form fields", "请求参数过多") from exc
    if form.get("grant_type") != "client_credentials":
        raise OAuthError(
            400, "unsupported_grant_type", "only client_credentials is supported", "仅支持客户端凭据模式"
        )
    client_id, secret = _client_credentials(request, form)
    settings = identity.settings
    wait = await ratelimit.hit(
        runtime.sessionmaker, f"oauth:ip:{origin.ip}", limit=settings.sign_in_limit_per_ip, window_seconds=60
    )
    if wait is not None:
        raise ratelimit.too_many(wait, "token requests")
    client = await service.authenticate(uow, client_id[:40], secret[:200])
    if client is None:
        await uow.record(
            "partner_auth_failed",
            entity_type="partner_client",
            entity_id=client_id[:40] or "-",
            changes=origin.as_dict(),
        )
        await uow.commit()
        raise OAuthError(401, "invalid_client", "client authentication failed", "客户端认证失败")
    try:
        scopes = service.granted_scopes(client, form.get("scope"))
    except DomainError as exc:
        raise OAuthError(400, "invalid_scope", exc.detail, exc.detail_zh) from exc
    token = identity.issuer.issue(
        f"partner:{client.client_id}",
        roles=[],
        name=client.name,
        ttl_seconds=settings.partner_token_ttl_seconds,
        extra={"aud": settings.partner_audience, "scope": " ".join(scopes), "client_id": client.client_id},
    )
    response.headers.update({"Cache-Control": "no-store", "Pragma": "no-cache"})
    return ClientTokenResponse(
        access_token=token, expires_in=settings.partner_token_ttl_seconds, scope=" ".join(scopes)
    )


def require_scope(scope: PartnerScope) -> Callable[..., Awaitable[PartnerClient]]:
    """The calling partner, if its token carries ``scope``; counted against its rate limit."""

    async def dependency(request: Request, session: SessionDep, runtime: RuntimeDep) -> PartnerClient:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise Unauthenticated("a partner access token is required", "需要合作平台访问令牌")
        verifier: TokenVerifier = runtime.extras["partner_verifier"]
        principal = await verifier.verify(token.strip())
        # verified just above; read the claims the Principal does not carry
        claims = jwt.decode(token.strip(), options={"verify_signature": False})
        client_id = principal.user_id.removeprefix("partner:")
        client = (
            await session.execute(select(PartnerClient).where(PartnerClient.client_id == client_id))
        ).scalar_one_or_none()
        if client is None or client.status != "active":
            raise Unauthenticated("the partner client is disabled", "合作平台已停用")
        if scope.value not in str(claims.get("scope", "")).split():
            raise Forbidden(
                f"requires the scope {scope.value}",
                "访问令牌缺少所需权限范围",
                extra={"required_scope": scope.value},
            )
        wait = await ratelimit.hit(
            runtime.sessionmaker,
            f"partner:{client.client_id}",
            limit=client.rate_limit_per_minute,
            window_seconds=60,
        )
        if wait is not None:
            raise ratelimit.too_many(wait, "requests for this partner")
        return client

    return dependency
