"""single sign on

Revision ID: 1eb8340caed0
Revises: 53d565b8fad6
Create Date: 2026-11-23 08:20:18.337987
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "1eb8340caed0"
down_revision: str | None = "53d565b8fad6"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "oidc_login_states",
        sa.Column("state_hash", sa.String(length=64), nullable=False),
        sa.Column("nonce", sa.String(length=100), nullable=False),
        sa.Column("code_verifier", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("state_hash", name=op.f("pk_oidc_login_states")),
    )
    op.create_index(
        op.f("ix_oidc_login_states_expires_at"), "oidc_login_states", ["expires_at"], unique=False
    )
    op.create_table(
        "oidc_identities",
        sa.Column("issuer", sa.String(length=300), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("linked_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_oidc_identities_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("issuer", "subject", name=op.f("pk_oidc_identities")),
    )
    op.create_index(op.f("ix_oidc_identities_account_id"), "oidc_identities", ["account_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_oidc_identities_account_id"), table_name="oidc_identities")
    op.drop_table("oidc_identities")
    op.drop_index(op.f("ix_oidc_login_states_expires_at"), table_name="oidc_login_states")
    op.drop_table("oidc_login_states")
