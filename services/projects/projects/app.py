from fastapi import FastAPI

from projects.definition import build_definition
from projects.settings import ProjectsSettings
from shared.app import create_service_app
from shared.http import audit
from shared.logging import configure_logging


def create_app(settings: ProjectsSettings | None = None) -> FastAPI:
    definition = build_definition(settings)
    configure_logging("projects", definition.settings.log_level)
    app = create_service_app(definition)
    app.include_router(audit.router)  # GET /audit: the trail, for supervisors
    return app
