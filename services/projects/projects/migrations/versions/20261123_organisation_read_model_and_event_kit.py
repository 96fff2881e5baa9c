"""organisation read model and event kit

Revision ID: 89d1ba21f027
Revises:
Create Date: 2026-11-23 07:24:47.905222
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from shared.kit_migrations import downgrade_kit_v1, upgrade_kit_v1

revision: str = "89d1ba21f027"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    upgrade_kit_v1()
    op.create_table(
        "organisations",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("credit_code", sa.String(length=18), nullable=False),
        sa.Column("type", sa.String(length=30), nullable=False),
        sa.Column("region", sa.String(length=6), nullable=False),
        sa.Column("address", sa.String(length=300), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("synced_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organisations")),
    )
    op.create_index(op.f("ix_organisations_credit_code"), "organisations", ["credit_code"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_organisations_credit_code"), table_name="organisations")
    op.drop_table("organisations")
    downgrade_kit_v1()
