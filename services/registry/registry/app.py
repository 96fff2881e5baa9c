from fastapi import FastAPI

from registry.definition import build_definition
from registry.settings import RegistrySettings
from shared.app import create_service_app
from shared.http import audit
from shared.logging import configure_logging


def create_app(settings: RegistrySettings | None = None) -> FastAPI:
    definition = build_definition(settings)
    configure_logging("registry", definition.settings.log_level)
    app = create_service_app(definition)
    app.include_router(audit.router)  # GET /audit: the trail, for supervisors
    return app
