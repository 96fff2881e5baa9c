"""Imports every model so that the metadata knows all of the registry's tables."""

from registry.clusters.models import Cluster, ClusterAssessment, GuidelineSuggestion
from registry.integrity.models import IntegrityRecord
from registry.organisations.models import Organisation
from registry.people.models import Person
from registry.platforms.models import (
    Platform,
    PlatformAssessment,
    PlatformCodeCounter,
    PlatformHistory,
    PlatformMember,
    PlatformOutput,
)
from registry.policy.models import PolicyValue
from registry.sharing.models import Instrument, OpenTopic

ALL_MODELS = (
    Cluster,
    ClusterAssessment,
    GuidelineSuggestion,
    IntegrityRecord,
    Organisation,
    Person,
    Platform,
    PlatformAssessment,
    PlatformCodeCounter,
    PlatformHistory,
    PlatformMember,
    PlatformOutput,
    PolicyValue,
    Instrument,
    OpenTopic,
)
