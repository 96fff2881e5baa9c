"""Registry's person, integrity, cluster and cluster-suggestion events as projects reads them."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from pydantic import Field

from shared.events.envelope import EventPayload, EventType


class PersonSnapshot(EventPayload):
    id: UUID
    name: str
    birth_date: date | None = None
    unit_id: UUID | None = None
    title: str | None = None
    version: int


class IntegritySnapshot(EventPayload):
    id: UUID
    subject_type: str
    person_id: UUID | None = None
    organisation_id: UUID | None = None
    misconduct_type: str
    decision_document: str
    barred_from: date
    barred_until: date | None = None
    scope: list[str]
    lifted_at: datetime | None = None
    version: int


class ClusterSnapshot(EventPayload):
    """A cluster after one of its steps, with its member units (full state, by version)."""

    id: UUID
    name: str
    state: str
    version: int
    member_unit_ids: list[UUID] = Field(default_factory=list)


class GuidelineSuggested(EventPayload):
    suggestion_id: UUID
    cluster_id: UUID
    cluster_name: str
    year: int
    title: str
    directions: list[str]
    field: str | None = None
    rationale: str | None = None


class GuidelineWithdrawn(EventPayload):
    """A passed suggestion whose revision the expert committee rejected: no longer a suggestion."""

    suggestion_id: UUID
    cluster_id: UUID
    version: int


PERSON_REGISTERED = EventType("registry.person.registered", PersonSnapshot)
PERSON_UPDATED = EventType("registry.person.updated", PersonSnapshot)
INTEGRITY_RECORDED = EventType("registry.integrity.recorded", IntegritySnapshot)
INTEGRITY_LIFTED = EventType("registry.integrity.lifted", IntegritySnapshot)
GUIDELINE_SUGGESTED = EventType("registry.cluster.guideline_suggested", GuidelineSuggested)
GUIDELINE_REVISED = EventType("registry.cluster.guideline_revised", GuidelineSuggested)
GUIDELINE_WITHDRAWN = EventType("registry.cluster.guideline_withdrawn", GuidelineWithdrawn)
# registry.cluster.<step>: the build procedure, assessment outcomes and edits (registry's verbs).
CLUSTER_VERBS = (
    "proposed",
    "structure_defined",
    "service_organisations_selected",
    "plan_submitted",
    "established",
    "rectification_opened",
    "rectification_closed",
    "restructure_required",
    "reorganised",
    "revoked",
    "assessed",
    "updated",
)
CLUSTER_EVENTS = [EventType(f"registry.cluster.{verb}", ClusterSnapshot) for verb in CLUSTER_VERBS]
