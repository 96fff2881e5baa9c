from fastapi import FastAPI

from gateway import hardening
from gateway.definition import build_definition
from gateway.settings import GatewaySettings
from shared.app import create_service_app
from shared.http import audit
from shared.logging import configure_logging


def create_app(settings: GatewaySettings | None = None) -> FastAPI:
    definition = build_definition(settings)
    configure_logging("gateway", definition.settings.log_level)
    app = create_service_app(definition)
    app.include_router(audit.router)  # GET /audit: the trail, for supervisors
    assert isinstance(definition.settings, GatewaySettings)
    hardening.install(app, definition.settings)
    return app
