"""The reorganisation advisor (优化重组建议): findings per lab, each with its rule and evidence.

Rules come from seed 000 (超龄超届、主任全职、连续无产出撤销、评估不合格、每个细分领域保留一家);
their numbers are policy data (``registry.policy``). Everything is read in a few set-based
queries and computed in memory, so the whole register is reviewed in one pass.
"""

from __future__ import annotations

import dataclasses
from bisect import bisect_right
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from registry.advisor.similarity import bigrams, shared_phrases
from registry.people.models import Person
from registry.platforms.models import Platform, PlatformAssessment, PlatformOutput
from registry.policy.service import current as current_policy
from registry.reference import ASSESSMENT_GRADES, LAB_KINDS, SUB_FIELD_LABELS

REVIEWED_STATES = ("operating", "under_rectification")

RULES: dict[str, tuple[str, str]] = {
    # rule: (Chinese label, suggested action)
    "director_missing": ("未配备实验室主任", "adjust"),
    "director_over_age": ("主任超龄", "adjust"),
    "director_over_term": ("主任超届", "adjust"),
    "director_not_full_time": ("主任非全职", "adjust"),
    "no_output": ("连续多年无产出", "revoke"),
    "failed_assessment": ("评估不合格", "open_rectification"),
    "missing_assessment": ("评估缺失", "open_rectification"),
    "merge_candidate": ("研究方向高度重复（整合候选）", "merge"),
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
    director_terms_served: int
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


def _age(born: date, on: date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def _finding(lab: Lab, rule: str, evidence: dict[str, Any]) -> None:
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


async def _labs(session: AsyncSession, f: AdviceFilter) -> list[Lab]:
    stmt = select(
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
        Platform.director_terms_served,
    ).where(Platform.kind.in_(LAB_KINDS), Platform.state.in_(REVIEWED_STATES))
    if f.field:
        stmt = stmt.where(Platform.field == f.field)
    if f.region:
        stmt = stmt.where(Platform.region == f.region)
    if f.host_unit_id:
        stmt = stmt.where(Platform.host_unit_id == f.host_unit_id)
    rows: list[Any] = list((await session.execute(stmt.order_by(Platform.code))).all())
    return [
        Lab(
            id=row[0],
            code=row[1],
            name=row[2],
            field=row[3],
            sub_field=row[4],
            region=row[5],
            host_unit_id=row[6],
            approved_on=row[7],
            directions=list(row[8]),
            director_person_id=row[9],
            director_term_end=row[10],
            director_full_time=row[11],
            director_terms_served=row[12],
        )
        for row in rows
    ]


async def advise(session: AsyncSession, f: AdviceFilter, on: date) -> dict[str, Any]:
    policy = await current_policy(session)
    labs = await _labs(session, f)
    by_id = {lab.id: lab for lab in labs}
    ids = list(by_id)
    oldest_year = on.year - max(int(policy["years_without_output"]), 3)
    if ids:
        for pid, year, total in (
            await session.execute(
                select(
                    PlatformOutput.platform_id,
                    PlatformOutput.year,
                    PlatformOutput.papers
                    + PlatformOutput.patents
                    + PlatformOutput.standards
                    + PlatformOutput.awards
                    + PlatformOutput.transferred_results
                    + PlatformOutput.national_projects,
                ).where(PlatformOutput.platform_id.in_(ids), PlatformOutput.year >= oldest_year)
            )
        ).all():
            by_id[pid].outputs[year] = int(total)
    director_ids = {lab.director_person_id for lab in labs if lab.director_person_id}
    directors: dict[UUID, tuple[str, date]] = {}
    if director_ids:
        for pid, name, born in (
            await session.execute(
                select(Person.id, Person.name, Person.birth_date).where(Person.id.in_(director_ids))
            )
        ).all():
            directors[pid] = (name, born)
    latest: dict[UUID, tuple[str, str, Any]] = {}
    if ids:
        for pid, period, grade, finalized in (
            await session.execute(
                select(
                    PlatformAssessment.platform_id,
                    PlatformAssessment.period,
                    PlatformAssessment.grade,
                    PlatformAssessment.finalized_at,
                )
                .where(PlatformAssessment.platform_id.in_(ids))
                .order_by(PlatformAssessment.finalized_at)
            )
        ).all():
            latest[pid] = (period, grade, finalized)

    for lab in labs:
        _director_rules(lab, directors, policy, on)
        _output_rule(lab, policy, on)
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
    too_many = lab.director_terms_served > int(policy["director_max_terms"])
    if expired or too_many:
        _finding(
            lab,
            "director_over_term",
            who
            | {
                "term_end": lab.director_term_end.isoformat() if lab.director_term_end else None,
                "term_expired": expired,
                "terms_served": lab.director_terms_served,
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


def _merge_groups(labs: list[Lab], threshold: float, on: date) -> list[dict[str, Any]]:
    """Pairs above the threshold within one sub-field, joined into groups (union-find)."""
    by_sub_field: dict[tuple[str, str], list[Lab]] = defaultdict(list)
    for lab in labs:
        by_sub_field[(lab.field, lab.sub_field)].append(lab)
    groups: list[dict[str, Any]] = []
    for (field_code, sub_field), members in sorted(by_sub_field.items()):
        if len(members) < 2:
            continue
        grams = [bigrams(lab.directions) for lab in members]
        parent = list(range(len(members)))
        pairs: list[tuple[int, int, float]] = []
        # Shared-bigram counts from an inverted index (Counter.update runs in C); the Dice
        # score follows from the count and the two set sizes without intersecting sets.
        index: dict[str, list[int]] = defaultdict(list)
        for i, gs in enumerate(grams):
            for g in gs:
                index[g].append(i)
        sizes = [len(gs) for gs in grams]
        for i, gs in enumerate(grams):
            shared: Counter[int] = Counter()
            for g in gs:
                postings = index[g]
                shared.update(postings[bisect_right(postings, i) :])
            size = sizes[i]
            for j, count in shared.items():
                if 2 * count >= threshold * (size + sizes[j]):
                    pairs.append((i, j, 2 * count / (size + sizes[j])))
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
                    "matching_phrases": shared_phrases(members[i].directions, members[j].directions),
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
