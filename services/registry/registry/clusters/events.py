from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import Field

from registry.clusters.machine import EVENT_VERBS
from shared.events.envelope import EventPayload, EventType


class ClusterEventPayload(EventPayload):
    """Every cluster step carries the cluster's membership as it stands after the step, so that a
    consumer keeps who belongs to which cluster from these events alone (full state, by version)."""

    id: UUID
    name: str
    state: str
    action: str
    reason: str | None
    version: int
    member_unit_ids: list[UUID] = Field(
        default_factory=list, description="成员单位 registered here (members from elsewhere have no id)"
    )
    lead_platform_ids: list[UUID] = Field(default_factory=list, description="牵头实验室")


class GuidelineSuggestedPayload(EventPayload):
    suggestion_id: UUID
    cluster_id: UUID
    cluster_name: str
    year: int
    title: str
    directions: list[str]
    field: str
    rationale: str
    vetting_outcome: str = Field(
        default="passed", description="专家委员会把关: passed 通过 / passed_with_changes 修改后通过"
    )
    vetting_comments: str | None = None


class GuidelineRevisedPayload(GuidelineSuggestedPayload):
    changed_fields: list[str]
    reason: str | None
    version: int


class GuidelineWithdrawnPayload(EventPayload):
    """A suggestion projects hold was revised and its revision did not pass: projects drop it."""

    suggestion_id: UUID
    cluster_id: UUID
    cluster_name: str
    year: int
    title: str
    vetting_outcome: str = Field(default="rejected", description="专家委员会把关: rejected 不通过")
    vetting_comments: str | None = None
    version: int


CLUSTER_EVENTS: dict[str, EventType[ClusterEventPayload]] = {
    action: EventType(
        f"registry.cluster.{verb}", ClusterEventPayload, description=f"Cluster step '{action}'."
    )
    for action, verb in EVENT_VERBS.items()
}
GUIDELINE_SUGGESTED = EventType(
    "registry.cluster.guideline_suggested",
    GuidelineSuggestedPayload,
    description="A cluster's guideline suggestion passed its expert committee's vetting (专家委员会把关).",
)

GUIDELINE_REVISED = EventType(
    "registry.cluster.guideline_revised",
    GuidelineRevisedPayload,
    description="A revised guideline suggestion passed vetting again "
    "(full new state; replaces the earlier one).",
)

GUIDELINE_WITHDRAWN = EventType(
    "registry.cluster.guideline_withdrawn",
    GuidelineWithdrawnPayload,
    description="The revision of a suggestion that had passed was rejected by the expert committee "
    "(不通过): the suggestion is withdrawn; consumers drop their copy by suggestion_id.",
)

EVENT_TYPES: list[EventType[Any]] = [
    *CLUSTER_EVENTS.values(),
    GUIDELINE_SUGGESTED,
    GUIDELINE_REVISED,
    GUIDELINE_WITHDRAWN,
]


class ClusterAssessmentFinalized(EventPayload):
    """Registry's copy of evaluation.cluster_assessment.finalized."""

    assessment_id: UUID
    cluster_id: UUID
    year: int
    result: str
    score: float | None = None
    finalized_at: datetime
    required_measures: list[str] = Field(default_factory=list)


CLUSTER_ASSESSMENT_FINALIZED = EventType(
    "evaluation.cluster_assessment.finalized",
    ClusterAssessmentFinalized,
    description="Evaluation finalized a cluster's annual assessment.",
)
