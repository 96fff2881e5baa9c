"""Reorganisation as a campaign (seed 000 到2023年底基本完成…分批完成): batches by field, each
lab's outcome and progress per field and batch. Outcomes are not typed in: a lab's outcome is
the last 充实/调整/整合/撤销 step it took since the campaign started (its history). Never commits.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from registry.campaigns.models import Campaign, CampaignBatch, CampaignLab
from registry.campaigns.schemas import CampaignIn
from registry.platforms.machine import LIVE
from registry.platforms.models import Platform, PlatformHistory
from registry.reference import FIELD_LABELS, LAB_KINDS
from shared.clock import utcnow
from shared.errors import DuplicateValue, FieldIssue, NotFound, ValidationFailed
from shared.ids import uuid7
from shared.uow import UnitOfWork

# history action → outcome (the survivor of a merge is 整合 too)
OUTCOMES = {
    "strengthen": "strengthened",
    "adjust": "adjusted",
    "merge": "merged",
    "absorb": "merged",
    "revoke": "revoked",
}
OUTCOME_LABELS = {
    "pending": "待优化重组",
    "strengthened": "充实",
    "adjusted": "调整",
    "merged": "整合",
    "revoked": "撤销",
}


async def start(uow: UnitOfWork, data: CampaignIn) -> Campaign:
    """The campaign with its batches; every live key lab of a batch's fields is enrolled."""
    seen: dict[str, int] = {}
    issues = []
    for n, batch in enumerate(data.batches, start=1):
        if batch.due_on > data.deadline:
            issues.append(
                FieldIssue(
                    f"batches.{n - 1}.due_on",
                    "after_deadline",
                    "due after the deadline",
                    "批次完成时间晚于总期限",
                )
            )
        for f in batch.fields:
            if f in seen:
                issues.append(
                    FieldIssue(
                        f"batches.{n - 1}.fields",
                        "field_in_two_batches",
                        f"'{f}' is already in batch {seen[f]}",
                        f"「{FIELD_LABELS[f]}」已在第{seen[f]}批",
                    )
                )
            seen[f] = n
    if issues:
        raise ValidationFailed(issues)
    c = Campaign(
        id=uuid7(),
        name=data.name,
        deadline=data.deadline,
        document_number=data.document_number,
        reason=data.reason,
        started_at=utcnow(),
        started_by=uow.actor.id,
        version=1,
    )
    uow.session.add(c)
    try:
        async with uow.session.begin_nested():
            await uow.session.flush()
    except IntegrityError as exc:
        raise DuplicateValue("name", data.name) from exc
    for n, batch in enumerate(data.batches, start=1):
        uow.session.add(
            CampaignBatch(
                id=uuid7(), campaign_id=c.id, number=n, fields=list(batch.fields), due_on=batch.due_on
            )
        )
    labs = await uow.session.execute(
        select(Platform.id, Platform.field).where(
            Platform.kind.in_(LAB_KINDS), Platform.state.in_(LIVE), Platform.field.in_(list(seen))
        )
    )
    enrolled = [
        CampaignLab(campaign_id=c.id, platform_id=pid, batch_number=seen[field_code], field=field_code)
        for pid, field_code in labs
    ]
    uow.session.add_all(enrolled)
    await uow.session.flush()
    await uow.record(
        "campaign.started",
        entity_type="campaign",
        entity_id=c.id,
        changes={
            "name": data.name,
            "deadline": data.deadline.isoformat(),
            "batches": [b.model_dump(mode="json") for b in data.batches],
            "labs": len(enrolled),
        },
        reason=data.reason,
    )
    return c


async def listed(session: AsyncSession, *, offset: int, limit: int) -> tuple[list[Campaign], int]:
    total = (await session.execute(select(func.count()).select_from(Campaign))).scalar_one()
    rows = await session.execute(
        select(Campaign).order_by(Campaign.started_at.desc(), Campaign.id.desc()).offset(offset).limit(limit)
    )
    return list(rows.scalars()), int(total)


async def get(session: AsyncSession, campaign_id: UUID) -> Campaign:
    c = await session.get(Campaign, campaign_id)
    if c is None:
        raise NotFound(f"campaign {campaign_id} not found", "未找到该优化重组工作")
    return c


@dataclass
class LabOutcome:
    platform_id: UUID
    code: str
    name: str
    field: str
    batch_number: int
    outcome: str
    decided_at: Any
    document_number: str | None
    overdue: bool


async def outcomes(
    session: AsyncSession, c: Campaign, today: date
) -> tuple[list[CampaignBatch], list[LabOutcome]]:
    batches = list(
        (
            await session.execute(
                select(CampaignBatch).where(CampaignBatch.campaign_id == c.id).order_by(CampaignBatch.number)
            )
        ).scalars()
    )
    due = {b.number: b.due_on for b in batches}
    last_step = (
        select(
            PlatformHistory.platform_id,
            PlatformHistory.action,
            PlatformHistory.occurred_at,
            PlatformHistory.document_number,
        )
        .where(PlatformHistory.occurred_at >= c.started_at, PlatformHistory.action.in_(list(OUTCOMES)))
        .ext(distinct_on(PlatformHistory.platform_id))
        .order_by(PlatformHistory.platform_id, PlatformHistory.occurred_at.desc(), PlatformHistory.id.desc())
        .subquery()
    )
    rows = await session.execute(
        select(
            CampaignLab.platform_id,
            Platform.code,
            Platform.name,
            CampaignLab.field,
            CampaignLab.batch_number,
            last_step.c.action,
            last_step.c.occurred_at,
            last_step.c.document_number,
        )
        .join(Platform, Platform.id == CampaignLab.platform_id)
        .outerjoin(last_step, last_step.c.platform_id == CampaignLab.platform_id)
        .where(CampaignLab.campaign_id == c.id)
        .order_by(CampaignLab.batch_number, Platform.code)
    )
    labs = []
    found: list[Any] = list(rows)
    for pid, code, name, field_code, batch, action, at, document in found:
        outcome = OUTCOMES[action] if action else "pending"
        labs.append(
            LabOutcome(
                pid,
                code,
                name,
                field_code,
                batch,
                outcome,
                at,
                document,
                outcome == "pending" and due[batch] < today,
            )
        )
    return batches, labs


def progress(labs: list[LabOutcome], key: str) -> dict[Any, dict[str, Any]]:
    groups: dict[Any, dict[str, Any]] = defaultdict(
        lambda: {"labs": 0, "done": 0, "overdue": 0, "outcomes": {}}
    )
    for lab in labs:
        g = groups[getattr(lab, key)]
        g["labs"] += 1
        g["done"] += lab.outcome != "pending"
        g["overdue"] += lab.overdue
        g["outcomes"][lab.outcome] = g["outcomes"].get(lab.outcome, 0) + 1
    for g in groups.values():
        g["share_done"] = round(g["done"] / g["labs"], 3) if g["labs"] else None
    return groups
