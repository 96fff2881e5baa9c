"""Reorganisation campaigns (优化重组工作): batches by field, enrolled labs.

Revision ID: 7c9e1b3d5f42
Revises: 5b7d9f1a3c20
Create Date: 2026-12-02 13:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "7c9e1b3d5f42"
down_revision: str | None = "5b7d9f1a3c20"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "campaigns",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=False),
        sa.Column("document_number", sa.String(length=100), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_by", sa.String(length=100), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaigns")),
        sa.UniqueConstraint("name", name=op.f("uq_campaigns_name")),
    )
    op.create_table(
        "campaign_batches",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("campaign_id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("fields", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"], name=op.f("fk_campaign_batches_campaign_id_campaigns")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_batches")),
        sa.UniqueConstraint("campaign_id", "number", name=op.f("uq_campaign_batches_campaign_id_number")),
    )
    op.create_index(
        op.f("ix_campaign_batches_campaign_id"), "campaign_batches", ["campaign_id"], unique=False
    )
    op.create_table(
        "campaign_labs",
        sa.Column("campaign_id", sa.Uuid(), nullable=False),
        sa.Column("platform_id", sa.Uuid(), nullable=False),
        sa.Column("batch_number", sa.Integer(), nullable=False),
        sa.Column("field", sa.String(length=30), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"], name=op.f("fk_campaign_labs_campaign_id_campaigns")
        ),
        sa.ForeignKeyConstraint(
            ["platform_id"], ["platforms.id"], name=op.f("fk_campaign_labs_platform_id_platforms")
        ),
        sa.PrimaryKeyConstraint("campaign_id", "platform_id", name=op.f("pk_campaign_labs")),
    )


def downgrade() -> None:
    op.drop_table("campaign_labs")
    op.drop_index(op.f("ix_campaign_batches_campaign_id"), table_name="campaign_batches")
    op.drop_table("campaign_batches")
    op.drop_table("campaigns")
