"""Review forms: versions the department configures, and the defaults until it does."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from uuid import UUID

from sqlalchemy import func, select, update

from evaluation.codes import ASSESSED_PLATFORM_KINDS, LAB_ORIENTATIONS, RESULT_CODES_BY_KIND
from evaluation.forms.defaults import DEFAULT_FORMS, DEFAULT_POLICY
from evaluation.forms.models import ReviewForm
from shared.errors import FieldIssue, NotFound, ValidationFailed
from shared.uow import UnitOfWork

PROJECT_KINDS = ("mid_term", "acceptance", "performance", "milestone")
# What a form's variant names: a key lab's orientation (分类评价), another platform's kind.
VARIANTS: dict[str, Mapping[str, str]] = {
    "lab_assessment": LAB_ORIENTATIONS,
    "platform_assessment": ASSESSED_PLATFORM_KINDS,
}


def result_codes(assessment_type: str) -> set[str]:
    kind = "project_evaluation" if assessment_type in PROJECT_KINDS else assessment_type
    return set(RESULT_CODES_BY_KIND.get(kind, {}))


def check(data: dict[str, Any]) -> None:
    """Rules across fields: unique indicator codes, sane ranges, bands that name real results."""
    issues: list[FieldIssue] = []
    seen: set[str] = set()
    for n, ind in enumerate(data["indicators"]):
        if ind["code"] in seen:
            issues.append(
                FieldIssue(
                    f"indicators[{n}].code", "duplicate", "indicator codes must differ", "指标代码重复"
                )
            )
        seen.add(ind["code"])
        if ind["max_score"] <= ind["min_score"]:
            issues.append(
                FieldIssue(
                    f"indicators[{n}].max_score",
                    "range",
                    "the highest score must be above the lowest",
                    "最高分须大于最低分",
                )
            )
    variant = data.get("variant")
    fitting = VARIANTS.get(data["assessment_type"], {})
    if variant is not None and variant not in fitting:
        issues.append(
            FieldIssue(
                "variant",
                "wrong_variant",
                f"a {data['assessment_type']} form takes "
                + (f"one of {', '.join(sorted(fitting))}" if fitting else "no variant"),
                "评审表适用类别与评审类型不符",
            )
        )
    codes = result_codes(data["assessment_type"])
    bands = data["policy"]["grade_bands"]
    if codes and not bands:
        issues.append(
            FieldIssue(
                "policy.grade_bands",
                "required",
                f"an assessment form needs grade bands ({', '.join(sorted(codes))})",
                "考核评估表须设置等级分数线",
            )
        )
    for n, (_, code) in enumerate(bands):
        if code not in codes:
            issues.append(
                FieldIssue(
                    f"policy.grade_bands[{n}]",
                    "unknown_result",
                    f"'{code}' is not a result of {data['assessment_type']}",
                    "等级代码不属于该评审类型",
                )
            )
    if issues:
        raise ValidationFailed(issues)


async def create(uow: UnitOfWork, data: dict[str, Any]) -> ReviewForm:
    """A new version of the form ``code``; earlier versions stop being chosen for new reviews."""
    check(data)
    s = uow.session
    latest = (
        await s.execute(select(func.max(ReviewForm.version)).where(ReviewForm.code == data["code"]))
    ).scalar()
    await s.execute(update(ReviewForm).where(ReviewForm.code == data["code"]).values(active=False))
    form = ReviewForm(**data, version=(latest or 0) + 1, active=True, created_by=uow.actor.id)
    s.add(form)
    await s.flush()
    await uow.record(
        "review_form_created",
        entity_type="review_form",
        entity_id=form.id,
        changes={"code": form.code, "version": form.version, "assessment_type": form.assessment_type},
    )
    return form


async def get(session: Any, form_id: UUID) -> ReviewForm:
    form: ReviewForm | None = await session.get(ReviewForm, form_id)
    if form is None:
        raise NotFound(f"review form {form_id} not found", "未找到该评审表")
    return form


async def form_for(
    uow: UnitOfWork, assessment_type: str, *, programme_code: str | None = None, variant: str | None = None
) -> ReviewForm:
    """The active form that fits best (programme, then variant), else the default, stored once."""
    q = (
        select(ReviewForm)
        .where(
            ReviewForm.active.is_(True),
            ReviewForm.assessment_type == assessment_type,
            (ReviewForm.programme_code == programme_code) | ReviewForm.programme_code.is_(None),
            (ReviewForm.variant == variant) | ReviewForm.variant.is_(None),
        )
        .order_by(
            ReviewForm.programme_code.is_(None),
            ReviewForm.variant.is_(None),
            ReviewForm.created_at.desc(),
        )
        .limit(1)
    )
    form = (await uow.session.execute(q)).scalar_one_or_none()
    if form is not None:
        return form
    key = (
        (assessment_type, variant) if (assessment_type, variant) in DEFAULT_FORMS else (assessment_type, None)
    )
    name, indicators, recommendation_required, bands = DEFAULT_FORMS[key]
    code = "default_" + "_".join(p for p in key if p)
    existing = (
        await uow.session.execute(
            select(ReviewForm).where(ReviewForm.code == code).order_by(ReviewForm.version.desc()).limit(1)
        )
    ).scalar_one_or_none()
    if existing is not None:
        return existing
    form = ReviewForm(
        code=code,
        name=name,
        assessment_type=assessment_type,
        programme_code=None,
        variant=key[1],
        indicators=indicators,
        comment_min_length=20,
        recommendation_required=recommendation_required,
        policy={**DEFAULT_POLICY, "grade_bands": bands},
        active=True,
        version=1,
        created_by="system",
    )
    uow.session.add(form)
    await uow.session.flush()
    await uow.record(
        "review_form_created",
        entity_type="review_form",
        entity_id=form.id,
        changes={"code": code, "version": 1, "default": True},
    )
    return form
