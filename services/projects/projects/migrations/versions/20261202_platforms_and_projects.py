"""Platforms and projects together: projects' copy of registry's platforms, and the platform an
application and its project name (基地、人才、项目、资金一体化).

Revision ID: f2c6e0a4d8b5
Revises: e8a1c5f3b7d2
Create Date: 2026-12-02 14:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "f2c6e0a4d8b5"
down_revision: str | None = "e8a1c5f3b7d2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "platforms",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("state", sa.String(length=30), nullable=False),
        sa.Column("host_unit_id", sa.Uuid(), nullable=False),
        sa.Column("co_builder_unit_ids", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("field", sa.String(length=40), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("synced_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_platforms")),
    )
    op.create_index(op.f("ix_platforms_host_unit_id"), "platforms", ["host_unit_id"], unique=False)
    op.add_column("applications", sa.Column("platform_id", sa.Uuid(), nullable=True))
    op.add_column("projects", sa.Column("platform_id", sa.Uuid(), nullable=True))
    op.create_index(op.f("ix_projects_platform_id"), "projects", ["platform_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_projects_platform_id"), table_name="projects")
    op.drop_column("projects", "platform_id")
    op.drop_column("applications", "platform_id")
    op.drop_table("platforms")
