"""Accounts (账号), their scoped role grants, and refresh-token families."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from gateway.db import Base
from shared.auth import Role
from shared.clock import utcnow
from shared.ids import uuid7

ACCOUNT_STATUSES = ["pending", "active", "disabled", "rejected"]
GRANT_STATUSES = ["pending", "active"]


def _in(column: str, values: list[str]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Account(Base):
    """A person (or operator) who signs in; identifiers are stored normalised (lower case)."""

    __tablename__ = "accounts"
    __table_args__ = (CheckConstraint(_in("status", ACCOUNT_STATUSES), name="status"),)

    id: Mapped[UUID] = mapped_column(primary_key=True, default=uuid7)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    email: Mapped[str | None] = mapped_column(String(254), unique=True)
    phone: Mapped[str | None] = mapped_column(String(20), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str | None] = mapped_column(String(200), comment="Argon2id; null: SSO only")
    status: Mapped[str] = mapped_column(String(20), default="pending")
    unit_id: Mapped[str | None] = mapped_column(String(64), comment="the account's own unit (registry id)")
    person_id: Mapped[str | None] = mapped_column(String(64), comment="the registry person")
    must_change_password: Mapped[bool] = mapped_column(default=False)
    failed_sign_ins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_sign_in_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    password_changed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


class RoleGrant(Base):
    """One role an account holds, with the ids it is scoped to (empty: unscoped) and, for
    department staff, its duties; for a competent department, the 盟市 it acts for."""

    __tablename__ = "role_grants"
    __table_args__ = (
        UniqueConstraint("account_id", "role"),
        CheckConstraint(_in("role", [r.value for r in Role]), name="role"),
        CheckConstraint(_in("status", GRANT_STATUSES), name="status"),
    )

    id: Mapped[UUID] = mapped_column(primary_key=True, default=uuid7)
    account_id: Mapped[UUID] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(40))
    scope_ids: Mapped[list[Any]] = mapped_column(JSONB, default=list)
    duties: Mapped[list[Any]] = mapped_column(
        JSONB, default=list, server_default="[]", comment="department staff: the duties (职责) held"
    )
    regions: Mapped[list[Any]] = mapped_column(
        JSONB,
        default=list,
        server_default="[]",
        comment="competent department (盟市科技局): the 盟市 division codes it acts for",
    )
    status: Mapped[str] = mapped_column(String(20), default="active")
    granted_by: Mapped[str | None] = mapped_column(String(100))
    granted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class RefreshToken(Base):
    """An opaque refresh token, stored as its SHA-256; one row per rotation (RFC 9700)."""

    __tablename__ = "refresh_tokens"
    __table_args__ = (Index("ix_refresh_tokens_family_id", "family_id"),)

    id: Mapped[UUID] = mapped_column(primary_key=True, default=uuid7)
    family_id: Mapped[UUID] = mapped_column()
    account_id: Mapped[UUID] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    family_expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_reason: Mapped[str | None] = mapped_column(String(40))
    sign_in_method: Mapped[str] = mapped_column(
        String(20), default="password", server_default="password", comment="password or sso"
    )
    successor_sealed: Mapped[str | None] = mapped_column(
        Text, comment="the answer of this token's rotation, sealed with a key only the token gives"
    )


class RateCounter(Base):
    """Fixed-window request counters shared by every gateway replica (sign-in limits)."""

    __tablename__ = "rate_counters"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)
