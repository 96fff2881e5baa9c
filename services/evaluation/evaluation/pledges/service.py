"""The pledge (诚信和保密承诺) an expert signs for a round before seeing its applications.

Signing is idempotent: the first signature is the record (its time and words); signing again
changes nothing. Never commits.
"""

from __future__ import annotations

from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from evaluation.experts.models import Expert
from evaluation.pledges.models import ReviewPledge
from evaluation.rounds.models import ACTIVE, Assignment, ReviewRound
from shared.clock import utcnow
from shared.errors import Conflict, FieldIssue, NotFound, ValidationFailed
from shared.uow import UnitOfWork

TEXT_VERSION = "2026-1"
TEXT = (
    "本人自愿担任本轮评审专家，郑重承诺：一、遵守科研诚信要求，客观、公正、独立地开展评审，"
    "不以任何形式接受请托、收受财物或谋取私利；二、存在利益冲突时主动申请回避；"
    "三、对评审材料、评审意见和评审结果严格保密，不复制、不泄露、不擅自使用申报材料中的技术信息；"
    "四、如违反上述承诺，自愿接受取消评审专家资格、记入科研诚信记录等处理。"
)


def required(round_id: UUID) -> Conflict:
    """The refusal a sheet gives until the pledge is signed: names the pledge and where to sign."""
    return Conflict(
        "sign the integrity and confidentiality pledge of this round before reading its applications",
        "查看评审材料前须先签署本轮评审的诚信和保密承诺",
        code="pledge_required",
        extra={"round_id": str(round_id), "pledge": f"/rounds/{round_id}/pledge"},
    )


async def expert_in_round(session: AsyncSession, round_id: UUID, person_id: str | None) -> Expert:
    """The caller as an expert with a live task in the round, or 404."""
    expert = None
    if person_id is not None:
        expert = (
            await session.execute(select(Expert).where(Expert.person_id == UUID(person_id)))
        ).scalar_one_or_none()
    rnd = await session.get(ReviewRound, round_id)
    task = None
    if expert is not None and rnd is not None:
        task = (
            await session.execute(
                select(Assignment.id)
                .where(
                    Assignment.round_id == round_id,
                    Assignment.expert_id == expert.id,
                    Assignment.status.in_(ACTIVE),
                )
                .limit(1)
            )
        ).first()
    if expert is None or task is None:
        raise NotFound(f"no review task of yours in round {round_id}", "您在该评审中没有评审任务")
    return expert


async def signed(session: AsyncSession, round_id: UUID, expert_id: UUID) -> ReviewPledge | None:
    pledge: ReviewPledge | None = (
        await session.execute(
            select(ReviewPledge).where(ReviewPledge.round_id == round_id, ReviewPledge.expert_id == expert_id)
        )
    ).scalar_one_or_none()
    return pledge


async def require(session: AsyncSession, round_id: UUID, expert_id: UUID) -> None:
    if await signed(session, round_id, expert_id) is None:
        raise required(round_id)


async def sign(
    uow: UnitOfWork, round_id: UUID, person_id: str | None, text_version: str | None
) -> tuple[ReviewPledge, bool]:
    """The expert's pledge for the round, and whether this call signed it."""
    expert = await expert_in_round(uow.session, round_id, person_id)
    existing = await signed(uow.session, round_id, expert.id)
    if existing is not None:
        return existing, False
    if text_version is not None and text_version != TEXT_VERSION:
        raise ValidationFailed(
            [
                FieldIssue(
                    "text_version",
                    "outdated",
                    f"the pledge's text is now version {TEXT_VERSION}; read it again",
                    "承诺书内容已更新，请重新阅读后签署",
                )
            ]
        )
    pledge = ReviewPledge(
        round_id=round_id,
        expert_id=expert.id,
        person_id=expert.person_id,
        signed_by=uow.actor.id,
        text_version=TEXT_VERSION,
        text=TEXT,
        signed_at=utcnow(),
    )
    uow.session.add(pledge)
    await uow.session.flush()
    await uow.record(
        "review_pledge.signed",
        entity_type="review_round",
        entity_id=round_id,
        changes={"expert_id": str(expert.id), "text_version": TEXT_VERSION},
        reason="签署诚信和保密承诺",
    )
    return pledge, True
