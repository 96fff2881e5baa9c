"""Review requests and responses (expert sheets, office settings and decisions)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from evaluation.codes import RECOMMENDATIONS, SHEET_STATUSES
from evaluation.disciplines.schemas import DisciplineCode
from shared.timestamps import Timestamp

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


class SheetItem(BaseModel):
    """What the expert reviews (an application, a lab, a project); never who else reviews it."""

    id: UUID
    code: str
    title: str
    keywords: list[str]
    discipline_codes: list[str]
    details: dict[str, Any] = Field(description="what the item's kind carries for review (free form)")


class SheetIndicator(BaseModel):
    """An indicator of the review form: its weight and score range."""

    code: str
    name_zh: str
    weight: float
    min_score: float = 0
    max_score: float = 100
    comment_required: bool = False


class SheetForm(BaseModel):
    """The review form (评审表) the sheet is filled in on."""

    id: UUID
    name: str
    indicators: list[SheetIndicator]
    comment_min_length: int
    recommendation_required: bool


class SheetOut(BaseModel):
    assignment_id: UUID
    status: str
    status_zh: str
    item: SheetItem
    form: SheetForm
    deadline: date | None
    scores: dict[str, float] = {}
    indicator_comments: dict[str, str] = {}
    comment: str = ""
    confidential_comment: str = ""
    recommendation: str | None = None
    recommendation_zh: str | None = None
    total: float | None = None
    submitted_at: Timestamp | None = None

    @classmethod
    def of(cls, ctx: Any) -> SheetOut:
        sheet, item, form = ctx.sheet, ctx.item, ctx.form
        status = sheet.status if sheet else "not_started"
        return cls(
            assignment_id=ctx.assignment.id,
            status=status,
            status_zh=SHEET_STATUSES[status],
            # what the expert reviews; never who else reviews it
            item=SheetItem(
                id=item.id,
                code=item.code,
                title=item.title,
                keywords=list(item.keywords),
                discipline_codes=list(item.discipline_codes),
                details=item.details,
            ),
            form=SheetForm(
                id=form.id,
                name=form.name,
                indicators=[SheetIndicator.model_validate(i) for i in form.indicators],
                comment_min_length=form.comment_min_length,
                recommendation_required=form.recommendation_required,
            ),
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


# ------------------------------------------------------------------ answers of the office and applicants


class ReviewTask(BaseModel):
    """One of my review tasks (an expert's live assignment in an open review)."""

    assignment_id: UUID
    assignment_status: str
    round_id: UUID
    pledge_signed: bool = Field(
        description="诚信和保密承诺 signed for the round (POST /rounds/{round_id}/pledge); sheets open after"
    )
    item_id: UUID
    round_kind: str
    round_kind_zh: str
    code: str
    title: str
    deadline: date | None
    sheet_status: str
    sheet_status_zh: str


class RecuseOut(BaseModel):
    assignment_id: UUID
    status: Literal["voided"]
    replaced: bool = Field(description="a reserve expert took the place")


class ReviewRoundOut(BaseModel):
    """The round as the review office reads it beside results."""

    id: UUID
    kind: str
    kind_zh: str
    name: str
    period: str | None
    call_id: UUID | None
    status: str
    status_zh: str
    review_deadline: date | None
    budget_fen: int | None = Field(description="fen")
    version: int


class ItemMatchingOut(BaseModel):
    id: UUID
    code: str
    discipline_codes: list[str]
    keywords: list[str]


class ProgressTask(BaseModel):
    assignment_id: UUID
    item_id: UUID
    code: str
    expert_id: UUID
    expert_name: str
    assignment_status: str
    sheet_status: str
    deadline: date | None


class LateTask(ProgressTask):
    days_late: int


class ProgressOut(BaseModel):
    round_id: UUID
    status: str
    review_deadline: date | None
    counts: dict[str, int] = Field(description="assignments by status and sheets by status")
    late: list[LateTask]
    tasks: list[ProgressTask]


class IndicatorMean(BaseModel):
    code: str
    name_zh: str
    mean: float


class PanelOut(BaseModel):
    note: str
    score: float | None
    recommendation: str | None
    decided_by: str | None
    decided_at: Timestamp | None


class ItemSummaryOut(BaseModel):
    """An item's aggregated scores, flags and (once settled) its panel decision and result."""

    item_id: UUID
    code: str
    title: str
    reviewers: int = Field(description="submitted sheets that count")
    live_assignments: int
    mean: float | None
    trimmed_mean: float | None
    trimmed: bool
    normalised_score: float | None
    score: float | None
    std: float
    spread: float
    dispersion_flag: bool
    non_consensus: bool
    votes: dict[str, int] = Field(description="sheets per recommendation")
    recommendation: str | None
    computed_result: str | None
    indicator_means: list[IndicatorMean]
    panel: PanelOut | None
    finalized: bool
    finalized_by: str | None
    finalized_at: Timestamp | None


class ScoreSheetRow(BaseModel):
    """One submitted sheet with the expert's name (office only), total and z-score."""

    sheet_id: UUID
    item_id: UUID
    code: str
    title: str
    expert_id: UUID
    expert_name: str
    scores: dict[str, float]
    indicator_comments: dict[str, str]
    total: float | None
    z_score: float | None
    counted: bool = Field(description="false: its assignment was voided, shown but not counted")
    voided_reason: str | None
    recommendation: str | None
    comment: str
    confidential_comment: str
    submitted_at: Timestamp | None


class ScoreSheetsOut(BaseModel):
    round: ReviewRoundOut
    items: list[ItemSummaryOut]
    sheets: list[ScoreSheetRow]


class PanelDecisionOut(BaseModel):
    item_id: UUID
    note: str
    score: float | None
    recommendation: str | None


class NotReady(BaseModel):
    """What stops finalizing an item."""

    item_id: UUID
    code: str
    reason: Literal["too_few_reviews", "panel_discussion_pending"]
    reason_zh: str
    have: int | None = None
    need: int | None = None
    dispersion_flag: bool | None = None
    non_consensus: bool | None = None


class RankedItem(BaseModel):
    rank: int
    item_id: UUID
    code: str
    score: float
    fund_votes: int
    std: float
    recommendation: str | None
    recommendation_zh: str | None
    requested_fen: int = Field(description="fen")
    cumulative_fen: int | None = Field(description="fen, down to this item")
    above_funding_line: bool | None
    tie_note: str | None
    tie_note_zh: str | None
    line_note_zh: str | None
    dispersion_flag: bool
    non_consensus: bool


class RankingOut(BaseModel):
    round: ReviewRoundOut
    budget_fen: int | None = Field(description="fen")
    funding_line_rank: int | None = Field(description="the last rank the budget funds")
    not_ready: list[NotReady]
    items: list[RankedItem]


class FinalResult(BaseModel):
    item_id: UUID
    score: float
    rank: int | None
    recommendation: str | None
    above_funding_line: bool | None
    finalized_by: str
    finalized_at: Timestamp


class FinalizedRoundOut(BaseModel):
    round: ReviewRoundOut
    results: list[FinalResult]


class ApplicantResultOut(BaseModel):
    """What the applicant reads: the result and the comments, with no trace of who wrote them."""

    application_id: UUID
    code: str
    title: str
    score: float
    rank: int | None
    recommendation: str | None
    recommendation_zh: str | None
    above_funding_line: bool | None
    reviewer_count: int
    indicator_scores: list[IndicatorMean]
    anonymised_comments: list[str]
    finalized_at: Timestamp
