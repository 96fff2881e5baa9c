"""Keep projects' copy of registry's platforms."""

from __future__ import annotations

from projects.organisations.handlers import handlers
from projects.platforms.events import PLATFORM_EVENTS, PlatformSnapshot
from projects.platforms.models import PlatformView
from shared.clock import utcnow
from shared.events.consumer import ReceivedEvent
from shared.readmodel import upsert_versioned_many
from shared.uow import UnitOfWork

COLUMNS = set(PlatformView.__table__.columns.keys())


async def keep_platforms(uow: UnitOfWork, events: list[ReceivedEvent[PlatformSnapshot]]) -> None:
    now = utcnow()
    rows = []
    for e in events:
        row = e.payload.model_dump(include=COLUMNS)
        row["co_builder_unit_ids"] = [str(u) for u in e.payload.co_builder_unit_ids]
        rows.append(row | {"synced_at": now})
    await upsert_versioned_many(uow.session, PlatformView.__table__, rows)  # type: ignore[arg-type]


for _event in PLATFORM_EVENTS:
    handlers.on_many(_event)(keep_platforms)
