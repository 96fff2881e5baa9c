"""clusters' annual work plans, and assessments set against them

The secretariat sets each year's tasks and indicators with targets (年度工作计划、目标任务和考核
指标, seed 002); an annual assessment keeps the achieved values and the comparison with the
plan as it stood when the assessment was made.

Revision ID: 4b8e1c3f7a26
Revises: 9d4f2b6e8a13
Create Date: 2026-12-02 14:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "4b8e1c3f7a26"
down_revision: str | None = "9d4f2b6e8a13"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "cluster_work_plans",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("cluster_id", sa.Uuid(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("tasks", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("indicators", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_by", sa.String(length=100), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["cluster_id"], ["clusters.id"], name=op.f("fk_cluster_work_plans_cluster_id_clusters")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cluster_work_plans")),
        sa.UniqueConstraint("cluster_id", "year", name=op.f("uq_cluster_work_plans_cluster_id_year")),
    )
    op.create_index(
        op.f("ix_cluster_work_plans_cluster_id"), "cluster_work_plans", ["cluster_id"], unique=False
    )
    op.add_column(
        "cluster_assessments",
        sa.Column(
            "achieved",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default="{}",
            nullable=False,
        ),
    )
    op.add_column(
        "cluster_assessments",
        sa.Column("against_plan", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    )


def downgrade() -> None:
    op.drop_column("cluster_assessments", "against_plan")
    op.drop_column("cluster_assessments", "achieved")
    op.drop_index(op.f("ix_cluster_work_plans_cluster_id"), table_name="cluster_work_plans")
    op.drop_table("cluster_work_plans")
