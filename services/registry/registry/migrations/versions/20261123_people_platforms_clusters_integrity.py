"""people platforms integrity policy clusters sharing

Revision ID: 737e6a8905d1
Revises: 469c142dc02e
Create Date: 2026-11-23 08:13:32.558890
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "737e6a8905d1"
down_revision: str | None = "469c142dc02e"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "clusters",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("field", sa.String(length=30), nullable=False),
        sa.Column("direction", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=30), nullable=False),
        sa.Column("lead_platform_ids", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("director", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("vice_directors", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("expert_committee", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("member_units", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("secretariat", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("service_organisations", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("industry_cluster", sa.String(length=200), nullable=True),
        sa.Column("plan_document", sa.String(length=200), nullable=True),
        sa.Column("approval_document", sa.String(length=200), nullable=True),
        sa.Column("rectification_until", sa.Date(), nullable=True),
        sa.Column("required_measures", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clusters")),
        sa.UniqueConstraint("name", name=op.f("uq_clusters_name")),
    )
    op.create_table(
        "integrity_records",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("subject_type", sa.String(length=20), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=True),
        sa.Column("organisation_id", sa.Uuid(), nullable=True),
        sa.Column("misconduct_type", sa.String(length=40), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("decision_document", sa.String(length=200), nullable=False),
        sa.Column("decided_on", sa.Date(), nullable=True),
        sa.Column("barred_from", sa.Date(), nullable=False),
        sa.Column("barred_until", sa.Date(), nullable=True),
        sa.Column("scope", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("source", sa.String(length=100), nullable=False),
        sa.Column("lifted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lift_reason", sa.Text(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.CheckConstraint(
            "subject_type IN ('person', 'organisation')", name=op.f("ck_integrity_records_subject_type")
        ),
        sa.CheckConstraint(
            "barred_until IS NULL OR barred_until >= barred_from", name=op.f("ck_integrity_records_period")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_integrity_records")),
    )
    op.create_index(
        "ix_integrity_records_organisation_id", "integrity_records", ["organisation_id"], unique=False
    )
    op.create_index("ix_integrity_records_person_id", "integrity_records", ["person_id"], unique=False)
    op.create_table(
        "policy_values",
        sa.Column("key", sa.String(length=60), nullable=False),
        sa.Column("value", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_policy_values")),
    )
    op.create_table(
        "cluster_assessments",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("cluster_id", sa.Uuid(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("result", sa.String(length=10), nullable=False),
        sa.Column("score", sa.Double(), nullable=True),
        sa.Column("required_measures", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("source", sa.String(length=100), nullable=False),
        sa.Column("finalized_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["cluster_id"], ["clusters.id"], name=op.f("fk_cluster_assessments_cluster_id_clusters")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cluster_assessments")),
        sa.UniqueConstraint("cluster_id", "year", name=op.f("uq_cluster_assessments_cluster_id_year")),
    )
    op.create_index(
        op.f("ix_cluster_assessments_cluster_id"), "cluster_assessments", ["cluster_id"], unique=False
    )
    op.create_table(
        "guideline_suggestions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("cluster_id", sa.Uuid(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("directions", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("field", sa.String(length=30), nullable=False),
        sa.Column("rationale", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["cluster_id"], ["clusters.id"], name=op.f("fk_guideline_suggestions_cluster_id_clusters")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_guideline_suggestions")),
    )
    op.create_index(
        op.f("ix_guideline_suggestions_cluster_id"), "guideline_suggestions", ["cluster_id"], unique=False
    )
    op.create_table(
        "people",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("gender", sa.String(length=6), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=False),
        sa.Column("id_number", sa.String(length=18), nullable=False),
        sa.Column("id_number_digest", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=40), nullable=True),
        sa.Column("discipline", sa.String(length=100), nullable=True),
        sa.Column("unit_id", sa.Uuid(), nullable=True),
        sa.Column("full_time", sa.Boolean(), nullable=False),
        sa.Column("phone", sa.String(length=30), nullable=True),
        sa.Column("email", sa.String(length=200), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("updated_by", sa.String(length=100), nullable=False),
        sa.CheckConstraint("gender IN ('male', 'female')", name=op.f("ck_people_gender")),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["organisations.id"], name=op.f("fk_people_unit_id_organisations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_people")),
        sa.UniqueConstraint("id_number_digest", name=op.f("uq_people_id_number_digest")),
    )
    op.create_index("ix_people_name", "people", ["name"], unique=False)
    op.create_index("ix_people_unit_id_name", "people", ["unit_id", "name"], unique=False)
    op.create_table(
        "platforms",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("code", sa.String(length=30), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("state", sa.String(length=30), nullable=False),
        sa.Column("host_unit_id", sa.Uuid(), nullable=False),
        sa.Column("co_builder_unit_ids", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("lab_type", sa.String(length=30), nullable=False),
        sa.Column("field", sa.String(length=30), nullable=False),
        sa.Column("sub_field", sa.String(length=40), nullable=False),
        sa.Column("industry_chain", sa.String(length=40), nullable=True),
        sa.Column("research_directions", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("region", sa.String(length=6), nullable=False),
        sa.Column("approved_on", sa.Date(), nullable=True),
        sa.Column("approval_document", sa.String(length=100), nullable=True),
        sa.Column("director_person_id", sa.Uuid(), nullable=True),
        sa.Column("director_term_start", sa.Date(), nullable=True),
        sa.Column("director_term_end", sa.Date(), nullable=True),
        sa.Column("director_full_time", sa.Boolean(), nullable=False),
        sa.Column("director_terms_served", sa.Integer(), nullable=False),
        sa.Column("deputy_directors", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("academic_committee", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("staff_count", sa.Integer(), nullable=False),
        sa.Column("annual_funding_fen", sa.BigInteger(), nullable=False),
        sa.Column("kind_attributes", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("merged_into_id", sa.Uuid(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "field IN ('math_physics', 'chemistry', 'astronomy_space', 'earth_science', 'environment', 'biology', 'medicine', 'agriculture', 'information', 'materials', 'manufacturing', 'engineering', 'energy')",
            name=op.f("ck_platforms_field"),
        ),
        sa.CheckConstraint(
            "kind IN ('autonomous_region_key_lab', 'national_key_lab', 'national_key_lab_incubator', 'technology_innovation_centre', 'clinical_research_centre', 'new_rd_institution', 'academician_workstation', 'pilot_base')",
            name=op.f("ck_platforms_kind"),
        ),
        sa.CheckConstraint(
            "lab_type IN ('university', 'research_institute', 'enterprise', 'university_enterprise')",
            name=op.f("ck_platforms_lab_type"),
        ),
        sa.ForeignKeyConstraint(
            ["director_person_id"], ["people.id"], name=op.f("fk_platforms_director_person_id_people")
        ),
        sa.ForeignKeyConstraint(
            ["host_unit_id"], ["organisations.id"], name=op.f("fk_platforms_host_unit_id_organisations")
        ),
        sa.ForeignKeyConstraint(
            ["merged_into_id"], ["platforms.id"], name=op.f("fk_platforms_merged_into_id_platforms")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_platforms")),
        sa.UniqueConstraint("code", name=op.f("uq_platforms_code")),
    )
    op.create_index("ix_platforms_field_sub_field", "platforms", ["field", "sub_field"], unique=False)
    op.create_index("ix_platforms_host_unit_id", "platforms", ["host_unit_id"], unique=False)
    op.create_index("ix_platforms_kind_state_region", "platforms", ["kind", "state", "region"], unique=False)
    op.create_index("ix_platforms_name", "platforms", ["name"], unique=False)
    op.create_table(
        "instruments",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("platform_id", sa.Uuid(), nullable=True),
        sa.Column("owner_unit_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("category", sa.String(length=30), nullable=False),
        sa.Column("model", sa.String(length=100), nullable=True),
        sa.Column("value_fen", sa.BigInteger(), nullable=False),
        sa.Column("location", sa.String(length=200), nullable=True),
        sa.Column("open_for_sharing", sa.Boolean(), nullable=False),
        sa.Column("booking_contact", sa.String(length=100), nullable=True),
        sa.Column("annual_service_hours", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_unit_id"], ["organisations.id"], name=op.f("fk_instruments_owner_unit_id_organisations")
        ),
        sa.ForeignKeyConstraint(
            ["platform_id"], ["platforms.id"], name=op.f("fk_instruments_platform_id_platforms")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_instruments")),
    )
    op.create_index("ix_instruments_owner_unit_id", "instruments", ["owner_unit_id"], unique=False)
    op.create_index(op.f("ix_instruments_platform_id"), "instruments", ["platform_id"], unique=False)
    op.create_table(
        "open_topics",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("platform_id", sa.Uuid(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("principal_name", sa.String(length=100), nullable=True),
        sa.Column("principal_unit", sa.String(length=200), nullable=True),
        sa.Column("funding_fen", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["platform_id"], ["platforms.id"], name=op.f("fk_open_topics_platform_id_platforms")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_open_topics")),
    )
    op.create_index(op.f("ix_open_topics_platform_id"), "open_topics", ["platform_id"], unique=False)
    op.create_table(
        "platform_assessments",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("platform_id", sa.Uuid(), nullable=False),
        sa.Column("period", sa.String(length=20), nullable=False),
        sa.Column("grade", sa.String(length=20), nullable=False),
        sa.Column("score", sa.Double(), nullable=True),
        sa.Column("finalized_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("remarks", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["platform_id"], ["platforms.id"], name=op.f("fk_platform_assessments_platform_id_platforms")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_platform_assessments")),
    )
    op.create_index(
        op.f("ix_platform_assessments_platform_id"), "platform_assessments", ["platform_id"], unique=False
    )
    op.create_table(
        "platform_history",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("platform_id", sa.Uuid(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.String(length=100), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("from_state", sa.String(length=30), nullable=True),
        sa.Column("to_state", sa.String(length=30), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("document_number", sa.String(length=100), nullable=True),
        sa.Column("attachments", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("details", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("related_platform_id", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(
            ["platform_id"], ["platforms.id"], name=op.f("fk_platform_history_platform_id_platforms")
        ),
        sa.ForeignKeyConstraint(
            ["related_platform_id"],
            ["platforms.id"],
            name=op.f("fk_platform_history_related_platform_id_platforms"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_platform_history")),
    )
    op.create_index(
        op.f("ix_platform_history_platform_id"), "platform_history", ["platform_id"], unique=False
    )
    # A platform's history is append-only: corrections are new entries, never edits.
    op.execute(
        """
        CREATE FUNCTION platform_history_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'platform_history is append-only';
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER platform_history_append_only BEFORE UPDATE OR DELETE ON platform_history "
        "FOR EACH ROW EXECUTE FUNCTION platform_history_append_only()"
    )
    op.create_table(
        "platform_members",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("platform_id", sa.Uuid(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("role", sa.String(length=30), nullable=False),
        sa.Column("joined_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_platform_members_person_id_people")
        ),
        sa.ForeignKeyConstraint(
            ["platform_id"], ["platforms.id"], name=op.f("fk_platform_members_platform_id_platforms")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_platform_members")),
        sa.UniqueConstraint(
            "platform_id", "person_id", name=op.f("uq_platform_members_platform_id_person_id")
        ),
    )
    op.create_index(op.f("ix_platform_members_person_id"), "platform_members", ["person_id"], unique=False)
    op.create_index(
        op.f("ix_platform_members_platform_id"), "platform_members", ["platform_id"], unique=False
    )
    op.create_table(
        "platform_outputs",
        sa.Column("platform_id", sa.Uuid(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("papers", sa.Integer(), nullable=False),
        sa.Column("patents", sa.Integer(), nullable=False),
        sa.Column("standards", sa.Integer(), nullable=False),
        sa.Column("awards", sa.Integer(), nullable=False),
        sa.Column("transferred_results", sa.Integer(), nullable=False),
        sa.Column("national_projects", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["platform_id"], ["platforms.id"], name=op.f("fk_platform_outputs_platform_id_platforms")
        ),
        sa.PrimaryKeyConstraint("platform_id", "year", name=op.f("pk_platform_outputs")),
    )


def downgrade() -> None:
    op.drop_table("platform_outputs")
    op.drop_index(op.f("ix_platform_members_platform_id"), table_name="platform_members")
    op.drop_index(op.f("ix_platform_members_person_id"), table_name="platform_members")
    op.drop_table("platform_members")
    op.drop_index(op.f("ix_platform_history_platform_id"), table_name="platform_history")
    op.drop_table("platform_history")
    op.execute("DROP FUNCTION platform_history_append_only()")
    op.drop_index(op.f("ix_platform_assessments_platform_id"), table_name="platform_assessments")
    op.drop_table("platform_assessments")
    op.drop_index(op.f("ix_open_topics_platform_id"), table_name="open_topics")
    op.drop_table("open_topics")
    op.drop_index(op.f("ix_instruments_platform_id"), table_name="instruments")
    op.drop_index("ix_instruments_owner_unit_id", table_name="instruments")
    op.drop_table("instruments")
    op.drop_index("ix_platforms_name", table_name="platforms")
    op.drop_index("ix_platforms_kind_state_region", table_name="platforms")
    op.drop_index("ix_platforms_host_unit_id", table_name="platforms")
    op.drop_index("ix_platforms_field_sub_field", table_name="platforms")
    op.drop_table("platforms")
    op.drop_index("ix_people_unit_id_name", table_name="people")
    op.drop_index("ix_people_name", table_name="people")
    op.drop_table("people")
    op.drop_index(op.f("ix_guideline_suggestions_cluster_id"), table_name="guideline_suggestions")
    op.drop_table("guideline_suggestions")
    op.drop_index(op.f("ix_cluster_assessments_cluster_id"), table_name="cluster_assessments")
    op.drop_table("cluster_assessments")
    op.drop_table("policy_values")
    op.drop_index("ix_integrity_records_person_id", table_name="integrity_records")
    op.drop_index("ix_integrity_records_organisation_id", table_name="integrity_records")
    op.drop_table("integrity_records")
    op.drop_table("clusters")
