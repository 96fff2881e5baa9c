"""Member units' periodic reports to the secretariat (seed 002 三(二): 定期梳理人才、成果、需求、
资源等信息并提供给秘书处), and who has not reported for a period. Never commits."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from registry.access import require
from registry.clusters.machine import CLUSTER_MACHINE
from registry.clusters.models import Cluster, MemberReport
from registry.clusters.schemas import MemberReportIn
from registry.clusters.service import may_run_cluster
from shared.auth import Principal, Role
from shared.errors import DuplicateValue, FieldIssue, ValidationFailed
from shared.ids import uuid7
from shared.uow import UnitOfWork


def members(c: Cluster) -> list[dict[str, Any]]:
    return [m for m in c.member_units or [] if isinstance(m, dict) and m.get("name")]


def _member(c: Cluster, name: str) -> dict[str, Any]:
    for m in members(c):
        if m["name"] == name:
            return m
    raise ValidationFailed(
        [
            FieldIssue(
                "member_name",
                "not_a_member",
                "not a member unit of this cluster (name as listed)",
                "不是该实验室群的成员单位（按成员单位名单填写）",
            )
        ]
    )


def may_report_for(principal: Principal, c: Cluster, member: dict[str, Any]) -> bool:
    """The member unit's own admin, or the secretariat entering what a member sent it."""
    unit_id = member.get("unit_id")
    own = (
        principal.has_role(Role.host_unit_admin)
        and unit_id is not None
        and principal.unit_id is not None
        and str(unit_id) == principal.unit_id
    )
    return own or may_run_cluster(principal, c)


async def submit(uow: UnitOfWork, principal: Principal, c: Cluster, data: MemberReportIn) -> MemberReport:
    member = _member(c, data.member_name)
    require(may_report_for(principal, c, member), "report for this member unit", "代该成员单位报送信息")
    if c.state == "revoked":
        raise CLUSTER_MACHINE.refuse(
            c.state,
            "a revoked cluster takes no reports",
            "实验室群已撤销，不再报送信息",
            roles=principal.roles,
        )
    taken = (
        await uow.session.execute(
            select(MemberReport.id).where(
                MemberReport.cluster_id == c.id,
                MemberReport.period == data.period,
                MemberReport.member_name == data.member_name,
            )
        )
    ).scalar_one_or_none()
    if taken is not None:
        raise DuplicateValue("period", data.period, existing_id=str(taken))
    report = MemberReport(
        id=uuid7(),
        cluster_id=c.id,
        period=data.period,
        member_name=data.member_name,
        unit_id=member.get("unit_id"),
        talent=list(data.talent),
        results=list(data.results),
        needs=list(data.needs),
        resources=list(data.resources),
        submitted_by=uow.actor.id,
    )
    uow.session.add(report)
    await uow.session.flush()
    await uow.record(
        "cluster.member_report_submitted",
        entity_type="cluster",
        entity_id=c.id,
        changes={"report_id": str(report.id)} | data.model_dump(mode="json"),
    )
    return report
