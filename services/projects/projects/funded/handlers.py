"""Verdicts of mid-term checks, milestones, acceptance and performance evaluation from evaluation."""

from __future__ import annotations

from projects.funded import evaluations
from projects.funded.events import PROJECT_EVALUATION_FINALIZED, ProjectEvaluationFinalized
from projects.organisations.handlers import handlers
from shared.events.consumer import ReceivedEvent
from shared.uow import UnitOfWork


@handlers.on(PROJECT_EVALUATION_FINALIZED)
async def evaluation_finalized(uow: UnitOfWork, event: ReceivedEvent[ProjectEvaluationFinalized]) -> None:
    await evaluations.finalized(uow, event.payload)
