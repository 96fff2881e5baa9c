"""Projects as a service: its settings, tables, routers, events and handlers."""

from __future__ import annotations

from pathlib import Path

from projects.db import Base, kit
from projects.organisations import api as organisations_api
from projects.organisations.handlers import handlers
from projects.settings import ProjectsSettings
from shared.service import ServiceDefinition

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
metadata = Base.metadata


def build_definition(settings: ProjectsSettings | None = None) -> ServiceDefinition:
    return ServiceDefinition(
        name="projects",
        title="Projects service",
        description="Plan catalogue, calls, applications and every project's life.",
        settings=settings or ProjectsSettings(),
        metadata=metadata,
        tables=kit,
        migrations_dir=MIGRATIONS_DIR,
        routers=[organisations_api.router],
        handlers=handlers,
        produces=[],
    )
