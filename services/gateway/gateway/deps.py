"""What the gateway's own endpoints share: password and session policies, the issuer, origins."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from gateway.accounts.models import Account, RoleGrant
from gateway.accounts.passwords import PasswordPolicy, Passwords
from gateway.accounts.service import Origin, claims_for
from gateway.sessions.service import LockoutPolicy, SessionPolicy
from gateway.settings import GatewaySettings
from shared.auth import TokenIssuer
from shared.http.deps import RuntimeDep
from shared.uow import Actor, UnitOfWork


@dataclass(frozen=True)
class Identity:
    settings: GatewaySettings
    issuer: TokenIssuer
    passwords: Passwords
    policy: PasswordPolicy
    lockout: LockoutPolicy
    sessions: SessionPolicy

    @classmethod
    def from_settings(cls, settings: GatewaySettings, issuer: TokenIssuer) -> Identity:
        return cls(
            settings=settings,
            issuer=issuer,
            passwords=Passwords(
                time_cost=settings.password_hash_time_cost,
                memory_kib=settings.password_hash_memory_kib,
                parallelism=settings.password_hash_parallelism,
            ),
            policy=PasswordPolicy(
                min_length=settings.password_min_length, min_classes=settings.password_min_classes
            ),
            lockout=LockoutPolicy(
                threshold=settings.lockout_threshold,
                base_seconds=settings.lockout_base_seconds,
                max_seconds=settings.lockout_max_seconds,
            ),
            sessions=SessionPolicy(
                refresh_ttl_seconds=settings.refresh_token_ttl_seconds,
                session_max_seconds=settings.session_max_seconds,
                refresh_grace_seconds=settings.refresh_grace_seconds,
            ),
        )

    def access_token(
        self, account: Account, grants: list[RoleGrant], *, password_sign_in: bool = True
    ) -> str:
        claims = claims_for(account, grants)
        if password_sign_in and account.must_change_password:
            # A one-time password opens nothing but the password change itself. It concerns the
            # password only: whoever signs in through the regional platform never typed it.
            claims.update(roles=[], scopes={})
        return self.issuer.issue(
            str(account.id),
            roles=claims["roles"],
            unit_id=claims["unit_id"],
            person_id=claims["person_id"],
            scopes=claims["scopes"],
            name=claims["name"],
            ttl_seconds=self.settings.access_token_ttl_seconds,
        )


def get_identity(runtime: RuntimeDep) -> Identity:
    identity: Identity = runtime.extras["identity"]
    return identity


IdentityDep = Annotated[Identity, Depends(get_identity)]


def client_ip(request: Request) -> str:
    # Uvicorn's --proxy-headers (with --forwarded-allow-ips set to the load balancer) puts the
    # real client here; the gateway never trusts X-Forwarded-For from the open internet.
    return request.client.host if request.client else "unknown"


def get_origin(request: Request) -> Origin:
    return Origin(ip=client_ip(request), user_agent=request.headers.get("user-agent", ""))


OriginDep = Annotated[Origin, Depends(get_origin)]


async def get_anonymous_uow(runtime: RuntimeDep) -> AsyncIterator[UnitOfWork]:
    """A unit of work before anyone is identified (sign-in, registration, refresh)."""
    async with runtime.sessionmaker() as session:
        yield UnitOfWork(session, runtime.tables, actor=Actor(id="anonymous"))


AnonymousUowDep = Annotated[UnitOfWork, Depends(get_anonymous_uow)]
