"""Sign-in through the regional platform (统一身份认证): state, nonce and PKCE kept server-side,
first sign-in linked to an account by a *verified* e-mail or phone, or a pending applicant.

A pending applicant first created here belongs to a unit before anyone can approve it: the
unit whose unified social credit code the platform sends (claim ``oidc_unit_claim``), found in
the gateway's copy of registry's organisations; or, when the platform sends none, the unit the
person names once with the ticket the refused sign-in handed them. That unit's admin then sees
the account among the pending registrations and approves it as any other.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select, update

from gateway.accounts import repository
from gateway.accounts.models import Account, RoleGrant
from gateway.accounts.service import ACCOUNT_MACHINE, ACCOUNT_STATUS_LABELS, Origin
from gateway.oidc.models import OidcIdentity, OidcLoginState
from gateway.oidc.provider import OidcProvider, pkce_pair
from gateway.opendata.models import OpenDataRecord
from gateway.sessions.service import SignInResult
from shared.clock import utcnow
from shared.errors import Forbidden, Unauthenticated
from shared.uow import Actor, UnitOfWork

STATE_TTL = timedelta(minutes=10)
UNIT_TICKET_TTL = timedelta(hours=1)
CREDIT_CODE = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$")


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


async def begin(uow: UnitOfWork, provider: OidcProvider) -> tuple[str, str]:
    """The provider URL to send the browser to, and the state the SPA keeps to match the answer."""
    await uow.session.execute(delete(OidcLoginState).where(OidcLoginState.expires_at < utcnow() - STATE_TTL))
    state, nonce = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    verifier, challenge = pkce_pair()
    uow.session.add(
        OidcLoginState(
            state_hash=_hash(state), nonce=nonce, code_verifier=verifier, expires_at=utcnow() + STATE_TTL
        )
    )
    url = await provider.authorization_url(state=state, nonce=nonce, code_challenge=challenge)
    return url, state


async def unit_by_credit_code(uow: UnitOfWork, credit_code: str) -> str | None:
    """The registry id of the unit with this unified social credit code, as registry announced it."""
    if not CREDIT_CODE.match(credit_code):
        return None
    stmt = select(OpenDataRecord.id).where(
        OpenDataRecord.kind == "organisations", OpenDataRecord.data["credit_code"].astext == credit_code
    )
    return (await uow.session.execute(stmt.limit(1))).scalar_one_or_none()


async def _link(uow: UnitOfWork, claims: dict[str, Any], unit_claim: str) -> tuple[Account, str]:
    """The account for these claims and how it was found."""
    issuer, subject = str(claims["iss"]), str(claims["sub"])
    credit_code = str(claims.get(unit_claim) or "").strip().upper()
    identity = await uow.session.get(OidcIdentity, (issuer, subject))
    if identity is not None:
        account = await repository.get(uow.session, identity.account_id, for_update=True)
        assert account is not None
        if account.status == "pending" and account.unit_id is None and credit_code:
            # the unit may have reached the gateway's copy of the register since the last try
            account.unit_id = await unit_by_credit_code(uow, credit_code)
        return account, "linked"
    account = None
    email = str(claims.get("email", "")).lower() or None
    phone = str(claims.get("phone_number", "")).removeprefix("+86") or None
    if email and claims.get("email_verified") is True:
        account = await repository.by_identifier(uow.session, email, for_update=True)
    if account is None and phone and claims.get("phone_number_verified") is True:
        account = await repository.by_identifier(uow.session, phone, for_update=True)
    how = "verified_identifier"
    if account is None:
        how = "created_pending"
        taken = await repository.taken(uow.session, username="", email=email, phone=phone)
        verified_email = email if claims.get("email_verified") is True and taken != "email" else None
        verified_phone = phone if claims.get("phone_number_verified") is True and taken != "phone" else None
        account = Account(
            username="sso_" + _hash(f"{issuer}|{subject}")[:16],
            email=verified_email,
            phone=verified_phone if verified_phone and len(verified_phone) <= 20 else None,
            display_name=str(claims.get("name") or "统一认证用户")[:100],
            status="pending",
            unit_id=await unit_by_credit_code(uow, credit_code) if credit_code else None,
        )
        uow.session.add(account)
        await uow.session.flush()
        uow.session.add(RoleGrant(account_id=account.id, role="applicant", scope_ids=[], status="pending"))
    uow.session.add(OidcIdentity(issuer=issuer, subject=subject, account_id=account.id))
    await uow.session.flush()
    return account, how


async def complete(
    uow: UnitOfWork,
    provider: OidcProvider,
    *,
    code: str,
    state: str,
    origin: Origin,
    unit_claim: str = "unit_credit_code",
) -> SignInResult:
    row = (
        await uow.session.execute(
            select(OidcLoginState).where(OidcLoginState.state_hash == _hash(state)).with_for_update()
        )
    ).scalar_one_or_none()
    if row is None or row.used_at is not None or row.expires_at <= utcnow():
        raise Unauthenticated("unknown, used or expired sign-in request", "登录请求无效或已过期")
    row.used_at = utcnow()
    id_token = await provider.exchange(code, row.code_verifier)
    claims = await provider.validate(id_token, nonce=row.nonce)
    account, how = await _link(uow, claims, unit_claim)
    uow.actor = Actor(id=str(account.id))
    await uow.record(
        "signed_in_sso" if account.status == "active" else "sso_sign_in_refused",
        entity_type="account",
        entity_id=account.id,
        changes={"issuer": claims["iss"], "link": how, "status": account.status, **origin.as_dict()},
    )
    if account.status != "active":
        detail_zh = {"pending": "账号尚待审核", "disabled": "账号已停用", "rejected": "注册申请未获通过"}
        extra: dict[str, Any] = {"account_id": str(account.id), "unit_id": account.unit_id}
        if account.status == "pending" and account.unit_id is None:
            extra["unit_ticket"] = await _unit_ticket(uow, str(claims["iss"]), str(claims["sub"]))
        return SignInResult(
            refusal=Forbidden(
                f"the account is {account.status}"
                + ("; name your unit with the unit ticket" if "unit_ticket" in extra else ""),
                detail_zh.get(account.status, "账号不可用")
                + ("，请选择所在单位后由单位管理员审核" if "unit_ticket" in extra else ""),
                code=f"account_{account.status}",
                extra=extra,
            )
        )
    account.last_sign_in_at = utcnow()
    return SignInResult(account=account)


async def _unit_ticket(uow: UnitOfWork, issuer: str, subject: str) -> str:
    ticket = secrets.token_urlsafe(32)
    await uow.session.execute(
        update(OidcIdentity)
        .where(OidcIdentity.issuer == issuer, OidcIdentity.subject == subject)
        .values(unit_ticket_hash=_hash(ticket), unit_ticket_expires_at=utcnow() + UNIT_TICKET_TTL)
    )
    return ticket


async def name_unit(uow: UnitOfWork, *, ticket: str, unit_id: str, origin: Origin) -> Account:
    """A pending account first created by single sign-on names its unit (once per ticket)."""
    stmt = select(OidcIdentity).where(OidcIdentity.unit_ticket_hash == _hash(ticket)).with_for_update()
    identity = (await uow.session.execute(stmt)).scalar_one_or_none()
    if (
        identity is None
        or identity.unit_ticket_expires_at is None
        or identity.unit_ticket_expires_at <= utcnow()
    ):
        raise Unauthenticated("unknown, used or expired unit ticket", "单位选择凭据无效或已过期")
    identity.unit_ticket_hash = None
    identity.unit_ticket_expires_at = None
    account = await repository.get(uow.session, identity.account_id, for_update=True)
    assert account is not None
    uow.actor = Actor(id=str(account.id))
    if account.status != "pending" or account.unit_id is not None:
        raise ACCOUNT_MACHINE.refuse(
            account.status,
            "the account already belongs to a unit or is decided",
            f"该账号（{ACCOUNT_STATUS_LABELS[account.status]}）已有所属单位或已审核",
        )
    account.unit_id = unit_id
    account.version += 1
    await uow.record(
        "sso_unit_named",
        entity_type="account",
        entity_id=account.id,
        changes={"unit_id": unit_id, **origin.as_dict()},
    )
    return account
