"""experts rounds assignments

Revision ID: 0488ae826b23
Revises: a7491ece63f9
Create Date: 2026-11-23 09:00:28.814596
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0488ae826b23"
down_revision: str | None = "a7491ece63f9"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The database refuses any live assignment that breaks a core 回避 rule, whatever code path
# wrote it: one set-based check per statement (transition table), after share-locking the
# experts concerned so that a concurrent declaration (which locks the expert row for update)
# is either seen here or sees the assignment and voids it.
COI_FUNCTION = """
CREATE FUNCTION evaluation_assignment_coi() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE bad record; live bigint; known bigint;
BEGIN
  PERFORM 1 FROM experts WHERE id IN (
    SELECT expert_id FROM new_rows WHERE status IN ('assigned', 'accepted')) ORDER BY id FOR SHARE;
  -- references checked per statement (a row-level foreign key costs a lookup per row)
  SELECT count(*) INTO live FROM new_rows;
  SELECT count(*) INTO known FROM new_rows n
    JOIN experts e ON e.id = n.expert_id JOIN round_items i ON i.id = n.item_id AND i.round_id = n.round_id;
  IF known <> live THEN
    RAISE EXCEPTION 'assignment names an unknown expert, item or round' USING ERRCODE = '23503';
  END IF;
  SELECT x.expert_id, x.item_id INTO bad FROM (
    SELECT n.expert_id, n.item_id
    FROM new_rows n
    JOIN experts e ON e.id = n.expert_id
    JOIN round_items i ON i.id = n.item_id
    JOIN review_rounds r ON r.id = n.round_id
    WHERE n.status IN ('assigned', 'accepted') AND (
      e.status <> 'active'
      OR e.person_id = i.applicant_person_id OR e.person_id = ANY (i.team_person_ids)
      OR e.unit_id = i.applicant_unit_id OR e.unit_id = ANY (i.team_unit_ids)
      OR e.person_id = ANY (i.avoid_person_ids[1:COALESCE((r.rules -> 'applicant_avoid' ->> 'max_names')::int, 3)]))
    UNION ALL
    SELECT n.expert_id, n.item_id
    FROM new_rows n
    JOIN round_items i ON i.id = n.item_id
    JOIN conflict_declarations d ON d.expert_id = n.expert_id
    WHERE n.status IN ('assigned', 'accepted') AND (
      d.person_id = i.applicant_person_id OR d.person_id = ANY (i.team_person_ids)
      OR d.unit_id = i.applicant_unit_id OR d.unit_id = ANY (i.team_unit_ids))
    UNION ALL
    SELECT n.expert_id, n.item_id
    FROM new_rows n
    JOIN experts e ON e.id = n.expert_id
    JOIN integrity_records g ON g.person_id = e.person_id
    WHERE n.status IN ('assigned', 'accepted') AND NOT g.lifted
      AND g.scope && ARRAY['reviewing', 'all']::varchar[]
      AND (g.barred_until IS NULL OR g.barred_until >= current_date)
      AND (g.barred_from IS NULL OR g.barred_from <= current_date)
  ) x LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'conflict of interest: expert % may not review item %', bad.expert_id, bad.item_id
      USING ERRCODE = 'P0001';
  END IF;
  RETURN NULL;
END $$;
"""


def upgrade() -> None:
    op.create_table(
        "collaborations",
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("person_ids", postgresql.ARRAY(sa.Uuid()), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("project_id", name=op.f("pk_collaborations")),
    )
    op.create_table(
        "experts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("unit_id", sa.Uuid(), nullable=True),
        sa.Column("region", sa.String(length=6), nullable=False),
        sa.Column("title", sa.String(length=50), nullable=False),
        sa.Column("disciplines", postgresql.ARRAY(sa.String(length=20)), nullable=False),
        sa.Column("keywords", postgresql.ARRAY(sa.String(length=50)), nullable=False),
        sa.Column("directions", sa.Text(), nullable=False),
        sa.Column("availability", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("max_load", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("origin", sa.String(length=20), nullable=False),
        sa.Column("credit_score", sa.Integer(), nullable=False),
        sa.Column("confirmed_until", sa.Date(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_experts")),
        sa.UniqueConstraint("person_id", name=op.f("uq_experts_person_id")),
    )
    op.create_index(op.f("ix_experts_status"), "experts", ["status"], unique=False)
    op.create_index(op.f("ix_experts_unit_id"), "experts", ["unit_id"], unique=False)
    op.create_table(
        "integrity_records",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=True),
        sa.Column("organisation_id", sa.Uuid(), nullable=True),
        sa.Column("scope", postgresql.ARRAY(sa.String(length=20)), nullable=False),
        sa.Column("barred_from", sa.Date(), nullable=True),
        sa.Column("barred_until", sa.Date(), nullable=True),
        sa.Column("lifted", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_integrity_records")),
    )
    op.create_index(op.f("ix_integrity_records_person_id"), "integrity_records", ["person_id"], unique=False)
    op.create_table(
        "people",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("id_number_digest", sa.String(length=64), nullable=False),
        sa.Column("unit_id", sa.Uuid(), nullable=True),
        sa.Column("title", sa.String(length=50), nullable=True),
        sa.Column("discipline", sa.String(length=20), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("synced_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_people")),
    )
    op.create_index(op.f("ix_people_id_number_digest"), "people", ["id_number_digest"], unique=False)
    op.create_table(
        "review_rounds",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("call_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("k", sa.Integer(), nullable=False),
        sa.Column("max_load", sa.Integer(), nullable=False),
        sa.Column("reserve", sa.Integer(), nullable=False),
        sa.Column("rules", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("requested_by", sa.String(length=100), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_rounds")),
        sa.UniqueConstraint("call_id", name=op.f("uq_review_rounds_call_id")),
    )
    op.create_table(
        "assignment_runs",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("round_id", sa.Uuid(), nullable=False),
        sa.Column("mode", sa.String(length=20), nullable=False),
        sa.Column("seed", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("objective", sa.Float(), nullable=True),
        sa.Column("shortfalls", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("started_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["round_id"], ["review_rounds.id"], name=op.f("fk_assignment_runs_round_id_review_rounds")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assignment_runs")),
    )
    op.create_index(op.f("ix_assignment_runs_round_id"), "assignment_runs", ["round_id"], unique=False)
    op.create_table(
        "conflict_declarations",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("expert_id", sa.Uuid(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=True),
        sa.Column("unit_id", sa.Uuid(), nullable=True),
        sa.Column("declared_by", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["expert_id"], ["experts.id"], name=op.f("fk_conflict_declarations_expert_id_experts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conflict_declarations")),
    )
    op.create_index(
        op.f("ix_conflict_declarations_expert_id"), "conflict_declarations", ["expert_id"], unique=False
    )
    op.create_table(
        "round_items",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("round_id", sa.Uuid(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("keywords", postgresql.ARRAY(sa.String(length=50)), nullable=False),
        sa.Column("discipline_codes", postgresql.ARRAY(sa.String(length=20)), nullable=False),
        sa.Column("applicant_person_id", sa.Uuid(), nullable=False),
        sa.Column("applicant_unit_id", sa.Uuid(), nullable=False),
        sa.Column("team_person_ids", postgresql.ARRAY(sa.Uuid()), nullable=False),
        sa.Column("team_unit_ids", postgresql.ARRAY(sa.Uuid()), nullable=False),
        sa.Column("competent_department_id", sa.Uuid(), nullable=True),
        sa.Column("avoid_person_ids", postgresql.ARRAY(sa.Uuid()), nullable=False),
        sa.Column("review_due", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["round_id"], ["review_rounds.id"], name=op.f("fk_round_items_round_id_review_rounds")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_round_items")),
    )
    op.create_index(op.f("ix_round_items_round_id"), "round_items", ["round_id"], unique=False)
    op.create_table(
        "assignments",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("round_id", sa.Uuid(), nullable=False),
        sa.Column("item_id", sa.Uuid(), nullable=False),
        sa.Column("expert_id", sa.Uuid(), nullable=False),
        sa.Column("run_id", sa.Uuid(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("reserve_rank", sa.Integer(), nullable=True),
        sa.Column("affinity", sa.Float(), nullable=False),
        sa.Column("discipline_score", sa.Float(), nullable=False),
        sa.Column("keyword_score", sa.Float(), nullable=False),
        sa.Column("candidate_rank", sa.Integer(), nullable=True),
        sa.Column("rules_checked", postgresql.ARRAY(sa.String(length=30)), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("replaces_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assignments")),
    )
    op.create_index(op.f("ix_assignments_expert_id"), "assignments", ["expert_id"], unique=False)
    op.create_index(op.f("ix_assignments_item_id"), "assignments", ["item_id"], unique=False)
    op.create_index(op.f("ix_assignments_round_id"), "assignments", ["round_id"], unique=False)
    op.create_index(
        "uq_assignments_live_pair",
        "assignments",
        ["item_id", "expert_id"],
        unique=True,
        postgresql_where=sa.text("status IN ('assigned', 'accepted')"),
    )
    op.execute(COI_FUNCTION)
    for event in ("INSERT", "UPDATE"):
        op.execute(
            f"CREATE TRIGGER assignments_coi_{event.lower()} AFTER {event} ON assignments "
            "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION evaluation_assignment_coi()"
        )


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS assignments_coi_insert ON assignments")
    op.execute("DROP TRIGGER IF EXISTS assignments_coi_update ON assignments")
    op.execute("DROP FUNCTION IF EXISTS evaluation_assignment_coi()")
    op.drop_index(
        "uq_assignments_live_pair",
        table_name="assignments",
        postgresql_where=sa.text("status IN ('assigned', 'accepted')"),
    )
    op.drop_index(op.f("ix_assignments_round_id"), table_name="assignments")
    op.drop_index(op.f("ix_assignments_item_id"), table_name="assignments")
    op.drop_index(op.f("ix_assignments_expert_id"), table_name="assignments")
    op.drop_table("assignments")
    op.drop_index(op.f("ix_round_items_round_id"), table_name="round_items")
    op.drop_table("round_items")
    op.drop_index(op.f("ix_conflict_declarations_expert_id"), table_name="conflict_declarations")
    op.drop_table("conflict_declarations")
    op.drop_index(op.f("ix_assignment_runs_round_id"), table_name="assignment_runs")
    op.drop_table("assignment_runs")
    op.drop_table("review_rounds")
    op.drop_index(op.f("ix_people_id_number_digest"), table_name="people")
    op.drop_table("people")
    op.drop_index(op.f("ix_integrity_records_person_id"), table_name="integrity_records")
    op.drop_table("integrity_records")
    op.drop_index(op.f("ix_experts_unit_id"), table_name="experts")
    op.drop_index(op.f("ix_experts_status"), table_name="experts")
    op.drop_table("experts")
    op.drop_table("collaborations")
