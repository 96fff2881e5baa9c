"""Evaluation as a service: its settings, tables, routers, events and handlers."""

from __future__ import annotations

from pathlib import Path

import evaluation.assessments.handlers
import evaluation.rounds.handlers
from evaluation import metadata as metadata_api
from evaluation.assessments import api as assessments_api
from evaluation.assessments.events import (
    CLUSTER_ASSESSMENT_FINALIZED,
    LAB_ASSESSMENT_FINALIZED,
    PROJECT_EVALUATION_FINALIZED,
)
from evaluation.assignment import api as assignment_api
from evaluation.assignment.jobs import RunWorkers
from evaluation.db import Base, kit
from evaluation.experts import api as experts_api
from evaluation.experts.events import EXPERT_EVENTS
from evaluation.forms import api as forms_api
from evaluation.organisations import api as organisations_api
from evaluation.organisations.handlers import handlers
from evaluation.pledges import api as pledges_api
from evaluation.reviews import api as reviews_api
from evaluation.reviews.events import REVIEW_COMPLETED
from evaluation.rounds import api as rounds_api
from evaluation.settings import EvaluationSettings
from shared.service import ServiceDefinition, ServiceRuntime

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
metadata = Base.metadata
# importing them registers their handlers on the service's Handlers
_ = (evaluation.rounds.handlers, evaluation.assessments.handlers)


async def _start_workers(runtime: ServiceRuntime) -> None:
    settings = runtime.settings
    assert isinstance(settings, EvaluationSettings)
    workers = RunWorkers(
        runtime.sessionmaker,
        runtime.tables,
        count=settings.run_workers,
        lease_seconds=settings.run_lease_seconds,
        poll_seconds=settings.run_poll_seconds,
        max_attempts=settings.run_max_attempts,
        prestart=settings.run_planner_prestart,
    )
    runtime.extras["run_workers"] = workers
    workers.start()


async def _stop_workers(runtime: ServiceRuntime) -> None:
    await runtime.extras["run_workers"].stop()


def build_definition(settings: EvaluationSettings | None = None) -> ServiceDefinition:
    return ServiceDefinition(
        name="evaluation",
        title="Evaluation service",
        description="Experts, conflict-of-interest avoidance, assignment, reviews and assessments.",
        settings=settings or EvaluationSettings(),
        metadata=metadata,
        tables=kit,
        migrations_dir=MIGRATIONS_DIR,
        routers=[
            organisations_api.router,
            experts_api.router,
            rounds_api.router,
            assignment_api.router,
            forms_api.router,
            reviews_api.router,
            pledges_api.router,
            assessments_api.router,
            metadata_api.router,
        ],
        handlers=handlers,
        startup_hooks=[_start_workers],
        shutdown_hooks=[_stop_workers],
        produces=[
            *EXPERT_EVENTS.values(),
            REVIEW_COMPLETED,
            LAB_ASSESSMENT_FINALIZED,
            CLUSTER_ASSESSMENT_FINALIZED,
            PROJECT_EVALUATION_FINALIZED,
        ],
    )
