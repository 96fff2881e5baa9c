"""Which roles may call which service routes: the gateway's route-level authorisation table.

Read it as a list of doors. A request through ``/api/<service>/<path>`` is let through only if
a line below matches its service, method and path, and the caller's token holds one of the
line's roles (``ANYONE_SIGNED_IN``: any valid token). Everything not listed is closed (404),
so a new endpoint is reachable from outside only once someone adds its line here, and the
BOLA/BFLA test matrix (services/gateway/tests/test_authorisation_matrix.py) reads this same
table. Object-level rules (my unit's applications, labs I direct…) stay in the services.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from shared.auth import Role

ANYONE_SIGNED_IN = frozenset(r.value for r in Role)
ADMIN = frozenset({Role.administrator.value})
STAFF = frozenset({Role.department_staff.value, Role.administrator.value})
SERVICES = ("registry", "projects", "evaluation")


@dataclass(frozen=True)
class Route:
    service: str
    method: str
    path: str
    roles: frozenset[str]
    pattern: re.Pattern[str] = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        regex = re.sub(r"\{[a-z_]+:path\}", r".+", self.path)
        regex = re.sub(r"\{[a-z_]+\}", r"[^/]+", regex)
        object.__setattr__(self, "pattern", re.compile(f"^{regex}$"))


def r(service: str, method: str, path: str, roles: Iterable[str]) -> list[Route]:
    """One line of the table; service ``*`` means every service."""
    services = SERVICES if service == "*" else (service,)
    return [Route(s, method, path, frozenset(roles)) for s in services]


ROUTES: tuple[Route, ...] = tuple(
    route
    for line in (
        # registry: organisations (单位) are the public register; edits by staff or the unit's admin
        r("registry", "GET", "/organisations", ANYONE_SIGNED_IN),
        r("registry", "POST", "/organisations", STAFF),
        r("registry", "GET", "/organisations/{org_id}", ANYONE_SIGNED_IN),
        r("registry", "PATCH", "/organisations/{org_id}", STAFF | {Role.host_unit_admin}),
        r("registry", "GET", "/organisations/{org_id}/history", ANYONE_SIGNED_IN),
        r("registry", "GET", "/metadata/codes", ANYONE_SIGNED_IN),
        # projects and evaluation: their read models of the register
        r("projects", "GET", "/organisations/{org_id}", ANYONE_SIGNED_IN),
        r("evaluation", "GET", "/organisations/{org_id}", ANYONE_SIGNED_IN),
        # every service: event machinery for operators
        r("*", "GET", "/admin/events/catalogue", ADMIN),
        r("*", "GET", "/admin/events/gaps", ADMIN),
        r("*", "GET", "/admin/events/dead-letters", ADMIN),
        r("*", "POST", "/admin/events/dead-letters/{dead_letter_id}/replay", ADMIN),
        r("*", "POST", "/admin/events/outbox/republish", ADMIN),
    )
    for route in line
)


class RouteTable:
    def __init__(self, routes: Iterable[Route]) -> None:
        self._by_key: dict[tuple[str, str], list[Route]] = {}
        for route in routes:
            self._by_key.setdefault((route.service, route.method), []).append(route)

    def match(self, service: str, method: str, path: str) -> Route | None:
        lookup = "GET" if method == "HEAD" else method
        for route in self._by_key.get((service, lookup), ()):
            if route.pattern.match(path):
                return route
        return None


TABLE = RouteTable(ROUTES)
