"""Sign-in (登录), refresh-token rotation and logout.

Sign-in never tells whether an account exists: unknown user, wrong password and a locked
account give the same answer, and an unknown user still costs one Argon2 verification.
Consecutive failures lock the account with back-off (base × 2ⁿ, capped). Only someone who
knows the password learns that the account is pending or disabled.

Refresh tokens (RFC 9700 §4.14): opaque, stored as SHA-256, rotated on every use. A used or
revoked token presented again means it leaked: the whole family is revoked, except within a
few seconds of its rotation (two browser tabs, a retry after a lost answer), when the same
new pair is answered again. That pair is kept sealed with a key derived from the old token
itself, which the database does not hold: only whoever presents the old token can open it.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import select, update

from gateway.accounts import repository
from gateway.accounts.models import Account, RefreshToken
from gateway.accounts.passwords import Passwords
from gateway.accounts.service import Origin
from shared.clock import utcnow
from shared.errors import Forbidden
from shared.ids import uuid7
from shared.uow import Actor, UnitOfWork


@dataclass(frozen=True)
class LockoutPolicy:
    threshold: int = 5
    base_seconds: int = 60
    max_seconds: int = 3600

    def locked_until(self, failures: int, now: datetime) -> datetime | None:
        if failures < self.threshold:
            return None
        seconds = min(self.max_seconds, self.base_seconds * 2 ** (failures - self.threshold))
        return now + timedelta(seconds=seconds)


@dataclass(frozen=True)
class SessionPolicy:
    refresh_ttl_seconds: int
    session_max_seconds: int
    refresh_grace_seconds: int = 10


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class SignInResult:
    account: Account | None = None
    refusal: Forbidden | None = None  # right password, but the account may not sign in


async def sign_in(
    uow: UnitOfWork,
    *,
    identifier: str,
    password: str,
    passwords: Passwords,
    lockout: LockoutPolicy,
    origin: Origin,
) -> SignInResult:
    """The account if the password is right and it may sign in now.

    The caller commits before answering, so that failures are counted and audited too.
    """
    now = utcnow()
    account = await repository.by_identifier(uow.session, identifier, for_update=True)
    ok = passwords.verify(account.password_hash if account else None, password)
    if account is None:
        await uow.record(
            "sign_in_failed",
            entity_type="sign_in",
            entity_id=digest(repository.normalise_identifier(identifier))[:32],
            changes={"outcome": "unknown_identifier", **origin.as_dict()},
        )
        return SignInResult()
    uow.actor = Actor(id=str(account.id))
    locked = account.locked_until is not None and account.locked_until > now
    if not ok or locked:
        if not locked:
            account.failed_sign_ins += 1
            account.locked_until = lockout.locked_until(account.failed_sign_ins, now)
        await uow.record(
            "sign_in_failed",
            entity_type="account",
            entity_id=account.id,
            changes={
                "outcome": "locked" if locked else "wrong_password",
                "failures": account.failed_sign_ins,
                "locked_until": account.locked_until.isoformat() if account.locked_until else None,
                **origin.as_dict(),
            },
        )
        return SignInResult()
    if account.status != "active":
        await uow.record(
            "sign_in_refused",
            entity_type="account",
            entity_id=account.id,
            changes={"outcome": account.status, **origin.as_dict()},
        )
        detail_zh = {"pending": "账号尚待审核", "disabled": "账号已停用", "rejected": "注册申请未获通过"}
        return SignInResult(
            refusal=Forbidden(
                f"the account is {account.status}",
                detail_zh.get(account.status, "账号不可用"),
                code=f"account_{account.status}",
            )
        )
    account.failed_sign_ins = 0
    account.locked_until = None
    account.last_sign_in_at = now
    if account.password_hash and passwords.needs_rehash(account.password_hash):
        account.password_hash = passwords.hash(password)
    await uow.record("signed_in", entity_type="account", entity_id=account.id, changes=origin.as_dict())
    return SignInResult(account=account)


async def open_session(
    uow: UnitOfWork, account: Account, policy: SessionPolicy, *, method: str = "password"
) -> str:
    """A new refresh-token family; returns the opaque token (shown once, stored hashed)."""
    now = utcnow()
    return await _issue(
        uow,
        account_id=account.id,
        family_id=uuid7(),
        family_expires_at=now + timedelta(seconds=policy.session_max_seconds),
        policy=policy,
        method=method,
    )


async def _issue(
    uow: UnitOfWork,
    *,
    account_id: UUID,
    family_id: UUID,
    family_expires_at: datetime,
    policy: SessionPolicy,
    method: str,
) -> str:
    token = secrets.token_urlsafe(32)
    now = utcnow()
    uow.session.add(
        RefreshToken(
            family_id=family_id,
            account_id=account_id,
            token_hash=digest(token),
            issued_at=now,
            expires_at=min(family_expires_at, now + timedelta(seconds=policy.refresh_ttl_seconds)),
            family_expires_at=family_expires_at,
            sign_in_method=method,
        )
    )
    await uow.session.flush()
    return token


async def revoke_family(uow: UnitOfWork, family_id: UUID, reason: str) -> None:
    await uow.session.execute(
        update(RefreshToken)
        .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=utcnow(), revoked_reason=reason)
    )


async def _find(uow: UnitOfWork, token: str) -> RefreshToken | None:
    stmt = select(RefreshToken).where(RefreshToken.token_hash == digest(token)).with_for_update()
    return (await uow.session.execute(stmt)).scalar_one_or_none()


@dataclass
class Rotation:
    """A refresh's outcome: a fresh rotation to answer (and seal), or the sealed answer again."""

    account: Account
    row: RefreshToken
    refresh_token: str = ""
    replay: dict[str, Any] | None = None

    @property
    def method(self) -> str:
        return self.row.sign_in_method


def _sealer(token: str) -> Fernet:
    return Fernet(base64.urlsafe_b64encode(hashlib.sha256(b"refresh-grace|" + token.encode()).digest()))


def seal(rotation: Rotation, token: str, answer: dict[str, Any]) -> None:
    """Keep the answer to this rotation for the grace window, openable only with ``token``."""
    rotation.row.successor_sealed = _sealer(token).encrypt(json.dumps(answer).encode()).decode()


def _within_grace(
    row: RefreshToken, token: str, policy: SessionPolicy, now: datetime
) -> dict[str, Any] | None:
    if row.revoked_at is not None or row.used_at is None or row.successor_sealed is None:
        return None
    if now - row.used_at > timedelta(seconds=policy.refresh_grace_seconds):
        return None
    try:
        answer: dict[str, Any] = json.loads(_sealer(token).decrypt(row.successor_sealed.encode()))
    except InvalidToken:
        return None
    return answer


async def refresh(uow: UnitOfWork, token: str, policy: SessionPolicy, origin: Origin) -> Rotation | None:
    """Rotate: the account and a new refresh token, or ``None`` (and the family revoked on reuse)."""
    row = await _find(uow, token)
    if row is None:
        return None
    now = utcnow()
    uow.actor = Actor(id=str(row.account_id))
    if row.used_at is not None or row.revoked_at is not None:
        replay = _within_grace(row, token, policy, now)
        account = await repository.get(uow.session, row.account_id)
        if replay is not None and account is not None and account.status == "active":
            return Rotation(account=account, row=row, replay=replay)
        await revoke_family(uow, row.family_id, "reuse_detected")
        await uow.record(
            "refresh_token_reused",
            entity_type="account",
            entity_id=row.account_id,
            changes={"family_id": str(row.family_id), **origin.as_dict()},
        )
        return None
    if row.expires_at <= now:
        return None
    account = await repository.get(uow.session, row.account_id)
    if account is None or account.status != "active":
        await revoke_family(uow, row.family_id, "account_inactive")
        return None
    row.used_at = now
    new_token = await _issue(
        uow,
        account_id=account.id,
        family_id=row.family_id,
        family_expires_at=row.family_expires_at,
        policy=policy,
        method=row.sign_in_method,
    )
    return Rotation(account=account, row=row, refresh_token=new_token)


async def logout(uow: UnitOfWork, token: str, origin: Origin) -> None:
    """Revoke the whole sign-in (every rotation of this token); unknown tokens are ignored."""
    row = await _find(uow, token)
    if row is None:
        return
    uow.actor = Actor(id=str(row.account_id))
    await revoke_family(uow, row.family_id, "logout")
    await uow.record(
        "signed_out",
        entity_type="account",
        entity_id=row.account_id,
        changes={"family_id": str(row.family_id), **origin.as_dict()},
    )
