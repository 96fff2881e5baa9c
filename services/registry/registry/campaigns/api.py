from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Query, status

from registry.access import is_staff, require
from registry.campaigns import service
from registry.campaigns.models import Campaign
from registry.campaigns.schemas import CampaignIn, CampaignLabOut, CampaignOut, CampaignSummary
from registry.reference import FIELD_LABELS, FieldCode
from shared.clock import utcnow
from shared.http.auth import PrincipalDep
from shared.http.deps import PageDep, SessionDep, UnitOfWorkDep
from shared.http.schemas import Page

router = APIRouter(prefix="/campaigns", tags=["campaigns"])
Outcome = Literal["pending", "strengthened", "adjusted", "merged", "revoked"]


def _campaign(c: Campaign) -> dict[str, Any]:
    return {
        "id": c.id,
        "name": c.name,
        "deadline": c.deadline,
        "document_number": c.document_number,
        "reason": c.reason,
        "started_at": c.started_at,
        "started_by": c.started_by,
    }


async def _overview(session: SessionDep, c: Campaign) -> CampaignOut:
    today = utcnow().date()
    batches, labs = await service.outcomes(session, c, today)
    by_batch = service.progress(labs, "batch_number")
    by_field = service.progress(labs, "field")
    everything = service.progress(labs, "outcome").keys()
    done = sum(1 for lab in labs if lab.outcome != "pending")
    overview = _campaign(c) | {
        "overdue": today > c.deadline and done < len(labs),
        "labs": len(labs),
        "done": done,
        "outcome_labels": service.OUTCOME_LABELS,
        "outcomes_present": sorted(everything),
        "batches": [
            {
                "number": b.number,
                "fields": b.fields,
                "fields_zh": [FIELD_LABELS[f] for f in b.fields],
                "due_on": b.due_on,
                "progress": by_batch.get(b.number, {"labs": 0, "done": 0, "overdue": 0, "outcomes": {}}),
            }
            for b in batches
        ],
        "fields": [
            {"field": f, "field_zh": FIELD_LABELS[f], "progress": p} for f, p in sorted(by_field.items())
        ],
    }
    return CampaignOut.model_validate(overview)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=CampaignOut,
    summary="Start a reorganisation campaign (staff)",
)
async def start_campaign(body: CampaignIn, uow: UnitOfWorkDep, principal: PrincipalDep) -> CampaignOut:
    require(is_staff(principal), "start a reorganisation campaign", "启动优化重组工作")
    c = await service.start(uow, body)
    out = await _overview(uow.session, c)
    await uow.commit()
    return out


@router.get(
    "",
    response_model=Page[CampaignSummary],
    summary="Reorganisation campaigns, the latest started first (staff)",
)
async def list_campaigns(
    session: SessionDep, principal: PrincipalDep, page: PageDep
) -> Page[CampaignSummary]:
    require(is_staff(principal), "read reorganisation campaigns", "查看优化重组工作")
    rows, total = await service.listed(session, offset=page.offset, limit=page.size)
    return Page(
        items=[CampaignSummary.model_validate(_campaign(c)) for c in rows],
        total=total,
        page=page.page,
        size=page.size,
    )


@router.get(
    "/{campaign_id}",
    response_model=CampaignOut,
    summary="A campaign with its progress per batch and per field",
)
async def campaign(campaign_id: UUID, session: SessionDep, principal: PrincipalDep) -> CampaignOut:
    require(is_staff(principal), "read reorganisation campaigns", "查看优化重组工作")
    return await _overview(session, await service.get(session, campaign_id))


@router.get(
    "/{campaign_id}/labs",
    response_model=Page[CampaignLabOut],
    summary="Each enrolled lab's outcome: 待优化重组, 充实, 调整, 整合 or 撤销",
)
async def campaign_labs(
    campaign_id: UUID,
    session: SessionDep,
    principal: PrincipalDep,
    batch: Annotated[int | None, Query(ge=1, le=13)] = None,
    field: FieldCode | None = None,
    outcome: Outcome | None = None,
) -> Page[CampaignLabOut]:
    require(is_staff(principal), "read reorganisation campaigns", "查看优化重组工作")
    c = await service.get(session, campaign_id)
    _, labs = await service.outcomes(session, c, utcnow().date())
    items = [
        CampaignLabOut(
            platform_id=lab.platform_id,
            code=lab.code,
            name=lab.name,
            field=lab.field,
            batch=lab.batch_number,
            outcome=lab.outcome,
            outcome_zh=service.OUTCOME_LABELS[lab.outcome],
            decided_at=lab.decided_at,
            document_number=lab.document_number,
            overdue=lab.overdue,
        )
        for lab in labs
        if (batch is None or lab.batch_number == batch)
        and (field is None or lab.field == field)
        and (outcome is None or lab.outcome == outcome)
    ]
    return Page.whole(items)
