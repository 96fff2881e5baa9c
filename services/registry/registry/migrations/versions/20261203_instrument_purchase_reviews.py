"""Instrument purchase reviews (新购大型科研仪器查重评议, seed 001).

Revision ID: 3f6a8c1e9b27
Revises: 6c2e8a4f1d35
Create Date: 2026-12-03 06:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "3f6a8c1e9b27"
down_revision: str | None = "6c2e8a4f1d35"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "instrument_purchase_reviews",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("instrument_id", sa.Uuid(), nullable=False),
        sa.Column("region", sa.String(length=6), nullable=False),
        sa.Column("category", sa.String(length=30), nullable=False),
        sa.Column("model", sa.String(length=100), nullable=False),
        sa.Column("evidence", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("decision_reason", sa.Text(), nullable=True),
        sa.Column("decided_by", sa.String(length=100), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "state IN ('pending', 'approved', 'not_approved')",
            name=op.f("ck_instrument_purchase_reviews_state"),
        ),
        sa.ForeignKeyConstraint(
            ["instrument_id"],
            ["instruments.id"],
            name=op.f("fk_instrument_purchase_reviews_instrument_id_instruments"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_instrument_purchase_reviews")),
        sa.UniqueConstraint("instrument_id", name=op.f("uq_instrument_purchase_reviews_instrument_id")),
    )
    op.create_index(
        "ix_instrument_purchase_reviews_state", "instrument_purchase_reviews", ["state"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_instrument_purchase_reviews_state", table_name="instrument_purchase_reviews")
    op.drop_table("instrument_purchase_reviews")
