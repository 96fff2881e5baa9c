"""REST for assessments (考核评估): start lab and cluster campaigns, read and finalize each subject."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Query, status
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select

from evaluation.access import Designer, Finalizer, Office
from evaluation.assessments import service
from evaluation.codes import (
    INDICATOR_VERDICTS,
    LAB_ORIENTATIONS,
    RESULT_CODES_BY_KIND,
    ROUND_KINDS,
    ROUND_STATUSES,
)
from evaluation.disciplines.schemas import DisciplineCode
from evaluation.reviews import service as reviews
from evaluation.reviews.models import ReviewResult
from evaluation.reviews.schemas import ItemSummaryOut, NotReady
from evaluation.rounds import duties
from evaluation.rounds.models import ReviewRound, RoundItem
from shared.errors import NotFound
from shared.http.deps import PageDep, UnitOfWorkDep
from shared.http.filters import only_filters
from shared.http.schemas import Page
from shared.timestamps import Timestamp

router = APIRouter(prefix="/assessments", tags=["assessments"])

Discipline = DisciplineCode
Keyword = Annotated[str, Field(min_length=1, max_length=50)]


class LabIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    platform_id: UUID
    orientation: Literal["free_exploration", "goal_oriented"]
    discipline_codes: list[Discipline] = Field(default=[], max_length=10)
    keywords: list[Keyword] = Field(default=[], max_length=20)


class LabCampaignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    period: str = Field(pattern=r"^\d{4}(-\d{4})?$", description="e.g. 2021-2025, or a year")
    name: str | None = Field(default=None, max_length=200)
    labs: list[LabIn] = Field(min_length=1, max_length=500)


class PlatformIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    platform_id: UUID = Field(
        description="a technology innovation centre, clinical research centre, "
        "new R&D institution, academician workstation or pilot base"
    )
    discipline_codes: list[Discipline] = Field(default=[], max_length=10)
    keywords: list[Keyword] = Field(default=[], max_length=20)


class PlatformCampaignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    period: str = Field(pattern=r"^\d{4}(-\d{4})?$", description="e.g. 2021-2025, or a year")
    name: str | None = Field(default=None, max_length=200)
    platforms: list[PlatformIn] = Field(min_length=1, max_length=500)


class ClusterIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    cluster_id: UUID
    discipline_codes: list[Discipline] = Field(default=[], max_length=10)
    keywords: list[Keyword] = Field(default=[], max_length=20)
    unit_ids: list[UUID] = Field(default=[], max_length=200, description="member units (回避)")
    person_ids: list[UUID] = Field(default=[], max_length=200, description="director, secretariat (回避)")


class ClusterCampaignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    year: int = Field(ge=2000, le=2100)
    name: str | None = Field(default=None, max_length=200)
    clusters: list[ClusterIn] = Field(min_length=1, max_length=200)


class VerdictIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(min_length=1, max_length=60)
    verdict: Literal["achieved", "partly_achieved", "not_achieved"]


class FinalizeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    result: str | None = Field(default=None, max_length=30, description="omit: the grade the scores give")
    reason: str | None = Field(default=None, max_length=2000)
    remarks: str | None = Field(default=None, max_length=5000)
    required_measures: list[Annotated[str, Field(min_length=1, max_length=500)]] = Field(
        default=[], max_length=20
    )
    diligent: bool | None = None
    indicator_verdicts: list[VerdictIn] = Field(default=[], max_length=100)


class CampaignOut(BaseModel):
    """The round an assessment campaign opened; experts are then requested and drawn for it."""

    round_id: UUID
    kind: str
    kind_zh: str
    name: str
    period: str | None
    status: str
    status_zh: str
    items: int = Field(description="subjects assessed")


class AssessmentOut(BaseModel):
    """One assessed subject (a lab, a cluster, a project) and its result once final."""

    id: UUID
    round_id: UUID
    kind: str
    kind_zh: str
    period: str | None
    round_status: str
    round_status_zh: str
    subject_id: UUID | None
    code: str
    title: str
    orientation: str | None
    orientation_zh: str | None
    evaluation_kind: str | None = Field(description="project evaluations: mid_term, acceptance …")
    finalized: bool
    result: str | None
    result_zh: str | None
    score: float | None
    finalized_at: Timestamp | None
    finalized_by: str | None


class ProposedVerdict(BaseModel):
    id: str = Field(description="the task book indicator")
    achieved: bool
    verdict: str
    verdict_zh: str


class AssessmentDetail(AssessmentOut):
    summary: ItemSummaryOut | None = Field(default=None, description="aggregated scores")
    not_ready: list[NotReady] = Field(default=[], description="what stops finalizing")
    proposed_verdicts: list[ProposedVerdict] | None = Field(
        default=None, description="project evaluations: each promised indicator against the report"
    )
    details: dict[str, Any] | None = Field(default=None, description="the final result's particulars")
    reason: str | None = None


def _campaign_out(rnd: ReviewRound, items: int) -> CampaignOut:
    return CampaignOut(
        round_id=rnd.id,
        kind=rnd.kind,
        kind_zh=ROUND_KINDS[rnd.kind],
        name=rnd.name,
        period=rnd.period,
        status=rnd.status,
        status_zh=ROUND_STATUSES.get(rnd.status, rnd.status),
        items=items,
    )


@router.post("/labs", status_code=status.HTTP_201_CREATED, response_model=CampaignOut)
async def start_labs(body: LabCampaignIn, uow: UnitOfWorkDep, _: Designer) -> CampaignOut:
    """A periodic key-lab assessment; experts are then requested and drawn as for any round."""
    rnd = await service.start_lab_assessment(
        uow, period=body.period, name=body.name, labs=[lab.model_dump() for lab in body.labs]
    )
    await uow.commit()
    return _campaign_out(rnd, len(body.labs))


@router.post("/platforms", status_code=status.HTTP_201_CREATED, response_model=CampaignOut)
async def start_platforms(body: PlatformCampaignIn, uow: UnitOfWorkDep, _: Designer) -> CampaignOut:
    """A periodic assessment of other platforms (创新平台考核评估), each by its kind's form."""
    rnd = await service.start_platform_assessment(
        uow, period=body.period, name=body.name, platforms=[p.model_dump() for p in body.platforms]
    )
    await uow.commit()
    return _campaign_out(rnd, len(body.platforms))


@router.post("/clusters", status_code=status.HTTP_201_CREATED, response_model=CampaignOut)
async def start_clusters(body: ClusterCampaignIn, uow: UnitOfWorkDep, _: Designer) -> CampaignOut:
    rnd = await service.start_cluster_assessment(
        uow, year=body.year, name=body.name, clusters=[c.model_dump() for c in body.clusters]
    )
    await uow.commit()
    return _campaign_out(rnd, len(body.clusters))


def _item_out(rnd: ReviewRound, item: RoundItem, result: ReviewResult | None) -> dict[str, Any]:
    labels = RESULT_CODES_BY_KIND.get(rnd.kind, {})
    return {
        "id": item.id,
        "round_id": rnd.id,
        "kind": rnd.kind,
        "kind_zh": ROUND_KINDS.get(rnd.kind, rnd.kind),
        "period": rnd.period,
        "round_status": rnd.status,
        "round_status_zh": ROUND_STATUSES.get(rnd.status, rnd.status),
        "subject_id": item.subject_id,
        "code": item.code,
        "title": item.title,
        "orientation": item.orientation,
        "orientation_zh": LAB_ORIENTATIONS.get(item.orientation or ""),
        "evaluation_kind": item.details.get("kind") if rnd.kind == "project_evaluation" else None,
        "finalized": result is not None,
        "result": result.result if result else None,
        "result_zh": labels.get(result.result or "") if result else None,
        "score": result.score if result else None,
        "finalized_at": result.finalized_at if result else None,
        "finalized_by": result.finalized_by if result else None,
    }


@router.get(
    "", response_model=Page[AssessmentOut], dependencies=[only_filters("kind", "period", "finalized")]
)
async def list_assessments(
    uow: UnitOfWorkDep,
    _: Office,
    page: PageDep,
    kind: Literal["lab_assessment", "platform_assessment", "cluster_assessment", "project_evaluation"]
    | None = None,
    period: Annotated[str | None, Query(max_length=20)] = None,
    finalized: bool | None = None,
) -> Page[AssessmentOut]:
    q = (
        select(RoundItem, ReviewRound, ReviewResult)
        .join(ReviewRound, ReviewRound.id == RoundItem.round_id)
        .outerjoin(ReviewResult, ReviewResult.item_id == RoundItem.id)
        .where(ReviewRound.kind != "application_review")
    )
    if kind:
        q = q.where(ReviewRound.kind == kind)
    if period:
        q = q.where(ReviewRound.period == period)
    if finalized is not None:
        q = q.where(ReviewResult.item_id.is_not(None) if finalized else ReviewResult.item_id.is_(None))
    total = (await uow.session.execute(select(func.count()).select_from(q.subquery()))).scalar_one()
    rows = (
        await uow.session.execute(
            q.order_by(ReviewRound.created_at.desc(), RoundItem.code).offset(page.offset).limit(page.size)
        )
    ).all()
    return Page(
        items=[AssessmentOut.model_validate(_item_out(r, i, res)) for i, r, res in rows],
        total=total,
        page=page.page,
        size=page.size,
    )


async def _subject(uow: Any, item_id: UUID) -> tuple[ReviewRound, RoundItem]:
    item = await uow.session.get(RoundItem, item_id)
    rnd = await uow.session.get(ReviewRound, item.round_id) if item else None
    if item is None or rnd is None or rnd.kind == "application_review":
        raise NotFound(f"assessment {item_id} not found", "未找到该考核评估")
    return rnd, item


@router.get("/{item_id}", response_model=AssessmentDetail)
async def get_assessment(item_id: UUID, uow: UnitOfWorkDep, _: Finalizer) -> AssessmentDetail:
    """The subject, its aggregated scores and the result the bands give (or the final one)."""
    rnd, item = await _subject(uow, item_id)
    await duties.claim(uow, rnd.id, "results", "read_assessment")
    summary = next(sm for sm in await reviews.summarise(uow, rnd) if sm.item.id == item.id)
    out = _item_out(rnd, item, summary.result)
    out["summary"] = reviews.summary_out(summary)
    out["not_ready"] = reviews.ready_issues([summary])
    if rnd.kind == "project_evaluation":
        out["proposed_verdicts"] = [
            {**v, "verdict_zh": INDICATOR_VERDICTS[v["verdict"]]} for v in service.proposed_verdicts(item)
        ]
    if summary.result is not None:
        out["details"] = summary.result.details
        out["reason"] = summary.result.reason
    await uow.commit()
    return AssessmentDetail.model_validate(out)


@router.post("/{item_id}/finalize", response_model=AssessmentDetail)
async def finalize(item_id: UUID, body: FinalizeIn, uow: UnitOfWorkDep, _: Finalizer) -> AssessmentDetail:
    rnd, item = await _subject(uow, item_id)
    rnd = await reviews.load_round(uow.session, rnd.id, lock=True)
    await duties.claim(uow, rnd.id, "results", "finalize")
    result = await service.finalize_item(uow, rnd, item, body.model_dump())
    await uow.commit()
    out = _item_out(rnd, item, result)
    out["details"] = result.details
    return AssessmentDetail.model_validate(out)
