"""REST for reviews: experts (my tasks, draft, submit, recuse), the office, and applicants."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Response
from sqlalchemy import func, select

from evaluation.access import Designer, Finalizer, Office
from evaluation.codes import RECOMMENDATIONS, ROUND_KINDS, ROUND_STATUSES, SHEET_STATUSES
from evaluation.experts.models import Expert
from evaluation.pledges.models import ReviewPledge
from evaluation.reviews import service, sheets
from evaluation.reviews.models import ReviewSheet
from evaluation.reviews.schemas import (
    ApplicantResultOut,
    FinalizedRoundOut,
    ItemMatchingOut,
    ItemPatch,
    ItemSummaryOut,
    PanelDecisionOut,
    PanelIn,
    ProgressOut,
    RankingOut,
    RecuseIn,
    RecuseOut,
    ReviewRoundOut,
    ReviewTask,
    ScoreSheetsOut,
    SettingsIn,
    SheetIn,
    SheetOut,
)
from evaluation.rounds import duties, machine
from evaluation.rounds.models import ACTIVE, Assignment, ReviewRound, RoundItem
from shared.errors import Forbidden
from shared.excel import XLSX_MEDIA_TYPE, Column, export_xlsx
from shared.http.auth import PrincipalDep
from shared.http.deps import PageDep, UnitOfWorkDep
from shared.http.filters import only_filters
from shared.http.schemas import Page

router = APIRouter(tags=["reviews"])


# ------------------------------------------------------------------ experts


@router.get(
    "/reviews/mine",
    response_model=Page[ReviewTask],
    summary="My review tasks (only live assignments of open reviews)",
    dependencies=[only_filters()],
)
async def my_reviews(uow: UnitOfWorkDep, principal: PrincipalDep, page: PageDep) -> Page[ReviewTask]:
    """The nearest deadline first."""
    if principal.person_id is None:
        return Page(items=[], total=0, page=page.page, size=page.size)
    q = (
        select(Assignment, RoundItem, ReviewRound, ReviewSheet, ReviewPledge.signed_at)
        .join(Expert, Expert.id == Assignment.expert_id)
        .join(RoundItem, RoundItem.id == Assignment.item_id)
        .join(ReviewRound, ReviewRound.id == Assignment.round_id)
        .outerjoin(ReviewSheet, ReviewSheet.assignment_id == Assignment.id)
        .outerjoin(
            ReviewPledge,
            (ReviewPledge.round_id == Assignment.round_id) & (ReviewPledge.expert_id == Assignment.expert_id),
        )
        .where(
            Expert.person_id == principal.person_id,
            Assignment.status.in_(ACTIVE),
            ReviewRound.status == "open",
        )
    )
    total = (await uow.session.execute(select(func.count()).select_from(q.subquery()))).scalar_one()
    ordered = q.order_by(ReviewRound.review_deadline, RoundItem.code, Assignment.id)
    rows = (await uow.session.execute(ordered.offset(page.offset).limit(page.size))).all()
    out = []
    for a, item, rnd, sheet, pledged_at in rows:
        state = sheet.status if sheet else "not_started"
        out.append(
            ReviewTask(
                assignment_id=a.id,
                assignment_status=a.status,
                round_id=rnd.id,
                pledge_signed=pledged_at is not None,
                item_id=item.id,
                round_kind=rnd.kind,
                round_kind_zh=ROUND_KINDS.get(rnd.kind, rnd.kind),
                code=item.code,
                title=item.title,
                deadline=sheets.deadline(rnd, item),
                sheet_status=state,
                sheet_status_zh=SHEET_STATUSES[state],
            )
        )
    return Page(items=out, total=total, page=page.page, size=page.size)


@router.get("/assignments/{assignment_id}/sheet", response_model=SheetOut)
async def get_sheet(assignment_id: UUID, uow: UnitOfWorkDep, principal: PrincipalDep) -> SheetOut:
    ctx = await sheets.context(uow, assignment_id, principal.person_id)
    out = SheetOut.of(ctx)
    await uow.commit()
    return out


@router.put("/assignments/{assignment_id}/sheet", response_model=SheetOut)
async def save_draft(
    assignment_id: UUID, body: SheetIn, uow: UnitOfWorkDep, principal: PrincipalDep
) -> SheetOut:
    ctx = await sheets.context(uow, assignment_id, principal.person_id, lock=True)
    await sheets.save_draft(uow, ctx, body.model_dump(exclude_none=True))
    out = SheetOut.of(ctx)
    await uow.commit()
    return out


@router.post("/assignments/{assignment_id}/sheet/submit", response_model=SheetOut)
async def submit(assignment_id: UUID, body: SheetIn, uow: UnitOfWorkDep, principal: PrincipalDep) -> SheetOut:
    ctx = await sheets.context(uow, assignment_id, principal.person_id, lock=True)
    await sheets.submit(uow, ctx, body.model_dump(exclude_none=True))
    out = SheetOut.of(ctx)
    await uow.commit()
    return out


@router.post("/assignments/{assignment_id}/recuse", response_model=RecuseOut)
async def recuse(
    assignment_id: UUID, body: RecuseIn, uow: UnitOfWorkDep, principal: PrincipalDep
) -> RecuseOut:
    ctx = await sheets.context(uow, assignment_id, principal.person_id, lock=True, pledged=False)
    replacement = await sheets.recuse(uow, ctx, body.reason)
    await uow.commit()
    return RecuseOut(assignment_id=assignment_id, status="voided", replaced=replacement is not None)


# ------------------------------------------------------------------ the review office


@router.put("/rounds/{round_id}/review-settings", response_model=ReviewRoundOut)
async def configure(round_id: UUID, body: SettingsIn, uow: UnitOfWorkDep, _: Designer) -> ReviewRoundOut:
    """Deadline, budget (else the call's) and form of a round."""
    rnd = await service.load_round(uow.session, round_id, lock=True)
    await duties.claim(uow, rnd.id, "request", "configure")
    await service.update_settings(
        uow,
        rnd,
        review_deadline=body.review_deadline,
        budget_fen=body.budget_fen,
        form_id=body.form_id,
        fields_set=set(body.model_fields_set),
    )
    await uow.commit()
    return _round_out(rnd)


@router.patch("/rounds/{round_id}/items/{item_id}", response_model=ItemMatchingOut)
async def patch_item(
    round_id: UUID, item_id: UUID, body: ItemPatch, uow: UnitOfWorkDep, _: Designer
) -> ItemMatchingOut:
    """Disciplines and keywords the draw matches experts on (e.g. for an assessed lab), before the draw."""
    rnd = await service.load_round(uow.session, round_id, lock=True)
    machine.require(rnd, "edit_item")
    await duties.claim(uow, rnd.id, "request", "edit_item")
    item = await service.load_item(uow.session, rnd, item_id)
    before = {"discipline_codes": item.discipline_codes, "keywords": item.keywords}
    item.discipline_codes, item.keywords = body.discipline_codes, body.keywords
    await uow.record(
        "item_matching_changed",
        entity_type="round_item",
        entity_id=item.id,
        changes={"before": before, **body.model_dump()},
    )
    await uow.commit()
    return ItemMatchingOut(
        id=item.id, code=item.code, discipline_codes=item.discipline_codes, keywords=item.keywords
    )


def _round_out(rnd: ReviewRound) -> ReviewRoundOut:
    return ReviewRoundOut(
        id=rnd.id,
        kind=rnd.kind,
        kind_zh=ROUND_KINDS.get(rnd.kind, rnd.kind),
        name=rnd.name,
        period=rnd.period,
        call_id=rnd.call_id,
        status=rnd.status,
        status_zh=ROUND_STATUSES.get(rnd.status, rnd.status),
        review_deadline=rnd.review_deadline,
        budget_fen=rnd.budget_fen,
        version=rnd.version,
    )


@router.get(
    "/rounds/{round_id}/progress",
    response_model=ProgressOut,
    summary="Who accepted, who drafted, who submitted, who is late",
)
async def progress(round_id: UUID, uow: UnitOfWorkDep, _: Office) -> ProgressOut:
    """Names the experts, so it waits, like the drawn list, until the review opens."""
    rnd = await service.load_round(uow.session, round_id)
    if rnd.status not in ("open", "finalized"):
        raise Forbidden("the drawn list is sealed until the review opens", "抽取名单在评审开始前密封")
    return ProgressOut.model_validate(await service.progress(uow, rnd))


@router.get("/rounds/{round_id}/score-sheets", response_model=ScoreSheetsOut)
async def score_sheets(round_id: UUID, uow: UnitOfWorkDep, _: Finalizer) -> ScoreSheetsOut:
    rnd = await service.load_round(uow.session, round_id)
    await duties.claim(uow, rnd.id, "results", "read_score_sheets")
    summaries = await service.summarise(uow, rnd)
    out = ScoreSheetsOut.model_validate(
        {
            "round": _round_out(rnd),
            "items": [service.summary_out(sm) for sm in summaries],
            "sheets": await service.score_sheets(uow, rnd),
        }
    )
    await uow.commit()
    return out


@router.get(
    "/rounds/{round_id}/score-sheets.xlsx",
    response_class=Response,
    responses={200: {"content": {XLSX_MEDIA_TYPE: {}}, "description": "评分表 (.xlsx)"}},
)
async def export_score_sheets(round_id: UUID, uow: UnitOfWorkDep, _: Finalizer) -> Response:
    """One row per submitted sheet, a column per indicator, Chinese headers."""
    rnd = await service.load_round(uow.session, round_id)
    await duties.claim(uow, rnd.id, "results", "export_score_sheets")
    summaries = await service.summarise(uow, rnd)
    indicators: dict[str, str] = {}
    for sm in summaries:
        for ind in sm.form.indicators:
            indicators.setdefault(ind["code"], ind["name_zh"])
    columns = [
        Column("code", "编号"),
        Column("title", "名称", 30),
        Column("expert_name", "评审专家"),
        *[Column(f"score.{code}", name, 14) for code, name in indicators.items()],
        Column("total", "加权总分"),
        Column("z_score", "标准分（z）"),
        Column("recommendation", "资助建议"),
        Column("comment", "评审意见", 40),
        Column("submitted_at", "提交时间", 20),
    ]
    rows = []
    for sheet in await service.score_sheets(uow, rnd):
        row = {**sheet, "recommendation": RECOMMENDATIONS.get(sheet["recommendation"] or "", "")}
        row.update({f"score.{k}": v for k, v in sheet["scores"].items()})
        rows.append(row)
    content = export_xlsx(columns, rows, sheet="评分表")
    await uow.commit()
    return Response(
        content,
        media_type=XLSX_MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="score-sheets-{rnd.id}.xlsx"'},
    )


@router.get(
    "/rounds/{round_id}/dispersion",
    response_model=Page[ItemSummaryOut],
    summary="Items for panel discussion (dispersion, strong minority)",
)
async def dispersion_queue(round_id: UUID, uow: UnitOfWorkDep, _: Finalizer) -> Page[ItemSummaryOut]:
    """Every flagged item of the round in one page (the scores are aggregated for all at once)."""
    rnd = await service.load_round(uow.session, round_id)
    await duties.claim(uow, rnd.id, "results", "read_panel_queue")
    flagged = [sm for sm in await service.summarise(uow, rnd) if sm.flagged]
    out = Page.whole([ItemSummaryOut.model_validate(service.summary_out(sm)) for sm in flagged])
    await uow.commit()
    return out


@router.post("/rounds/{round_id}/items/{item_id}/panel", response_model=PanelDecisionOut)
async def panel_decision(
    round_id: UUID, item_id: UUID, body: PanelIn, uow: UnitOfWorkDep, _: Finalizer
) -> PanelDecisionOut:
    rnd = await service.load_round(uow.session, round_id, lock=True)
    await duties.claim(uow, rnd.id, "results", "panel")
    item = await service.load_item(uow.session, rnd, item_id)
    d = await service.decide(
        uow, rnd, item, note=body.note, score=body.score, recommendation=body.recommendation
    )
    await uow.commit()
    return PanelDecisionOut(item_id=d.item_id, note=d.note, score=d.score, recommendation=d.recommendation)


@router.get(
    "/rounds/{round_id}/ranking",
    response_model=RankingOut,
    summary="Ranking with ties explained and the funding line",
)
async def ranking(round_id: UUID, uow: UnitOfWorkDep, _: Finalizer) -> RankingOut:
    rnd = await service.load_round(uow.session, round_id)
    await duties.claim(uow, rnd.id, "results", "read_ranking")
    ranked, budget, line = await service.ranking(uow, rnd)
    out = {
        "round": _round_out(rnd).model_dump(),
        "budget_fen": budget,
        "funding_line_rank": line,
        "not_ready": service.ready_issues([e.extra["summary"] for e in ranked]),
        "items": [
            {
                "rank": e.rank,
                "item_id": e.key,
                "code": e.code,
                "score": e.score,
                "fund_votes": e.fund_votes,
                "std": e.std,
                "recommendation": e.recommendation,
                "recommendation_zh": RECOMMENDATIONS.get(e.recommendation or ""),
                "requested_fen": e.requested_fen,
                "cumulative_fen": e.cumulative_fen,
                "above_funding_line": e.above_line,
                "tie_note": e.tie_note,
                "tie_note_zh": e.tie_note_zh,
                "line_note_zh": e.line_note_zh,
                "dispersion_flag": e.extra["summary"].dispersion_flag,
                "non_consensus": e.extra["summary"].non_consensus,
            }
            for e in ranked
        ],
    }
    await uow.commit()
    return RankingOut.model_validate(out)


@router.post(
    "/rounds/{round_id}/finalize",
    response_model=FinalizedRoundOut,
    summary="Finalize an application review: results go to projects",
)
async def finalize(round_id: UUID, uow: UnitOfWorkDep, _: Finalizer) -> FinalizedRoundOut:
    rnd = await service.load_round(uow.session, round_id, lock=True)
    await duties.claim(uow, rnd.id, "results", "finalize")
    results = await service.finalize_round(uow, rnd)
    await uow.commit()
    return FinalizedRoundOut.model_validate(
        {
            "round": _round_out(rnd).model_dump(),
            "results": [
                {
                    "item_id": r.item_id,
                    "score": r.score,
                    "rank": r.rank,
                    "recommendation": r.recommendation,
                    "above_funding_line": r.above_funding_line,
                    "finalized_by": r.finalized_by,
                    "finalized_at": r.finalized_at,
                }
                for r in results
            ],
        }
    )


# ------------------------------------------------------------------ applicants


@router.get(
    "/reviews/applications/{application_id}",
    response_model=ApplicantResultOut,
    summary="The applicant's review result, anonymised",
)
async def applicant_result(
    application_id: UUID, uow: UnitOfWorkDep, principal: PrincipalDep
) -> ApplicantResultOut:
    out = await service.applicant_view(uow, application_id, principal.person_id)
    out["recommendation_zh"] = RECOMMENDATIONS.get(out["recommendation"] or "")
    return ApplicantResultOut.model_validate(out)
