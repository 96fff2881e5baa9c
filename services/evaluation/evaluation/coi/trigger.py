# ruff: noqa: E501  (the function text is kept byte for byte as the database holds it)
"""The database's own 回避 check: the trigger function on ``assignments`` and the rule set it applies.

Every statement that writes a live assignment, whatever code path wrote it, is checked again
against every rule of ``rules.RULES`` (set-based over the statement's rows: hash joins, no
per-row subplans), after share-locking the rounds and experts concerned. A declaration, an
integrity record, a new collaboration or a department change locks the expert row for update;
an applicant's avoidance request locks the round row: either side sees the other.

The migration that installs a version of this function keeps its own copy of the text (a
migration never changes after it ships); ``tests/coi`` checks the database runs this one.
"""

# the rule codes the function names when it refuses a row (``not_active``: the expert is not in 库)
TRIGGER_RULES = (
    "not_active",
    "on_team",
    "same_unit",
    "applicant_avoid",
    "declared",
    "integrity",
    "collaborator",
    "same_department",
)

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
