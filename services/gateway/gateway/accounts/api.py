"""Account administration: approvals, roles, password resets, disabling, sign-in history."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Query, status
from sqlalchemy import func, select

from gateway.accounts import repository, service
from gateway.accounts.models import Account
from gateway.accounts.schemas import (
    AccountOut,
    AuditEntryOut,
    CreateAccountRequest,
    CreatedAccountOut,
    DecisionRequest,
    DutyOut,
    GrantRoleRequest,
    OneTimePasswordOut,
    ReasonRequest,
    RevokeRoleRequest,
    SetRolesRequest,
)
from gateway.claims import DUTIES
from gateway.deps import IdentityDep, OriginDep
from shared.auth import Principal, Role
from shared.clock import utcnow
from shared.errors import NotFound
from shared.http.auth import PrincipalDep, require_roles
from shared.http.deps import PageDep, RuntimeDep, UnitOfWorkDep
from shared.http.schemas import Page

router = APIRouter(prefix="/accounts", tags=["accounts"])

AdminDep = Annotated[Principal, Depends(require_roles(Role.administrator))]
ReviewerDep = Annotated[
    Principal, Depends(require_roles(Role.administrator, Role.department_staff, Role.host_unit_admin))
]
Sort = Literal["username", "-username", "created_at", "-created_at"]
Status = Literal["pending", "active", "disabled", "rejected"]


def _units_visible(principal: Principal) -> list[str] | None:
    """``None``: every account; otherwise only accounts of these units (unit admins)."""
    if principal.has_role(Role.administrator, Role.department_staff):
        return None
    return sorted(principal.scope("units"))


def _can_see(principal: Principal, account: Account) -> bool:
    units = _units_visible(principal)
    return units is None or (account.unit_id is not None and account.unit_id in units)


async def _load(account_id: UUID, uow: UnitOfWorkDep, principal: ReviewerDep) -> Account:
    account = await repository.get(uow.session, account_id, for_update=True)
    # Accounts a reviewer may not see answer as missing: their existence is not disclosed.
    if account is None or not _can_see(principal, account):
        raise NotFound(f"account {account_id} not found", "未找到该账号")
    return account


AccountDep = Annotated[Account, Depends(_load)]


async def _out(uow: UnitOfWorkDep, account: Account) -> AccountOut:
    return AccountOut.of(account, await repository.grants(uow.session, account.id), now=utcnow())


@router.get("", response_model=Page[AccountOut], summary="Accounts (unit admins see their units' only)")
async def list_accounts(
    uow: UnitOfWorkDep,
    principal: ReviewerDep,
    page: PageDep,
    q: Annotated[str | None, Query(max_length=100)] = None,
    status: Status | None = None,
    role: Role | None = None,
    pending_role: Role | None = Query(default=None, description="accounts waiting for this role"),
    sort: Sort = "username",
) -> Page[AccountOut]:
    wanted = pending_role or role
    items, total = await repository.list_page(
        uow.session,
        q=q,
        status=status,
        role=wanted.value if wanted else None,
        grant_status="pending" if pending_role else None,
        unit_ids=_units_visible(principal),
        sort=sort,
        offset=page.offset,
        limit=page.size,
    )
    grants = await repository.grants_for(uow.session, [a.id for a in items])
    now = utcnow()
    return Page(
        items=[AccountOut.of(a, grants[a.id], now=now) for a in items],
        total=total,
        page=page.page,
        size=page.size,
    )


@router.post("", status_code=status.HTTP_201_CREATED, response_model=CreatedAccountOut)
async def create_account(
    body: CreateAccountRequest, uow: UnitOfWorkDep, _: AdminDep, identity: IdentityDep, origin: OriginDep
) -> CreatedAccountOut:
    """An administrator opens an account with roles; the one-time password is shown once."""
    account, temporary = await service.create_account(
        uow,
        username=body.username,
        email=body.email,
        phone=body.phone,
        display_name=body.display_name,
        unit_id=body.unit_id,
        person_id=body.person_id,
        grants=[
            service.GrantSpec(
                g.role.value, tuple(g.scope_ids), tuple(d.value for d in g.duties), tuple(g.regions)
            )
            for g in body.roles
        ],
        passwords=identity.passwords,
        origin=origin,
    )
    out = await _out(uow, account)
    await uow.commit()
    return CreatedAccountOut(account=out, one_time_password=temporary)


@router.get("/duties", response_model=Page[DutyOut], summary="Duties department staff can hold (职责)")
async def duties(_: ReviewerDep) -> Page[DutyOut]:
    return Page.whole([DutyOut(code=code, zh=zh) for code, zh in DUTIES.items()])


@router.get("/{account_id}", response_model=AccountOut)
async def get_account(account: AccountDep, uow: UnitOfWorkDep) -> AccountOut:
    return await _out(uow, account)


@router.post("/{account_id}/approve", response_model=AccountOut, summary="Approve a registration (审核通过)")
async def approve(
    account: AccountDep, body: DecisionRequest, uow: UnitOfWorkDep, principal: PrincipalDep, origin: OriginDep
) -> AccountOut:
    await service.decide_registration(
        uow, principal, account, approve=True, person_id=body.person_id, reason=body.reason, origin=origin
    )
    out = await _out(uow, account)
    await uow.commit()
    return out


@router.post("/{account_id}/reject", response_model=AccountOut, summary="Reject a registration (审核不通过)")
async def reject(
    account: AccountDep, body: DecisionRequest, uow: UnitOfWorkDep, principal: PrincipalDep, origin: OriginDep
) -> AccountOut:
    await service.decide_registration(
        uow, principal, account, approve=False, person_id=None, reason=body.reason, origin=origin
    )
    out = await _out(uow, account)
    await uow.commit()
    return out


@router.put("/{account_id}/roles", response_model=AccountOut, summary="Replace an account's roles (角色变更)")
async def set_roles(
    account: AccountDep, body: SetRolesRequest, uow: UnitOfWorkDep, _: AdminDep, origin: OriginDep
) -> AccountOut:
    await service.set_roles(
        uow,
        account,
        [
            service.GrantSpec(
                g.role.value, tuple(g.scope_ids), tuple(d.value for d in g.duties), tuple(g.regions)
            )
            for g in body.roles
        ],
        reason=body.reason,
        origin=origin,
    )
    out = await _out(uow, account)
    await uow.commit()
    return out


@router.post(
    "/{account_id}/grants",
    response_model=AccountOut,
    summary="Grant a role, or change its scope and duties (授权)",
)
async def grant_role(
    account: AccountDep, body: GrantRoleRequest, uow: UnitOfWorkDep, _: AdminDep, origin: OriginDep
) -> AccountOut:
    await service.grant_role(
        uow,
        account,
        service.GrantSpec(
            body.role.value,
            tuple(body.scope_ids),
            tuple(d.value for d in body.duties),
            tuple(body.regions),
        ),
        reason=body.reason,
        origin=origin,
    )
    out = await _out(uow, account)
    await uow.commit()
    return out


@router.post(
    "/{account_id}/grants/{role}/revoke", response_model=AccountOut, summary="Revoke a role (撤销授权)"
)
async def revoke_role(
    account: AccountDep,
    role: Role,
    body: RevokeRoleRequest,
    uow: UnitOfWorkDep,
    _: AdminDep,
    origin: OriginDep,
) -> AccountOut:
    await service.revoke_role(uow, account, role.value, reason=body.reason, origin=origin)
    out = await _out(uow, account)
    await uow.commit()
    return out


@router.post("/{account_id}/password-reset", response_model=OneTimePasswordOut, summary="Reset a password")
async def reset_password(
    account: AccountDep, uow: UnitOfWorkDep, _: AdminDep, identity: IdentityDep, origin: OriginDep
) -> OneTimePasswordOut:
    temporary = await service.reset_password(uow, account, passwords=identity.passwords, origin=origin)
    await uow.commit()
    return OneTimePasswordOut(one_time_password=temporary)


@router.post("/{account_id}/disable", response_model=AccountOut, summary="Disable an account (停用)")
async def disable(
    account: AccountDep, body: ReasonRequest, uow: UnitOfWorkDep, _: AdminDep, origin: OriginDep
) -> AccountOut:
    await service.set_enabled(uow, account, enabled=False, reason=body.reason, origin=origin)
    out = await _out(uow, account)
    await uow.commit()
    return out


@router.post("/{account_id}/enable", response_model=AccountOut, summary="Enable an account again (启用)")
async def enable(
    account: AccountDep, body: ReasonRequest, uow: UnitOfWorkDep, _: AdminDep, origin: OriginDep
) -> AccountOut:
    await service.set_enabled(uow, account, enabled=True, reason=body.reason, origin=origin)
    out = await _out(uow, account)
    await uow.commit()
    return out


@router.get(
    "/{account_id}/audit", response_model=Page[AuditEntryOut], summary="Sign-ins and changes, newest first"
)
async def account_audit(
    account: AccountDep, uow: UnitOfWorkDep, _: AdminDep, runtime: RuntimeDep, page: PageDep
) -> Page[AuditEntryOut]:
    a = runtime.tables.audit_log
    where = (a.c.entity_type == "account", a.c.entity_id == str(account.id))
    total = (await uow.session.execute(select(func.count()).select_from(a).where(*where))).scalar_one()
    rows = (
        await uow.session.execute(
            select(a.c.occurred_at, a.c.actor_id, a.c.action, a.c.changes, a.c.reason, a.c.request_id)
            .where(*where)
            .order_by(a.c.occurred_at.desc(), a.c.id.desc())
            .offset(page.offset)
            .limit(page.size)
        )
    ).mappings()
    return Page(items=[AuditEntryOut(**r) for r in rows], total=total, page=page.page, size=page.size)
