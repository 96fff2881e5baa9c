"""Verdicts of mid-term checks, milestones, acceptance and performance evaluation from evaluation."""

from __future__ import annotations

from projects.organisations.handlers import handlers
from projects.projects import evaluations
from projects.projects.events import PROJECT_EVALUATION_FINALIZED, ProjectEvaluationFinalized
from shared.events.consumer import ReceivedEvent
from shared.uow import UnitOfWork


@handlers.on(PROJECT_EVALUATION_FINALIZED)
async def evaluation_finalized(uow: UnitOfWork, event: ReceivedEvent[ProjectEvaluationFinalized]) -> None:
    await evaluations.finalized(uow, event.payload)
