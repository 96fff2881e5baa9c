"""学科分类: the NSFC application codes (国家自然科学基金申请代码) as a hierarchy shipped as data.

A code is its department letter (A 数学物理科学部 … T 交叉科学部), the letter and two digits
for a discipline (F02 计算机科学), then two digits more for a field (F0201). ``nsfc.csv`` holds
every department and every discipline, and the fields of the disciplines the province reviews
most; the department changes the table, not the code.

Matching is by level, the affinity's discipline component: the same code, the same discipline
(parent), the same department (top level), else nothing.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from importlib import resources

from shared.errors import FieldIssue, ValidationFailed

# the discipline component of an affinity, by the level two codes share (data, not literals)
MATCH_SCORES = {"same_code": 1.0, "same_parent": 0.6, "same_top": 0.3}
MATCH_ZH = {"same_code": "同一学科代码", "same_parent": "同一二级学科", "same_top": "同一科学部"}


@dataclass(frozen=True)
class Discipline:
    code: str
    name_zh: str
    parent: str | None

    @property
    def level(self) -> int:
        """1 for a department, 2 for a discipline, 3 for a field."""
        return 1 if len(self.code) == 1 else (2 if len(self.code) == 3 else 3)


@cache
def table() -> dict[str, Discipline]:
    text = resources.files(__package__).joinpath("nsfc.csv").read_text(encoding="utf-8")
    out: dict[str, Discipline] = {}
    for row in csv.DictReader(text.splitlines()):
        code = row["code"].strip()
        parent = None if len(code) == 1 else code[: 1 if len(code) == 3 else 3]
        out[code] = Discipline(code, row["name_zh"].strip(), parent)
    return out


def known(code: str) -> bool:
    return code in table()


def top(code: str) -> str:
    return code[:1]


def second(code: str) -> str | None:
    """The discipline (level 2) a code belongs to; None for a department code."""
    return code[:3] if len(code) >= 3 else None


def match_score(a: str, b: str) -> float:
    """The discipline component of two codes: same code, same discipline, same department, else 0."""
    if a == b:
        return MATCH_SCORES["same_code"]
    pa, pb = second(a), second(b)
    if pa is not None and pa == pb:
        return MATCH_SCORES["same_parent"]
    if top(a) == top(b):
        return MATCH_SCORES["same_top"]
    return 0.0


def best_match(item_codes: Iterable[str], expert_codes: Iterable[str]) -> float:
    expert = list(expert_codes)
    return max((match_score(a, b) for a in item_codes for b in expert), default=0.0)


def check_code(code: str) -> str:
    """For a pydantic field: an unknown code is a 422 naming the field."""
    code = code.strip().upper()
    if code not in table():
        raise ValueError(f"unknown discipline code {code!r} (NSFC application codes) / 未知的学科代码")
    return code


def validate(codes: Iterable[str], field: str) -> list[str]:
    """The codes, checked; a ValidationFailed naming ``field[n]`` for each unknown one."""
    out, issues = [], []
    for n, raw in enumerate(codes):
        code = str(raw).strip().upper()
        if code not in table():
            issues.append(
                FieldIssue(
                    f"{field}[{n}]",
                    "unknown_discipline",
                    f"unknown discipline code {code!r} (NSFC application codes)",
                    f"未知的学科代码“{code}”",
                )
            )
        out.append(code)
    if issues:
        raise ValidationFailed(issues)
    return out


def as_list() -> list[dict[str, str | int | None]]:
    return [{"code": d.code, "zh": d.name_zh, "parent": d.parent, "level": d.level} for d in table().values()]
