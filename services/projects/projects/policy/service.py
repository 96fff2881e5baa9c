"""The numbers behind the project rules, as data department staff may change.

Seed 003 names the rules (长周期项目, 非共识项目, 项目变更, 失败项目限项) and leaves the
numbers to the department; these are the defaults, every change is audited with its reason.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from projects.policy.models import PolicyValue
from shared import policy
from shared.policy import PolicyDefinition
from shared.uow import UnitOfWork

DEFINITIONS: dict[str, PolicyDefinition] = {
    d.key: d
    for d in [
        PolicyDefinition(
            "standard_term_years", 3, 1, 10, "years", "一般项目执行期上限（年）", "Longest term of a project."
        ),
        PolicyDefinition(
            "long_cycle_term_years",
            10,
            1,
            15,
            "years",
            "长周期项目执行期上限（年）",
            "Longest term of a 长周期 project (seed 004: 开展为期5—10年长周期稳定支持试点), on the "
            "programmes that permit it (catalogue: long_cycle_allowed).",
        ),
        PolicyDefinition(
            "non_consensus_min_supporters",
            2,
            1,
            20,
            "experts",
            "非共识项目最少强烈支持专家数",
            "A non-consensus grant needs at least this many strongly supporting experts, fewer than half.",
        ),
        PolicyDefinition(
            "max_extension_months",
            12,
            1,
            60,
            "months",
            "项目延期上限（月）",
            "An extension moves the end date by at most this many months.",
        ),
        PolicyDefinition(
            "failed_bar_years",
            3,
            0,
            10,
            "years",
            "失败项目负责人限项年限",
            "A lead whose project failed within so many years fails 限项 (unless 尽职免责); a call "
            "may set its own.",
        ),
        PolicyDefinition(
            "basic_research_min_yearly_fen",
            10_000_000_000,
            0,
            10**14,
            "fen",
            "基础研究每年投入下限（分）",
            "Basic research (plan category basic_research: 自然科学基金 and the other basic "
            "programmes) gets at least this much a year: 每年投入不少于1亿元 = 10,000,000,000 fen.",
        ),
    ]
}


async def current(session: AsyncSession) -> dict[str, Any]:
    return await policy.current(session, PolicyValue, DEFINITIONS)


async def change(uow: UnitOfWork, key: str, value: Any, reason: str) -> Any:
    changed = await policy.change(uow, PolicyValue, DEFINITIONS, key, value)
    if not changed.changed:
        return changed.value
    await uow.record(
        "policy.changed",
        entity_type="policy",
        entity_id=key,
        changes={key: [changed.before, changed.value], "version": changed.version},
        reason=reason,
    )
    return changed.value
