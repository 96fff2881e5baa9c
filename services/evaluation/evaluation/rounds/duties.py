"""Separation of duties per round (职责分离), enforced and recorded.

The staff who keep the expert database, who request experts, who draw them and who read and
finalize the results are different people for the same round. The first time a principal
acts in a duty for a round it is recorded (``round_duties``); a principal already recorded in
another duty for that round is refused with a 403 naming the rule.
"""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert

from evaluation.codes import DUTIES
from evaluation.rounds.models import RoundDuty
from shared.errors import Forbidden
from shared.uow import UnitOfWork

RULE = "separation_of_duties"


async def claim(uow: UnitOfWork, round_id: UUID, duty: str, action: str) -> None:
    """Record that the caller acts in ``duty`` for the round, or refuse if they hold another."""
    actor = uow.actor.id
    # one person's claims on one round are taken one at a time: two requests in two duties
    # racing each other cannot both see the other duty still free
    key = func.hashtextextended(f"round-duty:{round_id}:{actor}", 0)
    await uow.session.execute(select(func.pg_advisory_xact_lock(key)))
    held = set(
        (
            await uow.session.execute(
                select(RoundDuty.duty).where(
                    RoundDuty.round_id == round_id, RoundDuty.actor_id == actor, RoundDuty.duty != duty
                )
            )
        ).scalars()
    )
    if held:
        other = sorted(held)[0]
        raise Forbidden(
            f"separation of duties: you acted as '{other}' for this round and may not act as '{duty}'",
            f"职责分离：您已在本轮次承担“{DUTIES[other]}”职责，不得再承担“{DUTIES[duty]}”职责",
            code=RULE,
            extra={"rule": RULE, "round_id": str(round_id), "held_duty": other, "refused_duty": duty},
        )
    inserted = (
        await uow.session.execute(
            insert(RoundDuty)
            .values(round_id=round_id, duty=duty, actor_id=actor, first_action=action)
            .on_conflict_do_nothing()
            .returning(RoundDuty.duty)
        )
    ).first()
    if inserted is not None:
        await uow.record(
            "duty_taken",
            entity_type="review_round",
            entity_id=round_id,
            changes={"duty": duty, "first_action": action},
        )


async def claim_all(uow: UnitOfWork, round_ids: Iterable[UUID], duty: str, action: str) -> None:
    for round_id in sorted(set(round_ids)):
        await claim(uow, round_id, duty, action)


async def holders(uow: UnitOfWork, round_id: UUID) -> list[RoundDuty]:
    q = select(RoundDuty).where(RoundDuty.round_id == round_id).order_by(RoundDuty.acted_at)
    return list((await uow.session.execute(q)).scalars())
