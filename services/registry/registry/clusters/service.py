"""Cluster rules: build steps with their artefacts, annual assessments and the two-strike rule."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from registry.access import is_staff, require
from registry.clusters.events import (
    CLUSTER_EVENTS,
    GUIDELINE_REVISED,
    GUIDELINE_SUGGESTED,
    GUIDELINE_WITHDRAWN,
    ClusterEventPayload,
    GuidelineRevisedPayload,
    GuidelineSuggestedPayload,
    GuidelineWithdrawnPayload,
)
from registry.clusters.machine import (
    CLUSTER_MACHINE,
    NEEDS_SERVICE_DUTIES,
    REQUIRED_ARTEFACTS,
    VETTING_LABELS,
)
from registry.clusters.models import Cluster, ClusterAssessment, ClusterWorkPlan, GuidelineSuggestion
from registry.clusters.schemas import (
    AssessmentIn,
    ClusterCreate,
    ClusterUpdate,
    GuidelineIn,
    GuidelineUpdate,
    VettingIn,
    WorkPlanIn,
)
from registry.db import kit
from registry.policy.service import current as current_policy
from shared.auth import Principal, Role
from shared.clock import utcnow
from shared.errors import DuplicateValue, FieldIssue, StateConflict, ValidationFailed
from shared.ids import uuid7
from shared.uow import UnitOfWork

PASSED = ("passed", "passed_with_changes")
GUIDELINE_FIELDS = ("year", "title", "directions", "field", "rationale")

DOCUMENT_FIELDS = (
    "lead_platform_ids",
    "director",
    "vice_directors",
    "expert_committee",
    "member_units",
    "secretariat",
    "service_organisations",
    "industry_cluster",
    "work_plan",
    "plan_document",
    "approval_document",
)


def member_unit_ids(c: Cluster) -> list[UUID]:
    """The member units that are in the register, once each, in the order listed."""
    seen: dict[UUID, None] = {}
    for member in c.member_units or []:
        unit_id = member.get("unit_id") if isinstance(member, dict) else None
        if unit_id:
            seen.setdefault(UUID(str(unit_id)), None)
    return list(seen)


def may_run_cluster(principal: Principal, cluster: Cluster) -> bool:
    return is_staff(principal) or (
        principal.has_role(Role.cluster_secretariat) and str(cluster.id) in principal.scope("clusters")
    )


async def _step(
    uow: UnitOfWork,
    c: Cluster,
    action: str,
    *,
    from_state: str | None,
    reason: str | None,
    changes: dict[str, Any] | None = None,
) -> None:
    event = await uow.emit(
        CLUSTER_EVENTS[action],
        ClusterEventPayload(
            id=c.id,
            name=c.name,
            state=c.state,
            action=action,
            reason=reason,
            version=c.version,
            member_unit_ids=member_unit_ids(c),
            lead_platform_ids=[UUID(str(p)) for p in c.lead_platform_ids or []],
        ),
        subject=f"cluster/{c.id}",
    )
    await uow.record(
        f"cluster.{action}",
        entity_type="cluster",
        entity_id=c.id,
        changes={"state": [from_state, c.state], **(changes or {})},
        reason=reason,
        event=event,
    )


def _apply_fields(c: Cluster, data: ClusterCreate | ClusterUpdate) -> dict[str, Any]:
    given = data.model_dump(mode="json", exclude_unset=True)
    changed = {}
    for name in DOCUMENT_FIELDS:
        if name in given and getattr(c, name) != given[name]:
            changed[name] = [getattr(c, name), given[name]]
            setattr(c, name, given[name])
    return changed


async def propose(uow: UnitOfWork, data: ClusterCreate) -> Cluster:
    c = Cluster(
        id=uuid7(),
        name=data.name or "",
        field=data.field or "",
        direction=data.direction or "",
        state="intent",
        version=1,
        lead_platform_ids=[],
        vice_directors=[],
        expert_committee={},
        member_units=[],
        secretariat={},
        service_organisations=[],
        required_measures=[],
    )
    _apply_fields(c, data)
    missing = _missing_artefacts(c, "propose")
    if missing:
        raise ValidationFailed(missing)
    uow.session.add(c)
    try:
        async with uow.session.begin_nested():
            await uow.session.flush()
    except IntegrityError as exc:
        raise DuplicateValue("name", c.name) from exc
    await _step(uow, c, "propose", from_state=None, reason="组建意向")
    return c


async def update(uow: UnitOfWork, principal: Principal, c: Cluster, data: ClusterUpdate) -> Cluster:
    require(may_run_cluster(principal, c), "edit this cluster", "修改该实验室群")
    changed = _apply_fields(c, data)
    if changed:
        c.version += 1
        await uow.session.flush()
        await _step(uow, c, "update", from_state=c.state, reason=data.reason, changes=changed)
    return c


def _missing_artefacts(c: Cluster, action: str) -> list[FieldIssue]:
    issues = []
    for path, zh in REQUIRED_ARTEFACTS.get(action, {}).items():
        value: Any = c
        for part in path.split("."):
            value = getattr(value, part, None) if not isinstance(value, dict) else value.get(part)
        if not value:
            issues.append(FieldIssue(path, "artefact_missing", f"'{action}' needs {path}", f"缺少{zh}"))
    if action in NEEDS_SERVICE_DUTIES:
        for i, org in enumerate(c.service_organisations or []):
            if isinstance(org, dict) and not [d for d in org.get("duties") or [] if str(d).strip()]:
                issues.append(
                    FieldIssue(
                        f"service_organisations[{i}].duties",
                        "artefact_missing",
                        f"service organisation '{org.get('name')}' has no duties",
                        f"服务机构“{org.get('name')}”未明确职责",
                    )
                )
    return issues


async def act(uow: UnitOfWork, principal: Principal, c: Cluster, action: str, reason: str) -> Cluster:
    transition = CLUSTER_MACHINE.apply(c.state, action, principal.roles)
    if not is_staff(principal):
        require(may_run_cluster(principal, c), "act for this cluster", "办理该实验室群事项")
    missing = _missing_artefacts(c, action)
    if missing:
        raise ValidationFailed(missing)
    before = c.state
    c.state = transition.target
    if action == "close_rectification":
        c.rectification_until = None
        c.required_measures = []
    c.version += 1
    await uow.session.flush()
    await _step(uow, c, action, from_state=before, reason=reason)
    return c


def _one_year_later(d: date) -> date:
    try:
        return d.replace(year=d.year + 1)
    except ValueError:
        return d.replace(year=d.year + 1, day=28)


async def assess(
    uow: UnitOfWork, c: Cluster, data: AssessmentIn, *, finalized_at: datetime, source: str
) -> Cluster:
    """Fail → one-year rectification with the required measures; N consecutive fails
    (policy ``cluster_consecutive_fails``, default 2) → restructure or revoke."""
    if c.state not in ("established", "under_rectification"):
        raise CLUSTER_MACHINE.refuse(
            c.state,
            "only an established cluster is assessed",
            f"实验室群当前为「{CLUSTER_MACHINE.state_labels_zh[c.state]}」，仅已成立的实验室群参加年度考核",
        )
    existing = (
        await uow.session.execute(
            select(ClusterAssessment).where(
                ClusterAssessment.cluster_id == c.id, ClusterAssessment.year == data.year
            )
        )
    ).scalar_one_or_none()
    if existing is not None:
        raise DuplicateValue("year", str(data.year), existing_id=str(existing.id))
    plan = await work_plan(uow, c.id, data.year)
    _check_achieved(plan, data.achieved, data.year)
    uow.session.add(
        ClusterAssessment(
            id=uuid7(),
            cluster_id=c.id,
            year=data.year,
            result=data.result,
            score=data.score,
            required_measures=data.required_measures,
            source=source,
            finalized_at=finalized_at,
            achieved=dict(data.achieved),
            against_plan=against_plan(plan, data.achieved),
        )
    )
    results = dict(
        (
            await uow.session.execute(
                select(ClusterAssessment.year, ClusterAssessment.result).where(
                    ClusterAssessment.cluster_id == c.id
                )
            )
        ).all()
    )
    results[data.year] = data.result
    strikes = 0
    year = data.year
    while results.get(year) == "fail":
        strikes += 1
        year -= 1
    limit = int((await current_policy(uow.session))["cluster_consecutive_fails"])
    before = c.state
    reason = f"{data.year}年度考核{'合格' if data.result == 'pass' else '不合格'}"
    details: dict[str, Any] = {"year": data.year, "result": data.result, "consecutive_fails": strikes}
    if plan is not None:
        details["work_plan_version"] = plan.version
    if data.result == "fail" and strikes >= limit:
        action = "require_restructure"
        c.required_measures = data.required_measures or ["重组", "撤销"]
    elif data.result == "fail":
        action = "open_rectification" if c.state == "established" else "assess"
        c.rectification_until = _one_year_later(finalized_at.date())
        c.required_measures = data.required_measures
    elif c.state == "under_rectification":
        action = "close_rectification"
        c.rectification_until = None
        c.required_measures = []
    else:
        action = "assess"
    if action != "assess":
        c.state = CLUSTER_MACHINE.apply(c.state, action).target
    c.version += 1
    await uow.session.flush()
    await _step(uow, c, action, from_state=before, reason=reason, changes=details)
    return c


async def work_plan(uow: UnitOfWork, cluster_id: UUID, year: int) -> ClusterWorkPlan | None:
    return (
        await uow.session.execute(
            select(ClusterWorkPlan).where(
                ClusterWorkPlan.cluster_id == cluster_id, ClusterWorkPlan.year == year
            )
        )
    ).scalar_one_or_none()


def _check_achieved(plan: ClusterWorkPlan | None, achieved: dict[str, float], year: int) -> None:
    if not achieved:
        return
    if plan is None:
        raise ValidationFailed(
            [
                FieldIssue(
                    "achieved",
                    "no_work_plan",
                    f"no work plan for {year} to compare the achieved values with",
                    f"{year}年度没有工作计划，无法对照考核指标",
                )
            ]
        )
    codes = {i["code"] for i in plan.indicators}
    unknown = [k for k in achieved if k not in codes]
    if unknown:
        raise ValidationFailed(
            [
                FieldIssue(
                    f"achieved.{k}",
                    "unknown_indicator",
                    f"not an indicator of the {year} work plan",
                    f"不是{year}年度工作计划的考核指标",
                )
                for k in unknown
            ]
        )


def against_plan(plan: ClusterWorkPlan | None, achieved: dict[str, float]) -> dict[str, Any] | None:
    """The assessment set against the year's plan, as it stood when the assessment was made."""
    if plan is None:
        return None
    rows = []
    for i in plan.indicators:
        value = achieved.get(i["code"])
        rows.append(
            {
                "code": i["code"],
                "name": i["name"],
                "unit": i.get("unit"),
                "target": i["target"],
                "achieved": value,
                "met": None if value is None else value >= i["target"],
            }
        )
    return {
        "work_plan_version": plan.version,
        "indicators": rows,
        "met": sum(1 for r in rows if r["met"]),
        "not_met": sum(1 for r in rows if r["met"] is False),
        "not_reported": sum(1 for r in rows if r["met"] is None),
    }


async def record_work_plan(
    uow: UnitOfWork, principal: Principal, c: Cluster, year: int, data: WorkPlanIn
) -> ClusterWorkPlan:
    """The secretariat sets (or revises) the year's tasks and indicators; each change is kept."""
    require(may_run_cluster(principal, c), "set this cluster's work plan", "制定该实验室群的年度工作计划")
    if c.state == "revoked":
        raise CLUSTER_MACHINE.refuse(
            c.state,
            "a revoked cluster has no work plan",
            "已撤销的实验室群不再制定工作计划",
            roles=principal.roles,
        )
    indicators = [i.model_dump(mode="json") for i in data.indicators]
    seen: set[str] = set()
    dupes = []
    for n, i in enumerate(indicators):
        if i["code"] in seen:
            dupes.append(
                FieldIssue(
                    f"indicators[{n}].code", "duplicate", "indicator code given twice", "考核指标代码重复"
                )
            )
        seen.add(i["code"])
    if dupes:
        raise ValidationFailed(dupes)
    tasks = list(data.tasks)
    plan = (
        await uow.session.execute(
            select(ClusterWorkPlan)
            .where(ClusterWorkPlan.cluster_id == c.id, ClusterWorkPlan.year == year)
            .with_for_update()
        )
    ).scalar_one_or_none()
    if plan is None:
        plan = ClusterWorkPlan(
            id=uuid7(),
            cluster_id=c.id,
            year=year,
            tasks=tasks,
            indicators=indicators,
            version=1,
            updated_by=uow.actor.id,
        )
        uow.session.add(plan)
        changes: dict[str, Any] = {"year": year, "tasks": [None, tasks], "indicators": [None, indicators]}
    else:
        changes = {"year": year}
        if plan.tasks != tasks:
            changes["tasks"] = [plan.tasks, tasks]
            plan.tasks = tasks
        if plan.indicators != indicators:
            changes["indicators"] = [plan.indicators, indicators]
            plan.indicators = indicators
        if len(changes) == 1:
            return plan
        plan.version += 1
        plan.updated_by = uow.actor.id
    await uow.session.flush()
    changes["version"] = plan.version
    await uow.record(
        "cluster.work_plan_recorded",
        entity_type="cluster",
        entity_id=c.id,
        changes=changes,
        reason=data.reason,
    )
    return plan


async def suggest_guideline(
    uow: UnitOfWork, principal: Principal, c: Cluster, data: GuidelineIn
) -> GuidelineSuggestion:
    require(
        may_run_cluster(principal, c), "suggest guidelines for this cluster", "代表该实验室群提出指南建议"
    )
    if c.state not in ("established", "under_rectification"):
        raise CLUSTER_MACHINE.refuse(
            c.state,
            "only an established cluster suggests guidelines",
            f"实验室群当前为「{CLUSTER_MACHINE.state_labels_zh[c.state]}」，成立后方可提出指南建议",
            roles=principal.roles,
        )
    s = GuidelineSuggestion(
        id=uuid7(),
        cluster_id=c.id,
        year=data.year,
        title=data.title,
        directions=list(data.directions),
        field=data.field,
        rationale=data.rationale,
        created_by=uow.actor.id,
        vetting_status="pending_vetting",
    )
    uow.session.add(s)
    await uow.session.flush()
    await uow.record(
        "cluster.guideline_suggested",
        entity_type="cluster",
        entity_id=c.id,
        changes=data.model_dump(mode="json")
        | {"suggestion_id": str(s.id), "vetting_status": s.vetting_status},
    )
    return s


def _suggestion_fields(c: Cluster, s: GuidelineSuggestion) -> dict[str, Any]:
    """What every guideline event says of the suggestion (projects keep a copy of it)."""
    return {
        "suggestion_id": s.id,
        "cluster_id": c.id,
        "cluster_name": c.name,
        "year": s.year,
        "title": s.title,
        "directions": list(s.directions),
        "field": s.field,
        "rationale": s.rationale,
    }


async def revise_guideline(
    uow: UnitOfWork, principal: Principal, c: Cluster, s: GuidelineSuggestion, patch: GuidelineUpdate
) -> GuidelineSuggestion:
    """The cluster edits a suggestion it made; projects replace their copy by ``suggestion_id``."""
    require(
        may_run_cluster(principal, c),
        "revise this cluster's guideline suggestions",
        "修改该实验室群的指南建议",
    )
    requested = patch.model_dump(exclude_unset=True, exclude={"reason"})
    changes = {k: [getattr(s, k), v] for k, v in requested.items() if v is not None and getattr(s, k) != v}
    if not changes:
        return s
    for k, (_, v) in changes.items():
        setattr(s, k, list(v) if k == "directions" else v)
    s.version += 1
    before_vetting = s.vetting_status
    # A changed text is vetted again; projects keep the last passed version until then.
    s.vetting_status = "pending_vetting"
    await uow.session.flush()
    await uow.record(
        "cluster.guideline_revised",
        entity_type="guideline_suggestion",
        entity_id=s.id,
        changes=changes | {"vetting_status": [before_vetting, s.vetting_status], "version": s.version},
        reason=patch.reason,
    )
    return s


def may_vet(principal: Principal, c: Cluster) -> bool:
    """The expert committee's chair, signed in as the person named chair; or the secretariat
    recording the chair's outcome (the chair may be from outside the province, with no account)."""
    chair = (c.expert_committee or {}).get("chair") or {}
    chair_id = chair.get("person_id") if isinstance(chair, dict) else None
    is_chair = bool(chair_id) and principal.person_id is not None and str(chair_id) == principal.person_id
    return is_chair or may_run_cluster(principal, c)


async def vet_guideline(
    uow: UnitOfWork, principal: Principal, c: Cluster, s: GuidelineSuggestion, data: VettingIn
) -> GuidelineSuggestion:
    """专家委员会把关: 通过 / 修改后通过 / 不通过. A passed suggestion is sent to projects: its
    first passing as ``guideline_suggested``, a later one (after a revision) as ``guideline_revised``."""
    require(may_vet(principal, c), "record the expert committee's vetting", "记录专家委员会把关意见")
    if s.vetting_status != "pending_vetting":
        raise StateConflict(
            f"the suggestion is {s.vetting_status}; revise it to have it vetted again",
            f"该指南建议已{VETTING_LABELS[s.vetting_status]}，修改后方可再次提交把关",
            current_state=s.vetting_status,
            state_labels_zh=VETTING_LABELS,
            allowed=["revise"],
            action_labels_zh={"revise": "修改指南建议"},
        )
    if data.outcome != "passed" and not (data.comments or "").strip():
        raise ValidationFailed(
            [
                FieldIssue(
                    "comments",
                    "required",
                    "say what must change, or why it does not pass",
                    "修改后通过或不通过须写明把关意见",
                )
            ]
        )
    chair = (c.expert_committee or {}).get("chair") or {}
    chair_name = chair.get("name") if isinstance(chair, dict) else None
    s.vetting_status = data.outcome
    s.vetting_comments = data.comments
    s.vetted_by_name = chair_name
    s.vetted_at = utcnow()
    s.vetting_recorded_by = uow.actor.id
    await uow.session.flush()
    event = None
    if data.outcome in PASSED:
        vetting = {"vetting_outcome": data.outcome, "vetting_comments": data.comments}
        if s.emitted_version is None:
            event = await uow.emit(
                GUIDELINE_SUGGESTED,
                GuidelineSuggestedPayload(**_suggestion_fields(c, s), **vetting),
                subject=f"cluster/{c.id}",
            )
        else:
            changed_fields, revision_reason = await _changed_since_emitted(uow, s)
            event = await uow.emit(
                GUIDELINE_REVISED,
                GuidelineRevisedPayload(
                    **_suggestion_fields(c, s),
                    **vetting,
                    changed_fields=changed_fields,
                    reason=revision_reason,
                    version=s.version,
                ),
                subject=f"cluster/{c.id}",
            )
        s.emitted_version = s.version
    elif data.outcome == "rejected" and s.emitted_version is not None:
        # Projects hold an earlier passed version: a rejected revision withdraws it there, and
        # a later passing revision is sent afresh as a suggestion.
        event = await uow.emit(
            GUIDELINE_WITHDRAWN,
            GuidelineWithdrawnPayload(
                suggestion_id=s.id,
                cluster_id=c.id,
                cluster_name=c.name,
                year=s.year,
                title=s.title,
                vetting_comments=data.comments,
                version=s.version,
            ),
            subject=f"cluster/{c.id}",
        )
        s.emitted_version = None
    await uow.record(
        "cluster.guideline_vetted",
        entity_type="guideline_suggestion",
        entity_id=s.id,
        changes={
            "outcome": data.outcome,
            "outcome_zh": VETTING_LABELS[data.outcome],
            "comments": data.comments,
            "chair": chair_name,
            "version": s.version,
            "sent_to_projects": event is not None and data.outcome in PASSED,
            "withdrawn_from_projects": event is not None and data.outcome not in PASSED,
        },
        reason=data.comments,
        event=event,
    )
    return s


async def _changed_since_emitted(uow: UnitOfWork, s: GuidelineSuggestion) -> tuple[list[str], str | None]:
    """The fields revised since the version projects hold, and the last revision's reason
    (from the suggestion's audit trail)."""
    t = kit.audit_log
    rows = await uow.session.execute(
        select(t.c.changes, t.c.reason)
        .where(
            t.c.entity_type == "guideline_suggestion",
            t.c.entity_id == str(s.id),
            t.c.action == "cluster.guideline_revised",
        )
        .order_by(t.c.occurred_at, t.c.id)
    )
    fields: set[str] = set()
    reason: str | None = None
    for row in rows:
        changes: dict[str, Any] = row.changes or {}
        why: str | None = row.reason
        if int(changes.get("version") or 0) > (s.emitted_version or 0):
            fields.update(k for k in changes if k in GUIDELINE_FIELDS)
            reason = why or reason
    return sorted(fields), reason
