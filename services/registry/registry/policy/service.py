"""Policy values as data: the numbers behind the seeds' rules, editable by department staff.

The seeds name the rules (超龄超届, 主任全职, 连续无产出撤销, 每个细分领域保留一家, 两次不合格)
but not the numbers; these are the defaults, and every change is kept in the audit log.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from registry.policy.events import POLICY_CHANGED, PolicyChangedPayload
from registry.policy.models import PolicyValue
from shared import policy
from shared.policy import PolicyDefinition
from shared.uow import UnitOfWork

DEFINITIONS: dict[str, PolicyDefinition] = {
    d.key: d
    for d in [
        PolicyDefinition(
            "director_max_age",
            60,
            40,
            80,
            "years",
            "实验室主任年龄上限",
            "A director older than this on the review date is 超龄.",
        ),
        PolicyDefinition(
            "director_term_years", 5, 1, 10, "years", "主任任期（年）", "Length of one director term."
        ),
        PolicyDefinition(
            "director_max_terms",
            2,
            1,
            5,
            "terms",
            "主任最多连任届数",
            "More consecutive terms than this is 超届.",
        ),
        PolicyDefinition(
            "director_must_be_full_time",
            True,
            None,
            None,
            "flag",
            "主任须全职",
            "A part-time director is a finding.",
        ),
        PolicyDefinition(
            "years_without_output",
            3,
            1,
            10,
            "years",
            "连续无产出年数（撤销候选）",
            "So many complete years with no output make a lab a 撤销 candidate.",
        ),
        PolicyDefinition(
            "assessment_window_years",
            5,
            1,
            10,
            "years",
            "评估有效期（年）",
            "No finalized assessment within this many years is a finding.",
        ),
        PolicyDefinition(
            "merge_similarity_threshold",
            0.45,
            0.05,
            1.0,
            "ratio",
            "研究方向相似度阈值（整合候选）",
            "Dice similarity of research directions (character bigrams) at or above which two labs "
            "of one sub-field are merge candidates.",
        ),
        PolicyDefinition(
            "open_topic_years",
            1,
            1,
            10,
            "years",
            "开放课题检查年数",
            "Each of the last so many complete years without an open topic (持续设立开放课题) is a finding.",
        ),
        PolicyDefinition(
            "integrity_default_bar_years",
            3,
            1,
            10,
            "years",
            "失信默认限制年限",
            "Bar length for misconduct reported by projects without a period of its own.",
        ),
        PolicyDefinition(
            "cluster_consecutive_fails",
            2,
            1,
            5,
            "years",
            "实验室群连续不合格次数（重组或撤销）",
            "Consecutive failed annual assessments after which a cluster must be restructured or revoked.",
        ),
        PolicyDefinition(
            "cluster_funds_first_year_fen",
            50_000_000,
            0,
            10_000_000_000,
            "fen",
            "实验室群成立第一年服务机构运行经费（分）",
            "Operating funds for the cluster's service organisations in its first year (shared equally).",
        ),
        PolicyDefinition(
            "cluster_funds_excellent_fen",
            60_000_000,
            0,
            10_000_000_000,
            "fen",
            "上年度考核优秀的运行经费（分）",
            "Operating funds of a year after an annual assessment passed with an excellent score.",
        ),
        PolicyDefinition(
            "cluster_funds_pass_fen",
            40_000_000,
            0,
            10_000_000_000,
            "fen",
            "上年度考核合格的运行经费（分）",
            "Operating funds of a year after a passed annual assessment.",
        ),
        PolicyDefinition(
            "cluster_funds_fail_fen",
            0,
            0,
            10_000_000_000,
            "fen",
            "上年度考核不合格的运行经费（分）",
            "Operating funds of a year after a failed annual assessment (整改期).",
        ),
        PolicyDefinition(
            "instrument_purchase_review_min_fen",
            50_000_000,
            0,
            10**14,
            "fen",
            "新购仪器查重评议起点（分）",
            "A new instrument worth at least this (大型科研仪器: 单台套50万元及以上) of the category and "
            "model of one already open for sharing in its 盟市 goes to a purchase review (查重评议).",
        ),
        PolicyDefinition(
            "cluster_funds_excellent_score",
            90,
            0,
            100,
            "points",
            "运行经费“优秀”档分数线",
            "A passed assessment scoring at least this is graded excellent for operating funds.",
        ),
    ]
}


async def current(session: AsyncSession) -> dict[str, Any]:
    return await policy.current(session, PolicyValue, DEFINITIONS)


async def change(uow: UnitOfWork, key: str, value: Any, reason: str | None) -> Any:
    changed = await policy.change(uow, PolicyValue, DEFINITIONS, key, value)
    if not changed.changed:
        return changed.value
    event = await uow.emit(
        POLICY_CHANGED,
        PolicyChangedPayload(
            key=key,
            value=changed.value,
            previous=changed.before,
            default=changed.default,
            reason=reason,
            version=changed.version,
        ),
        subject=f"policy/{key}",
    )
    await uow.record(
        "policy.changed",
        entity_type="policy",
        entity_id=key,
        changes={key: [changed.before, changed.value]},
        reason=reason,
        event=event,
    )
    return changed.value
