"""Gateway as a service: the one door for SPAs and partners."""

from __future__ import annotations

import json
import logging
from pathlib import Path

from cryptography.fernet import Fernet
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from gateway.accounts import service as account_service
from gateway.accounts.api import router as accounts_router
from gateway.audit import router as audit_router
from gateway.db import Base, kit
from gateway.deps import Identity
from gateway.events import handlers
from gateway.oidc.api import router as oidc_router
from gateway.oidc.provider import OidcProvider, ProviderConfig
from gateway.opendata.api import router as opendata_router
from gateway.partners.api import router as partners_router
from gateway.proxy.forward import Upstreams, VerifiedTokens
from gateway.proxy.openapi import CombinedDocument, merge_asyncapi, merge_documents
from gateway.sessions.api import router as sessions_router
from gateway.settings import GatewaySettings
from gateway.tokens import build_issuer
from gateway.tokens import router as tokens_router
from gateway.webhooks import targets
from gateway.webhooks.api import router as webhooks_router
from gateway.webhooks.service import DeliveryPolicy
from gateway.webhooks.worker import DeliveryWorker
from shared import asyncapi
from shared.auth import TokenVerifier
from shared.service import ServiceDefinition, ServiceRuntime
from shared.uow import Actor, UnitOfWork

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
metadata = Base.metadata

log = logging.getLogger(__name__)
docs_router = APIRouter(include_in_schema=False)


@docs_router.get("/openapi.json")
async def combined_openapi(request: Request) -> JSONResponse:
    combined: CombinedDocument = request.app.state.runtime.extras["openapi"]
    return JSONResponse(await combined.document(request.app.openapi()))


@docs_router.get("/asyncapi.json")
async def combined_asyncapi(request: Request) -> JSONResponse:
    """Every event type of the platform (AsyncAPI 3.0): channel, payload schema, producer, consumers."""
    runtime: ServiceRuntime = request.app.state.runtime
    combined: CombinedDocument = runtime.extras["asyncapi"]
    return JSONResponse(await combined.document(asyncapi.of_service(runtime.definition)))


async def _start(runtime: ServiceRuntime) -> None:
    settings = runtime.settings
    assert isinstance(settings, GatewaySettings)
    issuer = build_issuer(settings)
    upstreams = Upstreams(settings)
    identity = Identity.from_settings(settings, issuer)
    runtime.extras.update(
        issuer=issuer,
        identity=identity,
        upstreams=upstreams,
        openapi=CombinedDocument(
            upstreams, settings.openapi_cache_seconds, path="/openapi.json", merge=merge_documents
        ),
        asyncapi=CombinedDocument(
            upstreams, settings.openapi_cache_seconds, path="/asyncapi.json", merge=merge_asyncapi
        ),
    )
    # The gateway verifies its own tokens with its own keys, not over HTTP to itself.
    runtime.verifier = TokenVerifier(
        issuer=settings.auth_issuer,
        audience=settings.auth_audience,
        leeway_seconds=settings.auth_leeway_seconds,
        jwks_json=json.dumps(issuer.jwks()),
    )
    runtime.extras["verified_tokens"] = VerifiedTokens(runtime.verifier)
    runtime.extras["partner_verifier"] = TokenVerifier(
        issuer=settings.auth_issuer,
        audience=settings.partner_audience,
        leeway_seconds=settings.auth_leeway_seconds,
        jwks_json=json.dumps(issuer.jwks()),
    )
    await _bootstrap_admin(runtime, identity)
    if settings.oidc_issuer and settings.oidc_client_id and settings.oidc_redirect_uri:
        runtime.extras["oidc"] = OidcProvider(
            ProviderConfig(
                issuer=settings.oidc_issuer,
                client_id=settings.oidc_client_id,
                client_secret=settings.oidc_client_secret or "",
                redirect_uri=settings.oidc_redirect_uri,
                scopes=settings.oidc_scopes,
            )
        )
    fernet = Fernet(settings.webhook_secret_key or Fernet.generate_key())
    policy = DeliveryPolicy(
        max_attempts=settings.webhook_max_attempts,
        base_seconds=settings.webhook_backoff_base_seconds,
        max_backoff_seconds=settings.webhook_backoff_max_seconds,
        allow=targets.networks(settings.webhook_allowed_networks),
        require_https=settings.webhook_require_https,
    )
    worker = DeliveryWorker(
        runtime.sessionmaker,
        fernet,
        policy,
        poll_seconds=settings.webhook_poll_seconds,
        timeout_seconds=settings.webhook_timeout_seconds,
    )
    runtime.extras.update(fernet=fernet, delivery_policy=policy, webhooks=worker)
    if settings.background_work:
        worker.start()


async def _bootstrap_admin(runtime: ServiceRuntime, identity: Identity) -> None:
    settings = identity.settings
    if not (settings.bootstrap_admin_username and settings.bootstrap_admin_password):
        return
    async with runtime.sessionmaker() as session:
        uow = UnitOfWork(session, runtime.tables, actor=Actor.system("bootstrap"))
        created = await account_service.ensure_bootstrap_admin(
            uow,
            username=settings.bootstrap_admin_username,
            password=settings.bootstrap_admin_password,
            passwords=identity.passwords,
            policy=identity.policy,
        )
        await uow.commit()
    if created is not None:
        log.warning("bootstrap administrator created", extra={"username": created.username})


async def _stop(runtime: ServiceRuntime) -> None:
    if "oidc" in runtime.extras:
        await runtime.extras["oidc"].close()
    await runtime.extras["webhooks"].stop()
    await runtime.extras["upstreams"].close()


def build_definition(settings: GatewaySettings | None = None) -> ServiceDefinition:
    settings = settings or GatewaySettings()
    return ServiceDefinition(
        name="gateway",
        title="Gateway",
        description="Sign-in, tokens, routing to the services, one combined API document.",
        settings=settings,
        metadata=metadata,
        tables=kit,
        migrations_dir=MIGRATIONS_DIR,
        routers=[
            tokens_router,
            sessions_router,
            oidc_router,
            accounts_router,
            partners_router,
            opendata_router,
            webhooks_router,
            audit_router,
            docs_router,
        ],
        handlers=handlers if settings.background_work else None,
        startup_hooks=[_start],
        openapi_url="/gateway/openapi.json",
        asyncapi_url="/gateway/asyncapi.json",
        docs_openapi_url="/openapi.json",
        shutdown_hooks=[_stop],
    )
