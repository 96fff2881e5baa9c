"""Expert review results from evaluation move applications from in_review to reviewed."""

from __future__ import annotations

from projects.applications import service
from projects.applications.events import REVIEW_COMPLETED, ReviewCompleted
from projects.organisations.handlers import handlers
from shared.events.consumer import ReceivedEvent
from shared.uow import UnitOfWork


@handlers.on(REVIEW_COMPLETED)
async def review_completed(uow: UnitOfWork, event: ReceivedEvent[ReviewCompleted]) -> None:
    p = event.payload
    await service.review_completed(uow, p.application_id, p.model_dump(mode="json"), p.score)
