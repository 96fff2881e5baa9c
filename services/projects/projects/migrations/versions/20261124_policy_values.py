"""Policy values: the numbers behind the project rules, set by department staff.

Revision ID: a9e4c6f1d2b8
Revises: f2b6d9a4c731
Create Date: 2026-11-23 11:55:32.315151
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "a9e4c6f1d2b8"
down_revision: str | None = "f2b6d9a4c731"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "policy_values",
        sa.Column("key", sa.String(length=60), nullable=False),
        sa.Column("value", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_policy_values")),
    )


def downgrade() -> None:
    op.drop_table("policy_values")
