"""Registry as a service: its settings, tables, routers, events and handlers."""

from __future__ import annotations

from pathlib import Path

from registry.db import Base, kit
from registry.organisations import api as organisations_api
from registry.organisations import models as _organisation_models  # noqa: F401 - registers tables
from registry.organisations.events import EVENT_TYPES as ORGANISATION_EVENTS
from registry.settings import RegistrySettings
from shared.events.consumer import Handlers
from shared.service import ServiceDefinition

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
metadata = Base.metadata


def build_definition(settings: RegistrySettings | None = None) -> ServiceDefinition:
    return ServiceDefinition(
        name="registry",
        title="Registry service",
        description="Organisations, people, innovation platforms, clusters, instruments, integrity.",
        settings=settings or RegistrySettings(),
        metadata=metadata,
        tables=kit,
        migrations_dir=MIGRATIONS_DIR,
        routers=[organisations_api.router, organisations_api.codes_router],
        handlers=Handlers(),
        produces=ORGANISATION_EVENTS,
    )
