from fastapi import FastAPI

from evaluation.definition import build_definition
from evaluation.settings import EvaluationSettings
from shared.app import create_service_app
from shared.http import audit
from shared.logging import configure_logging


def create_app(settings: EvaluationSettings | None = None) -> FastAPI:
    definition = build_definition(settings)
    configure_logging("evaluation", definition.settings.log_level)
    app = create_service_app(definition)
    app.include_router(audit.router)  # GET /audit: the trail, for supervisors
    return app
