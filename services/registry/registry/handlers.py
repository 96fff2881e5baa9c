"""Events registry consumes, each applied once in its own unit of work (inbox)."""

from __future__ import annotations

import logging

from registry.clusters import service as clusters
from registry.clusters.events import CLUSTER_ASSESSMENT_FINALIZED, ClusterAssessmentFinalized
from registry.clusters.models import Cluster
from registry.clusters.schemas import AssessmentIn
from registry.integrity import service as integrity
from registry.integrity.events import MISCONDUCT_FOUND, MisconductFoundPayload
from registry.platforms import service as platform_service
from registry.platforms.events import LAB_ASSESSMENT_FINALIZED, LabAssessmentFinalized
from shared.errors import Conflict
from shared.events.consumer import Handlers, ReceivedEvent
from shared.uow import UnitOfWork

log = logging.getLogger(__name__)
handlers = Handlers()


@handlers.on(LAB_ASSESSMENT_FINALIZED)
async def lab_assessment_finalized(uow: UnitOfWork, event: ReceivedEvent[LabAssessmentFinalized]) -> None:
    await platform_service.record_assessment(uow, event.payload)


@handlers.on(CLUSTER_ASSESSMENT_FINALIZED)
async def cluster_assessment_finalized(
    uow: UnitOfWork, event: ReceivedEvent[ClusterAssessmentFinalized]
) -> None:
    a = event.payload
    c = await uow.session.get(Cluster, a.cluster_id, with_for_update=True)
    if c is None:
        log.warning("assessment %s names unknown cluster %s; ignored", a.assessment_id, a.cluster_id)
        return
    result = "pass" if a.result == "pass" else "fail"
    try:
        await clusters.assess(
            uow,
            c,
            AssessmentIn(year=a.year, result=result, score=a.score, required_measures=a.required_measures),
            finalized_at=a.finalized_at,
            source=f"evaluation:{a.assessment_id}",
        )
    except Conflict as exc:
        # A cluster not (or no longer) assessable, or a year already recorded by staff: keep
        # the decision on record, nothing to apply. Retrying would not change the answer.
        log.warning("cluster assessment %s not applied: %s", a.assessment_id, exc.detail)


@handlers.on(MISCONDUCT_FOUND)
async def misconduct_found(uow: UnitOfWork, event: ReceivedEvent[MisconductFoundPayload]) -> None:
    await integrity.record_misconduct(uow, event.payload)
