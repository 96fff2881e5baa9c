"""Registry as a service: its settings, tables, routers, events and handlers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from registry import handlers as registry_handlers
from registry.advisor import api as advisor_api
from registry.campaigns import api as campaigns_api
from registry.clusters import api as clusters_api
from registry.clusters.events import EVENT_TYPES as CLUSTER_EVENTS
from registry.db import Base, kit
from registry.demo import load_for_settings as load_demo_data
from registry.imports import api as imports_api
from registry.integrity import api as integrity_api
from registry.integrity.events import EVENT_TYPES as INTEGRITY_EVENTS
from registry.metadata import router as metadata_router
from registry.organisations import api as organisations_api
from registry.organisations.events import EVENT_TYPES as ORGANISATION_EVENTS
from registry.people import api as people_api
from registry.people import identity
from registry.people.events import EVENT_TYPES as PERSON_EVENTS
from registry.platforms import api as platforms_api
from registry.platforms.events import EVENT_TYPES as PLATFORM_EVENTS
from registry.policy import api as policy_api
from registry.policy.events import EVENT_TYPES as POLICY_EVENTS
from registry.settings import RegistrySettings
from registry.sharing import api as sharing_api
from registry.sharing.events import EVENT_TYPES as SHARING_EVENTS
from registry.tables import ALL_MODELS
from registry.targets import api as targets_api
from registry.targets.events import EVENT_TYPES as TARGET_EVENTS
from shared.events.envelope import EventType
from shared.service import ServiceDefinition

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
metadata = Base.metadata
assert ALL_MODELS  # every table is registered on the metadata before migrations compare

PRODUCES: list[EventType[Any]] = [
    *ORGANISATION_EVENTS,
    *PERSON_EVENTS,
    *PLATFORM_EVENTS,
    *INTEGRITY_EVENTS,
    *CLUSTER_EVENTS,
    *SHARING_EVENTS,
    *POLICY_EVENTS,
    *TARGET_EVENTS,
]


def build_definition(settings: RegistrySettings | None = None) -> ServiceDefinition:
    settings = settings or RegistrySettings()
    identity.configure(settings.id_number_keyring())
    return ServiceDefinition(
        name="registry",
        title="Registry service",
        description="Organisations, people, innovation platforms, clusters, instruments, integrity.",
        settings=settings,
        metadata=metadata,
        tables=kit,
        migrations_dir=MIGRATIONS_DIR,
        routers=[
            organisations_api.router,
            imports_api.router,
            people_api.router,
            platforms_api.router,
            sharing_api.instruments_router,
            sharing_api.topics_router,
            sharing_api.purchase_reviews_router,
            integrity_api.router,
            policy_api.router,
            advisor_api.router,
            targets_api.router,
            campaigns_api.router,
            clusters_api.router,
            metadata_router,
        ],
        handlers=registry_handlers.handlers,
        produces=PRODUCES,
        demo_data=load_demo_data,
    )
