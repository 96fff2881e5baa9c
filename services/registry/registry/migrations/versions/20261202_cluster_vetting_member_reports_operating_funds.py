"""clusters: expert committee vetting of guideline suggestions, member reports, operating funds

Seed 002: the expert committee vets guideline suggestions (专家委员会把关) before they reach
projects; member units report talent, results, needs and resources to the secretariat each
period; service organisations get operating funds, fixed in the first year, then by grade.

Revision ID: 6c2e8a4f1d35
Revises: 942d51e4f539
Create Date: 2026-12-02 20:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "6c2e8a4f1d35"
down_revision: str | None = "942d51e4f539"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # suggestions made before vetting existed were already sent to projects
    op.add_column(
        "guideline_suggestions",
        sa.Column("vetting_status", sa.String(length=30), server_default="passed", nullable=False),
    )
    op.add_column("guideline_suggestions", sa.Column("vetting_comments", sa.Text(), nullable=True))
    op.add_column("guideline_suggestions", sa.Column("vetted_by_name", sa.String(length=100), nullable=True))
    op.add_column("guideline_suggestions", sa.Column("vetted_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column(
        "guideline_suggestions", sa.Column("vetting_recorded_by", sa.String(length=100), nullable=True)
    )
    op.add_column("guideline_suggestions", sa.Column("emitted_version", sa.Integer(), nullable=True))
    op.execute("UPDATE guideline_suggestions SET emitted_version = version")
    op.create_table(
        "cluster_member_reports",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("cluster_id", sa.Uuid(), nullable=False),
        sa.Column("period", sa.String(length=10), nullable=False),
        sa.Column("member_name", sa.String(length=200), nullable=False),
        sa.Column("unit_id", sa.Uuid(), nullable=True),
        sa.Column("talent", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("results", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("needs", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("resources", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("submitted_by", sa.String(length=100), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["cluster_id"], ["clusters.id"], name=op.f("fk_cluster_member_reports_cluster_id_clusters")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cluster_member_reports")),
        sa.UniqueConstraint(
            "cluster_id",
            "period",
            "member_name",
            name=op.f("uq_cluster_member_reports_cluster_id_period_member_name"),
        ),
    )
    op.create_index(
        op.f("ix_cluster_member_reports_cluster_id"), "cluster_member_reports", ["cluster_id"], unique=False
    )
    op.create_table(
        "cluster_operating_funds",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("cluster_id", sa.Uuid(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("organisation_name", sa.String(length=200), nullable=False),
        sa.Column("organisation_unit_id", sa.Uuid(), nullable=True),
        sa.Column("basis", sa.String(length=20), nullable=False),
        sa.Column("assessment_year", sa.Integer(), nullable=True),
        sa.Column("grade", sa.String(length=20), nullable=True),
        sa.Column("cluster_amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("policy_values", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("recorded_by", sa.String(length=100), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["cluster_id"], ["clusters.id"], name=op.f("fk_cluster_operating_funds_cluster_id_clusters")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cluster_operating_funds")),
        sa.UniqueConstraint(
            "cluster_id",
            "year",
            "organisation_name",
            name=op.f("uq_cluster_operating_funds_cluster_id_year_organisation_name"),
        ),
    )
    op.create_index(
        op.f("ix_cluster_operating_funds_cluster_id"), "cluster_operating_funds", ["cluster_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_cluster_operating_funds_cluster_id"), table_name="cluster_operating_funds")
    op.drop_table("cluster_operating_funds")
    op.drop_index(op.f("ix_cluster_member_reports_cluster_id"), table_name="cluster_member_reports")
    op.drop_table("cluster_member_reports")
    for column in (
        "emitted_version",
        "vetting_recorded_by",
        "vetted_at",
        "vetted_by_name",
        "vetting_comments",
        "vetting_status",
    ):
        op.drop_column("guideline_suggestions", column)
