"""Supervision: the recommending department on each project (谁推荐、谁负责), spot checks (抽查).

Revision ID: 6e4b8d1f9a27
Revises: 3d7a9e2c5f18
Create Date: 2026-12-02 13:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "6e4b8d1f9a27"
down_revision: str | None = "3d7a9e2c5f18"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("projects", sa.Column("competent_department_id", sa.Uuid(), nullable=True))
    op.create_index(
        op.f("ix_projects_competent_department_id"), "projects", ["competent_department_id"], unique=False
    )
    op.execute(
        """
        UPDATE projects p SET competent_department_id = a.competent_department_id
          FROM applications a WHERE a.id = p.application_id
        """
    )
    op.create_table(
        "spot_checks",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("programme_code", sa.String(length=40), nullable=True),
        sa.Column("seed", sa.Integer(), nullable=False),
        sa.Column("sample_size", sa.Integer(), nullable=False),
        sa.Column("population", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("sample", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("rule", sa.String(length=300), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_spot_checks")),
        sa.UniqueConstraint("code", name="uq_spot_checks_code"),
    )
    op.create_index(op.f("ix_spot_checks_year"), "spot_checks", ["year"], unique=False)
    op.create_table(
        "spot_check_items",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("spot_check_id", sa.Uuid(), nullable=False),
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=True),
        sa.Column("findings", sa.Text(), nullable=True),
        sa.Column("rectification_due", sa.Date(), nullable=True),
        sa.Column("recorded_by", sa.String(length=100), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["spot_check_id"], ["spot_checks.id"], name=op.f("fk_spot_check_items_spot_check_id_spot_checks")
        ),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_spot_check_items_project_id_projects")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_spot_check_items")),
        sa.UniqueConstraint("spot_check_id", "project_id", name="uq_spot_check_items_project"),
    )
    op.create_index(
        op.f("ix_spot_check_items_spot_check_id"), "spot_check_items", ["spot_check_id"], unique=False
    )
    op.create_index(op.f("ix_spot_check_items_project_id"), "spot_check_items", ["project_id"], unique=False)


def downgrade() -> None:
    op.drop_table("spot_check_items")
    op.drop_table("spot_checks")
    op.drop_index(op.f("ix_projects_competent_department_id"), table_name="projects")
    op.drop_column("projects", "competent_department_id")
