"""assignment jobs, complete avoidance, expert self-service

Revision ID: c4d2f6b8e013
Revises: b3c1e5a7d902
Create Date: 2026-11-23 10:40:41.470559
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "c4d2f6b8e013"
down_revision: str | None = "b3c1e5a7d902"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Every 回避 rule the service checks, checked again by the database on every statement that writes
# a live assignment, whatever code path wrote it: set-based over the statement's rows (hash joins,
# no per-row subplans), after share-locking the experts and the rounds concerned. A declaration,
# an integrity record, a new collaboration or a department change locks the expert row for update;
# an applicant's avoidance request locks the round row: either side sees the other.
COI_FUNCTION = """
CREATE OR REPLACE FUNCTION evaluation_assignment_coi() RETURNS trigger LANGUAGE plpgsql
SET work_mem = '256MB' AS $$
DECLARE bad record; total bigint; live bigint; known bigint;
BEGIN
  PERFORM 1 FROM review_rounds WHERE id IN (
    SELECT round_id FROM new_rows WHERE status IN ('assigned', 'accepted')) ORDER BY id FOR SHARE;
  PERFORM 1 FROM experts WHERE id IN (
    SELECT expert_id FROM new_rows WHERE status IN ('assigned', 'accepted')) ORDER BY id FOR SHARE;
  SELECT count(*), count(*) FILTER (WHERE status IN ('assigned', 'accepted')) INTO total, live FROM new_rows;
  CREATE TEMP TABLE IF NOT EXISTS evaluation_coi_rows (
    expert_id uuid, item_id uuid, live bool, status varchar, person_id uuid, unit_id uuid, unit_code varchar,
    department_id uuid, applicant_person_id uuid, applicant_unit_id uuid, team_person_ids uuid[],
    team_unit_ids uuid[], avoid_person_ids uuid[], avoid_unit_ids uuid[], competent_department_id uuid,
    collaborator_years int, same_department bool) ON COMMIT DELETE ROWS;
  TRUNCATE evaluation_coi_rows;
  -- every row once, with what the rules need of its expert, item and round (hash joins)
  INSERT INTO evaluation_coi_rows
    SELECT n.expert_id, n.item_id, n.status IN ('assigned', 'accepted'), e.status, e.person_id, e.unit_id,
      COALESCE(e.unit_credit_code, o.credit_code), p.department_id,
      i.applicant_person_id, i.applicant_unit_id, i.team_person_ids, i.team_unit_ids,
      i.avoid_person_ids[1:COALESCE((r.rules -> 'applicant_avoid' ->> 'max_names')::int, 3)],
      i.avoid_unit_ids, i.competent_department_id,
      CASE WHEN COALESCE((r.rules -> 'collaborator' ->> 'enabled')::bool, true)
        THEN COALESCE((r.rules -> 'collaborator' ->> 'years')::int, 3) END,
      COALESCE((r.rules -> 'same_department' ->> 'enabled')::bool, false)
    FROM new_rows n
    JOIN experts e ON e.id = n.expert_id
    JOIN round_items i ON i.id = n.item_id AND i.round_id = n.round_id
    JOIN review_rounds r ON r.id = n.round_id
    LEFT JOIN organisations o ON o.id = e.unit_id
    LEFT JOIN people p ON p.id = e.person_id;
  GET DIAGNOSTICS known = ROW_COUNT;
  -- references checked per statement (a row-level foreign key costs a lookup per row)
  IF known <> total THEN
    RAISE EXCEPTION 'assignment names an unknown expert, item or round' USING ERRCODE = '23503';
  END IF;
  IF live < total THEN
    DELETE FROM evaluation_coi_rows WHERE NOT evaluation_coi_rows.live;
  END IF;
  IF live > 1000 THEN
    ANALYZE evaluation_coi_rows;
  END IF;
  SELECT x.expert_id, x.item_id, x.rule INTO bad FROM (
    SELECT c.expert_id, c.item_id, CASE
        WHEN c.status <> 'active' THEN 'not_active'
        WHEN c.person_id = c.applicant_person_id OR c.person_id = ANY (c.team_person_ids) THEN 'on_team'
        WHEN c.unit_id = c.applicant_unit_id OR c.unit_id = ANY (c.team_unit_ids) THEN 'same_unit'
        ELSE 'applicant_avoid' END AS rule
    FROM evaluation_coi_rows c
    WHERE c.status <> 'active'
      OR c.person_id = c.applicant_person_id OR c.person_id = ANY (c.team_person_ids)
      OR c.unit_id = c.applicant_unit_id OR c.unit_id = ANY (c.team_unit_ids)
      OR c.person_id = ANY (c.avoid_person_ids) OR c.unit_id = ANY (c.avoid_unit_ids)
    UNION ALL
    -- the same unit under another id: matched by unified social credit code
    SELECT c.expert_id, c.item_id, 'same_unit'
    FROM evaluation_coi_rows c
    JOIN (
      SELECT DISTINCT t.item_id, o.credit_code
      FROM (SELECT DISTINCT item_id, applicant_unit_id, team_unit_ids, avoid_unit_ids FROM evaluation_coi_rows) t
      CROSS JOIN LATERAL unnest(array_prepend(t.applicant_unit_id, t.team_unit_ids || t.avoid_unit_ids)) u(id)
      JOIN organisations o ON o.id = u.id
    ) ic ON ic.item_id = c.item_id AND ic.credit_code = c.unit_code
    UNION ALL
    SELECT c.expert_id, c.item_id, 'declared'
    FROM evaluation_coi_rows c
    JOIN conflict_declarations d ON d.expert_id = c.expert_id
    WHERE d.person_id = c.applicant_person_id OR d.person_id = ANY (c.team_person_ids)
      OR d.unit_id = c.applicant_unit_id OR d.unit_id = ANY (c.team_unit_ids)
    UNION ALL
    SELECT c.expert_id, c.item_id, 'integrity'
    FROM evaluation_coi_rows c
    JOIN integrity_records g ON g.person_id = c.person_id
    WHERE NOT g.lifted
      AND g.scope && ARRAY['reviewing', 'all']::varchar[]
      AND (g.barred_until IS NULL OR g.barred_until >= current_date)
      AND (g.barred_from IS NULL OR g.barred_from <= current_date)
    UNION ALL
    -- recent collaborators: on one approved project with the applicant or a team member
    SELECT c.expert_id, c.item_id, 'collaborator'
    FROM evaluation_coi_rows c
    JOIN (
      SELECT me.person_id AS expert_person, other.person_id AS other_person, max(k.end_date) AS end_date
      FROM collaborations k
      CROSS JOIN LATERAL unnest(k.person_ids) AS me(person_id)
      CROSS JOIN LATERAL unnest(k.person_ids) AS other(person_id)
      WHERE other.person_id <> me.person_id
        AND me.person_id IN (SELECT person_id FROM evaluation_coi_rows WHERE collaborator_years IS NOT NULL)
      GROUP BY 1, 2
    ) pair ON pair.expert_person = c.person_id
    WHERE c.collaborator_years IS NOT NULL
      AND pair.end_date >= current_date - make_interval(years => c.collaborator_years)
      AND (pair.other_person = c.applicant_person_id OR pair.other_person = ANY (c.team_person_ids))
    UNION ALL
    -- same department, where the round switches the rule on: the competent department, or the
    -- department of the applicant or a team member
    SELECT c.expert_id, c.item_id, 'same_department'
    FROM evaluation_coi_rows c
    WHERE c.same_department AND c.department_id IS NOT NULL AND (
      c.department_id = c.competent_department_id
      OR EXISTS (SELECT 1 FROM people a WHERE a.department_id = c.department_id
        AND (a.id = c.applicant_person_id OR a.id = ANY (c.team_person_ids))))
  ) x LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'conflict of interest (%): expert % may not review item %', bad.rule, bad.expert_id,
      bad.item_id USING ERRCODE = 'P0001';
  END IF;
  RETURN NULL;
END $$;
"""

PREVIOUS_COI_FUNCTION = """
CREATE OR REPLACE FUNCTION evaluation_assignment_coi() RETURNS trigger LANGUAGE plpgsql AS $$
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
        "avoidance_requests",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("item_id", sa.Uuid(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=True),
        sa.Column("unit_id", sa.Uuid(), nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("requested_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"], ["round_items.id"], name=op.f("fk_avoidance_requests_item_id_round_items")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_avoidance_requests")),
    )
    op.create_index(op.f("ix_avoidance_requests_item_id"), "avoidance_requests", ["item_id"], unique=False)
    op.add_column(
        "assignment_runs", sa.Column("commit", sa.Boolean(), server_default=sa.text("false"), nullable=False)
    )
    op.add_column(
        "assignment_runs",
        sa.Column(
            "params",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
    )
    op.add_column("assignment_runs", sa.Column("stage", sa.String(length=30), nullable=True))
    op.add_column(
        "assignment_runs", sa.Column("progress", sa.Integer(), server_default=sa.text("0"), nullable=False)
    )
    op.add_column(
        "assignment_runs",
        sa.Column("cancel_requested", sa.Boolean(), server_default=sa.text("false"), nullable=False),
    )
    op.add_column(
        "assignment_runs", sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False)
    )
    op.add_column("assignment_runs", sa.Column("worker", sa.String(length=100), nullable=True))
    op.add_column("assignment_runs", sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("assignment_runs", sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True))
    op.add_column("assignment_runs", sa.Column("assigned", sa.Integer(), nullable=True))
    op.add_column(
        "assignment_runs", sa.Column("preview", postgresql.JSONB(astext_type=sa.Text()), nullable=True)
    )
    op.add_column("assignment_runs", sa.Column("error", sa.Text(), nullable=True))
    op.add_column("assignment_runs", sa.Column("started_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("assignment_runs", sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index(
        "ix_assignment_runs_pending",
        "assignment_runs",
        ["lease_until"],
        unique=False,
        postgresql_where=sa.text("status IN ('queued', 'running')"),
    )
    op.create_index(
        "ix_collaborations_person_ids", "collaborations", ["person_ids"], unique=False, postgresql_using="gin"
    )
    op.add_column("experts", sa.Column("unit_credit_code", sa.String(length=18), nullable=True))
    op.add_column("experts", sa.Column("reconfirm_requested_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("people", sa.Column("department_id", sa.Uuid(), nullable=True))
    op.add_column("review_rounds", sa.Column("review_starts", sa.Date(), nullable=True))
    op.add_column(
        "round_items",
        sa.Column(
            "avoid_unit_ids",
            postgresql.ARRAY(sa.Uuid()),
            server_default=sa.text("'{}'::uuid[]"),
            nullable=False,
        ),
    )
    op.execute("UPDATE assignment_runs SET commit = (status = 'succeeded'), status = 'done'")
    op.execute(COI_FUNCTION)


def downgrade() -> None:
    op.execute(PREVIOUS_COI_FUNCTION)
    op.execute("UPDATE assignment_runs SET status = CASE WHEN commit THEN 'succeeded' ELSE 'preview' END")
    op.drop_column("round_items", "avoid_unit_ids")
    op.drop_column("review_rounds", "review_starts")
    op.drop_column("people", "department_id")
    op.drop_column("experts", "reconfirm_requested_at")
    op.drop_column("experts", "unit_credit_code")
    op.drop_index("ix_collaborations_person_ids", table_name="collaborations", postgresql_using="gin")
    op.drop_index(
        "ix_assignment_runs_pending",
        table_name="assignment_runs",
        postgresql_where=sa.text("status IN ('queued', 'running')"),
    )
    op.drop_column("assignment_runs", "finished_at")
    op.drop_column("assignment_runs", "started_at")
    op.drop_column("assignment_runs", "error")
    op.drop_column("assignment_runs", "preview")
    op.drop_column("assignment_runs", "assigned")
    op.drop_column("assignment_runs", "lease_until")
    op.drop_column("assignment_runs", "heartbeat_at")
    op.drop_column("assignment_runs", "worker")
    op.drop_column("assignment_runs", "attempts")
    op.drop_column("assignment_runs", "cancel_requested")
    op.drop_column("assignment_runs", "progress")
    op.drop_column("assignment_runs", "stage")
    op.drop_column("assignment_runs", "params")
    op.drop_column("assignment_runs", "commit")
    op.drop_index(op.f("ix_avoidance_requests_item_id"), table_name="avoidance_requests")
    op.drop_table("avoidance_requests")
