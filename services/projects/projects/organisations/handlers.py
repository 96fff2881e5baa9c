from __future__ import annotations

from projects.organisations.events import (
    ORGANISATION_REGISTERED,
    ORGANISATION_UPDATED,
    OrganisationSnapshot,
)
from projects.organisations.models import OrganisationView
from shared.clock import utcnow
from shared.events.consumer import Handlers, ReceivedEvent
from shared.readmodel import upsert_versioned
from shared.uow import UnitOfWork

handlers = Handlers()


@handlers.on(ORGANISATION_REGISTERED)
@handlers.on(ORGANISATION_UPDATED)
async def keep_organisation(uow: UnitOfWork, event: ReceivedEvent[OrganisationSnapshot]) -> None:
    values = event.payload.model_dump()
    values["synced_at"] = utcnow()
    await upsert_versioned(uow.session, OrganisationView.__table__, values)  # type: ignore[arg-type]
