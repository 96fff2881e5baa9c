"""role duties, refresh grace, sso unit tickets

Revision ID: 7c2d9e41a5b3
Revises: 8b5d2f4a0e73
Create Date: 2026-12-02 13:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "7c2d9e41a5b3"
down_revision: str | None = "8b5d2f4a0e73"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "role_grants",
        sa.Column(
            "duties",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default="[]",
            nullable=False,
            comment="department staff: the duties (职责) held",
        ),
    )
    op.add_column(
        "refresh_tokens",
        sa.Column(
            "sign_in_method",
            sa.String(length=20),
            server_default="password",
            nullable=False,
            comment="password or sso",
        ),
    )
    op.add_column(
        "refresh_tokens",
        sa.Column(
            "successor_sealed",
            sa.Text(),
            nullable=True,
            comment="the answer of this token's rotation, sealed with a key only the token gives",
        ),
    )

    op.add_column(
        "oidc_identities",
        sa.Column(
            "unit_ticket_hash",
            sa.String(length=64),
            nullable=True,
            comment="lets a pending account without a unit name its unit once",
        ),
    )
    op.add_column(
        "oidc_identities", sa.Column("unit_ticket_expires_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.create_unique_constraint(
        op.f("uq_oidc_identities_unit_ticket_hash"), "oidc_identities", ["unit_ticket_hash"]
    )


def downgrade() -> None:
    op.drop_constraint(op.f("uq_oidc_identities_unit_ticket_hash"), "oidc_identities", type_="unique")
    op.drop_column("oidc_identities", "unit_ticket_expires_at")
    op.drop_column("oidc_identities", "unit_ticket_hash")
    op.drop_column("refresh_tokens", "successor_sealed")
    op.drop_column("refresh_tokens", "sign_in_method")
    op.drop_column("role_grants", "duties")
