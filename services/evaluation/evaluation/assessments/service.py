"""Assessments (考核评估): campaigns of labs and clusters, project evaluations, and their finalizing.

An assessment is a round whose items are the assessed subjects; experts are requested, drawn
(回避 against host and member units, directors and teams) and score them exactly as in an
application review. Each subject's result is finalized on its own and flows back as an event.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from sqlalchemy import select

from evaluation.assessments.events import (
    CLUSTER_ASSESSMENT_FINALIZED,
    LAB_ASSESSMENT_FINALIZED,
    PROJECT_EVALUATION_FINALIZED,
    ClusterAssessmentFinalized,
    EvaluationRequested,
    IndicatorVerdict,
    LabAssessmentFinalized,
    ProjectEvaluationFinalized,
)
from evaluation.assessments.models import ClusterView, PlatformView
from evaluation.codes import (
    ASSESSED_PLATFORM_KINDS,
    PROJECT_EVALUATION_KINDS,
    RESULT_CODES_BY_KIND,
    ROUND_KINDS,
)
from evaluation.experts.models import Collaboration
from evaluation.forms.service import form_for
from evaluation.reviews import service as reviews
from evaluation.reviews.models import ReviewResult
from evaluation.rounds import machine
from evaluation.rounds.models import ReviewRound, RoundItem
from shared.clock import utcnow
from shared.errors import Conflict, FieldIssue, ValidationFailed
from shared.events.envelope import Envelope
from shared.ids import uuid7
from shared.uow import UnitOfWork

ASSESSED_LAB_KINDS = ("autonomous_region_key_lab", "national_key_lab_incubator")
ASSESSED_LAB_STATES = ("operating", "under_rectification")
ASSESSED_CLUSTER_STATES = ("established", "under_rectification")
# seed 002: a failed cluster gets one year to put things right, e.g. a new director or service body
DEFAULT_CLUSTER_MEASURES = ["一年内完成整改", "视情况调整群主任或调换服务机构"]


async def _new_round(uow: UnitOfWork, kind: str, name: str, period: str) -> ReviewRound:
    rnd = ReviewRound(
        call_id=None, kind=kind, period=period, name=name, status="collecting", rules={}, version=1
    )
    uow.session.add(rnd)
    await uow.session.flush()
    await uow.record(
        "round_opened", entity_type="review_round", entity_id=rnd.id, changes={"kind": kind, "period": period}
    )
    return rnd


async def _already_assessed(uow: UnitOfWork, kind: str, period: str, subject_ids: list[UUID]) -> list[UUID]:
    q = (
        select(RoundItem.subject_id)
        .join(ReviewRound, ReviewRound.id == RoundItem.round_id)
        .where(ReviewRound.kind == kind, ReviewRound.period == period, RoundItem.subject_id.in_(subject_ids))
    )
    return [sid for sid in (await uow.session.execute(q)).scalars() if sid is not None]


@dataclass(frozen=True)
class _Assessed:
    """What one kind of platform assessment takes, and how it words its refusals."""

    round_kind: str
    field: str  # the request's list: labs or platforms
    kinds: Collection[str]
    other_kinds: Collection[str]  # assessed by the other route, named in the refusal
    not_here: tuple[str, str]
    other_route: tuple[str, str]
    duplicate: tuple[str, str]
    taken: tuple[str, str]  # "{n} <noun>(s) …" in English, "{n} 个<noun>" in Chinese
    name_zh: str


LABS = _Assessed(
    "lab_assessment",
    "labs",
    ASSESSED_LAB_KINDS,
    ASSESSED_PLATFORM_KINDS,
    ("is not assessed as a key lab", "该平台不属于在运行的重点实验室，不参加重点实验室考核评估"),
    (" (assess it under /assessments/platforms)", "（请按创新平台考核评估）"),
    ("a lab is listed twice", "实验室重复列出"),
    ("lab(s)", "实验室"),
    "重点实验室考核评估",
)
PLATFORMS = _Assessed(
    "platform_assessment",
    "platforms",
    ASSESSED_PLATFORM_KINDS,
    ASSESSED_LAB_KINDS,
    ("is not assessed here", "该平台不在运行或不属于本类考核评估"),
    (" (key labs: /assessments/labs)", "（重点实验室请按重点实验室考核评估）"),
    ("a platform is listed twice", "平台重复列出"),
    ("platform(s)", "平台"),
    "创新平台考核评估",
)


async def start_lab_assessment(
    uow: UnitOfWork, *, period: str, name: str | None, labs: list[dict[str, Any]]
) -> ReviewRound:
    """A periodic assessment of key labs, each judged by the form of its orientation (分类评价)."""
    return await _start_platform_round(uow, LABS, period=period, name=name, entries=labs)


async def start_platform_assessment(
    uow: UnitOfWork, *, period: str, name: str | None, platforms: list[dict[str, Any]]
) -> ReviewRound:
    """A periodic assessment of platforms other than key labs (技术创新中心, 临床医学研究中心,
    新型研发机构, 院士专家工作站 考核激励、动态管理, 中试基地 评估评价; seed 004), each judged by
    the form of its kind. Grades and their consequences in registry are those of key labs."""
    return await _start_platform_round(uow, PLATFORMS, period=period, name=name, entries=platforms)


async def _start_platform_round(
    uow: UnitOfWork, what: _Assessed, *, period: str, name: str | None, entries: list[dict[str, Any]]
) -> ReviewRound:
    issues: list[FieldIssue] = []
    views: list[PlatformView] = []
    for n, entry in enumerate(entries):
        p = await uow.session.get(PlatformView, entry["platform_id"])
        field = f"{what.field}[{n}].platform_id"
        if p is None:
            issues.append(FieldIssue(field, "unknown", "no such platform", "未找到该平台"))
        elif p.kind not in what.kinds or p.state not in ASSESSED_LAB_STATES:
            elsewhere = p.kind in what.other_kinds
            issues.append(
                FieldIssue(
                    field,
                    "not_assessable",
                    f"a {p.kind} in state {p.state} {what.not_here[0]}"
                    + (what.other_route[0] if elsewhere else ""),
                    what.not_here[1] + (what.other_route[1] if elsewhere else ""),
                )
            )
        else:
            views.append(p)
    ids = [entry["platform_id"] for entry in entries]
    if len(set(ids)) != len(ids):
        issues.append(FieldIssue(what.field, "duplicate", *what.duplicate))
    if issues:
        raise ValidationFailed(issues)
    taken = await _already_assessed(uow, what.round_kind, period, ids)
    if taken:
        raise Conflict(
            f"{len(taken)} {what.taken[0]} already have an assessment for {period}",
            f"{len(taken)} 个{what.taken[1]}在 {period} 已有考核评估",
            code="duplicate",
            extra={"platform_ids": [str(t) for t in taken]},
        )
    rnd = await _new_round(uow, what.round_kind, name or f"{what.name_zh}（{period}）", period)
    for entry, p in zip(entries, views, strict=True):
        # key labs are judged by the form of their orientation (分类评价), others by their kind's
        orientation = entry.get("orientation")
        form = await form_for(uow, what.round_kind, variant=orientation or p.kind)
        uow.session.add(
            RoundItem(
                id=uuid7(),
                round_id=rnd.id,
                subject_id=p.id,
                code=p.code,
                title=p.name,
                keywords=entry["keywords"],
                discipline_codes=entry["discipline_codes"],
                applicant_person_id=p.director_person_id,
                applicant_unit_id=p.host_unit_id,
                team_person_ids=[],
                team_unit_ids=list(p.co_builder_unit_ids),
                avoid_person_ids=[],
                orientation=orientation,
                form_id=form.id,
                details={"period": period, "field": p.field, "sub_field": p.sub_field, "kind": p.kind},
            )
        )
    await uow.session.flush()
    return rnd


async def start_cluster_assessment(
    uow: UnitOfWork, *, year: int, name: str | None, clusters: list[dict[str, Any]]
) -> ReviewRound:
    """The annual assessment of laboratory clusters (seed 002)."""
    issues: list[FieldIssue] = []
    views: list[ClusterView] = []
    for n, entry in enumerate(clusters):
        c = await uow.session.get(ClusterView, entry["cluster_id"])
        if c is None:
            issues.append(
                FieldIssue(f"clusters[{n}].cluster_id", "unknown", "no such cluster", "未找到该实验室群")
            )
        elif c.state not in ASSESSED_CLUSTER_STATES:
            issues.append(
                FieldIssue(
                    f"clusters[{n}].cluster_id",
                    "not_assessable",
                    f"a cluster in state {c.state} is not assessed",
                    "该实验室群尚未成立或已撤销，不参加年度考核",
                )
            )
        else:
            views.append(c)
    if issues:
        raise ValidationFailed(issues)
    period = str(year)
    taken = await _already_assessed(uow, "cluster_assessment", period, [c["cluster_id"] for c in clusters])
    if taken:
        raise Conflict(
            f"{len(taken)} cluster(s) already have an assessment for {year}",
            f"{len(taken)} 个实验室群 {year} 年度已有考核",
            code="duplicate",
            extra={"cluster_ids": [str(t) for t in taken]},
        )
    rnd = await _new_round(uow, "cluster_assessment", name or f"实验室群年度考核（{year}）", period)
    form = await form_for(uow, "cluster_assessment")
    for entry, c in zip(clusters, views, strict=True):
        uow.session.add(
            RoundItem(
                id=uuid7(),
                round_id=rnd.id,
                subject_id=c.id,
                code=f"QUN-{year}-{str(c.id)[:8]}",
                title=c.name,
                keywords=entry["keywords"],
                discipline_codes=entry["discipline_codes"],
                applicant_person_id=None,
                applicant_unit_id=None,
                team_person_ids=entry["person_ids"],
                team_unit_ids=entry["unit_ids"],
                avoid_person_ids=[],
                form_id=form.id,
                details={"year": year},
            )
        )
    await uow.session.flush()
    return rnd


async def take_evaluation_request(uow: UnitOfWork, p: EvaluationRequested) -> None:
    """Projects asks for an evaluation: a round of its own, matched like the original application."""
    if await uow.session.get(RoundItem, p.request_id) is not None:
        return
    kind = p.kind if p.kind in PROJECT_EVALUATION_KINDS else "mid_term"
    period = str((p.due_date or utcnow().date()).year)
    rnd = await _new_round(uow, "project_evaluation", f"{PROJECT_EVALUATION_KINDS[kind]} {p.code}", period)
    disciplines: list[str] = []
    keywords: list[str] = []
    collaboration = await uow.session.get(Collaboration, p.project_id)
    if collaboration is not None and collaboration.application_id is not None:
        application = await uow.session.get(RoundItem, collaboration.application_id)
        if application is not None:
            disciplines, keywords = list(application.discipline_codes), list(application.keywords)
    form = await form_for(uow, kind)
    uow.session.add(
        RoundItem(
            id=p.request_id,
            round_id=rnd.id,
            subject_id=p.project_id,
            code=p.code,
            title=p.title,
            keywords=keywords,
            discipline_codes=disciplines,
            applicant_person_id=p.pi_person_id,
            applicant_unit_id=p.unit_id,
            team_person_ids=p.team_person_ids,
            team_unit_ids=p.team_unit_ids,
            avoid_person_ids=[],
            review_due=p.due_date,
            form_id=form.id,
            details={"kind": kind, "indicators": [i.model_dump(mode="json") for i in p.indicators]},
        )
    )
    await uow.session.flush()
    await uow.record(
        "evaluation_requested",
        entity_type="round_item",
        entity_id=p.request_id,
        changes={"round_id": str(rnd.id), "project_id": str(p.project_id), "kind": kind},
    )


def _as_number(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def proposed_verdicts(item: RoundItem) -> list[dict[str, Any]]:
    """Each promised indicator against what was reported: achieved, partly (≥ 60 %), or not."""
    out = []
    for ind in item.details.get("indicators", []):
        promised, reported = _as_number(ind.get("promised")), _as_number(ind.get("reported"))
        if promised is None or reported is None:
            verdict = (
                "achieved"
                if ind.get("promised") == ind.get("reported") and ind.get("reported")
                else "not_achieved"
            )
        elif reported >= promised:
            verdict = "achieved"
        elif promised > 0 and reported / promised >= 0.6:
            verdict = "partly_achieved"
        else:
            verdict = "not_achieved"
        out.append({"id": str(ind["id"]), "achieved": verdict == "achieved", "verdict": verdict})
    return out


async def finalize_item(
    uow: UnitOfWork, rnd: ReviewRound, item: RoundItem, body: dict[str, Any]
) -> ReviewResult:
    """Settle one assessed subject: the bands' result unless the office decides otherwise (with a reason)."""
    if rnd.kind == "application_review":
        raise Conflict(
            "application reviews are finalized as a whole round",
            "项目申报评审按轮次整体定稿",
            code="finalize_round",
        )
    machine.require(rnd, "finalize")
    if await uow.session.get(ReviewResult, item.id) is not None:
        raise machine.item_finalized("this assessment is already final", "该考核评估已定稿")
    summary = next(sm for sm in await reviews.summarise(uow, rnd) if sm.item.id == item.id)
    reviews.refuse_if_not_ready([summary])
    assert summary.score is not None
    codes = RESULT_CODES_BY_KIND[rnd.kind]
    issues: list[FieldIssue] = []
    result = body.get("result") or summary.computed_result
    if result not in codes:
        issues.append(FieldIssue("result", "enum", f"one of {', '.join(codes)}", "结果不在允许范围内"))
    overridden = result != summary.computed_result
    reason = (body.get("reason") or "").strip() or None
    if overridden and not reason:
        issues.append(
            FieldIssue(
                "reason",
                "required",
                "a result other than the scores give needs a reason",
                "调整考核结果须说明理由",
            )
        )
    details: dict[str, Any] = {"remarks": body.get("remarks")}
    if rnd.kind == "project_evaluation":
        diligent = body.get("diligent")
        if diligent is None and result in ("fail", "terminated"):
            issues.append(
                FieldIssue(
                    "diligent",
                    "required",
                    "say whether the team did its duty (容错)",
                    "请认定项目团队是否勤勉尽责（容错）",
                )
            )
        verdicts = {v["id"]: v for v in proposed_verdicts(item)}
        known = set(verdicts)
        for n, v in enumerate(body.get("indicator_verdicts") or []):
            if v["id"] not in known:
                issues.append(
                    FieldIssue(
                        f"indicator_verdicts[{n}].id",
                        "unknown",
                        "not an indicator of this project",
                        "不是该项目的考核指标",
                    )
                )
            else:
                verdicts[v["id"]] = {
                    "id": v["id"],
                    "achieved": v["verdict"] == "achieved",
                    "verdict": v["verdict"],
                }
        details.update(
            diligent=True if diligent is None else bool(diligent),
            indicator_verdicts=list(verdicts.values()),
            kind=item.details.get("kind"),
        )
    if rnd.kind == "cluster_assessment":
        measures = body.get("required_measures") or []
        details["required_measures"] = measures or (DEFAULT_CLUSTER_MEASURES if result == "fail" else [])
    if issues:
        raise ValidationFailed(issues)
    row = reviews.new_result(rnd, summary, uow.actor.id, result=result, reason=reason, details=details)
    uow.session.add(row)
    await uow.session.flush()
    envelope = await _emit(uow, rnd, item, row)
    await uow.record(
        "assessment_finalized",
        entity_type="round_item",
        entity_id=item.id,
        changes={
            "kind": rnd.kind,
            "score": row.score,
            "result": result,
            "computed_result": row.computed_result,
        },
        reason=reason,
        event=envelope,
    )
    remaining = (
        await uow.session.execute(
            select(RoundItem.id)
            .outerjoin(ReviewResult, ReviewResult.item_id == RoundItem.id)
            .where(RoundItem.round_id == rnd.id, ReviewResult.item_id.is_(None))
            .limit(1)
        )
    ).first()
    if remaining is None:
        rnd.status = "finalized"
        rnd.version += 1
        await uow.record("round_finalized", entity_type="review_round", entity_id=rnd.id)
    return row


async def _emit(uow: UnitOfWork, rnd: ReviewRound, item: RoundItem, row: ReviewResult) -> Envelope:
    assert item.subject_id is not None and row.result is not None
    d = row.details
    if rnd.kind in ("lab_assessment", "platform_assessment"):
        return await uow.emit(
            LAB_ASSESSMENT_FINALIZED,
            LabAssessmentFinalized(
                assessment_id=item.id,
                platform_id=item.subject_id,
                period=rnd.period or "",
                grade=row.result,
                score=row.score,
                finalized_at=row.finalized_at,
                remarks=d.get("remarks"),
                orientation=item.orientation,
                indicator_scores=row.indicator_means,
            ),
            subject=f"platform/{item.subject_id}",
        )
    if rnd.kind == "cluster_assessment":
        return await uow.emit(
            CLUSTER_ASSESSMENT_FINALIZED,
            ClusterAssessmentFinalized(
                assessment_id=item.id,
                cluster_id=item.subject_id,
                year=int(rnd.period or 0),
                result=row.result,
                score=row.score,
                finalized_at=row.finalized_at,
                required_measures=d.get("required_measures", []),
                remarks=d.get("remarks"),
            ),
            subject=f"cluster/{item.subject_id}",
        )
    return await uow.emit(
        PROJECT_EVALUATION_FINALIZED,
        ProjectEvaluationFinalized(
            request_id=item.id,
            project_id=item.subject_id,
            kind=str(d.get("kind")),
            result=row.result,
            score=row.score,
            diligent=bool(d.get("diligent")),
            finalized_at=row.finalized_at,
            remarks=d.get("remarks"),
            indicator_verdicts=[IndicatorVerdict(**v) for v in d.get("indicator_verdicts", [])],
        ),
        subject=f"project/{item.subject_id}",
    )


def kind_label(kind: str) -> str:
    return ROUND_KINDS.get(kind, kind)
