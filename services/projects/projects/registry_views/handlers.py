"""Keep projects' copies of registry people, integrity records, clusters and cluster suggestions."""

from __future__ import annotations

from projects.organisations.handlers import handlers
from projects.registry_views.events import (
    CLUSTER_EVENTS,
    GUIDELINE_REVISED,
    GUIDELINE_SUGGESTED,
    GUIDELINE_WITHDRAWN,
    INTEGRITY_LIFTED,
    INTEGRITY_RECORDED,
    PERSON_REGISTERED,
    PERSON_UPDATED,
    ClusterSnapshot,
    GuidelineSuggested,
    GuidelineWithdrawn,
    IntegritySnapshot,
    PersonSnapshot,
)
from projects.registry_views.models import ClusterView, GuidelineSuggestion, IntegrityView, PersonView
from shared.clock import utcnow
from shared.events.consumer import ReceivedEvent
from shared.readmodel import upsert_versioned_many
from shared.uow import UnitOfWork


@handlers.on_many(PERSON_REGISTERED)
@handlers.on_many(PERSON_UPDATED)
async def keep_people(uow: UnitOfWork, events: list[ReceivedEvent[PersonSnapshot]]) -> None:
    now = utcnow()
    rows = [{**e.payload.model_dump(), "synced_at": now} for e in events]
    await upsert_versioned_many(uow.session, PersonView.__table__, rows)  # type: ignore[arg-type]


@handlers.on_many(INTEGRITY_RECORDED)
@handlers.on_many(INTEGRITY_LIFTED)
async def keep_integrity(uow: UnitOfWork, events: list[ReceivedEvent[IntegritySnapshot]]) -> None:
    now = utcnow()
    rows = [{**e.payload.model_dump(), "synced_at": now} for e in events]
    await upsert_versioned_many(uow.session, IntegrityView.__table__, rows)  # type: ignore[arg-type]


async def keep_clusters(uow: UnitOfWork, events: list[ReceivedEvent[ClusterSnapshot]]) -> None:
    now = utcnow()
    rows = [
        {
            "id": e.payload.id,
            "name": e.payload.name,
            "state": e.payload.state,
            "member_unit_ids": [str(u) for u in e.payload.member_unit_ids],
            "version": e.payload.version,
            "synced_at": now,
        }
        for e in events
    ]
    await upsert_versioned_many(uow.session, ClusterView.__table__, rows)  # type: ignore[arg-type]


for _cluster_event in CLUSTER_EVENTS:
    handlers.on_many(_cluster_event)(keep_clusters)


@handlers.on(GUIDELINE_SUGGESTED)
async def keep_suggestion(uow: UnitOfWork, event: ReceivedEvent[GuidelineSuggested]) -> None:
    existing = await uow.session.get(GuidelineSuggestion, event.payload.suggestion_id)
    if existing is None:
        uow.session.add(GuidelineSuggestion(**event.payload.model_dump(), received_at=utcnow()))


@handlers.on(GUIDELINE_REVISED)
async def revise_suggestion(uow: UnitOfWork, event: ReceivedEvent[GuidelineSuggested]) -> None:
    """A cluster revised its suggestion: the copy takes the new text (events of one suggestion
    arrive in the order registry wrote them)."""
    fields = event.payload.model_dump()
    existing = await uow.session.get(GuidelineSuggestion, event.payload.suggestion_id)
    if existing is None:
        uow.session.add(GuidelineSuggestion(**fields, received_at=utcnow()))
        return
    for name, value in fields.items():
        setattr(existing, name, value)


@handlers.on(GUIDELINE_WITHDRAWN)
async def withdraw_suggestion(uow: UnitOfWork, event: ReceivedEvent[GuidelineWithdrawn]) -> None:
    """The expert committee rejected the revision of a suggestion the drafters held: it leaves
    their list (a later passing revision arrives again as a suggestion)."""
    existing = await uow.session.get(GuidelineSuggestion, event.payload.suggestion_id)
    if existing is not None:
        await uow.session.delete(existing)
