"""organisations and event kit

Revision ID: 469c142dc02e
Revises:
Create Date: 2026-11-23 07:24:45.820019
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from shared.kit_migrations import downgrade_kit_v1, upgrade_kit_v1

revision: str = "469c142dc02e"
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
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("updated_by", sa.String(length=100), nullable=False),
        sa.CheckConstraint(
            "region IN ('150100', '150200', '150300', '150400', '150500', '150600', '150700', '150800', '150900', '152200', '152500', '152900')",
            name=op.f("ck_organisations_region"),
        ),
        sa.CheckConstraint(
            "type IN ('university', 'research_institute', 'enterprise', 'hospital', 'other')",
            name=op.f("ck_organisations_type"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organisations")),
        sa.UniqueConstraint("credit_code", name=op.f("uq_organisations_credit_code")),
    )
    op.create_index("ix_organisations_name", "organisations", ["name"], unique=False)
    op.create_index("ix_organisations_region_type", "organisations", ["region", "type"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_organisations_region_type", table_name="organisations")
    op.drop_index("ix_organisations_name", table_name="organisations")
    op.drop_table("organisations")
    downgrade_kit_v1()
