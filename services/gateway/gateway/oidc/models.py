"""Single sign-on with the regional platform (OpenID Connect relying party)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import DateTime, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from gateway.db import Base
from shared.clock import utcnow


class OidcLoginState(Base):
    """One authorisation request in flight: its state, nonce and PKCE verifier (used once)."""

    __tablename__ = "oidc_login_states"

    state_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    nonce: Mapped[str] = mapped_column(String(100))
    code_verifier: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class OidcIdentity(Base):
    """An account's identity at a provider (``iss`` + ``sub``), linked at the first sign-in."""

    __tablename__ = "oidc_identities"

    issuer: Mapped[str] = mapped_column(String(300), primary_key=True)
    subject: Mapped[str] = mapped_column(String(255), primary_key=True)
    account_id: Mapped[UUID] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    linked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    unit_ticket_hash: Mapped[str | None] = mapped_column(
        String(64), unique=True, comment="lets a pending account without a unit name its unit once"
    )
    unit_ticket_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
