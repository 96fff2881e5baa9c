"""Registry's platforms and clusters, and projects' evaluation requests, as evaluation takes them."""

from __future__ import annotations

from evaluation.assessments import service
from evaluation.assessments.events import (
    CLUSTER_EVENTS,
    EVALUATION_REQUESTED,
    PLATFORM_EVENTS,
    ClusterSnapshot,
    EvaluationRequested,
    PlatformSnapshot,
)
from evaluation.assessments.models import ClusterView, PlatformView
from evaluation.organisations.handlers import handlers
from shared.events.consumer import ReceivedEvent
from shared.readmodel import upsert_versioned_many
from shared.uow import UnitOfWork

PLATFORM_COLUMNS = set(PlatformView.__table__.columns.keys())
CLUSTER_COLUMNS = set(ClusterView.__table__.columns.keys())


async def keep_platforms(uow: UnitOfWork, events: list[ReceivedEvent[PlatformSnapshot]]) -> None:
    rows = [e.payload.model_dump(include=PLATFORM_COLUMNS) for e in events]
    await upsert_versioned_many(uow.session, PlatformView.__table__, rows)  # type: ignore[arg-type]


async def keep_clusters(uow: UnitOfWork, events: list[ReceivedEvent[ClusterSnapshot]]) -> None:
    rows = [e.payload.model_dump(include=CLUSTER_COLUMNS) for e in events]
    await upsert_versioned_many(uow.session, ClusterView.__table__, rows)  # type: ignore[arg-type]


for _platform_event in PLATFORM_EVENTS:
    handlers.on_many(_platform_event)(keep_platforms)
for _cluster_event in CLUSTER_EVENTS:
    handlers.on_many(_cluster_event)(keep_clusters)


@handlers.on(EVALUATION_REQUESTED)
async def evaluation_requested(uow: UnitOfWork, event: ReceivedEvent[EvaluationRequested]) -> None:
    await service.take_evaluation_request(uow, event.payload)
