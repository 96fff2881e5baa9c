"""The reorganisation advisor (优化重组建议): findings per lab, each with its rule and evidence.

Rules come from seed 000 (超龄超届、主任全职、连续无产出撤销、评估不合格、每个细分领域保留一家);
their numbers are policy data (``registry.policy``). Everything is read in a few set-based
queries and computed in memory, so the whole register is reviewed in one pass.
"""

from __future__ import annotations

import dataclasses
import gc
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal
from uuid import UUID

import numpy as np
from scipy import sparse
from sqlalchemy import func, or_, select, true
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncSession

from registry.advisor.similarity import bigrams_of, clean, shared_phrases_of
from registry.people.models import Person
from registry.platforms.models import Platform, PlatformAssessment, PlatformOutput, RevocationCase
from registry.platforms.tenure import terms_served
from registry.policy.service import current as current_policy
from registry.reference import ASSESSMENT_GRADES, LAB_KINDS, SUB_FIELD_LABELS
from registry.sharing.models import OpenTopic

REVIEWED_STATES = ("operating", "under_rectification")

Rule = Literal[
    "director_missing",
    "director_over_age",
    "director_over_term",
    "director_not_full_time",
    "no_output",
    "failed_assessment",
    "failed_again_under_rectification",
    "missing_assessment",
    "merge_candidate",
    "no_open_topics",
]
RULES: dict[Rule, tuple[str, str]] = {
    # rule: (Chinese label, suggested action)
    "director_missing": ("未配备实验室主任", "adjust"),
    "director_over_age": ("主任超龄", "adjust"),
    "director_over_term": ("主任超届", "adjust"),
    "director_not_full_time": ("主任非全职", "adjust"),
    "no_output": ("连续多年无产出", "revoke"),
    "failed_assessment": ("评估不合格", "open_rectification"),
    "failed_again_under_rectification": ("整改期间评估再次不合格（取消资格）", "revoke"),
    "missing_assessment": ("评估缺失", "open_rectification"),
    "merge_candidate": ("研究方向高度重复（整合候选）", "merge"),
    "no_open_topics": ("未持续设立开放课题", "adjust"),
}
ACTIONS_ZH = {"adjust": "调整", "revoke": "撤销", "merge": "整合", "open_rectification": "整改"}


@dataclass
class Lab:
    id: UUID
    code: str
    name: str
    field: str
    sub_field: str
    region: str
    host_unit_id: UUID
    approved_on: date | None
    directions: list[str]
    director_person_id: UUID | None
    director_term_end: date | None
    director_full_time: bool
    director_since: date | None
    outputs: dict[int, int] = dataclasses.field(default_factory=dict)
    findings: list[dict[str, Any]] = dataclasses.field(default_factory=list)

    def recent_output(self, on: date, years: int) -> int:
        return sum(self.outputs.get(y, 0) for y in range(on.year - years, on.year))

    def ref(self) -> dict[str, Any]:
        return {"platform_id": str(self.id), "code": self.code, "name": self.name}


@dataclass(frozen=True)
class AdviceFilter:
    field: str | None = None
    region: str | None = None
    host_unit_id: UUID | None = None
    # A caller who sees only some labs: those of these host units or in these 盟市 (None: all).
    visible_units: frozenset[str] | None = None
    visible_regions: frozenset[str] | None = None


def _age(born: date, on: date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def _finding(lab: Lab, rule: Rule, evidence: dict[str, Any]) -> None:
    zh, action = RULES[rule]
    lab.findings.append(
        {
            "rule": rule,
            "rule_zh": zh,
            "suggested_action": action,
            "suggested_action_zh": ACTIONS_ZH[action],
            "evidence": evidence,
        }
    )


async def _labs(
    session: AsyncSession, f: AdviceFilter, oldest_year: int
) -> tuple[list[Lab], dict[UUID, tuple[str, date]], dict[UUID, tuple[str, str, Any]]]:
    """Every reviewed lab with its recent outputs, its director and its latest assessment, in
    one statement (outputs folded into arrays per lab), read without ORM row processing."""
    total = (
        PlatformOutput.papers
        + PlatformOutput.patents
        + PlatformOutput.standards
        + PlatformOutput.awards
        + PlatformOutput.transferred_results
        + PlatformOutput.national_projects
    )
    outputs = (
        select(
            func.array_agg(aggregate_order_by(PlatformOutput.year, PlatformOutput.year)).label("years"),
            func.array_agg(aggregate_order_by(total, PlatformOutput.year)).label("totals"),
        )
        .where(PlatformOutput.platform_id == Platform.id, PlatformOutput.year >= oldest_year)
        .lateral("outputs")
    )
    assessment = (
        select(PlatformAssessment.period, PlatformAssessment.grade, PlatformAssessment.finalized_at)
        .where(PlatformAssessment.platform_id == Platform.id)
        .order_by(PlatformAssessment.finalized_at.desc())
        .limit(1)
        .lateral("assessment")
    )
    stmt = (
        select(
            Platform.id,
            Platform.code,
            Platform.name,
            Platform.field,
            Platform.sub_field,
            Platform.region,
            Platform.host_unit_id,
            Platform.approved_on,
            Platform.research_directions,
            Platform.director_person_id,
            Platform.director_term_end,
            Platform.director_full_time,
            Platform.director_since,
            outputs.c.years,
            outputs.c.totals,
            Person.name,
            Person.birth_date,
            assessment.c.period,
            assessment.c.grade,
            assessment.c.finalized_at,
        )
        .select_from(Platform)
        .outerjoin(outputs, true())
        .outerjoin(Person, Person.id == Platform.director_person_id)
        .outerjoin(assessment, true())
        .where(Platform.kind.in_(LAB_KINDS), Platform.state.in_(REVIEWED_STATES))
    )
    if f.field:
        stmt = stmt.where(Platform.field == f.field)
    if f.region:
        stmt = stmt.where(Platform.region == f.region)
    if f.host_unit_id:
        stmt = stmt.where(Platform.host_unit_id == f.host_unit_id)
    if f.visible_units is not None or f.visible_regions is not None:
        stmt = stmt.where(
            or_(
                Platform.host_unit_id.in_([UUID(u) for u in f.visible_units or ()]),
                Platform.region.in_(sorted(f.visible_regions or ())),
            )
        )
    connection = await session.connection()
    labs: list[Lab] = []
    directors: dict[UUID, tuple[str, date]] = {}
    latest: dict[UUID, tuple[str, str, Any]] = {}
    rows: list[Any] = list(await connection.execute(stmt.order_by(Platform.code)))
    for row in rows:
        (pid, code, name, field_code, sub_field, region, host, approved, directions, director) = row[:10]
        lab = Lab(
            id=pid,
            code=code,
            name=name,
            field=field_code,
            sub_field=sub_field,
            region=region,
            host_unit_id=host,
            approved_on=approved,
            directions=list(directions),
            director_person_id=director,
            director_term_end=row[10],
            director_full_time=row[11],
            director_since=row[12],
            outputs=dict(zip(row[13], row[14], strict=True)) if row[13] else {},
        )
        labs.append(lab)
        if director is not None and row[16] is not None:
            directors[director] = (row[15], row[16])
        if row[18] is not None:
            latest[pid] = (row[17], row[18], row[19])
    return labs, directors, latest


async def _topic_years(session: AsyncSession, years: list[int]) -> dict[UUID, set[int]]:
    rows = await session.execute(
        select(OpenTopic.platform_id, OpenTopic.year).where(OpenTopic.year.in_(years)).distinct()
    )
    found: dict[UUID, set[int]] = defaultdict(set)
    for platform_id, year in rows:
        found[platform_id].add(year)
    return found


def _open_topic_rule(lab: Lab, years_with_topics: set[int], window: list[int]) -> None:
    """持续设立开放课题: every complete year of the window since approval has an open topic."""
    checked = [y for y in window if lab.approved_on is None or y > lab.approved_on.year]
    missing = [y for y in checked if y not in years_with_topics]
    if missing:
        _finding(lab, "no_open_topics", {"years_without_topics": missing, "years_checked": checked})


async def _open_revocation_cases(session: AsyncSession) -> dict[UUID, dict[str, Any]]:
    """Labs failed again under rectification: their open 撤销 case and the assessments it cites."""
    rows = await session.execute(
        select(RevocationCase.platform_id, RevocationCase.id, RevocationCase.assessment_ids).where(
            RevocationCase.status == "open"
        )
    )
    cases = {pid: (case_id, list(ids)) for pid, case_id, ids in rows}
    cited_ids = [UUID(i) for _, ids in cases.values() for i in ids]
    cited: dict[str, dict[str, Any]] = {}
    if cited_ids:
        for a in await session.execute(
            select(PlatformAssessment.id, PlatformAssessment.period, PlatformAssessment.grade).where(
                PlatformAssessment.id.in_(cited_ids)
            )
        ):
            cited[str(a.id)] = {
                "assessment_id": str(a.id),
                "period": a.period,
                "grade": a.grade,
                "grade_zh": ASSESSMENT_GRADES.get(a.grade, a.grade),
            }
    return {
        pid: {"case_id": str(case_id), "assessments": [cited[i] for i in ids if i in cited]}
        for pid, (case_id, ids) in cases.items()
    }


@contextmanager
def _collection_paused() -> Iterator[None]:
    """The review allocates a few hundred thousand short-lived objects and frees them all;
    the cyclic collector's passes over the whole heap meanwhile cost a third of the time.
    Paused for the review (reference counting still frees everything), then resumed."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


async def advise(session: AsyncSession, f: AdviceFilter, on: date) -> dict[str, Any]:
    with _collection_paused():
        return await _advise(session, f, on)


async def _advise(session: AsyncSession, f: AdviceFilter, on: date) -> dict[str, Any]:
    policy = await current_policy(session)
    oldest_year = on.year - max(int(policy["years_without_output"]), 3)
    labs, directors, latest = await _labs(session, f, oldest_year)
    cases = await _open_revocation_cases(session)
    topic_window = list(range(on.year - int(policy["open_topic_years"]), on.year))
    topic_years = await _topic_years(session, topic_window)

    for lab in labs:
        _director_rules(lab, directors, policy, on)
        _output_rule(lab, policy, on)
        _open_topic_rule(lab, topic_years.get(lab.id, set()), topic_window)
        if lab.id in cases:
            _finding(lab, "failed_again_under_rectification", cases[lab.id])
        else:
            _assessment_rules(lab, latest.get(lab.id), policy, on)
    groups = _merge_groups(labs, float(policy["merge_similarity_threshold"]), on)

    flagged = [lab for lab in labs if lab.findings]
    summary: dict[str, int] = defaultdict(int)
    for lab in flagged:
        for finding in lab.findings:
            summary[finding["rule"]] += 1
    return {
        "reviewed_on": on.isoformat(),
        "policy": policy,
        "labs_reviewed": len(labs),
        "summary": [{"rule": r, "rule_zh": RULES[r][0], "labs": summary[r]} for r in RULES if summary.get(r)],
        "labs": [
            lab.ref()
            | {
                "field": lab.field,
                "sub_field": lab.sub_field,
                "region": lab.region,
                "host_unit_id": str(lab.host_unit_id),
                "findings": lab.findings,
            }
            for lab in flagged
        ],
        "merge_groups": groups,
    }


def _director_rules(
    lab: Lab, directors: dict[UUID, tuple[str, date]], policy: dict[str, Any], on: date
) -> None:
    if lab.director_person_id is None or lab.director_person_id not in directors:
        _finding(lab, "director_missing", {"director_person_id": None})
        return
    name, born = directors[lab.director_person_id]
    who = {"director_person_id": str(lab.director_person_id), "director_name": name}
    age = _age(born, on)
    if age > int(policy["director_max_age"]):
        _finding(
            lab,
            "director_over_age",
            who | {"birth_date": born.isoformat(), "age": age, "limit": policy["director_max_age"]},
        )
    expired = lab.director_term_end is not None and lab.director_term_end < on
    served = terms_served(lab.director_since, on, int(policy["director_term_years"])) or 1
    too_many = served > int(policy["director_max_terms"])
    if expired or too_many:
        _finding(
            lab,
            "director_over_term",
            who
            | {
                "term_end": lab.director_term_end.isoformat() if lab.director_term_end else None,
                "term_expired": expired,
                "terms_served": served,
                "director_since": lab.director_since.isoformat() if lab.director_since else None,
                "term_years": policy["director_term_years"],
                "max_terms": policy["director_max_terms"],
            },
        )
    if policy["director_must_be_full_time"] and not lab.director_full_time:
        _finding(lab, "director_not_full_time", who | {"full_time": False})


def _output_rule(lab: Lab, policy: dict[str, Any], on: date) -> None:
    years = int(policy["years_without_output"])
    window = list(range(on.year - years, on.year))
    if lab.approved_on is not None and lab.approved_on.year >= window[0]:
        return  # too young to be judged on a full window
    if all(lab.outputs.get(y, 0) == 0 for y in window):
        _finding(
            lab,
            "no_output",
            {"years": window, "totals": {str(y): lab.outputs.get(y) for y in window}, "limit_years": years},
        )


def _assessment_rules(
    lab: Lab, latest: tuple[str, str, Any] | None, policy: dict[str, Any], on: date
) -> None:
    window = int(policy["assessment_window_years"])
    if latest is not None and latest[1] == "unqualified":
        _finding(
            lab,
            "failed_assessment",
            {"period": latest[0], "grade": latest[1], "grade_zh": ASSESSMENT_GRADES[latest[1]]},
        )
        return
    if lab.approved_on is not None and lab.approved_on.year > on.year - window:
        return
    if latest is None or latest[2].date().year <= on.year - window:
        _finding(
            lab,
            "missing_assessment",
            {"last_period": latest[0] if latest else None, "window_years": window},
        )


def _root(parent: list[int], x: int) -> int:
    while parent[x] != x:
        parent[x] = parent[parent[x]]
        x = parent[x]
    return x


def _similar_pairs(grams: list[frozenset[str]], threshold: float) -> list[tuple[int, int, float]]:
    """(i, j, Dice score) for every pair i < j at or above the threshold.

    The shared-bigram counts of all pairs come from one sparse product of the labs × bigrams
    incidence matrix (cost grows with the pairs that share something, not with all pairs);
    Dice = 2·shared / (|A| + |B|).
    """
    vocabulary: dict[str, int] = {}
    rows: list[int] = []
    cols: list[int] = []
    for i, gs in enumerate(grams):
        for g in gs:
            rows.append(i)
            cols.append(vocabulary.setdefault(g, len(vocabulary)))
    if not vocabulary:
        return []
    incidence = sparse.csr_matrix(
        (np.ones(len(rows), dtype=np.int32), (rows, cols)), shape=(len(grams), len(vocabulary))
    )
    shared = sparse.triu(incidence @ incidence.T, k=1).tocoo()
    sizes = np.array([len(gs) for gs in grams], dtype=np.int64)
    together = sizes[shared.row] + sizes[shared.col]
    keep = 2 * shared.data >= threshold * together
    return [
        (int(i), int(j), 2 * int(n) / int(t))
        for i, j, n, t in zip(
            shared.row[keep], shared.col[keep], shared.data[keep], together[keep], strict=True
        )
    ]


def _merge_groups(labs: list[Lab], threshold: float, on: date) -> list[dict[str, Any]]:
    """Pairs above the threshold within one sub-field, joined into groups (union-find)."""
    by_sub_field: dict[tuple[str, str], list[Lab]] = defaultdict(list)
    for lab in labs:
        by_sub_field[(lab.field, lab.sub_field)].append(lab)
    groups: list[dict[str, Any]] = []
    for (field_code, sub_field), members in sorted(by_sub_field.items()):
        if len(members) < 2:
            continue
        parent = list(range(len(members)))
        cleaned = [clean(lab.directions) for lab in members]
        pairs = _similar_pairs([bigrams_of(c) for c in cleaned], threshold)
        for i, j, _ in pairs:
            parent[_root(parent, i)] = _root(parent, j)
        if not pairs:
            continue
        clusters: dict[int, list[Lab]] = defaultdict(list)
        for i, lab in enumerate(members):
            clusters[_root(parent, i)].append(lab)
        pairs_by_root: dict[int, list[tuple[int, int, float]]] = defaultdict(list)
        for pair in pairs:
            pairs_by_root[_root(parent, pair[0])].append(pair)
        for group_root, group in clusters.items():
            if len(group) < 2:
                continue
            group_pairs: list[dict[str, Any]] = [
                {
                    "a": members[i].ref(),
                    "b": members[j].ref(),
                    "score": round(score, 3),
                    "matching_phrases": shared_phrases_of(cleaned[i], cleaned[j]),
                }
                for i, j, score in pairs_by_root[group_root]
            ]
            survivor = max(
                group,
                key=lambda lab: (lab.recent_output(on, 3), -(lab.approved_on or on).toordinal(), lab.code),
            )
            entry = {
                "field": field_code,
                "sub_field": sub_field,
                "sub_field_zh": SUB_FIELD_LABELS.get(sub_field, sub_field),
                "platforms": [
                    lab.ref() | {"output_last_3_years": lab.recent_output(on, 3)}
                    for lab in sorted(group, key=lambda x: x.code)
                ],
                "pairs": group_pairs,
                "suggested_survivor": survivor.ref()
                | {
                    "output_last_3_years": survivor.recent_output(on, 3),
                    "why": "近三年产出最多（同分取批准较早者）",
                },
            }
            groups.append(entry)
            for lab in group:
                _finding(
                    lab,
                    "merge_candidate",
                    {
                        "sub_field": sub_field,
                        "similar_to": [
                            p["b"] if p["a"]["platform_id"] == str(lab.id) else p["a"]
                            for p in group_pairs
                            if str(lab.id) in (p["a"]["platform_id"], p["b"]["platform_id"])
                        ],
                        "suggested_survivor": survivor.code,
                        "threshold": threshold,
                    },
                )
    return groups
