# ruff: noqa: S608  (the SQL texts here format only our own ints and dates, never input)
"""What the 回避 rules read: for one item or expert (a replacement, a recheck) or a whole round.

A round's facts are relations ``(n, key)``: ``n`` the index of the item or expert in the run's
``run_items`` / ``run_experts`` temporary tables, ``key`` an id. Unified social credit codes
become ids too (``md5('code:' || code)``), so a unit registered twice is the same unit. Each
relation is one set-based query; the job reads it with a binary COPY.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any
from uuid import UUID

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import or_, select

from evaluation.coi.check import ExpertFacts, ItemFacts
from evaluation.coi.rules import collaboration_cutoff, max_names
from evaluation.experts.models import Collaboration, Declaration, Expert, IntegrityView, PersonView
from evaluation.organisations.models import OrganisationView
from evaluation.rounds.models import RoundItem
from shared.db import equals_any
from shared.uow import UnitOfWork


def fold(raw: NDArray[np.uint8]) -> NDArray[np.uint64]:
    """(n, 16) id bytes as 64-bit keys (the two halves xor-ed; a clash could only exclude a pair)."""
    halves = np.ascontiguousarray(raw).view(np.uint64).reshape(-1, 2)
    out: NDArray[np.uint64] = halves[:, 0] ^ halves[:, 1]
    return out


# ---------------------------------------------------------------- one item / one expert


async def items_facts(uow: UnitOfWork, items: Sequence[RoundItem]) -> dict[UUID, ItemFacts]:
    """What the 回避 rules need of each item: its people and units, their credit codes and departments."""
    unit_ids = {u for it in items for u in (it.applicant_unit_id, *it.team_unit_ids, *it.avoid_unit_ids) if u}
    person_ids = {p for it in items for p in (it.applicant_person_id, *it.team_person_ids) if p}
    codes: dict[UUID, str] = {}
    departments: dict[UUID, UUID] = {}
    if unit_ids:
        q = select(OrganisationView.id, OrganisationView.credit_code).where(
            equals_any(OrganisationView.id, sorted(unit_ids), "unit_ids")
        )
        codes = {uid: code for uid, code in (await uow.session.execute(q)).all()}
    if person_ids:
        q2 = select(PersonView.id, PersonView.department_id).where(
            equals_any(PersonView.id, sorted(person_ids), "person_ids"), PersonView.department_id.is_not(None)
        )
        departments = {pid: dept for pid, dept in (await uow.session.execute(q2)).all() if dept}
    out = {}
    for it in items:
        units = (it.applicant_unit_id, *it.team_unit_ids)
        people = (it.applicant_person_id, *it.team_person_ids)
        out[it.id] = ItemFacts(
            it.applicant_person_id,
            it.applicant_unit_id,
            it.team_person_ids,
            it.team_unit_ids,
            it.avoid_person_ids,
            it.competent_department_id,
            avoid_unit_ids=it.avoid_unit_ids,
            unit_codes={codes[u] for u in units if u in codes},
            avoid_unit_codes={codes[u] for u in it.avoid_unit_ids if u in codes},
            departments={departments[p] for p in people if p in departments},
        )
    return out


async def expert_facts(
    uow: UnitOfWork, expert_ids: Sequence[UUID], rules: dict[str, Any]
) -> dict[UUID, ExpertFacts]:
    s = uow.session
    rows = (
        await s.execute(
            select(Expert, OrganisationView.credit_code, PersonView.department_id)
            .outerjoin(OrganisationView, OrganisationView.id == Expert.unit_id)
            .outerjoin(PersonView, PersonView.id == Expert.person_id)
            .where(equals_any(Expert.id, expert_ids, "expert_ids"))
        )
    ).all()
    experts = [e for e, _, _ in rows]
    facts = {
        e.id: ExpertFacts(e.person_id, e.unit_id, department_id=dept, unit_code=e.unit_credit_code or code)
        for e, code, dept in rows
    }
    by_person = {e.person_id: e.id for e in experts}
    declared = select(Declaration).where(equals_any(Declaration.expert_id, expert_ids, "expert_ids"))
    for d in (await s.execute(declared)).scalars():
        if d.person_id:
            facts[d.expert_id].declared_persons.add(d.person_id)
        if d.unit_id:
            facts[d.expert_id].declared_units.add(d.unit_id)
    today = date.today()
    barred = select(IntegrityView.person_id).where(
        equals_any(IntegrityView.person_id, list(by_person), "person_ids"),
        IntegrityView.lifted.is_(False),
        IntegrityView.scope.overlap(["reviewing", "all"]),
        or_(IntegrityView.barred_until.is_(None), IntegrityView.barred_until >= today),
        or_(IntegrityView.barred_from.is_(None), IntegrityView.barred_from <= today),
    )
    for (pid,) in await s.execute(barred):
        if pid is not None:
            facts[by_person[pid]].barred = True
    cutoff = collaboration_cutoff(rules, today)
    collab = select(Collaboration.person_ids).where(
        Collaboration.end_date >= cutoff, Collaboration.person_ids.overlap(list(by_person))
    )
    for (people,) in await s.execute(collab):
        for pid in people:
            if pid in by_person:
                facts[by_person[pid]].collaborators.update(p for p in people if p != pid)
    return facts


# ---------------------------------------------------------------- a whole round, as relations


def _units(array_sql: str) -> str:
    return f"""
    WITH u AS (
      SELECT i.n, x.id FROM run_items i JOIN round_items r ON r.id = i.id
      CROSS JOIN LATERAL unnest({array_sql}) x(id) WHERE x.id IS NOT NULL)
    SELECT n, id FROM u
    UNION ALL SELECT u.n, md5('code:' || o.credit_code)::uuid FROM u JOIN organisations o ON o.id = u.id
    """


def item_relations(rules: dict[str, Any]) -> dict[str, str]:
    """The item sets the rules compare (``rules.MATCHES``), one query each."""
    names = max_names(rules)
    return {
        "persons": """
            SELECT i.n, p.id FROM run_items i JOIN round_items r ON r.id = i.id
            CROSS JOIN LATERAL unnest(array_prepend(r.applicant_person_id, r.team_person_ids)) p(id)
            WHERE p.id IS NOT NULL""",
        "units": _units("array_prepend(r.applicant_unit_id, r.team_unit_ids)"),
        "avoid_persons": f"""
            SELECT i.n, p.id FROM run_items i JOIN round_items r ON r.id = i.id
            CROSS JOIN LATERAL unnest(r.avoid_person_ids[1:{int(names)}]) p(id) WHERE p.id IS NOT NULL""",
        "avoid_units": _units("r.avoid_unit_ids"),
        "departments": """
            SELECT i.n, r.competent_department_id FROM run_items i JOIN round_items r ON r.id = i.id
            WHERE r.competent_department_id IS NOT NULL
            UNION ALL
            SELECT i.n, pp.department_id FROM run_items i JOIN round_items r ON r.id = i.id
            CROSS JOIN LATERAL unnest(array_prepend(r.applicant_person_id, r.team_person_ids)) p(id)
            JOIN people pp ON pp.id = p.id WHERE pp.department_id IS NOT NULL""",
    }


def expert_relations(rules: dict[str, Any], today: date) -> dict[str, str]:
    """The expert sets the rules compare, one query each."""
    cutoff = collaboration_cutoff(rules, today).isoformat()
    return {
        "person": "SELECT e.n, x.person_id FROM run_experts e JOIN experts x ON x.id = e.id",
        "units": """
            SELECT e.n, x.unit_id FROM run_experts e JOIN experts x ON x.id = e.id
            WHERE x.unit_id IS NOT NULL
            UNION ALL
            SELECT e.n, md5('code:' || COALESCE(x.unit_credit_code, o.credit_code))::uuid
            FROM run_experts e JOIN experts x ON x.id = e.id LEFT JOIN organisations o ON o.id = x.unit_id
            WHERE COALESCE(x.unit_credit_code, o.credit_code) IS NOT NULL""",
        "declared": """
            SELECT e.n, k.id FROM run_experts e JOIN conflict_declarations d ON d.expert_id = e.id
            CROSS JOIN LATERAL unnest(ARRAY[d.person_id, d.unit_id]) k(id) WHERE k.id IS NOT NULL""",
        "collaborators": f"""
            SELECT e.n, other.id FROM collaborations c
            CROSS JOIN LATERAL unnest(c.person_ids) me(id)
            JOIN experts x ON x.person_id = me.id JOIN run_experts e ON e.id = x.id
            CROSS JOIN LATERAL unnest(c.person_ids) other(id)
            WHERE other.id <> me.id AND c.end_date >= DATE '{cutoff}'""",
        "department": """
            SELECT e.n, p.department_id FROM run_experts e JOIN experts x ON x.id = e.id
            JOIN people p ON p.id = x.person_id WHERE p.department_id IS NOT NULL""",
    }


# the expert's own flag: barred from reviewing by an integrity record in force
BARRED_SQL = """
    EXISTS (SELECT 1 FROM integrity_records g WHERE g.person_id = x.person_id AND NOT g.lifted
      AND g.scope && ARRAY['reviewing', 'all']::varchar[]
      AND (g.barred_until IS NULL OR g.barred_until >= current_date)
      AND (g.barred_from IS NULL OR g.barred_from <= current_date))"""
