"""Rules for registering and changing organisations. Never commits: the caller's unit of work does."""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import IntegrityError

from registry.organisations import repository
from registry.organisations.events import (
    ORGANISATION_REGISTERED,
    ORGANISATION_UPDATED,
    OrganisationSnapshot,
    OrganisationUpdatedPayload,
)
from registry.organisations.models import Organisation
from registry.organisations.schemas import OrganisationCreate, OrganisationUpdate
from shared.auth import Principal, Role
from shared.errors import DuplicateValue, Forbidden
from shared.ids import uuid7
from shared.uow import UnitOfWork

FIELDS = ("name", "credit_code", "type", "region", "address")


def _snapshot(org: Organisation) -> dict[str, Any]:
    return {
        "id": org.id,
        "name": org.name,
        "credit_code": org.credit_code,
        "type": org.type,
        "region": org.region,
        "address": org.address,
        "version": org.version,
    }


def can_edit(principal: Principal, org: Organisation) -> bool:
    """Staff edit every unit; a host-unit admin edits only their own unit."""
    if principal.has_role(Role.department_staff, Role.administrator):
        return True
    return principal.has_role(Role.host_unit_admin) and principal.unit_id == str(org.id)


async def register(uow: UnitOfWork, data: OrganisationCreate) -> Organisation:
    existing = await repository.find_by_credit_code(uow.session, data.credit_code)
    if existing is not None:
        raise DuplicateValue("credit_code", data.credit_code, existing_id=str(existing.id))
    org = Organisation(
        id=uuid7(),
        name=data.name,
        credit_code=data.credit_code,
        type=data.type.value,
        region=data.region.value,
        address=data.address,
        version=1,
        created_by=uow.actor.id,
        updated_by=uow.actor.id,
    )
    uow.session.add(org)
    try:
        await uow.session.flush()
    except IntegrityError as exc:
        # Two registrations of the same code raced past the check above.
        raise DuplicateValue("credit_code", data.credit_code) from exc
    event = await uow.emit(
        ORGANISATION_REGISTERED,
        OrganisationSnapshot(**_snapshot(org)),
        subject=f"organisation/{org.id}",
    )
    await uow.record(
        "organisation.registered",
        entity_type="organisation",
        entity_id=org.id,
        changes={k: v for k, v in _snapshot(org).items() if k in FIELDS},
        event=event,
    )
    return org


async def update(
    uow: UnitOfWork, principal: Principal, org: Organisation, patch: OrganisationUpdate
) -> Organisation:
    if not can_edit(principal, org):
        raise Forbidden("you may not edit this organisation", "无权修改该单位信息")
    requested = patch.model_dump(exclude_unset=True, exclude={"reason"})
    changes: dict[str, list[Any]] = {}
    for field_name, raw in requested.items():
        if raw is None:
            continue
        value = getattr(raw, "value", raw)
        if getattr(org, field_name) != value:
            changes[field_name] = [getattr(org, field_name), value]
    if not changes:
        return org
    if "credit_code" in changes:
        other = await repository.find_by_credit_code(uow.session, changes["credit_code"][1])
        if other is not None and other.id != org.id:
            raise DuplicateValue("credit_code", changes["credit_code"][1], existing_id=str(other.id))
    for field_name, (_, new) in changes.items():
        setattr(org, field_name, new)
    org.version += 1
    org.updated_by = uow.actor.id
    try:
        await uow.session.flush()
    except IntegrityError as exc:
        raise DuplicateValue("credit_code", str(org.credit_code)) from exc
    event = await uow.emit(
        ORGANISATION_UPDATED,
        OrganisationUpdatedPayload(**_snapshot(org), changed_fields=sorted(changes)),
        subject=f"organisation/{org.id}",
    )
    await uow.record(
        "organisation.updated",
        entity_type="organisation",
        entity_id=org.id,
        changes=changes,
        reason=patch.reason,
        event=event,
    )
    return org
