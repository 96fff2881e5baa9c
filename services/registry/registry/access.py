"""Who may change what, from the token's claims (docs/events.md "Token claims").

Department staff (and administrators) manage everything. A host-unit admin acts for the units
in ``scopes['units']`` (or their own ``unit_id``). A lab director acts for the platforms in
``scopes['platforms']``, and only on its team, outputs, instruments and open topics.
"""

from __future__ import annotations

from uuid import UUID

from shared.auth import Principal, Role
from shared.errors import Forbidden


def is_staff(principal: Principal) -> bool:
    return principal.has_role(Role.department_staff, Role.administrator)


def acting_units(principal: Principal) -> frozenset[str]:
    if not principal.has_role(Role.host_unit_admin):
        return frozenset()
    units = set(principal.scope("units"))
    if principal.unit_id:
        units.add(principal.unit_id)
    return frozenset(units)


def directed_platforms(principal: Principal) -> frozenset[str]:
    if not principal.has_role(Role.lab_director):
        return frozenset()
    return principal.scope("platforms")


def scope_uuids(ids: frozenset[str]) -> list[UUID]:
    """Scope ids from a token as UUIDs for a query; one that is not a UUID names nothing here."""
    out = []
    for value in sorted(ids):
        try:
            out.append(UUID(value))
        except ValueError:
            continue
    return out


def may_manage_unit(principal: Principal, unit_id: UUID | str | None) -> bool:
    return is_staff(principal) or (unit_id is not None and str(unit_id) in acting_units(principal))


def may_run_platform(principal: Principal, platform_id: UUID | str, host_unit_id: UUID | str) -> bool:
    """Team, outputs, instruments and topics: staff, the host unit's admin, the lab's director."""
    return may_manage_unit(principal, host_unit_id) or str(platform_id) in directed_platforms(principal)


def require(allowed: bool, what: str, what_zh: str) -> None:
    if not allowed:
        raise Forbidden(f"you may not {what}", f"无权{what_zh}")
