"""The expert's side of a review: open the sheet, save a draft, submit, or recuse."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

from sqlalchemy import select

from evaluation.codes import ASSIGNMENT_STATUSES, SHEET_STATUSES
from evaluation.experts.models import Expert
from evaluation.forms import service as forms
from evaluation.forms.models import ReviewForm
from evaluation.pledges import service as pledges
from evaluation.reviews.models import ReviewResult, ReviewSheet
from evaluation.reviews.scoring import Indicator, weighted_total
from evaluation.rounds import service as rounds
from evaluation.rounds.models import ACTIVE, Assignment, ReviewRound, RoundItem
from shared.clock import utcnow
from shared.errors import FieldIssue, InvalidTransition, NotFound, StateConflict, ValidationFailed
from shared.uow import UnitOfWork


def assessment_type(rnd: ReviewRound, item: RoundItem) -> str:
    if rnd.kind == "project_evaluation":
        return str(item.details.get("kind", "mid_term"))
    return rnd.kind


async def form_of(uow: UnitOfWork, rnd: ReviewRound, item: RoundItem) -> ReviewForm:
    """The item's form; an item from before forms existed gets the one that fits, once."""
    if item.form_id is not None:
        return await forms.get(uow.session, item.form_id)
    form = await forms.form_for(
        uow, assessment_type(rnd, item), programme_code=item.programme_code, variant=item.orientation
    )
    item.form_id = form.id
    await uow.session.flush()
    return form


def deadline(rnd: ReviewRound, item: RoundItem) -> date | None:
    return rnd.review_deadline or item.review_due


@dataclass
class SheetContext:
    assignment: Assignment
    expert: Expert
    round: ReviewRound
    item: RoundItem
    form: ReviewForm
    sheet: ReviewSheet | None


async def context(
    uow: UnitOfWork,
    assignment_id: UUID,
    person_id: str | None,
    *,
    lock: bool = False,
    pledged: bool = True,
) -> SheetContext:
    """The caller's live assignment in an open review, or 404: an expert sees nothing else; and
    nothing of the application until the round's pledge (诚信和保密承诺) is signed (409), unless
    ``pledged`` is False (recusing needs no sight of the application)."""
    s = uow.session
    q = select(Assignment).where(Assignment.id == assignment_id)
    a = (await s.execute(q.with_for_update() if lock else q)).scalar_one_or_none()
    expert = await s.get(Expert, a.expert_id) if a else None
    rnd = None
    if a is not None:
        # a share lock on the round: a sheet is either in before the result is finalized, or refused
        rq = select(ReviewRound).where(ReviewRound.id == a.round_id)
        rnd = (await s.execute(rq.with_for_update(read=True) if lock else rq)).scalar_one_or_none()
    item = await s.get(RoundItem, a.item_id) if a else None
    if (
        a is None
        or expert is None
        or rnd is None
        or item is None
        or person_id is None
        or str(expert.person_id) != person_id
        or a.status not in ACTIVE
        or rnd.status != "open"
        or await s.get(ReviewResult, item.id) is not None
    ):
        raise NotFound(f"review task {assignment_id} not found", "未找到该评审任务（或已不在有效期内）")
    if pledged:
        await pledges.require(s, rnd.id, expert.id)
    sheet = (
        await s.execute(select(ReviewSheet).where(ReviewSheet.assignment_id == a.id))
    ).scalar_one_or_none()
    return SheetContext(a, expert, rnd, item, await form_of(uow, rnd, item), sheet)


def _check_scores(form: ReviewForm, scores: dict[str, float], *, complete: bool) -> list[FieldIssue]:
    issues: list[FieldIssue] = []
    indicators = {i["code"]: Indicator.of(i) for i in form.indicators}
    for code, value in scores.items():
        ind = indicators.get(code)
        if ind is None:
            issues.append(
                FieldIssue(
                    f"scores.{code}",
                    "unknown_indicator",
                    "not an indicator of this form",
                    "评审表中没有该指标",
                )
            )
        elif not math.isfinite(value) or not ind.min_score <= value <= ind.max_score:
            issues.append(
                FieldIssue(
                    f"scores.{code}",
                    "out_of_range",
                    f"between {ind.min_score:g} and {ind.max_score:g}",
                    f"应在 {ind.min_score:g} 到 {ind.max_score:g} 之间",
                )
            )
    if complete:
        for code, ind in indicators.items():
            if code not in scores:
                issues.append(
                    FieldIssue(
                        f"scores.{code}", "missing", f"score {ind.name_zh}", f"请为「{ind.name_zh}」打分"
                    )
                )
    return issues


def _writable(ctx: SheetContext) -> None:
    if ctx.assignment.status != "accepted":
        raise InvalidTransition(
            current_state=ctx.assignment.status,
            action="score",
            allowed=rounds.ASSIGNMENT_ACTIONS.get(ctx.assignment.status, []),
            state_labels_zh=ASSIGNMENT_STATUSES,
            action_labels_zh=rounds.ASSIGNMENT_ACTION_LABELS,
        )
    if ctx.sheet is not None and ctx.sheet.status == "submitted":
        raise StateConflict(
            "the sheet is already submitted",
            "评审表已提交，不能修改",
            current_state=ctx.sheet.status,
            state_labels_zh=SHEET_STATUSES,
            code="already_submitted",
        )
    due = deadline(ctx.round, ctx.item)
    if due is not None and utcnow().date() > due:
        sheet_state = ctx.sheet.status if ctx.sheet is not None else "not_started"
        raise StateConflict(
            f"the review deadline {due.isoformat()} has passed",
            f"评审截止日期 {due.isoformat()} 已过，评审表（{SHEET_STATUSES[sheet_state]}）不能再填写",
            current_state=sheet_state,
            state_labels_zh=SHEET_STATUSES,
            code="deadline_passed",
            extra={"deadline": due.isoformat()},
        )


def _merged(ctx: SheetContext, data: dict[str, Any]) -> dict[str, Any]:
    """The sheet as it would be with ``data`` applied over what was saved before."""
    sheet = ctx.sheet
    return {
        "scores": {**(sheet.scores if sheet else {}), **(data.get("scores") or {})},
        "indicator_comments": {
            **(sheet.indicator_comments if sheet else {}),
            **(data.get("indicator_comments") or {}),
        },
        "comment": data.get("comment", sheet.comment if sheet else ""),
        "confidential_comment": data.get("confidential_comment", sheet.confidential_comment if sheet else ""),
        "recommendation": data.get("recommendation", sheet.recommendation if sheet else None),
    }


def _completeness(form: ReviewForm, merged: dict[str, Any]) -> list[FieldIssue]:
    issues = _check_scores(form, merged["scores"], complete=True)
    for ind in (Indicator.of(i) for i in form.indicators):
        if ind.comment_required and len((merged["indicator_comments"].get(ind.code) or "").strip()) < 2:
            issues.append(
                FieldIssue(
                    f"indicator_comments.{ind.code}",
                    "required",
                    f"a comment on {ind.code} is required",
                    f"「{ind.name_zh}」须填写评语",
                )
            )
    if len((merged["comment"] or "").strip()) < form.comment_min_length:
        issues.append(
            FieldIssue(
                "comment",
                "too_short",
                f"the review comment needs at least {form.comment_min_length} characters",
                f"评审意见不少于 {form.comment_min_length} 字",
            )
        )
    if form.recommendation_required and merged["recommendation"] is None:
        issues.append(FieldIssue("recommendation", "required", "give a recommendation", "请给出资助建议"))
    return issues


async def save_draft(
    uow: UnitOfWork, ctx: SheetContext, data: dict[str, Any], *, complete: bool = False
) -> ReviewSheet:
    """Keep what the expert has so far; scores are range-checked, completeness waits for submit."""
    _writable(ctx)
    merged = _merged(ctx, data)
    issues = (
        _completeness(ctx.form, merged)
        if complete
        else _check_scores(ctx.form, merged["scores"], complete=False)
    )
    if issues:
        raise ValidationFailed(issues)
    sheet = ctx.sheet
    if sheet is None:
        sheet = ReviewSheet(
            assignment_id=ctx.assignment.id,
            round_id=ctx.round.id,
            item_id=ctx.item.id,
            expert_id=ctx.expert.id,
            form_id=ctx.form.id,
            status="draft",
            version=0,
        )
        uow.session.add(sheet)
        ctx.sheet = sheet
    for key, value in merged.items():
        setattr(sheet, key, value)
    sheet.version += 1
    await uow.session.flush()
    if not complete:
        await uow.record(
            "review_draft_saved",
            entity_type="review_sheet",
            entity_id=sheet.id,
            changes={
                "scores": sheet.scores,
                "recommendation": sheet.recommendation,
                "version": sheet.version,
            },
        )
    return sheet


async def submit(uow: UnitOfWork, ctx: SheetContext, data: dict[str, Any]) -> ReviewSheet:
    """Check the sheet is complete (scores, required comments, recommendation) and submit it."""
    sheet = await save_draft(uow, ctx, data, complete=True)
    sheet.total = weighted_total([Indicator.of(i) for i in ctx.form.indicators], sheet.scores)
    sheet.status = "submitted"
    sheet.submitted_at = utcnow()
    await uow.session.flush()
    await uow.record(
        "review_submitted",
        entity_type="review_sheet",
        entity_id=sheet.id,
        changes={
            "assignment_id": str(ctx.assignment.id),
            "item_id": str(ctx.item.id),
            "total": sheet.total,
            "recommendation": sheet.recommendation,
        },
    )
    return sheet


async def recuse(uow: UnitOfWork, ctx: SheetContext, reason: str) -> Assignment | None:
    """The expert steps back (主动回避): the task is voided and replaced; a submitted sheet cannot be."""
    if ctx.sheet is not None and ctx.sheet.status == "submitted":
        raise StateConflict(
            "a submitted sheet cannot be withdrawn by recusal",
            "已提交的评审表不能再申请回避",
            current_state=ctx.sheet.status,
            state_labels_zh=SHEET_STATUSES,
        )
    if ctx.sheet is not None:
        ctx.sheet.status = "recused"
    await uow.record("expert_recused", entity_type="assignment", entity_id=ctx.assignment.id, reason=reason)
    return await rounds.void_and_replace(uow, ctx.assignment, f"recused: {reason}", "专家主动回避")
