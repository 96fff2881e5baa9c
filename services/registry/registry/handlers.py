"""Events registry consumes, each applied once in its own unit of work (inbox)."""

from __future__ import annotations

import logging
from datetime import datetime
from uuid import UUID

from registry.clusters import service as clusters
from registry.clusters.events import CLUSTER_ASSESSMENT_FINALIZED, ClusterAssessmentFinalized
from registry.clusters.models import Cluster
from registry.clusters.schemas import AssessmentIn
from registry.integrity import service as integrity
from registry.integrity.events import MISCONDUCT_FOUND, MisconductFoundPayload
from registry.platforms import repository as platforms
from registry.platforms.machine import PLATFORM_MACHINE
from registry.platforms.models import PlatformAssessment
from registry.platforms.service import _step
from shared.errors import Conflict
from shared.events.consumer import Handlers, ReceivedEvent
from shared.events.envelope import EventPayload, EventType
from shared.uow import UnitOfWork

log = logging.getLogger(__name__)
handlers = Handlers()


class LabAssessmentFinalized(EventPayload):
    """Registry's copy of evaluation.lab_assessment.finalized."""

    assessment_id: UUID
    platform_id: UUID
    period: str
    grade: str
    score: float | None = None
    finalized_at: datetime
    remarks: str | None = None


LAB_ASSESSMENT_FINALIZED = EventType(
    "evaluation.lab_assessment.finalized",
    LabAssessmentFinalized,
    description="Evaluation finalized a laboratory's periodic assessment.",
)
PASSING = ("excellent", "good", "qualified")


@handlers.on(LAB_ASSESSMENT_FINALIZED)
async def lab_assessment_finalized(uow: UnitOfWork, event: ReceivedEvent[LabAssessmentFinalized]) -> None:
    """Unqualified → rectification (整改); a passing grade ends a rectification in course."""
    a = event.payload
    p = await platforms.get(uow.session, a.platform_id, for_update=True)
    if p is None:
        log.warning("assessment %s names unknown platform %s; ignored", a.assessment_id, a.platform_id)
        return
    if await uow.session.get(PlatformAssessment, a.assessment_id) is not None:
        return
    uow.session.add(
        PlatformAssessment(
            id=a.assessment_id, platform_id=p.id, period=a.period, grade=a.grade, score=a.score,
            finalized_at=a.finalized_at, remarks=a.remarks,
        )
    )
    action = None
    if a.grade == "unqualified" and p.state == "operating":
        action = "open_rectification"
    elif a.grade in PASSING and p.state == "under_rectification":
        action = "close_rectification"
    reason = f"评估结果：{a.period} {a.grade}"
    if action is None:
        await uow.record("platform.assessed", entity_type="platform", entity_id=p.id,
                         changes={"assessment": [None, {"period": a.period, "grade": a.grade}]}, reason=reason)
        return
    before = p.state
    p.state = PLATFORM_MACHINE.apply(p.state, action).target
    p.version += 1
    await uow.session.flush()
    await _step(uow, p, action, from_state=before, reason=reason,
                details={"assessment_id": str(a.assessment_id), "grade": a.grade, "period": a.period})


@handlers.on(CLUSTER_ASSESSMENT_FINALIZED)
async def cluster_assessment_finalized(uow: UnitOfWork, event: ReceivedEvent[ClusterAssessmentFinalized]) -> None:
    a = event.payload
    c = await uow.session.get(Cluster, a.cluster_id, with_for_update=True)
    if c is None:
        log.warning("assessment %s names unknown cluster %s; ignored", a.assessment_id, a.cluster_id)
        return
    result = "pass" if a.result == "pass" else "fail"
    try:
        await clusters.assess(
            uow, c, AssessmentIn(year=a.year, result=result, score=a.score, required_measures=a.required_measures),
            finalized_at=a.finalized_at, source=f"evaluation:{a.assessment_id}",
        )
    except Conflict as exc:
        # A cluster not (or no longer) assessable, or a year already recorded by staff: keep
        # the decision on record, nothing to apply. Retrying would not change the answer.
        log.warning("cluster assessment %s not applied: %s", a.assessment_id, exc.detail)


@handlers.on(MISCONDUCT_FOUND)
async def misconduct_found(uow: UnitOfWork, event: ReceivedEvent[MisconductFoundPayload]) -> None:
    await integrity.record_misconduct(uow, event.payload)
