"""The results register (科技成果库): project results from acceptance and from units, verified by staff.

Revision ID: 7a1c3e5b9d20
Revises: 4e9b2c7a1d53
Create Date: 2026-12-03 06:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "7a1c3e5b9d20"
down_revision: str | None = "4e9b2c7a1d53"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "project_results",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("unit_id", sa.Uuid(), nullable=False),
        sa.Column("people", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("maturity", sa.String(length=30), nullable=False),
        sa.Column("transfer_status", sa.String(length=30), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("evaluation_id", sa.Uuid(), nullable=True),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("reported_by", sa.String(length=100), nullable=False),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.String(length=100), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_project_results_project_id_projects")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_project_results")),
        sa.UniqueConstraint("code", name="uq_project_results_code"),
    )
    for column in ("project_id", "kind", "unit_id", "transfer_status", "year", "state"):
        op.create_index(op.f(f"ix_project_results_{column}"), "project_results", [column], unique=False)


def downgrade() -> None:
    op.drop_table("project_results")
