"""BOLA/BFLA matrix, generated from the gateway's route table and run against the real services.

Every route in ``gateway.proxy.routes.ROUTES`` is called by every role (BFLA: a role the line
does not name gets 403 at the gateway; no token gets 401). Every object-bearing endpoint listed
in ``OBJECT_ENDPOINTS`` is called by every role on its own object, another's object and a
nonexistent one (BOLA): the expected status follows from the route's roles and the service's
object rule written next to it. A new endpoint is one line in each table.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from gateway.proxy.routes import ADMIN, ANYONE_SIGNED_IN, ROUTES, STAFF, TABLE
from shared.auth import Role
from shared.testing.servers import eventually
from tests.helpers import org_body

pytestmark = pytest.mark.asyncio

ROLES = sorted(r.value for r in Role)


def unit_owner(object_id: str) -> dict[str, Any]:
    """Claims under which a unit's own admin acts for the unit ``object_id``."""
    return {"unit_id": object_id, "units": [object_id]}


@dataclass(frozen=True)
class ObjectEndpoint:
    method: str
    service: str
    path: str  # with {id} for the object
    any_object: frozenset[str]  # roles the service lets act on any object
    own_object: frozenset[str] = frozenset()  # roles limited to their own objects
    owner: Callable[[str], dict[str, Any]] = unit_owner
    body: dict[str, Any] | None = None
    success: int = 200
    kind: str = field(default="organisation")


OBJECT_ENDPOINTS = [
    ObjectEndpoint("GET", "registry", "/organisations/{id}", ANYONE_SIGNED_IN),
    ObjectEndpoint("GET", "registry", "/organisations/{id}/history", ANYONE_SIGNED_IN),
    ObjectEndpoint(
        "PATCH",
        "registry",
        "/organisations/{id}",
        STAFF,
        own_object=frozenset({Role.host_unit_admin}),
        body={"address": "呼和浩特市新城区新华大街63号", "reason": "搬迁"},
    ),
    ObjectEndpoint("GET", "projects", "/organisations/{id}", ANYONE_SIGNED_IN),
    ObjectEndpoint("GET", "evaluation", "/organisations/{id}", ANYONE_SIGNED_IN),
]


def expected(endpoint: ObjectEndpoint, role: str, case: str) -> int:
    route = TABLE.match(endpoint.service, endpoint.method, endpoint.path.replace("{id}", "x"))
    assert route is not None, f"{endpoint} is not in the route table"
    if role not in route.roles:
        return 403
    if case == "missing":
        return 404
    if role in endpoint.any_object or (case == "own" and role in endpoint.own_object):
        return endpoint.success
    return 403


def concrete(path: str) -> str:
    return re.sub(r"\{[a-z_]+\}", str(uuid.uuid4()), path)


async def test_every_route_refuses_roles_it_does_not_name_and_callers_without_a_token(
    platform: dict[str, Any], gw_auth: Any
) -> None:
    gw = platform["gateway"]
    mismatches = []
    for route in ROUTES:
        url = f"/api/{route.service}{concrete(route.path)}"
        body = {} if route.method in ("POST", "PUT", "PATCH") else None
        anonymous = await gw.client.request(route.method, url, json=body)
        if anonymous.status_code != 401:
            mismatches.append((route.method, url, "anonymous", anonymous.status_code))
        for role in ROLES:
            # Department staff carry every evaluation duty here: this is about the door, not
            # the separation of duties inside the evaluation service (tested there).
            duties = (
                {"duties": ["expert_db", "request", "draw", "results", "supervision"]}
                if role == "department_staff"
                else {}
            )
            response = await gw.client.request(route.method, url, json=body, headers=gw_auth(role, **duties))
            allowed = role in route.roles
            # allowed roles reach the service (which answers 404 for these random ids, or 422)
            if (allowed and response.status_code in (401, 403)) or (
                not allowed and response.status_code != 403
            ):
                mismatches.append((route.method, url, role, response.status_code))
    assert mismatches == []


async def test_routes_not_in_the_table_are_closed(gateway: Any, gw_auth: Any) -> None:
    gw = gateway
    admin = gw_auth("administrator")
    for method, path in (
        ("DELETE", "/api/registry/organisations/x"),
        ("GET", "/api/registry/healthz"),
        ("GET", "/api/registry/metrics"),
        ("GET", "/api/registry/internal/anything"),
        ("GET", "/api/nowhere/organisations"),
        ("GET", "/api/registry/organisations/%2e%2e"),  # a dot segment would climb out of the route
    ):
        assert (await gw.client.request(method, path, headers=admin)).status_code == 404, path


async def test_no_role_reads_or_writes_another_tenants_object(platform: dict[str, Any], gw_auth: Any) -> None:
    gw, registry = platform["gateway"], platform["registry"]
    staff = gw_auth("department_staff")
    own, other = [
        (await gw.client.post("/api/registry/organisations", json=org_body(n), headers=staff)).json()["id"]
        for n in (1, 2)
    ]
    assert registry  # created through the gateway, so the proxy path is exercised too

    async def replicated() -> bool:
        for svc in ("projects", "evaluation"):
            for oid in (own, other):
                if (await gw.client.get(f"/api/{svc}/organisations/{oid}", headers=staff)).status_code != 200:
                    return False
        return True

    await eventually(replicated, timeout=15)
    objects = {"own": own, "other": other, "missing": str(uuid.uuid4())}
    mismatches = []
    for endpoint in OBJECT_ENDPOINTS:
        for role in ROLES:
            for case, object_id in objects.items():
                headers = gw_auth(role, **endpoint.owner(own))
                url = f"/api/{endpoint.service}{endpoint.path.replace('{id}', object_id)}"
                response = await gw.client.request(endpoint.method, url, json=endpoint.body, headers=headers)
                want = expected(endpoint, role, case)
                if response.status_code != want:
                    mismatches.append(
                        (
                            endpoint.method,
                            endpoint.service,
                            endpoint.path,
                            role,
                            case,
                            want,
                            response.status_code,
                        )
                    )
    assert mismatches == []
    # the matrix really crossed tenants: a unit admin was refused another unit's organisation
    assert expected(OBJECT_ENDPOINTS[2], Role.host_unit_admin, "other") == 403


async def test_object_endpoints_and_admin_routes_are_in_the_table() -> None:
    for endpoint in OBJECT_ENDPOINTS:
        assert TABLE.match(endpoint.service, endpoint.method, endpoint.path.replace("{id}", "x"))
    admin_routes = [r for r in ROUTES if r.path.startswith("/admin/")]
    assert admin_routes and all(r.roles == ADMIN for r in admin_routes)
