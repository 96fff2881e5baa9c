"""The route table and the services' own routes (their OpenAPI documents) stay in step.

Every route a service exposes is either a door in the gateway's table or deliberately internal;
every door in the table leads to a route that exists. A new endpoint without its line fails
here, instead of quietly answering 404 through the gateway.
"""

from __future__ import annotations

import importlib
from typing import Any

import pytest

from gateway.proxy.routes import ROUTES, SERVICES, TABLE

# Routes that exist for operators inside the cluster only.
INTERNAL = {"/healthz", "/readyz", "/metrics"}


def service_routes(service: str) -> set[tuple[str, str]]:
    definition = importlib.import_module(f"{service}.definition")
    settings_module = importlib.import_module(f"{service}.settings")
    settings_class: Any = next(
        getattr(settings_module, name)
        for name in dir(settings_module)
        if name.endswith("Settings") and name != "ServiceSettings"
    )
    settings = settings_class(database_url="postgresql+asyncpg://unused/db", nats_url="nats://unused")
    app = importlib.import_module(f"{service}.app").create_app(settings)
    assert definition.MIGRATIONS_DIR.exists()
    return {
        (method.upper(), path)
        for path, item in app.openapi()["paths"].items()
        if path not in INTERNAL
        for method in item
        if method.upper() in {"GET", "POST", "PUT", "PATCH", "DELETE"}
    }


@pytest.mark.parametrize("service", SERVICES)
def test_every_service_route_has_a_line_in_the_table(service: str) -> None:
    missing = sorted(
        f"{method} {path}"
        for method, path in service_routes(service)
        if TABLE.match(service, method, path) is None
    )
    assert missing == [], f"{service} routes without a line in gateway/proxy/routes.py: {missing}"


@pytest.mark.parametrize("service", SERVICES)
def test_every_line_of_the_table_leads_to_a_route(service: str) -> None:
    existing = service_routes(service)
    dangling = sorted(
        f"{route.method} {route.path}"
        for route in ROUTES
        if route.service == service and (route.method, route.path) not in existing
    )
    assert dangling == [], f"lines for routes {service} does not have: {dangling}"
