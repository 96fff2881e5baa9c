"""Operating funds for a cluster's service organisations (运行经费, seed 002 五(二)).

The first year (the year the cluster was established) gets a fixed amount; from the next year
on, the amount follows the grade of the latest annual assessment before that year (优秀, 合格,
不合格). The amounts are policy values; the year's cluster amount is shared equally among the
cluster's service organisations (any remainder in fen to the first listed). Never commits.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from registry.clusters.machine import CLUSTER_MACHINE
from registry.clusters.models import Cluster, ClusterAssessment, OperatingFund
from registry.db import kit
from registry.policy.service import current as current_policy
from shared.errors import DuplicateValue
from shared.ids import uuid7
from shared.uow import UnitOfWork

FUND_POLICY_KEYS = (
    "cluster_funds_first_year_fen",
    "cluster_funds_excellent_fen",
    "cluster_funds_pass_fen",
    "cluster_funds_fail_fen",
    "cluster_funds_excellent_score",
)
GRADE_LABELS = {"first_year": "成立第一年", "excellent": "优秀", "pass": "合格", "fail": "不合格"}


async def established_year(uow: UnitOfWork, c: Cluster) -> int | None:
    t = kit.audit_log
    first = (
        await uow.session.execute(
            select(t.c.occurred_at)
            .where(
                t.c.entity_type == "cluster", t.c.entity_id == str(c.id), t.c.action == "cluster.establish"
            )
            .order_by(t.c.occurred_at)
            .limit(1)
        )
    ).scalar_one_or_none()
    return first.year if first is not None else None


def grade_of(a: ClusterAssessment, excellent_score: float) -> str:
    if a.result != "pass":
        return "fail"
    return "excellent" if a.score is not None and a.score >= excellent_score else "pass"


async def record_year(uow: UnitOfWork, c: Cluster, year: int) -> list[OperatingFund]:
    start = await established_year(uow, c)
    if start is None or year < start:
        raise CLUSTER_MACHINE.refuse(
            c.state,
            "a cluster gets operating funds from the year it was established",
            "实验室群成立当年起方给予运行经费",
            extra={"established_year": start},
        )
    if c.state == "revoked":
        raise CLUSTER_MACHINE.refuse(
            c.state, "a revoked cluster gets no operating funds", "实验室群已撤销，不再给予运行经费"
        )
    organisations = [o for o in c.service_organisations or [] if isinstance(o, dict) and o.get("name")]
    if not organisations:
        raise CLUSTER_MACHINE.refuse(
            c.state,
            "the cluster has no service organisation to fund",
            "该实验室群没有承担运行保障工作的服务机构",
        )
    taken = (
        await uow.session.execute(
            select(OperatingFund.id)
            .where(OperatingFund.cluster_id == c.id, OperatingFund.year == year)
            .limit(1)
        )
    ).scalar_one_or_none()
    if taken is not None:
        raise DuplicateValue("year", str(year), existing_id=str(taken))
    policy = await current_policy(uow.session)
    values: dict[str, Any] = {k: policy[k] for k in FUND_POLICY_KEYS}
    assessment: ClusterAssessment | None = None
    if year == start:
        basis, grade = "first_year", None
        amount = int(values["cluster_funds_first_year_fen"])
    else:
        assessment = (
            await uow.session.execute(
                select(ClusterAssessment)
                .where(ClusterAssessment.cluster_id == c.id, ClusterAssessment.year < year)
                .order_by(ClusterAssessment.year.desc())
                .limit(1)
            )
        ).scalar_one_or_none()
        if assessment is None:
            raise CLUSTER_MACHINE.refuse(
                c.state,
                f"no annual assessment before {year} to set the funds by",
                f"{year}年以前没有年度考核结果，无法确定差异化运行经费",
                code="assessment_missing",
                extra={"established_year": start},
            )
        basis = "assessment"
        grade = grade_of(assessment, float(values["cluster_funds_excellent_score"]))
        amount = int(values[f"cluster_funds_{grade}_fen"])
    share, rest = divmod(amount, len(organisations))
    rows = []
    for n, org in enumerate(organisations):
        row = OperatingFund(
            id=uuid7(),
            cluster_id=c.id,
            year=year,
            organisation_name=org["name"],
            organisation_unit_id=org.get("unit_id"),
            basis=basis,
            assessment_year=assessment.year if assessment else None,
            grade=grade,
            cluster_amount_fen=amount,
            amount_fen=share + (rest if n == 0 else 0),
            policy_values=values,
            recorded_by=uow.actor.id,
        )
        uow.session.add(row)
        rows.append(row)
    await uow.session.flush()
    await uow.record(
        "cluster.operating_funds_recorded",
        entity_type="cluster",
        entity_id=c.id,
        changes={
            "year": year,
            "basis": basis,
            "assessment_year": assessment.year if assessment else None,
            "grade": grade,
            "cluster_amount_fen": amount,
            "per_organisation": {r.organisation_name: r.amount_fen for r in rows},
            "policy_values": values,
        },
    )
    return rows
