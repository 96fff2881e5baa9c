"""Request and response shapes of accounts and sign-in. Requests forbid unknown fields, so
nobody sets their own status, roles or unit through a body (OWASP API3)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from gateway.accounts.models import Account, RoleGrant
from gateway.accounts.service import ACCOUNT_STATUS_LABELS
from gateway.claims import DUTIES, REGIONS, Duty
from shared.auth import ROLE_LABELS_ZH, Role
from shared.timestamps import Timestamp

Username = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.\-]{3,64}$")]
Email = Annotated[
    str,
    StringConstraints(
        pattern=r"^[A-Za-z0-9._%+\-]{1,64}@[A-Za-z0-9\-]+(\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}$", max_length=254
    ),
]
Phone = Annotated[str, StringConstraints(pattern=r"^1[3-9]\d{9}$")]
Password = Annotated[str, StringConstraints(min_length=1, max_length=128)]
Id = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$")]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SignInRequest(Strict):
    username: Annotated[str, StringConstraints(min_length=1, max_length=254)] = Field(
        description="user name, e-mail or mobile number"
    )
    password: Password


class RefreshRequest(Strict):
    refresh_token: Annotated[str, StringConstraints(min_length=1, max_length=200)]


class TokenResponse(BaseModel):
    access_token: str
    token_type: Literal["Bearer"] = "Bearer"  # noqa: S105 - the OAuth token type, not a secret
    expires_in: int
    refresh_token: str
    must_change_password: bool = False


class RegisterRequest(Strict):
    username: Username
    email: Email | None = None
    phone: Phone | None = None
    display_name: Annotated[str, StringConstraints(min_length=1, max_length=100, strip_whitespace=True)]
    password: Password
    unit_id: Id = Field(description="the registry id of the unit the account belongs to")
    role: Literal["applicant", "host_unit_admin"] = "applicant"


class ChangePasswordRequest(Strict):
    current_password: Password
    new_password: Password


Reason = Annotated[str, StringConstraints(min_length=1, max_length=500, strip_whitespace=True)]


class GrantIn(Strict):
    role: Role
    scope_ids: list[Id] = Field(
        default_factory=list,
        max_length=500,
        description="the ids the role acts for: units, platforms, clusters or plan categories",
    )
    duties: list[Duty] = Field(
        default_factory=list, max_length=len(DUTIES), description="department staff only: the duties held"
    )
    regions: list[Annotated[str, StringConstraints(max_length=6)]] = Field(
        default_factory=list,
        max_length=len(REGIONS),
        description="competent department (盟市科技局) only: its 盟市 division codes, e.g. 150200",
    )


class GrantRoleRequest(GrantIn):
    reason: Reason = Field(description="why (recorded in the audit log)")


class RevokeRoleRequest(Strict):
    reason: Reason = Field(description="why (recorded in the audit log)")


class SetRolesRequest(Strict):
    roles: list[GrantIn] = Field(max_length=len(Role))
    reason: Reason = Field(description="why (recorded in the audit log)")


class CreateAccountRequest(Strict):
    username: Username
    email: Email | None = None
    phone: Phone | None = None
    display_name: Annotated[str, StringConstraints(min_length=1, max_length=100, strip_whitespace=True)]
    unit_id: Id | None = None
    person_id: Id | None = None
    roles: list[GrantIn] = Field(default_factory=list, max_length=len(Role))


class DecisionRequest(Strict):
    person_id: Id | None = Field(default=None, description="the registry person, when known")
    reason: Annotated[str, StringConstraints(max_length=500)] | None = None


class ReasonRequest(Strict):
    reason: Annotated[str, StringConstraints(max_length=500)] | None = None


class DutyOut(BaseModel):
    code: str
    zh: str


class RegionOut(BaseModel):
    code: str
    zh: str


class GrantOut(BaseModel):
    role: str
    role_zh: str
    scope_ids: list[str]
    duties: list[DutyOut]
    regions: list[RegionOut] = Field(description="competent department: the 盟市 it acts for")
    status: str

    @classmethod
    def of(cls, grant: RoleGrant) -> GrantOut:
        return cls(
            role=grant.role,
            role_zh=ROLE_LABELS_ZH.get(grant.role, grant.role),
            scope_ids=[str(i) for i in grant.scope_ids],
            duties=[DutyOut(code=d, zh=DUTIES.get(d, d)) for d in grant.duties or []],
            regions=[RegionOut(code=r, zh=REGIONS.get(r, r)) for r in grant.regions or []],
            status=grant.status,
        )


class AccountOut(BaseModel):
    id: UUID
    username: str
    email: str | None
    phone: str | None
    display_name: str
    status: str
    status_zh: str
    unit_id: str | None
    person_id: str | None
    roles: list[GrantOut]
    must_change_password: bool
    locked: bool
    last_sign_in_at: Timestamp | None
    created_at: Timestamp
    version: int

    @classmethod
    def of(cls, account: Account, grants: list[RoleGrant], *, now: datetime) -> AccountOut:
        return cls(
            id=account.id,
            username=account.username,
            email=account.email,
            phone=account.phone,
            display_name=account.display_name,
            status=account.status,
            status_zh=ACCOUNT_STATUS_LABELS[account.status],
            unit_id=account.unit_id,
            person_id=account.person_id,
            roles=[GrantOut.of(g) for g in grants],
            must_change_password=account.must_change_password,
            locked=account.locked_until is not None and account.locked_until > now,
            last_sign_in_at=account.last_sign_in_at,
            created_at=account.created_at,
            version=account.version,
        )


class CreatedAccountOut(BaseModel):
    account: AccountOut
    one_time_password: str | None = Field(description="shown once; to be changed at first sign-in")


class OneTimePasswordOut(BaseModel):
    one_time_password: str


class AuditEntryOut(BaseModel):
    occurred_at: Timestamp
    actor_id: str | None
    action: str
    changes: dict[str, Any]
    reason: str | None
    request_id: str | None
