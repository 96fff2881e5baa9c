"""The review office's side: progress, score sheets, aggregation, panel, ranking and finalizing."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from uuid import UUID

from sqlalchemy import select

from evaluation.experts.models import Expert
from evaluation.forms.models import ReviewForm
from evaluation.reviews import scoring
from evaluation.reviews.events import REVIEW_COMPLETED, IndicatorScore, ReviewCompleted
from evaluation.reviews.models import PanelDecision, ReviewResult, ReviewSheet
from evaluation.reviews.sheets import deadline, form_of
from evaluation.rounds import machine
from evaluation.rounds.models import ACTIVE, Assignment, CallView, ReviewRound, RoundItem
from shared.clock import utcnow
from shared.errors import Conflict, FieldIssue, NotFound, ValidationFailed
from shared.uow import UnitOfWork


@dataclass
class ItemSummary:
    """An item's aggregated review, as the office sees it before (and when) it is finalized."""

    item: RoundItem
    form: ReviewForm
    totals: list[float] = field(default_factory=list)
    recommendations: list[str] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)
    indicator_means: list[dict[str, Any]] = field(default_factory=list)
    live: int = 0
    mean: float | None = None
    trimmed_mean: float | None = None
    trimmed: bool = False
    normalised: float | None = None
    std: float = 0.0
    spread: float = 0.0
    dispersion_flag: bool = False
    non_consensus: bool = False
    majority: str | None = None
    score: float | None = None
    recommendation: str | None = None
    computed_result: str | None = None
    panel: PanelDecision | None = None
    result: ReviewResult | None = None

    @property
    def policy(self) -> dict[str, Any]:
        return self.form.policy

    @property
    def flagged(self) -> bool:
        return self.dispersion_flag or self.non_consensus

    @property
    def votes(self) -> dict[str, int]:
        return {r: self.recommendations.count(r) for r in ("fund", "fund_with_changes", "do_not_fund")}

    @property
    def reviewers(self) -> int:
        return len(self.totals)


def counted_sheets(round_id: UUID) -> Any:
    """The submitted sheets that count: their assignment is still live.

    A sheet whose assignment was voided (a conflict declared late, the expert suspended, an
    integrity bar) never counts, in aggregation, flags, ranking, the funding line or finalizing.
    """
    return (
        select(ReviewSheet)
        .join(Assignment, Assignment.id == ReviewSheet.assignment_id)
        .where(
            ReviewSheet.round_id == round_id,
            ReviewSheet.status == "submitted",
            Assignment.status.in_(ACTIVE),
        )
    )


async def load_round(session: Any, round_id: UUID, *, lock: bool = False) -> ReviewRound:
    q = select(ReviewRound).where(ReviewRound.id == round_id)
    rnd: ReviewRound | None = (await session.execute(q.with_for_update() if lock else q)).scalar_one_or_none()
    if rnd is None:
        raise NotFound(f"round {round_id} not found", "未找到该评审轮次")
    return rnd


async def load_item(session: Any, rnd: ReviewRound, item_id: UUID) -> RoundItem:
    item: RoundItem | None = await session.get(RoundItem, item_id)
    if item is None or item.round_id != rnd.id:
        raise NotFound(f"item {item_id} not found in this round", "本轮次中未找到该评审对象")
    return item


async def summarise(uow: UnitOfWork, rnd: ReviewRound) -> list[ItemSummary]:
    """Aggregate every item of the round from its submitted sheets (pure arithmetic in ``scoring``)."""
    s = uow.session
    items = list(
        (
            await s.execute(select(RoundItem).where(RoundItem.round_id == rnd.id).order_by(RoundItem.code))
        ).scalars()
    )
    sheets: list[ReviewSheet] = list(
        (await s.execute(counted_sheets(rnd.id).order_by(ReviewSheet.submitted_at))).scalars()
    )
    live: dict[UUID, int] = defaultdict(int)
    for item_id in (
        await s.execute(
            select(Assignment.item_id).where(Assignment.round_id == rnd.id, Assignment.status.in_(ACTIVE))
        )
    ).scalars():
        live[item_id] += 1
    panels = {
        p.item_id: p
        for p in (await s.execute(select(PanelDecision).where(PanelDecision.round_id == rnd.id))).scalars()
    }
    results = {
        r.item_id: r
        for r in (await s.execute(select(ReviewResult).where(ReviewResult.round_id == rnd.id))).scalars()
    }
    by_item: dict[UUID, list[ReviewSheet]] = defaultdict(list)
    for sheet in sheets:
        by_item[sheet.item_id].append(sheet)
    summaries = [
        ItemSummary(
            item,
            await form_of(uow, rnd, item),
            live=live[item.id],
            panel=panels.get(item.id),
            result=results.get(item.id),
        )
        for item in items
    ]
    normalised: dict[int, dict[Any, float | None]] = {}
    totals = {(sh.expert_id, sh.item_id): float(sh.total or 0) for sh in sheets}
    for sm in summaries:
        own = by_item[sm.item.id]
        policy = sm.policy
        sm.totals = [float(sh.total or 0) for sh in own]
        sm.recommendations = [sh.recommendation for sh in own if sh.recommendation]
        # sorted by text: the order says nothing about who wrote what or when
        sm.comments = sorted(sh.comment.strip() for sh in own if sh.comment.strip())
        sm.indicator_means = [
            {
                "code": ind["code"],
                "name_zh": ind["name_zh"],
                "mean": round(scoring.mean([float(sh.scores[ind["code"]]) for sh in own]), 4),
            }
            for ind in sm.form.indicators
            if own and all(ind["code"] in sh.scores for sh in own)
        ]
        if not own:
            continue
        z_min = int(policy.get("z_min_items", 3))
        if z_min not in normalised:
            normalised[z_min] = scoring.normalised_scores(totals, z_min)
        sm.mean = round(scoring.mean(sm.totals), 4)
        trimmed, sm.trimmed = scoring.trimmed_mean(sm.totals, int(policy.get("trim_from", 5)))
        sm.trimmed_mean = round(trimmed, 4)
        sm.normalised = normalised[z_min].get(sm.item.id)
        sm.std = round(scoring.sample_std(sm.totals), 4)
        sm.spread = round(max(sm.totals) - min(sm.totals), 4)
        sm.dispersion_flag = scoring.dispersed(
            sm.totals,
            std_above=float(policy.get("dispersion_std", 12)),
            spread_above=float(policy.get("dispersion_spread", 30)),
        )
        sm.non_consensus = scoring.non_consensus(sm.recommendations, float(policy.get("minority_share", 0.4)))
        sm.majority = scoring.majority_recommendation(sm.recommendations)
        basis = (
            sm.normalised
            if policy.get("score_basis") == "normalised" and sm.normalised is not None
            else sm.trimmed_mean
        )
        sm.score = round(sm.panel.score if sm.panel and sm.panel.score is not None else basis, 2)
        sm.recommendation = (
            sm.panel.recommendation if sm.panel and sm.panel.recommendation else None
        ) or sm.majority
        bands = policy.get("grade_bands") or []
        sm.computed_result = scoring.grade_for(sm.score, bands) if bands else None
    return summaries


def summary_out(sm: ItemSummary) -> dict[str, Any]:
    return {
        "item_id": sm.item.id,
        "code": sm.item.code,
        "title": sm.item.title,
        "reviewers": sm.reviewers,
        "live_assignments": sm.live,
        "mean": sm.mean,
        "trimmed_mean": sm.trimmed_mean,
        "trimmed": sm.trimmed,
        "normalised_score": sm.normalised,
        "score": sm.score,
        "std": sm.std,
        "spread": sm.spread,
        "dispersion_flag": sm.dispersion_flag,
        "non_consensus": sm.non_consensus,
        "votes": sm.votes,
        "recommendation": sm.recommendation,
        "computed_result": sm.computed_result,
        "indicator_means": sm.indicator_means,
        "panel": {
            "note": sm.panel.note,
            "score": sm.panel.score,
            "recommendation": sm.panel.recommendation,
            "decided_by": sm.panel.decided_by,
            "decided_at": sm.panel.decided_at,
        }
        if sm.panel
        else None,
        "finalized": sm.result is not None,
        "finalized_by": sm.result.finalized_by if sm.result else None,
        "finalized_at": sm.result.finalized_at if sm.result else None,
    }


async def budget_of(session: Any, rnd: ReviewRound) -> int | None:
    if rnd.budget_fen is not None:
        return rnd.budget_fen
    if rnd.call_id is None:
        return None
    call = await session.get(CallView, rnd.call_id)
    return call.budget_fen if call else None


async def ranking(uow: UnitOfWork, rnd: ReviewRound) -> tuple[list[scoring.Entry], int | None, int | None]:
    """The round's items ranked, with tie explanations and the funding line drawn from the budget."""
    if rnd.kind != "application_review":
        raise Conflict("only application reviews are ranked", "仅项目申报评审需要排序", code="not_ranked")
    entries = [
        scoring.Entry(
            key=sm.item.id,
            code=sm.item.code,
            score=sm.score,
            fund_votes=sm.votes["fund"],
            std=sm.std,
            recommendation=sm.recommendation,
            requested_fen=sm.item.requested_funding_fen or 0,
            extra={"summary": sm},
        )
        for sm in await summarise(uow, rnd)
        if sm.score is not None
    ]
    ranked = scoring.rank(entries)
    budget = await budget_of(uow.session, rnd)
    line = scoring.draw_funding_line(ranked, budget)
    return ranked, budget, line


async def progress(uow: UnitOfWork, rnd: ReviewRound) -> dict[str, Any]:
    """Who has accepted, drafted, submitted, and who is late (deadline passed, nothing submitted)."""
    s = uow.session
    rows = (
        await s.execute(
            select(Assignment, Expert, RoundItem, ReviewSheet)
            .join(Expert, Expert.id == Assignment.expert_id)
            .join(RoundItem, RoundItem.id == Assignment.item_id)
            .outerjoin(ReviewSheet, ReviewSheet.assignment_id == Assignment.id)
            .where(Assignment.round_id == rnd.id, Assignment.status.in_(ACTIVE))
            .order_by(RoundItem.code, Expert.name)
        )
    ).all()
    today = utcnow().date()
    counts: dict[str, int] = defaultdict(int)
    late, tasks = [], []
    for a, expert, item, sheet in rows:
        state = sheet.status if sheet else "not_started"
        counts[a.status] += 1
        counts[state] += 1
        due: date | None = deadline(rnd, item)
        entry = {
            "assignment_id": a.id,
            "item_id": item.id,
            "code": item.code,
            "expert_id": expert.id,
            "expert_name": expert.name,
            "assignment_status": a.status,
            "sheet_status": state,
            "deadline": due,
        }
        tasks.append(entry)
        if state != "submitted" and due is not None and today > due:
            late.append({**entry, "days_late": (today - due).days})
    return {
        "round_id": rnd.id,
        "status": rnd.status,
        "review_deadline": rnd.review_deadline,
        "counts": dict(counts),
        "late": late,
        "tasks": tasks,
    }


async def score_sheets(uow: UnitOfWork, rnd: ReviewRound) -> list[dict[str, Any]]:
    """Every submitted sheet with the expert's name (office only), total and z-score."""
    s = uow.session
    rows = (
        await s.execute(
            select(ReviewSheet, Expert, RoundItem, Assignment)
            .join(Expert, Expert.id == ReviewSheet.expert_id)
            .join(RoundItem, RoundItem.id == ReviewSheet.item_id)
            .join(Assignment, Assignment.id == ReviewSheet.assignment_id)
            .where(ReviewSheet.round_id == rnd.id, ReviewSheet.status == "submitted")
            .order_by(RoundItem.code, Expert.name)
        )
    ).all()
    # a voided assignment's sheet is shown (the office sees what was set aside) but never counts
    totals = {(sh.expert_id, sh.item_id): float(sh.total or 0) for sh, _, _, a in rows if a.status in ACTIVE}
    z = scoring.zscores(totals)
    return [
        {
            "sheet_id": sh.id,
            "item_id": item.id,
            "code": item.code,
            "title": item.title,
            "expert_id": expert.id,
            "expert_name": expert.name,
            "scores": sh.scores,
            "indicator_comments": sh.indicator_comments,
            "total": sh.total,
            "z_score": None
            if z.get((sh.expert_id, sh.item_id)) is None
            else round(z[(sh.expert_id, sh.item_id)] or 0, 4),
            "counted": a.status in ACTIVE,
            "voided_reason": None if a.status in ACTIVE else a.reason,
            "recommendation": sh.recommendation,
            "comment": sh.comment,
            "confidential_comment": sh.confidential_comment,
            "submitted_at": sh.submitted_at,
        }
        for sh, expert, item, a in rows
    ]


async def decide(
    uow: UnitOfWork,
    rnd: ReviewRound,
    item: RoundItem,
    *,
    note: str,
    score: float | None,
    recommendation: str | None,
) -> PanelDecision:
    """The panel's decision on an item (usually a flagged one); replaces an earlier decision."""
    machine.require(rnd, "panel")
    if await uow.session.get(ReviewResult, item.id) is not None:
        raise machine.item_finalized("the item is already finalized", "该评审对象已定稿")
    decision = await uow.session.get(PanelDecision, item.id)
    before = None
    if decision is None:
        decision = PanelDecision(item_id=item.id, round_id=rnd.id, note=note, decided_by=uow.actor.id)
        uow.session.add(decision)
    else:
        before = {"note": decision.note, "score": decision.score, "recommendation": decision.recommendation}
    decision.note, decision.score, decision.recommendation = note, score, recommendation
    decision.decided_by, decision.decided_at = uow.actor.id, utcnow()
    await uow.session.flush()
    await uow.record(
        "panel_decided",
        entity_type="round_item",
        entity_id=item.id,
        changes={"score": score, "recommendation": recommendation, "before": before},
        reason=note,
    )
    return decision


def ready_issues(summaries: list[ItemSummary]) -> list[dict[str, Any]]:
    """What stops finalizing: too few submitted sheets, or a flag the panel has not settled."""
    problems = []
    for sm in summaries:
        need = int(sm.policy.get("min_reviewers", 3))
        if sm.reviewers < need:
            problems.append(
                {
                    "item_id": str(sm.item.id),
                    "code": sm.item.code,
                    "reason": "too_few_reviews",
                    "reason_zh": f"有效评审表 {sm.reviewers} 份，至少需要 {need} 份",
                    "have": sm.reviewers,
                    "need": need,
                }
            )
        elif sm.flagged and sm.panel is None:
            problems.append(
                {
                    "item_id": str(sm.item.id),
                    "code": sm.item.code,
                    "reason": "panel_discussion_pending",
                    "reason_zh": "评分分歧较大或存在明显少数意见，须经会议评审",
                    "dispersion_flag": sm.dispersion_flag,
                    "non_consensus": sm.non_consensus,
                }
            )
    return problems


def refuse_if_not_ready(summaries: list[ItemSummary]) -> None:
    problems = ready_issues(summaries)
    if problems:
        raise Conflict(
            f"{len(problems)} item(s) cannot be finalized yet",
            f"{len(problems)} 个评审对象尚不能定稿",
            code="not_ready",
            extra={"items": problems},
        )


def new_result(rnd: ReviewRound, sm: ItemSummary, actor: str, **kw: Any) -> ReviewResult:
    assert sm.score is not None and sm.mean is not None and sm.trimmed_mean is not None
    return ReviewResult(
        item_id=sm.item.id,
        round_id=rnd.id,
        kind=rnd.kind,
        score=sm.score,
        mean_score=sm.mean,
        trimmed_mean=sm.trimmed_mean,
        normalised_score=sm.normalised,
        recommendation=sm.recommendation,
        computed_result=sm.computed_result,
        dispersion_flag=sm.dispersion_flag,
        non_consensus=sm.non_consensus,
        reviewer_count=sm.reviewers,
        indicator_means=sm.indicator_means,
        anonymised_comments=sm.comments,
        finalized_by=actor,
        finalized_at=utcnow(),
        **kw,
    )


async def finalize_round(uow: UnitOfWork, rnd: ReviewRound) -> list[ReviewResult]:
    """Rank, draw the funding line, store each application's result and tell projects."""
    machine.require(rnd, "finalize")
    if rnd.kind != "application_review":
        raise Conflict(
            "assessments are finalized item by item", "考核评估按对象逐一定稿", code="finalize_per_item"
        )
    refuse_if_not_ready(await summarise(uow, rnd))
    ranked, budget, line = await ranking(uow, rnd)
    assert rnd.call_id is not None
    results = []
    for e in ranked:
        sm: ItemSummary = e.extra["summary"]
        result = new_result(
            rnd,
            sm,
            uow.actor.id,
            rank=e.rank,
            above_funding_line=e.above_line,
            details={"tie_note": e.tie_note, "tie_note_zh": e.tie_note_zh, "line_note_zh": e.line_note_zh},
        )
        uow.session.add(result)
        envelope = await uow.emit(
            REVIEW_COMPLETED,
            ReviewCompleted(
                application_id=sm.item.id,
                call_id=rnd.call_id,
                round_id=rnd.id,
                score=result.score,
                rank=e.rank,
                recommendation=result.recommendation or "do_not_fund",
                dispersion_flag=sm.dispersion_flag,
                non_consensus=sm.non_consensus,
                reviewer_count=sm.reviewers,
                anonymised_comments=sm.comments,
                indicator_scores=[IndicatorScore(**m) for m in sm.indicator_means],
                above_funding_line=e.above_line,
                tie_note=e.tie_note_zh,
            ),
            subject=f"application/{sm.item.id}",
        )
        await uow.record(
            "review_completed",
            entity_type="round_item",
            entity_id=sm.item.id,
            changes={"score": result.score, "rank": e.rank, "recommendation": result.recommendation},
            event=envelope,
        )
        results.append(result)
    rnd.status = "finalized"
    rnd.version += 1
    await uow.session.flush()
    await uow.record(
        "round_finalized",
        entity_type="review_round",
        entity_id=rnd.id,
        changes={"items": len(results), "budget_fen": budget, "funding_line_rank": line},
    )
    return results


async def applicant_view(uow: UnitOfWork, application_id: UUID, person_id: str | None) -> dict[str, Any]:
    """What the applicant may read: the result and the comments, with no trace of who wrote them."""
    s = uow.session
    item = await s.get(RoundItem, application_id)
    result = await s.get(ReviewResult, application_id) if item else None
    if (
        item is None
        or result is None
        or result.kind != "application_review"
        or person_id is None
        or str(item.applicant_person_id) != person_id
    ):
        raise NotFound(f"no review result for application {application_id}", "未找到该申报项目的评审结果")
    return {
        "application_id": item.id,
        "code": item.code,
        "title": item.title,
        "score": result.score,
        "rank": result.rank,
        "recommendation": result.recommendation,
        "above_funding_line": result.above_funding_line,
        "reviewer_count": result.reviewer_count,
        "indicator_scores": result.indicator_means,
        "anonymised_comments": result.anonymised_comments,
        "finalized_at": result.finalized_at,
    }


async def update_settings(
    uow: UnitOfWork,
    rnd: ReviewRound,
    *,
    review_deadline: date | None,
    budget_fen: int | None,
    form_id: UUID | None,
    fields_set: set[str],
) -> ReviewRound:
    """Deadline, budget (overrides the call's) and form of a round, before it is finalized."""
    machine.require(rnd, "configure")
    changes: dict[str, Any] = {}
    if "review_deadline" in fields_set:
        rnd.review_deadline = review_deadline
        changes["review_deadline"] = review_deadline.isoformat() if review_deadline else None
    if "budget_fen" in fields_set:
        rnd.budget_fen = budget_fen
        changes["budget_fen"] = budget_fen
    if "form_id" in fields_set and form_id is not None:
        form = await uow.session.get(ReviewForm, form_id)
        if form is None:
            raise ValidationFailed(
                [FieldIssue("form_id", "unknown", "no such review form", "未找到该评审表")]
            )
        kinds = {"project_evaluation": ("mid_term", "acceptance", "performance", "milestone")}.get(
            rnd.kind, (rnd.kind,)
        )
        if form.assessment_type not in kinds:
            raise ValidationFailed(
                [
                    FieldIssue(
                        "form_id", "wrong_type", f"a form for {rnd.kind} is needed", "评审表类型与轮次不符"
                    )
                ]
            )
        started = (
            await uow.session.execute(
                select(ReviewSheet.id)
                .where(ReviewSheet.round_id == rnd.id, ReviewSheet.status != "recused")
                .limit(1)
            )
        ).first()
        if started:
            raise machine.refuse(
                rnd, "experts have started scoring on the current form", "专家已开始评分，不能更换评审表"
            )
        for item in (
            await uow.session.execute(select(RoundItem).where(RoundItem.round_id == rnd.id))
        ).scalars():
            item.form_id = form.id
        changes["form_id"] = str(form.id)
    rnd.version += 1
    await uow.session.flush()
    await uow.record("round_configured", entity_type="review_round", entity_id=rnd.id, changes=changes)
    return rnd
