"""Platforms: former codes after a change of kind, director appointments, support candidates
(优秀), revocation cases (整改中再次不合格), and the changes of the seed-004 targets.

Consecutive director terms stop being typed in (``director_terms_served`` goes): every current
director gets an appointment, and the platform its tenure start (``director_since``), as many
five-year terms (the policy default) back as the record said, so the derived count starts out
equal to what was registered.

Revision ID: 5b7d9f1a3c20
Revises: 5e2a9c1d7b40
Create Date: 2026-12-02 13:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "5b7d9f1a3c20"
down_revision: str | None = "5e2a9c1d7b40"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "platform_code_aliases",
        sa.Column("code", sa.String(length=30), nullable=False),
        sa.Column("platform_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["platform_id"], ["platforms.id"], name=op.f("fk_platform_code_aliases_platform_id_platforms")
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_platform_code_aliases")),
    )
    op.create_index(
        op.f("ix_platform_code_aliases_platform_id"), "platform_code_aliases", ["platform_id"], unique=False
    )
    op.create_table(
        "director_appointments",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("platform_id", sa.Uuid(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("started_on", sa.Date(), nullable=False),
        sa.Column("ended_on", sa.Date(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_director_appointments_person_id_people")
        ),
        sa.ForeignKeyConstraint(
            ["platform_id"], ["platforms.id"], name=op.f("fk_director_appointments_platform_id_platforms")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_director_appointments")),
    )
    op.create_index(
        "ix_director_appointments_platform_id_open",
        "director_appointments",
        ["platform_id", "ended_on"],
        unique=False,
    )
    op.add_column("platforms", sa.Column("director_since", sa.Date(), nullable=True))
    op.execute(
        """
        UPDATE platforms
        SET director_since = (director_term_start - make_interval(years => 5 * (director_terms_served - 1)))::date
        WHERE director_person_id IS NOT NULL AND director_term_start IS NOT NULL
        """
    )
    op.execute(
        """
        INSERT INTO director_appointments (id, platform_id, person_id, started_on, recorded_at, recorded_by)
        SELECT gen_random_uuid(), id, director_person_id, director_since, now(), 'migration'
        FROM platforms
        WHERE director_since IS NOT NULL
        """
    )
    op.drop_column("platforms", "director_terms_served")
    op.create_table(
        "support_candidates",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("platform_id", sa.Uuid(), nullable=False),
        sa.Column("assessment_id", sa.Uuid(), nullable=False),
        sa.Column("listed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["assessment_id"],
            ["platform_assessments.id"],
            name=op.f("fk_support_candidates_assessment_id_platform_assessments"),
        ),
        sa.ForeignKeyConstraint(
            ["platform_id"], ["platforms.id"], name=op.f("fk_support_candidates_platform_id_platforms")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_support_candidates")),
        sa.UniqueConstraint("assessment_id", name=op.f("uq_support_candidates_assessment_id")),
    )
    op.create_index(
        op.f("ix_support_candidates_platform_id"), "support_candidates", ["platform_id"], unique=False
    )
    op.create_table(
        "revocation_cases",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("platform_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("assessment_ids", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("opened_reason", sa.Text(), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.String(length=100), nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=True),
        sa.Column("decision_document", sa.String(length=100), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "status IN ('open', 'revoked', 'dismissed')", name=op.f("ck_revocation_cases_status")
        ),
        sa.ForeignKeyConstraint(
            ["platform_id"], ["platforms.id"], name=op.f("fk_revocation_cases_platform_id_platforms")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_revocation_cases")),
    )
    op.create_index(
        "uq_revocation_cases_platform_id_open",
        "revocation_cases",
        ["platform_id"],
        unique=True,
        postgresql_where="status = 'open'",
    )

    op.create_table(
        "target_changes",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("key", sa.String(length=60), nullable=False),
        sa.Column("previous", sa.Integer(), nullable=True),
        sa.Column("value", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed_by", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_target_changes")),
    )
    op.create_index("ix_target_changes_key_changed_at", "target_changes", ["key", "changed_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_target_changes_key_changed_at", table_name="target_changes")
    op.drop_table("target_changes")
    op.add_column(
        "platforms",
        sa.Column("director_terms_served", sa.Integer(), nullable=False, server_default="1"),
    )
    op.execute(
        """
        UPDATE platforms
        SET director_terms_served = 1 + (extract(year FROM age(director_term_start, director_since))::int / 5)
        WHERE director_since IS NOT NULL AND director_term_start IS NOT NULL
        """
    )
    op.alter_column("platforms", "director_terms_served", server_default=None)
    op.drop_column("platforms", "director_since")
    op.drop_index("uq_revocation_cases_platform_id_open", table_name="revocation_cases")
    op.drop_table("revocation_cases")
    op.drop_index(op.f("ix_support_candidates_platform_id"), table_name="support_candidates")
    op.drop_table("support_candidates")
    op.drop_index("ix_director_appointments_platform_id_open", table_name="director_appointments")
    op.drop_table("director_appointments")
    op.drop_index(op.f("ix_platform_code_aliases_platform_id"), table_name="platform_code_aliases")
    op.drop_table("platform_code_aliases")
