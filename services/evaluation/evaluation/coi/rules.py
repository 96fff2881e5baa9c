"""回避 rules as data: the rules a round applies, their defaults, and what each rule compares."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

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
# rules a round cannot switch off
CORE_RULES = ("same_unit", "on_team", "declared", "integrity", "applicant_avoid")

# What each rule compares: a pair conflicts when one of the expert's sets meets one of the
# item's sets (see ``facts`` for what each set holds). ``integrity`` reads the expert alone.
MATCHES: dict[str, tuple[tuple[str, str], ...]] = {
    "same_unit": (("units", "units"),),  # units by id and by unified social credit code
    "on_team": (("person", "persons"),),
    "declared": (("declared", "persons"), ("declared", "units")),
    "collaborator": (("collaborators", "persons"),),
    "same_department": (("department", "departments"),),
    "applicant_avoid": (("person", "avoid_persons"), ("units", "avoid_units")),
}
EXPERT_FLAGS = {"integrity": "barred"}

# Why an expert of the item's disciplines is not a candidate, besides the rules above
EXCLUSIONS_ZH = {
    "unavailable": "评审期间不可参加",
    "unconfirmed": "专家信息未按期确认",
    "already_assigned": "已分配或曾回避/拒绝该项目",
}


def default_rules() -> dict[str, dict[str, Any]]:
    return {code: dict(params) for code, (_, params) in RULES.items()}


def merged_rules(overrides: Mapping[str, Mapping[str, Any]] | None) -> dict[str, dict[str, Any]]:
    rules = default_rules()
    for code, params in (overrides or {}).items():
        if code in rules:
            rules[code].update(params)
    return rules


def enabled(rules: Mapping[str, Mapping[str, Any]]) -> list[str]:
    return sorted(code for code, params in rules.items() if params.get("enabled"))


def max_names(rules: Mapping[str, Mapping[str, Any]]) -> int:
    return int(rules.get("applicant_avoid", {}).get("max_names", 3))


def collaboration_cutoff(rules: Mapping[str, Mapping[str, Any]], today: date) -> date:
    years = int(rules.get("collaborator", {}).get("years", 3))
    return today.replace(year=today.year - years)
