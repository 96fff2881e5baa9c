"""Evaluation as a service: its settings, tables, routers, events and handlers."""

from __future__ import annotations

from pathlib import Path

import evaluation.rounds.handlers
from evaluation.db import Base, kit
from evaluation.experts.events import EXPERT_EVENTS
from evaluation.organisations import api as organisations_api
from evaluation.organisations.handlers import handlers
from evaluation.rounds import api as rounds_api
from evaluation.settings import EvaluationSettings
from shared.service import ServiceDefinition

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
metadata = Base.metadata
_ = evaluation.rounds.handlers  # registers its handlers on the service's Handlers


def build_definition(settings: EvaluationSettings | None = None) -> ServiceDefinition:
    return ServiceDefinition(
        name="evaluation",
        title="Evaluation service",
        description="Experts, conflict-of-interest avoidance, assignment, reviews and assessments.",
        settings=settings or EvaluationSettings(),
        metadata=metadata,
        tables=kit,
        migrations_dir=MIGRATIONS_DIR,
        routers=[organisations_api.router, rounds_api.router],
        handlers=handlers,
        produces=list(EXPERT_EVENTS.values()),
    )
