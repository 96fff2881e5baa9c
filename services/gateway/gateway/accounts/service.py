"""Account rules: registration and approval, roles and their scopes, passwords, disabling.

Applicants (申报人) register themselves and are approved by an admin of their unit
(依托单位管理员); unit admins register themselves and are approved by department staff
(科技厅业务处室) or an administrator. Every change is audited with who, when and from where.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import update

from gateway.accounts import repository
from gateway.accounts.models import Account, RefreshToken, RoleGrant
from gateway.accounts.passwords import PasswordPolicy, Passwords
from gateway.claims import DUTIES, REGION_ROLES, REGIONS, primary_scope
from shared.auth import Principal, Role
from shared.clock import utcnow
from shared.errors import (
    Conflict,
    DomainError,
    DuplicateValue,
    FieldIssue,
    Forbidden,
    NotFound,
    ValidationFailed,
)
from shared.statemachine import StateMachine, Transition
from shared.uow import UnitOfWork

SELF_REGISTRABLE = {Role.applicant, Role.host_unit_admin}
ACCOUNT_STATUS_LABELS = {"pending": "待审核", "active": "正常", "disabled": "已停用", "rejected": "未通过"}
# The account's steps, so that a refusal names the status and what remains (issue 17 §6).
ACCOUNT_MACHINE = StateMachine(
    name="account",
    transitions=(
        Transition.of("approve", ["pending"], "active", "审核通过"),
        Transition.of("reject", ["pending"], "rejected", "审核不通过"),
        Transition.of("disable", ["pending", "active"], "disabled", "停用"),
        Transition.of("enable", ["disabled"], "active", "启用"),
    ),
    state_labels_zh=ACCOUNT_STATUS_LABELS,
    terminal=frozenset({"rejected"}),
)


class Lockout(Protocol):
    """When repeated wrong passwords lock an account (the sign-in's lockout policy)."""

    def locked_until(self, failures: int, now: datetime) -> datetime | None: ...


@dataclass(frozen=True)
class Origin:
    """Where a request came from, for the audit log."""

    ip: str
    user_agent: str = ""

    def as_dict(self) -> dict[str, str]:
        return {"ip": self.ip, "user_agent": self.user_agent[:200]}


@dataclass(frozen=True)
class GrantSpec:
    role: str
    scope_ids: tuple[str, ...] = ()
    duties: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()


def claims_for(account: Account, grants: Sequence[RoleGrant]) -> dict[str, Any]:
    """Roles and scopes exactly as the services read them; only active grants count."""
    roles: list[str] = []
    scopes: dict[str, set[str]] = {}
    for grant in grants:
        if grant.status != "active":
            continue
        roles.append(grant.role)
        kind = primary_scope(grant.role)
        if kind and grant.scope_ids:
            scopes.setdefault(kind, set()).update(str(i) for i in grant.scope_ids)
        if grant.role == Role.department_staff and grant.duties:
            scopes.setdefault("duties", set()).update(str(d) for d in grant.duties)
        if grant.role in REGION_ROLES and grant.regions:
            scopes.setdefault("regions", set()).update(str(r) for r in grant.regions)
    return {
        "roles": sorted(roles),
        "unit_id": account.unit_id,
        "person_id": account.person_id,
        "scopes": {k: sorted(v) for k, v in scopes.items()},
        "name": account.display_name,
    }


def _check_password(policy: PasswordPolicy, password: str, account_like: Any, field: str) -> None:
    issues = policy.check(
        password,
        field=field,
        identifiers=(account_like.username, account_like.email, account_like.phone),
    )
    if issues:
        raise ValidationFailed(issues)


async def _ensure_unique(uow: UnitOfWork, username: str, email: str | None, phone: str | None) -> None:
    field = await repository.taken(uow.session, username=username, email=email, phone=phone)
    if field is not None:
        value = {"username": username, "email": email, "phone": phone}[field] or ""
        raise DuplicateValue(field, value)


async def register(
    uow: UnitOfWork,
    *,
    username: str,
    email: str | None,
    phone: str | None,
    display_name: str,
    password: str,
    unit_id: str,
    role: str,
    passwords: Passwords,
    policy: PasswordPolicy,
    origin: Origin,
) -> Account:
    """Self-registration (自助注册): a pending account with one pending grant."""
    if role not in SELF_REGISTRABLE:
        raise ValidationFailed(
            [FieldIssue("role", "not_self_registrable", "cannot self-register", "该角色不可自助注册")]
        )
    account = Account(
        username=username.lower(),
        email=email.lower() if email else None,
        phone=phone,
        display_name=display_name,
        status="pending",
        unit_id=unit_id,
    )
    _check_password(policy, password, account, "password")
    await _ensure_unique(uow, account.username, account.email, account.phone)
    account.password_hash = passwords.hash(password)
    account.password_changed_at = utcnow()
    uow.session.add(account)
    await uow.session.flush()
    scope = [unit_id] if role == Role.host_unit_admin else []
    uow.session.add(RoleGrant(account_id=account.id, role=role, scope_ids=scope, status="pending"))
    await uow.record(
        "registered",
        entity_type="account",
        entity_id=account.id,
        changes={"role": role, "unit_id": unit_id, **origin.as_dict()},
    )
    return account


def may_approve(principal: Principal, account: Account, grants: Sequence[RoleGrant]) -> bool:
    """Unit admins approve applicants of their units; staff and administrators approve unit admins."""
    pending = {g.role for g in grants if g.status == "pending"}
    if not pending:
        return False
    if principal.has_role(Role.administrator):
        return True
    if pending <= {Role.applicant} and principal.has_role(Role.host_unit_admin):
        return account.unit_id is not None and account.unit_id in principal.scope("units")
    if pending <= {Role.applicant, Role.host_unit_admin}:
        return principal.has_role(Role.department_staff)
    return False


async def decide_registration(
    uow: UnitOfWork,
    principal: Principal,
    account: Account,
    *,
    approve: bool,
    person_id: str | None,
    reason: str | None,
    origin: Origin,
) -> Account:
    grants = await repository.grants(uow.session, account.id)
    if account.status != "pending":
        raise ACCOUNT_MACHINE.refuse(
            account.status,
            f"account is {account.status}, not pending",
            f"该账号{ACCOUNT_STATUS_LABELS[account.status]}，不在待审核状态",
        )
    if not may_approve(principal, account, grants):
        raise Forbidden("you may not decide on this registration", "无权审核该注册申请")
    if approve:
        account.status = "active"
        for grant in grants:
            grant.status = "active"
            grant.granted_by = principal.user_id
            grant.granted_at = utcnow()
        if person_id is not None:
            account.person_id = person_id
    else:
        account.status = "rejected"
    account.version += 1
    await uow.record(
        "registration_approved" if approve else "registration_rejected",
        entity_type="account",
        entity_id=account.id,
        changes={"roles": [g.role for g in grants], "person_id": person_id, **origin.as_dict()},
        reason=reason,
    )
    return account


async def create_account(
    uow: UnitOfWork,
    *,
    username: str,
    email: str | None,
    phone: str | None,
    display_name: str,
    unit_id: str | None,
    person_id: str | None,
    grants: Sequence[GrantSpec],
    passwords: Passwords,
    origin: Origin,
    password: str | None = None,
    policy: PasswordPolicy | None = None,
) -> tuple[Account, str | None]:
    """An administrator opens an account; without a password a one-time one is generated."""
    _check_distinct(grants)
    account = Account(
        username=username.lower(),
        email=email.lower() if email else None,
        phone=phone,
        display_name=display_name,
        status="active",
        unit_id=unit_id,
        person_id=person_id,
    )
    await _ensure_unique(uow, account.username, account.email, account.phone)
    temporary = None
    if password is None:
        temporary = one_time_password()
        account.must_change_password = True
    elif policy is not None:
        _check_password(policy, password, account, "password")
    account.password_hash = passwords.hash(password or temporary or "")
    account.password_changed_at = utcnow()
    uow.session.add(account)
    await uow.session.flush()
    for spec in grants:
        uow.session.add(_grant(account, spec, uow.actor.id))
    await uow.record(
        "account_created",
        entity_type="account",
        entity_id=account.id,
        changes={"roles": _grants_summary(grants), **origin.as_dict()},
    )
    return account, temporary


def _check_distinct(grants: Sequence[GrantSpec]) -> None:
    if len({g.role for g in grants}) != len(grants):
        raise ValidationFailed([FieldIssue("roles", "duplicate_role", "a role is listed twice", "角色重复")])
    for n, spec in enumerate(grants):
        _check_spec(spec, f"roles[{n}]")


def _check_spec(spec: GrantSpec, field: str) -> None:
    issues = []
    if spec.scope_ids and primary_scope(spec.role) is None:
        issues.append(
            FieldIssue(f"{field}.scope_ids", "unscoped_role", "this role takes no scope", "该角色不限定范围")
        )
    if spec.duties and spec.role != Role.department_staff:
        issues.append(
            FieldIssue(
                f"{field}.duties",
                "duties_for_staff_only",
                "only department staff hold duties",
                "仅业务处室人员有职责",
            )
        )
    unknown = sorted(set(spec.duties) - set(DUTIES))
    if unknown:
        issues.append(
            FieldIssue(
                f"{field}.duties",
                "unknown_duty",
                f"unknown duties {unknown}",
                f"未知职责：{'、'.join(unknown)}",
            )
        )
    if spec.regions and spec.role not in REGION_ROLES:
        issues.append(
            FieldIssue(
                f"{field}.regions",
                "regions_for_competent_department_only",
                "only a competent department (municipal bureau) acts for 盟市",
                "仅主管部门（盟市科技局）可限定盟市",
            )
        )
    unknown_regions = sorted(set(spec.regions) - set(REGIONS))
    if unknown_regions:
        issues.append(
            FieldIssue(
                f"{field}.regions",
                "unknown_region",
                f"not a 盟市 division code: {unknown_regions} (known: {', '.join(REGIONS)})",
                f"不是盟市行政区划代码：{'、'.join(unknown_regions)}",
            )
        )
    if len(set(spec.regions)) != len(spec.regions):
        issues.append(
            FieldIssue(f"{field}.regions", "duplicate_region", "a 盟市 is listed twice", "盟市重复")
        )
    if issues:
        raise ValidationFailed(issues)


def _grant(account: Account, spec: GrantSpec, by: str) -> RoleGrant:
    scope = list(spec.scope_ids)
    if spec.role == Role.host_unit_admin and not scope and account.unit_id:
        scope = [account.unit_id]
    return RoleGrant(
        account_id=account.id,
        role=spec.role,
        scope_ids=scope,
        duties=sorted(set(spec.duties)),
        regions=sorted(set(spec.regions)),
        status="active",
        granted_by=by,
    )


def _summary(grant: RoleGrant) -> dict[str, Any]:
    return {
        "role": grant.role,
        "scope_ids": list(grant.scope_ids),
        "duties": list(grant.duties or []),
        "regions": list(grant.regions or []),
    }


def _grants_summary(grants: Sequence[GrantSpec]) -> list[dict[str, Any]]:
    return [
        {"role": g.role, "scope_ids": list(g.scope_ids), "duties": list(g.duties), "regions": list(g.regions)}
        for g in grants
    ]


def one_time_password() -> str:
    # Four classes guaranteed, 20 characters of a CSPRNG: passes any policy.
    return "Aa1!" + secrets.token_urlsafe(12)


async def set_roles(
    uow: UnitOfWork, account: Account, grants: Sequence[GrantSpec], *, reason: str, origin: Origin
) -> list[RoleGrant]:
    """Replace the account's roles (角色变更); the change shows in the next access token."""
    _check_distinct(grants)
    current = await repository.grants(uow.session, account.id)
    before = [{**_summary(g), "status": g.status} for g in current]
    for grant in current:
        await uow.session.delete(grant)
    await uow.session.flush()
    fresh = [_grant(account, spec, uow.actor.id) for spec in grants]
    uow.session.add_all(fresh)
    account.version += 1
    await uow.record(
        "roles_changed",
        entity_type="account",
        entity_id=account.id,
        changes={"before": before, "after": _grants_summary(grants), **origin.as_dict()},
        reason=reason,
    )
    await uow.session.flush()
    return fresh


async def grant_role(
    uow: UnitOfWork, account: Account, spec: GrantSpec, *, reason: str, origin: Origin
) -> RoleGrant:
    """Grant one role, or change the scope and duties of one already held (授权)."""
    _check_spec(spec, "role")
    if account.status in ("rejected", "disabled"):
        raise ACCOUNT_MACHINE.refuse(
            account.status,
            f"account is {account.status}",
            f"账号{ACCOUNT_STATUS_LABELS[account.status]}，不能授权",
        )
    current = {g.role: g for g in await repository.grants(uow.session, account.id)}
    held = current.get(spec.role)
    before = _summary(held) if held is not None else None
    if held is not None and held.status == "pending":
        raise ACCOUNT_MACHINE.refuse(
            account.status,
            "this role waits for the registration's approval",
            "该角色待注册审核，请先审核注册申请",
        )
    if held is None:
        held = _grant(account, spec, uow.actor.id)
        uow.session.add(held)
    else:
        fresh = _grant(account, spec, uow.actor.id)
        held.scope_ids, held.duties, held.regions = fresh.scope_ids, fresh.duties, fresh.regions
        held.granted_by, held.granted_at = fresh.granted_by, utcnow()
    account.version += 1
    await uow.session.flush()
    await uow.record(
        "role_granted",
        entity_type="account",
        entity_id=account.id,
        changes={"before": before, "after": _summary(held), **origin.as_dict()},
        reason=reason,
    )
    return held


async def revoke_role(uow: UnitOfWork, account: Account, role: str, *, reason: str, origin: Origin) -> None:
    """Take one role away (撤销授权); the next access token no longer carries it."""
    held = next((g for g in await repository.grants(uow.session, account.id) if g.role == role), None)
    if held is None:
        raise NotFound(f"the account does not hold the role {role}", "该账号未持有此角色")
    before = _summary(held)
    await uow.session.delete(held)
    account.version += 1
    await uow.session.flush()
    await uow.record(
        "role_revoked",
        entity_type="account",
        entity_id=account.id,
        changes={"before": before, **origin.as_dict()},
        reason=reason,
    )


async def revoke_sessions(uow: UnitOfWork, account: Account, reason: str) -> None:
    await uow.session.execute(
        update(RefreshToken)
        .where(RefreshToken.account_id == account.id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=utcnow(), revoked_reason=reason)
    )


async def change_password(
    uow: UnitOfWork,
    account: Account,
    *,
    current_password: str,
    new_password: str,
    passwords: Passwords,
    policy: PasswordPolicy,
    origin: Origin,
    lockout: Lockout,
) -> DomainError | None:
    """Change the password; a refusal for a wrong current password is returned, not raised.

    A wrong current password counts toward the account's lockout exactly like a wrong password
    at sign-in (whoever holds a stolen access token cannot guess the password through here),
    so the caller commits the count before it answers with the refusal.
    """
    now = utcnow()
    if account.locked_until is not None and account.locked_until > now:
        return Forbidden(
            "too many wrong passwords; the account is locked for now",
            "密码错误次数过多，账号已暂时锁定",
            code="account_locked",
            extra={"locked_until": account.locked_until.isoformat()},
        )
    if not passwords.verify(account.password_hash, current_password):
        account.failed_sign_ins += 1
        account.locked_until = lockout.locked_until(account.failed_sign_ins, now)
        await uow.record(
            "password_change_failed",
            entity_type="account",
            entity_id=account.id,
            changes={
                "failures": account.failed_sign_ins,
                "locked_until": account.locked_until.isoformat() if account.locked_until else None,
                **origin.as_dict(),
            },
        )
        return ValidationFailed(
            [
                FieldIssue(
                    "current_password", "wrong_password", "the current password is wrong", "当前密码不正确"
                )
            ]
        )
    if current_password == new_password:
        raise ValidationFailed(
            [
                FieldIssue(
                    "new_password",
                    "password_unchanged",
                    "choose a different password",
                    "新密码不能与旧密码相同",
                )
            ]
        )
    _check_password(policy, new_password, account, "new_password")
    account.password_hash = passwords.hash(new_password)
    account.password_changed_at = utcnow()
    account.must_change_password = False
    account.failed_sign_ins = 0
    account.version += 1
    await revoke_sessions(uow, account, "password_changed")
    await uow.record(
        "password_changed", entity_type="account", entity_id=account.id, changes=origin.as_dict()
    )
    return None


async def reset_password(uow: UnitOfWork, account: Account, *, passwords: Passwords, origin: Origin) -> str:
    """Administrator reset (重置密码): a one-time password to be changed at next sign-in."""
    temporary = one_time_password()
    account.password_hash = passwords.hash(temporary)
    account.password_changed_at = utcnow()
    account.must_change_password = True
    account.failed_sign_ins = 0
    account.locked_until = None
    account.version += 1
    await revoke_sessions(uow, account, "password_reset")
    await uow.record("password_reset", entity_type="account", entity_id=account.id, changes=origin.as_dict())
    return temporary


async def set_enabled(
    uow: UnitOfWork, account: Account, *, enabled: bool, reason: str | None, origin: Origin
) -> Account:
    target = "active" if enabled else "disabled"
    allowed_from = {"disabled"} if enabled else {"active", "pending"}
    if account.status not in allowed_from:
        raise ACCOUNT_MACHINE.refuse(
            account.status,
            f"account is {account.status}",
            f"账号当前状态为「{ACCOUNT_STATUS_LABELS[account.status]}」，不能{'启用' if enabled else '停用'}",
        )
    if not enabled and str(account.id) == uow.actor.id:
        raise Conflict("you cannot disable your own account", "不能停用自己的账号")
    account.status = target
    account.version += 1
    if not enabled:
        await revoke_sessions(uow, account, "account_disabled")
    else:
        account.failed_sign_ins = 0
        account.locked_until = None
    await uow.record(
        "account_enabled" if enabled else "account_disabled",
        entity_type="account",
        entity_id=account.id,
        changes=origin.as_dict(),
        reason=reason,
    )
    return account


async def ensure_bootstrap_admin(
    uow: UnitOfWork, *, username: str, password: str, passwords: Passwords, policy: PasswordPolicy
) -> Account | None:
    """The first administrator, from settings, only while no administrator exists."""
    if await repository.any_active_administrator(uow.session):
        return None
    existing = await repository.by_identifier(uow.session, username)
    if existing is not None:
        raise Conflict(f"account {username} exists but is no administrator", "引导管理员账号已被占用")
    account, _ = await create_account(
        uow,
        username=username,
        email=None,
        phone=None,
        display_name="系统管理员",
        unit_id=None,
        person_id=None,
        grants=[GrantSpec(Role.administrator)],
        passwords=passwords,
        origin=Origin(ip="bootstrap"),
        password=password,
        policy=policy,
    )
    return account
