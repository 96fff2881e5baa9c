"""Periodic lists (成果清单 / 应用场景清单): frozen snapshots per kind and period.

Revision ID: 9c3e5a7b1f42
Revises: 8b2d4f6a0e31
Create Date: 2026-12-03 06:55:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "9c3e5a7b1f42"
down_revision: str | None = "8b2d4f6a0e31"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "periodic_lists",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("period", sa.String(length=10), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("entries", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("entry_count", sa.Integer(), nullable=False),
        sa.Column("frozen_by", sa.String(length=100), nullable=False),
        sa.Column("frozen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_periodic_lists")),
        sa.UniqueConstraint("code", name="uq_periodic_lists_code"),
        sa.UniqueConstraint("kind", "period", name="uq_periodic_lists_kind_period"),
    )
    op.create_index(op.f("ix_periodic_lists_kind"), "periodic_lists", ["kind"], unique=False)
    op.create_index(op.f("ix_periodic_lists_year"), "periodic_lists", ["year"], unique=False)


def downgrade() -> None:
    op.drop_table("periodic_lists")
