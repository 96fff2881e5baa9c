from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Query, status

from registry.access import is_staff, require
from registry.campaigns import service
from registry.campaigns.models import Campaign
from registry.campaigns.schemas import CampaignIn
from registry.reference import FIELD_LABELS, FieldCode
from shared.clock import utcnow
from shared.http.auth import PrincipalDep
from shared.http.deps import SessionDep, UnitOfWorkDep

router = APIRouter(prefix="/campaigns", tags=["campaigns"])
Outcome = Literal["pending", "strengthened", "adjusted", "merged", "revoked"]


def _campaign(c: Campaign) -> dict[str, Any]:
    return {
        "id": str(c.id),
        "name": c.name,
        "deadline": c.deadline.isoformat(),
        "document_number": c.document_number,
        "reason": c.reason,
        "started_at": c.started_at.isoformat(),
        "started_by": c.started_by,
    }


async def _overview(session: SessionDep, c: Campaign) -> dict[str, Any]:
    today = utcnow().date()
    batches, labs = await service.outcomes(session, c, today)
    by_batch = service.progress(labs, "batch_number")
    by_field = service.progress(labs, "field")
    everything = service.progress(labs, "outcome").keys()
    done = sum(1 for lab in labs if lab.outcome != "pending")
    return _campaign(c) | {
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
                "due_on": b.due_on.isoformat(),
                "progress": by_batch.get(b.number, {"labs": 0, "done": 0, "overdue": 0, "outcomes": {}}),
            }
            for b in batches
        ],
        "fields": [
            {"field": f, "field_zh": FIELD_LABELS[f], "progress": p} for f, p in sorted(by_field.items())
        ],
    }


@router.post("", status_code=status.HTTP_201_CREATED, summary="Start a reorganisation campaign (staff)")
async def start_campaign(body: CampaignIn, uow: UnitOfWorkDep, principal: PrincipalDep) -> dict[str, Any]:
    require(is_staff(principal), "start a reorganisation campaign", "启动优化重组工作")
    c = await service.start(uow, body)
    out = await _overview(uow.session, c)
    await uow.commit()
    return out


@router.get("/{campaign_id}", summary="A campaign with its progress per batch and per field")
async def campaign(campaign_id: UUID, session: SessionDep, principal: PrincipalDep) -> dict[str, Any]:
    require(is_staff(principal), "read reorganisation campaigns", "查看优化重组工作")
    return await _overview(session, await service.get(session, campaign_id))


@router.get(
    "/{campaign_id}/labs", summary="Each enrolled lab's outcome: 待优化重组, 充实, 调整, 整合 or 撤销"
)
async def campaign_labs(
    campaign_id: UUID,
    session: SessionDep,
    principal: PrincipalDep,
    batch: Annotated[int | None, Query(ge=1, le=13)] = None,
    field: FieldCode | None = None,
    outcome: Outcome | None = None,
) -> dict[str, Any]:
    require(is_staff(principal), "read reorganisation campaigns", "查看优化重组工作")
    c = await service.get(session, campaign_id)
    _, labs = await service.outcomes(session, c, utcnow().date())
    items = [
        {
            "platform_id": str(lab.platform_id),
            "code": lab.code,
            "name": lab.name,
            "field": lab.field,
            "batch": lab.batch_number,
            "outcome": lab.outcome,
            "outcome_zh": service.OUTCOME_LABELS[lab.outcome],
            "decided_at": lab.decided_at.isoformat() if lab.decided_at else None,
            "document_number": lab.document_number,
            "overdue": lab.overdue,
        }
        for lab in labs
        if (batch is None or lab.batch_number == batch)
        and (field is None or lab.field == field)
        and (outcome is None or lab.outcome == outcome)
    ]
    return {"items": items, "total": len(items)}
