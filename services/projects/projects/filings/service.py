"""备案: filing of externally funded and cluster joint projects. Never commits.

Cluster–enterprise joint projects filed with the department count as provincial projects
(seed 002); national projects undertaken in the region are filed (央地协同). A filed project
is not reviewed; once staff accept the filing it is a running project for 限项 and reports.

A cluster joint project is accepted only for a cluster registry has established (or has under
rectification), filed by that cluster's own secretariat or by the unit, for a member unit of the
cluster with a lead (PI) from a member unit; the membership is checked again when staff accept
it, so a filing counts in 限项 only while it holds (clusters from registry's events).
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import Select, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from projects.filings.models import Filing
from projects.filings.schemas import FILING_KINDS_ZH, FilingCreate
from projects.funded.events import PROJECT_FILED, ProjectFiled
from projects.funded.models import Project
from projects.funded.service import record_step, units_of
from projects.numbering import next_code
from projects.organisations.models import OrganisationView
from projects.registry_views.models import ClusterView, PersonView
from shared.auth import Principal, Role
from shared.clock import utcnow
from shared.errors import FieldIssue, Forbidden, NotFound, StateConflict, ValidationFailed
from shared.ids import uuid7
from shared.uow import UnitOfWork

STAFF = (Role.department_staff, Role.administrator)


# Cluster states in which a cluster runs joint projects (成立, and 整改 while it is being put right).
FILING_STATES_ZH = {"submitted": "待审核", "filed": "已备案", "returned": "已退回"}
FILING_ACTIONS_ZH = {"accept": "同意备案", "return": "退回"}
FILING_CLUSTER_STATES = {"established": "成立", "under_rectification": "整改（一年）"}


def _refuse(field: str, code: str, message: str, message_zh: str) -> Forbidden:
    return Forbidden(
        message, message_zh, extra={"errors": [FieldIssue(field, code, message, message_zh).as_dict()]}
    )


def may_file(principal: Principal, data: FilingCreate) -> None:
    """The host unit files for itself; a cluster's secretariat files joint projects of its cluster."""
    if principal.has_role(Role.host_unit_admin) and str(data.unit_id) in units_of(principal):
        return
    if principal.has_role(Role.cluster_secretariat):
        if data.kind != "cluster_joint":
            raise _refuse(
                "kind",
                "secretariat_files_joint_projects",
                "a cluster secretariat files cluster joint projects only",
                "实验室群秘书处仅可提交实验室群联合攻关项目备案",
            )
        if data.cluster_id is None or str(data.cluster_id) not in principal.scope("clusters"):
            raise _refuse(
                "cluster_id",
                "not_your_cluster",
                "a secretariat files only for its own cluster",
                "秘书处只能为本实验室群提交备案",
            )
        return
    raise Forbidden(
        "the host unit (or the cluster's secretariat for cluster joint projects) files",
        "由承担单位（实验室群联合攻关项目可由群秘书处）提交备案",
    )


async def cluster_issues(
    session: AsyncSession, cluster_id: UUID, unit_id: UUID, pi_person_id: UUID
) -> list[FieldIssue]:
    """Why a cluster joint project may not be filed for this unit and lead, if it may not."""
    cluster = await session.get(ClusterView, cluster_id)
    if cluster is None:
        return [
            FieldIssue("cluster_id", "unknown", "not a registered laboratory cluster", "不是已登记的实验室群")
        ]
    if cluster.state not in FILING_CLUSTER_STATES:
        return [
            FieldIssue(
                "cluster_id",
                "cluster_not_operating",
                f"the cluster is '{cluster.state}'; joint projects are filed by an established cluster",
                f"实验室群「{cluster.name}」尚未成立或已撤销，不能备案联合攻关项目",
            )
        ]
    issues = []
    if not cluster.has_member(unit_id):
        issues.append(
            FieldIssue(
                "unit_id",
                "not_cluster_member",
                "the unit is not a member unit of the cluster",
                f"该单位不是实验室群「{cluster.name}」的成员单位",
            )
        )
    pi = await session.get(PersonView, pi_person_id)
    if pi is not None and (pi.unit_id is None or not cluster.has_member(pi.unit_id)):
        issues.append(
            FieldIssue(
                "pi_person_id",
                "not_cluster_member",
                "the project lead does not work at a member unit of the cluster",
                f"项目负责人不在实验室群「{cluster.name}」的成员单位",
            )
        )
    return issues


def can_see(principal: Principal, filing: Filing) -> bool:
    return (
        principal.has_role(*STAFF)
        or filing.submitted_by == principal.user_id
        or (principal.has_role(Role.host_unit_admin) and str(filing.unit_id) in units_of(principal))
        or (
            principal.has_role(Role.cluster_secretariat)
            and filing.cluster_id is not None
            and str(filing.cluster_id) in principal.scope("clusters")
        )
    )


async def submit(uow: UnitOfWork, principal: Principal, data: FilingCreate) -> Filing:
    may_file(principal, data)
    issues = []
    if data.end_date <= data.start_date:
        issues.append(
            FieldIssue(
                "end_date", "before_start", "end_date must be after start_date", "结束日期须晚于开始日期"
            )
        )
    if await uow.session.get(OrganisationView, data.unit_id) is None:
        issues.append(FieldIssue("unit_id", "unknown", "not a registered unit", "不是已注册的单位"))
    if await uow.session.get(PersonView, data.pi_person_id) is None:
        issues.append(FieldIssue("pi_person_id", "unknown", "not a registered person", "不是已登记的人员"))
    if data.kind == "cluster_joint" and data.cluster_id is None:
        issues.append(
            FieldIssue(
                "cluster_id", "required", "a cluster joint project names its cluster", "请填写所属实验室群"
            )
        )
    for n, person_id in enumerate(data.team_person_ids):
        if await uow.session.get(PersonView, person_id) is None:
            issues.append(
                FieldIssue(f"team_person_ids[{n}]", "unknown", "not a registered person", "不是已登记的人员")
            )
    if data.cluster_id is not None:
        issues += await cluster_issues(uow.session, data.cluster_id, data.unit_id, data.pi_person_id)
    if issues:
        raise ValidationFailed(issues)
    filing = Filing(
        id=uuid7(),
        code=await next_code(uow.session, Filing.code, f"BA{data.start_date.year}-", 4),
        kind=data.kind,
        title=data.title,
        funder=data.funder,
        external_code=data.external_code,
        pi_person_id=data.pi_person_id,
        unit_id=data.unit_id,
        team_person_ids=[str(p) for p in data.team_person_ids],
        cluster_id=data.cluster_id,
        start_date=data.start_date,
        end_date=data.end_date,
        external_funding_fen=data.external_funding_fen,
        self_funding_fen=data.self_funding_fen,
        indicators=[],
        documents=[{"name": d} for d in data.documents],
        state="submitted",
        submitted_by=uow.actor.id,
        submitted_at=utcnow(),
    )
    uow.session.add(filing)
    await uow.session.flush()
    await uow.record(
        "filing.submitted",
        entity_type="filing",
        entity_id=filing.id,
        changes={"code": filing.code, "kind": data.kind},
    )
    return filing


async def get(session: AsyncSession, filing_id: UUID) -> Filing:
    filing = await session.get(Filing, filing_id, with_for_update=True)
    if filing is None:
        raise NotFound("filing not found", "未找到该备案")
    return filing


async def decide(uow: UnitOfWork, filing: Filing, action: str, reason: str | None) -> Filing:
    if filing.state != "submitted":
        raise StateConflict(
            f"a {filing.state} filing is already decided",
            f"该备案当前为「{FILING_STATES_ZH[filing.state]}」，已处理",
            current_state=filing.state,
            state_labels_zh=FILING_STATES_ZH,
            code="invalid_transition",
        )
    if action == "accept" and filing.cluster_id is not None:
        issues = await cluster_issues(uow.session, filing.cluster_id, filing.unit_id, filing.pi_person_id)
        if issues:
            raise StateConflict(
                "the filing no longer meets the cluster rules: " + "; ".join(i.message for i in issues),
                "该备案已不符合实验室群规定：" + "；".join(i.message_zh for i in issues),
                current_state=filing.state,
                state_labels_zh=FILING_STATES_ZH,
                allowed=["return"],
                action_labels_zh=FILING_ACTIONS_ZH,
                code="cluster_rules",
                extra={"errors": [i.as_dict() for i in issues]},
            )
    filing.decided_by = uow.actor.id
    filing.decided_at = utcnow()
    filing.decision_reason = reason
    if action == "return":
        if not (reason and reason.strip()):
            raise ValidationFailed(
                [FieldIssue("reason", "required", "a return states why", "请填写退回理由")]
            )
        filing.state = "returned"
        await uow.record("filing.returned", entity_type="filing", entity_id=filing.id, reason=reason)
        return filing
    project = Project(
        id=uuid7(),
        code=filing.code,
        source="filing",
        title=filing.title,
        organisation_mode="filing",
        pi_person_id=filing.pi_person_id,
        unit_id=filing.unit_id,
        team_person_ids=sorted({str(filing.pi_person_id), *filing.team_person_ids}),
        start_date=filing.start_date,
        end_date=filing.end_date,
        funding_fen=0,
        external_funding_fen=filing.external_funding_fen,
        funding_basis={
            "rule": "filing",
            "rule_zh": f"备案：{FILING_KINDS_ZH[filing.kind]}",
            "funder": filing.funder,
        },
        state="in_progress",
        version=1,
        created_at=utcnow(),
    )
    uow.session.add(project)
    await uow.session.flush()
    filing.state = "filed"
    filing.project_id = project.id
    await record_step(
        uow,
        project,
        "file_accepted",
        "备案通过（视同自治区科技计划项目）",
        reason=reason,
        to_state="in_progress",
    )
    await uow.emit(
        PROJECT_FILED,
        ProjectFiled(
            project_id=project.id,
            code=project.code,
            filing_id=filing.id,
            kind=filing.kind,
            title=filing.title,
            funder=filing.funder,
            pi_person_id=project.pi_person_id,
            unit_id=project.unit_id,
            team_person_ids=[UUID(p) for p in project.team_person_ids],
            start_date=project.start_date,
            end_date=project.end_date,
            external_funding_fen=project.external_funding_fen,
        ),
        subject=f"project/{project.id}",
    )
    return filing


def _uuids(values: frozenset[str]) -> list[UUID]:
    out = []
    for value in sorted(values):
        try:
            out.append(UUID(value))
        except ValueError:
            continue
    return out


def visible(principal: Principal, state: str | None) -> Select[Any]:
    """The filings the caller may see (the rule of can_see, as SQL)."""
    stmt = select(Filing)
    if not principal.has_role(*STAFF):
        ors: list[Any] = [Filing.submitted_by == principal.user_id]
        if principal.has_role(Role.host_unit_admin) and units_of(principal):
            ors.append(Filing.unit_id.in_(sorted(units_of(principal))))
        clusters = _uuids(principal.scope("clusters")) if principal.has_role(Role.cluster_secretariat) else []
        if clusters:
            ors.append(Filing.cluster_id.in_(clusters))
        stmt = stmt.where(or_(*ors))
    if state:
        stmt = stmt.where(Filing.state == state)
    return stmt


async def listing(
    session: AsyncSession, principal: Principal, state: str | None, *, offset: int, limit: int
) -> tuple[list[Filing], int]:
    """One page of the visible filings, newest first, and how many there are."""
    stmt = visible(principal, state)
    total = (await session.execute(select(func.count()).select_from(stmt.subquery()))).scalar_one()
    rows = await session.execute(
        stmt.order_by(Filing.submitted_at.desc(), Filing.id.desc()).offset(offset).limit(limit)
    )
    return list(rows.scalars()), int(total)
