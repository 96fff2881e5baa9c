"""回避 rules as data: which rules a round applies, with defaults, and the check of one pair."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from uuid import UUID

# rule code -> (label zh, default parameters)
RULES: dict[str, tuple[str, dict[str, Any]]] = {
    "same_unit": ("与申请人、团队成员或依托单位同单位", {"enabled": True}),
    "on_team": ("专家本人为申请人或团队成员", {"enabled": True}),
    "declared": ("已声明的利益冲突（专家或申请方）", {"enabled": True}),
    "collaborator": ("近年合作者（共同承担项目）", {"enabled": True, "years": 3}),
    "same_department": ("同一院系或主管部门", {"enabled": False}),
    "integrity": ("科研诚信记录限制评审", {"enabled": True}),
    "applicant_avoid": ("申请人申请回避（专家或单位）", {"enabled": True, "max_names": 3}),
}


def default_rules() -> dict[str, dict[str, Any]]:
    return {code: dict(params) for code, (_, params) in RULES.items()}


def merged_rules(overrides: Mapping[str, Mapping[str, Any]] | None) -> dict[str, dict[str, Any]]:
    rules = default_rules()
    for code, params in (overrides or {}).items():
        if code in rules:
            rules[code].update(params)
    return rules


@dataclass
class ExpertFacts:
    person_id: UUID
    unit_id: UUID | None
    department_id: UUID | None = None
    unit_code: str | None = None  # unified social credit code of the expert's unit
    barred: bool = False
    declared_persons: set[UUID] = field(default_factory=set)
    declared_units: set[UUID] = field(default_factory=set)
    collaborators: set[UUID] = field(default_factory=set)


@dataclass
class ItemFacts:
    applicant_person_id: UUID | None
    applicant_unit_id: UUID | None
    team_person_ids: Collection[UUID]
    team_unit_ids: Collection[UUID]
    avoid_person_ids: Collection[UUID]
    competent_department_id: UUID | None = None
    avoid_unit_ids: Collection[UUID] = ()
    unit_codes: Collection[str] = ()  # credit codes of the applicant's and team's units
    avoid_unit_codes: Collection[str] = ()  # credit codes of the units the applicant asked to avoid
    departments: Collection[UUID] = ()  # departments of the applicant and team members


def conflicts(expert: ExpertFacts, item: ItemFacts, rules: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """The codes of the enabled rules this pair breaks (empty: may review)."""
    on = {code for code, params in rules.items() if params.get("enabled")}
    persons = {item.applicant_person_id, *item.team_person_ids}
    units = {item.applicant_unit_id, *item.team_unit_ids}
    found = []
    if "same_unit" in on and (
        (expert.unit_id is not None and expert.unit_id in units)
        or (expert.unit_code is not None and expert.unit_code in item.unit_codes)
    ):
        found.append("same_unit")
    if "on_team" in on and expert.person_id in persons:
        found.append("on_team")
    if "declared" in on and (expert.declared_persons & persons or expert.declared_units & units):
        found.append("declared")
    if "collaborator" in on and expert.collaborators & persons:
        found.append("collaborator")
    if (
        "same_department" in on
        and expert.department_id is not None
        and (expert.department_id == item.competent_department_id or expert.department_id in item.departments)
    ):
        found.append("same_department")
    if "integrity" in on and expert.barred:
        found.append("integrity")
    max_names = int(rules.get("applicant_avoid", {}).get("max_names", 3))
    if "applicant_avoid" in on and (
        expert.person_id in list(item.avoid_person_ids)[:max_names]
        or (expert.unit_id is not None and expert.unit_id in item.avoid_unit_ids)
        or (expert.unit_code is not None and expert.unit_code in item.avoid_unit_codes)
    ):
        found.append("applicant_avoid")
    return found


def collaboration_cutoff(rules: Mapping[str, Mapping[str, Any]], today: date) -> date:
    years = int(rules.get("collaborator", {}).get("years", 3))
    return today.replace(year=today.year - years)
