from __future__ import annotations

from evaluation.organisations.events import (
    ORGANISATION_REGISTERED,
    ORGANISATION_UPDATED,
    OrganisationSnapshot,
)
from evaluation.organisations.models import OrganisationView
from shared.clock import utcnow
from shared.events.consumer import Handlers, ReceivedEvent
from shared.readmodel import upsert_versioned_many
from shared.uow import UnitOfWork

handlers = Handlers()


@handlers.on_many(ORGANISATION_REGISTERED)
@handlers.on_many(ORGANISATION_UPDATED)
async def keep_organisations(uow: UnitOfWork, events: list[ReceivedEvent[OrganisationSnapshot]]) -> None:
    now = utcnow()
    rows = [{**event.payload.model_dump(), "synced_at": now} for event in events]
    await upsert_versioned_many(uow.session, OrganisationView.__table__, rows)  # type: ignore[arg-type]
