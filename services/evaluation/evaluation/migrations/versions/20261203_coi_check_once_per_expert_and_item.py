"""回避 checked once per expert and once per item of a statement, not once per row

The database's own check on ``assignments`` read every row's expert, item, unit and person by
index (1.5 M lookups for a national run of 500,000 rows) into a wide temporary table before
comparing. It now reads each expert of the statement once (with their declarations, integrity
bars and recent collaborators as arrays) and each item once (the people, units, credit codes and
departments it is to avoid), then compares every live row against the two with hash joins. The
rules, the locks and the errors are the same.

Revision ID: 5f3a9c1e7b24
Revises: a4d6f8b0c2e5
Create Date: 2026-12-03 06:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "5f3a9c1e7b24"
down_revision: str | None = "a4d6f8b0c2e5"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COI_FUNCTION = """
CREATE OR REPLACE FUNCTION evaluation_assignment_coi() RETURNS trigger LANGUAGE plpgsql
SET work_mem = '256MB' AS $$
DECLARE bad record; live_pairs bigint; statement_rows bigint; few_persons uuid[];
BEGIN
  PERFORM 1 FROM review_rounds WHERE id IN (
    SELECT round_id FROM new_rows WHERE status IN ('assigned', 'accepted')) ORDER BY id FOR SHARE;
  PERFORM 1 FROM experts WHERE id IN (
    SELECT expert_id FROM new_rows WHERE status IN ('assigned', 'accepted')) ORDER BY id FOR SHARE;
  CREATE TEMP TABLE IF NOT EXISTS evaluation_coi_experts (
    round_id uuid, expert_id uuid, live bool, known bool, status varchar, person_id uuid, unit_id uuid,
    unit_code varchar, department_id uuid, barred bool, declared_person_ids uuid[], declared_unit_ids uuid[],
    collaborator_ids uuid[]) ON COMMIT DELETE ROWS;
  CREATE TEMP TABLE IF NOT EXISTS evaluation_coi_items (
    round_id uuid, item_id uuid, known bool, person_ids uuid[], avoid_person_ids uuid[], unit_ids uuid[],
    avoid_unit_ids uuid[], unit_codes varchar[], competent_department_id uuid, department_ids uuid[],
    same_department bool) ON COMMIT DELETE ROWS;
  TRUNCATE evaluation_coi_experts, evaluation_coi_items;
  SELECT count(*) INTO statement_rows FROM new_rows;
  IF statement_rows <= 1000 THEN
    -- a few rows (an answer, a replacement): their experts' projects are found by the GIN index
    SELECT COALESCE(array_agg(DISTINCT e.person_id), '{}') INTO few_persons FROM experts e
    WHERE e.id IN (SELECT expert_id FROM new_rows WHERE status IN ('assigned', 'accepted'));
  END IF;
  -- what the rules need of each expert of the statement, once per expert and round (not per row)
  INSERT INTO evaluation_coi_experts
    WITH t AS (
      SELECT round_id, expert_id, bool_or(status IN ('assigned', 'accepted')) AS live
      FROM new_rows GROUP BY 1, 2
    ), x AS (
      SELECT t.round_id, t.expert_id, t.live, e.id IS NOT NULL AND r.id IS NOT NULL AS known, e.status,
        e.person_id, e.unit_id, COALESCE(e.unit_credit_code, o.credit_code) AS unit_code, p.department_id,
        CASE WHEN COALESCE((r.rules -> 'collaborator' ->> 'enabled')::bool, true)
          THEN current_date - make_interval(years => COALESCE((r.rules -> 'collaborator' ->> 'years')::int, 3))
        END AS collaborated_since
      FROM t
      LEFT JOIN experts e ON e.id = t.expert_id
      LEFT JOIN review_rounds r ON r.id = t.round_id
      LEFT JOIN organisations o ON o.id = e.unit_id
      LEFT JOIN people p ON p.id = e.person_id
    ), pair AS (
      -- recent collaborators: on one approved project with the expert
      SELECT me.person_id AS expert_person, other.person_id AS other_person, max(k.end_date) AS end_date
      FROM collaborations k
      CROSS JOIN LATERAL unnest(k.person_ids) AS me(person_id)
      CROSS JOIN LATERAL unnest(k.person_ids) AS other(person_id)
      WHERE (few_persons IS NULL OR k.person_ids && few_persons)
        AND other.person_id <> me.person_id
        AND me.person_id IN (SELECT person_id FROM x WHERE live AND collaborated_since IS NOT NULL)
      GROUP BY 1, 2
    ), collaborator AS (
      SELECT x.round_id, x.expert_id, array_agg(pair.other_person) AS ids
      FROM x JOIN pair ON pair.expert_person = x.person_id AND pair.end_date >= x.collaborated_since
      GROUP BY 1, 2
    ), declared AS (
      SELECT d.expert_id, array_agg(d.person_id) FILTER (WHERE d.person_id IS NOT NULL) AS person_ids,
        array_agg(d.unit_id) FILTER (WHERE d.unit_id IS NOT NULL) AS unit_ids
      FROM conflict_declarations d WHERE d.expert_id IN (SELECT expert_id FROM x WHERE live)
      GROUP BY 1
    ), barred AS (
      SELECT DISTINCT g.person_id FROM integrity_records g
      WHERE NOT g.lifted
        AND g.scope && ARRAY['reviewing', 'all']::varchar[]
        AND (g.barred_until IS NULL OR g.barred_until >= current_date)
        AND (g.barred_from IS NULL OR g.barred_from <= current_date)
        AND g.person_id IN (SELECT person_id FROM x WHERE live)
    )
    SELECT x.round_id, x.expert_id, x.live, x.known, x.status, x.person_id, x.unit_id, x.unit_code,
      x.department_id, b.person_id IS NOT NULL, d.person_ids, d.unit_ids, c.ids
    FROM x
    LEFT JOIN barred b ON b.person_id = x.person_id
    LEFT JOIN declared d ON d.expert_id = x.expert_id
    LEFT JOIN collaborator c ON c.round_id = x.round_id AND c.expert_id = x.expert_id;
  -- and of each item: the people, units (by id and by credit code) and departments it is to avoid
  INSERT INTO evaluation_coi_items
    WITH t AS (SELECT DISTINCT round_id, item_id FROM new_rows), y AS (
      SELECT t.round_id, t.item_id, i.id IS NOT NULL AND r.id IS NOT NULL AS known,
        array_prepend(i.applicant_person_id, i.team_person_ids) AS person_ids,
        i.avoid_person_ids[1:COALESCE((r.rules -> 'applicant_avoid' ->> 'max_names')::int, 3)] AS avoid_person_ids,
        array_prepend(i.applicant_unit_id, i.team_unit_ids) AS unit_ids, i.avoid_unit_ids,
        i.competent_department_id,
        COALESCE((r.rules -> 'same_department' ->> 'enabled')::bool, false) AS same_department
      FROM t
      LEFT JOIN round_items i ON i.id = t.item_id AND i.round_id = t.round_id
      LEFT JOIN review_rounds r ON r.id = t.round_id
    ), code AS (
      -- the same unit under another id: matched by unified social credit code
      SELECT u.round_id, u.item_id, array_agg(DISTINCT o.credit_code) AS codes
      FROM (SELECT y.round_id, y.item_id, unnest(y.unit_ids || y.avoid_unit_ids) AS id FROM y) u
      JOIN organisations o ON o.id = u.id
      WHERE o.credit_code IS NOT NULL
      GROUP BY 1, 2
    ), department AS (
      -- the departments of the applicant and of each team member
      SELECT u.round_id, u.item_id, array_agg(DISTINCT a.department_id) AS ids
      FROM (SELECT y.round_id, y.item_id, unnest(y.person_ids) AS id FROM y WHERE y.same_department) u
      JOIN people a ON a.id = u.id
      WHERE a.department_id IS NOT NULL
      GROUP BY 1, 2
    )
    SELECT y.round_id, y.item_id, y.known, y.person_ids, y.avoid_person_ids, y.unit_ids, y.avoid_unit_ids,
      c.codes, y.competent_department_id, d.ids, y.same_department
    FROM y
    LEFT JOIN code c ON c.round_id = y.round_id AND c.item_id = y.item_id
    LEFT JOIN department d ON d.round_id = y.round_id AND d.item_id = y.item_id;
  -- references checked per statement (a row-level foreign key costs a lookup per row)
  IF EXISTS (SELECT 1 FROM evaluation_coi_experts WHERE NOT known)
    OR EXISTS (SELECT 1 FROM evaluation_coi_items WHERE NOT known) THEN
    RAISE EXCEPTION 'assignment names an unknown expert, item or round' USING ERRCODE = '23503';
  END IF;
  SELECT count(*) INTO live_pairs FROM evaluation_coi_experts WHERE evaluation_coi_experts.live;
  IF live_pairs = 0 THEN
    RETURN NULL;
  END IF;
  IF live_pairs > 100 THEN
    ANALYZE evaluation_coi_experts;
    ANALYZE evaluation_coi_items;
  END IF;
  -- every live row once against its expert's and its item's sets (hash joins, no per-row subplans)
  SELECT n.expert_id, n.item_id, CASE
      WHEN e.status <> 'active' THEN 'not_active'
      WHEN e.person_id = ANY (i.person_ids) THEN 'on_team'
      WHEN e.unit_id = ANY (i.unit_ids) THEN 'same_unit'
      WHEN e.person_id = ANY (i.avoid_person_ids) OR e.unit_id = ANY (i.avoid_unit_ids) THEN 'applicant_avoid'
      WHEN e.unit_code = ANY (i.unit_codes) THEN 'same_unit'
      WHEN e.declared_person_ids && i.person_ids OR e.declared_unit_ids && i.unit_ids THEN 'declared'
      WHEN e.barred THEN 'integrity'
      WHEN e.collaborator_ids && i.person_ids THEN 'collaborator'
      ELSE 'same_department' END AS rule
  INTO bad
  FROM new_rows n
  JOIN evaluation_coi_experts e ON e.expert_id = n.expert_id AND e.round_id = n.round_id
  JOIN evaluation_coi_items i ON i.item_id = n.item_id AND i.round_id = n.round_id
  WHERE n.status IN ('assigned', 'accepted') AND (
    e.status <> 'active'
    OR e.person_id = ANY (i.person_ids) OR e.unit_id = ANY (i.unit_ids)
    OR e.person_id = ANY (i.avoid_person_ids) OR e.unit_id = ANY (i.avoid_unit_ids)
    OR e.unit_code = ANY (i.unit_codes)
    OR e.declared_person_ids && i.person_ids OR e.declared_unit_ids && i.unit_ids
    OR e.barred
    OR e.collaborator_ids && i.person_ids
    OR (i.same_department AND (e.department_id = i.competent_department_id
      OR e.department_id = ANY (i.department_ids))))
  LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'conflict of interest (%): expert % may not review item %', bad.rule, bad.expert_id,
      bad.item_id USING ERRCODE = 'P0001';
  END IF;
  RETURN NULL;
END $$;
"""

PREVIOUS_COI_FUNCTION = """
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


def upgrade() -> None:
    op.execute(COI_FUNCTION)


def downgrade() -> None:
    op.execute(PREVIOUS_COI_FUNCTION)
