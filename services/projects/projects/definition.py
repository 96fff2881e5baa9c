"""Projects as a service: its settings, tables, routers, events and handlers."""

from __future__ import annotations

from pathlib import Path

import projects.applications.handlers
import projects.funded.handlers
import projects.platforms.handlers
import projects.registry_views.handlers
from projects.applications import api as applications_api
from projects.applications.dedup_index import Indexer
from projects.applications.events import PRODUCED as APPLICATION_EVENTS
from projects.applications.models import Application  # noqa: F401  (tables in the metadata)
from projects.calls import api as calls_api
from projects.catalogue import api as catalogue_api
from projects.db import Base, kit
from projects.demands import api as demands_api
from projects.demo import load_for_settings as load_demo_data
from projects.filings import api as filings_api
from projects.funded import api as funded_api
from projects.funded.events import PRODUCED as PROJECT_EVENTS
from projects.modes import api as modes_api
from projects.organisations import api as organisations_api
from projects.organisations.handlers import handlers
from projects.periodic_lists import api as periodic_lists_api
from projects.platforms import api as platforms_api
from projects.policy import api as policy_api
from projects.policy.models import PolicyValue  # noqa: F401  (tables in the metadata)
from projects.results import api as results_api
from projects.settings import ProjectsSettings
from projects.statistics import api as statistics_api
from projects.supervision import api as supervision_api
from shared.service import ServiceDefinition, ServiceRuntime

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
metadata = Base.metadata
_ = (projects.applications.handlers, projects.funded.handlers, projects.platforms.handlers)


async def _start_indexer(runtime: ServiceRuntime) -> None:
    settings = runtime.settings
    interval = settings.dedup_index_interval_seconds if isinstance(settings, ProjectsSettings) else 1.0
    indexer = Indexer(runtime.sessionmaker, interval)
    indexer.start()
    runtime.extras["dedup_indexer"] = indexer


async def _stop_indexer(runtime: ServiceRuntime) -> None:
    indexer = runtime.extras.pop("dedup_indexer", None)
    if isinstance(indexer, Indexer):
        await indexer.stop()


def build_definition(settings: ProjectsSettings | None = None) -> ServiceDefinition:
    return ServiceDefinition(
        name="projects",
        title="Projects service",
        description="Plan catalogue, calls, applications and every project's life.",
        settings=settings or ProjectsSettings(),
        metadata=metadata,
        tables=kit,
        migrations_dir=MIGRATIONS_DIR,
        routers=[
            organisations_api.router,
            catalogue_api.router,
            calls_api.router,
            applications_api.router,
            modes_api.router,
            statistics_api.router,
            funded_api.router,
            funded_api.races_router,
            filings_api.router,
            supervision_api.router,
            platforms_api.router,
            policy_api.router,
            results_api.router,
            demands_api.router,
            periodic_lists_api.router,
        ],
        handlers=handlers,
        produces=[*APPLICATION_EVENTS, *PROJECT_EVENTS],
        startup_hooks=[_start_indexer],
        demo_data=load_demo_data,
        shutdown_hooks=[_stop_indexer],
    )
