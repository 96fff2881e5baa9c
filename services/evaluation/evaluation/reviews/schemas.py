"""Review requests and responses (expert sheets, office settings and decisions)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from evaluation.codes import RECOMMENDATIONS, SHEET_STATUSES
from evaluation.disciplines.schemas import DisciplineCode

Recommendation = Literal["fund", "fund_with_changes", "do_not_fund"]
IndicatorCode = Annotated[str, Field(min_length=1, max_length=40)]


class SheetIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    scores: dict[IndicatorCode, float] | None = Field(default=None, max_length=20)
    indicator_comments: dict[IndicatorCode, Annotated[str, Field(max_length=2000)]] | None = Field(
        default=None, max_length=20
    )
    comment: str | None = Field(default=None, max_length=5000)
    confidential_comment: str | None = Field(default=None, max_length=5000)
    recommendation: Recommendation | None = None


class RecuseIn(BaseModel):
    reason: str = Field(min_length=2, max_length=500)


class SheetOut(BaseModel):
    assignment_id: UUID
    status: str
    status_zh: str
    item: dict[str, Any]
    form: dict[str, Any]
    deadline: date | None
    scores: dict[str, float] = {}
    indicator_comments: dict[str, str] = {}
    comment: str = ""
    confidential_comment: str = ""
    recommendation: str | None = None
    recommendation_zh: str | None = None
    total: float | None = None
    submitted_at: datetime | None = None

    @classmethod
    def of(cls, ctx: Any) -> SheetOut:
        sheet, item, form = ctx.sheet, ctx.item, ctx.form
        status = sheet.status if sheet else "not_started"
        return cls(
            assignment_id=ctx.assignment.id,
            status=status,
            status_zh=SHEET_STATUSES[status],
            # what the expert reviews; never who else reviews it
            item={
                "id": item.id,
                "code": item.code,
                "title": item.title,
                "keywords": item.keywords,
                "discipline_codes": item.discipline_codes,
                "details": item.details,
            },
            form={
                "id": form.id,
                "name": form.name,
                "indicators": form.indicators,
                "comment_min_length": form.comment_min_length,
                "recommendation_required": form.recommendation_required,
            },
            deadline=ctx.round.review_deadline or item.review_due,
            scores=sheet.scores if sheet else {},
            indicator_comments=sheet.indicator_comments if sheet else {},
            comment=sheet.comment if sheet else "",
            confidential_comment=sheet.confidential_comment if sheet else "",
            recommendation=sheet.recommendation if sheet else None,
            recommendation_zh=RECOMMENDATIONS.get(sheet.recommendation or "") if sheet else None,
            total=sheet.total if sheet else None,
            submitted_at=sheet.submitted_at if sheet else None,
        )


class SettingsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    review_deadline: date | None = None
    budget_fen: int | None = Field(default=None, ge=0, le=10**15)
    form_id: UUID | None = None


class PanelIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: str = Field(min_length=2, max_length=5000)
    score: float | None = Field(default=None, ge=0, le=100)
    recommendation: Recommendation | None = None


class ItemPatch(BaseModel):
    """What expert matching reads of an item, set by the office before the draw."""

    model_config = ConfigDict(extra="forbid")
    discipline_codes: list[DisciplineCode] = Field(min_length=1, max_length=10)
    keywords: list[Annotated[str, Field(min_length=1, max_length=50)]] = Field(default=[], max_length=20)
