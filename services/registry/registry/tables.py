"""Imports every model so that the metadata knows all of the registry's tables."""

from registry.campaigns.models import Campaign, CampaignBatch, CampaignLab
from registry.clusters.models import Cluster, ClusterAssessment, GuidelineSuggestion
from registry.integrity.models import IntegrityRecord
from registry.organisations.models import Organisation
from registry.people.models import Person
from registry.platforms.models import (
    DirectorAppointment,
    Platform,
    PlatformAssessment,
    PlatformCodeAlias,
    PlatformCodeCounter,
    PlatformHistory,
    PlatformMember,
    PlatformOutput,
    RevocationCase,
    SupportCandidate,
)
from registry.policy.models import PolicyValue
from registry.sharing.models import Instrument, InstrumentPurchaseReview, OpenTopic
from registry.targets.models import TargetChange

ALL_MODELS = (
    Campaign,
    CampaignBatch,
    CampaignLab,
    Cluster,
    ClusterAssessment,
    GuidelineSuggestion,
    IntegrityRecord,
    Organisation,
    Person,
    DirectorAppointment,
    Platform,
    PlatformAssessment,
    PlatformCodeAlias,
    PlatformCodeCounter,
    PlatformHistory,
    PlatformMember,
    PlatformOutput,
    RevocationCase,
    SupportCandidate,
    PolicyValue,
    Instrument,
    InstrumentPurchaseReview,
    OpenTopic,
    TargetChange,
)
