"""Registering people and changing their details. Never commits."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID, uuid5

from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError

from registry.access import may_manage_unit, require
from registry.people import identity, repository
from registry.people.events import PERSON_REGISTERED, PERSON_UPDATED, PersonSnapshot, PersonUpdatedPayload
from registry.people.models import Person
from registry.people.schemas import PersonCreate, PersonUpdate
from shared.auth import Principal
from shared.clock import utcnow
from shared.errors import DuplicateValue, FieldIssue, ValidationFailed
from shared.ids import uuid7
from shared.uow import UnitOfWork

AUDITED = (
    "name",
    "gender",
    "birth_date",
    "title",
    "discipline",
    "department",
    "unit_id",
    "full_time",
    "phone",
    "email",
)


DEPARTMENTS = UUID("0e7f1c52-8d4a-5b1e-9c3f-4a6d2b8e1f70")  # namespace of department ids


def department_id(unit_id: UUID | None, department: str | None) -> UUID | None:
    """One id per department of a unit, derived from the unit and the department's name
    (spaces and case ignored), so that other services can tell colleagues of one 院系 apart
    from people elsewhere in the same unit without registry keeping a department list."""
    if unit_id is None or not department or not department.strip():
        return None
    name = "".join(department.split()).casefold()
    return uuid5(DEPARTMENTS, f"{unit_id}/{name}")


def snapshot(person: Person) -> dict[str, Any]:
    return {
        "id": person.id,
        "name": person.name,
        "gender": person.gender,
        "birth_date": person.birth_date,
        "id_number_digest": person.id_number_digest,
        "unit_id": person.unit_id,
        "title": person.title,
        "discipline": person.discipline,
        "department": person.department,
        "department_id": department_id(person.unit_id, person.department),
        "full_time": person.full_time,
        "version": person.version,
    }


def _new_person(data: PersonCreate, gender: str, born: Any, actor_id: str) -> Person:
    person = Person(
        id=uuid7(),
        name=data.name,
        gender=gender,
        birth_date=born,
        title=data.title,
        discipline=data.discipline,
        department=data.department,
        unit_id=data.unit_id,
        full_time=data.full_time,
        phone=data.phone,
        email=data.email,
        version=1,
        created_by=actor_id,
        updated_by=actor_id,
    )
    person.set_id_number(data.id_number)
    return person


def _consistent_with_id(data: PersonCreate) -> tuple[str, Any]:
    born = identity.birth_date_of(data.id_number)
    gender = identity.gender_of(data.id_number)
    issues = []
    if data.birth_date is not None and data.birth_date != born:
        issues.append(
            FieldIssue(
                "birth_date",
                "id_mismatch",
                "differs from the birth date in the ID number",
                "与身份证号码中的出生日期不一致",
            )
        )
    if data.gender is not None and data.gender != gender:
        issues.append(
            FieldIssue(
                "gender",
                "id_mismatch",
                "differs from the gender in the ID number",
                "与身份证号码中的性别不一致",
            )
        )
    if issues:
        raise ValidationFailed(issues)
    return gender, born


async def register(uow: UnitOfWork, principal: Principal, data: PersonCreate) -> Person:
    require(
        may_manage_unit(principal, data.unit_id),
        "register people outside the units you act for",
        "登记非本单位人员",
    )
    gender, born = _consistent_with_id(data)
    existing = await repository.find_by_hmac(uow.session, identity.lookup_digest(data.id_number))
    if existing is not None:
        raise DuplicateValue("id_number", identity.mask(data.id_number), existing_id=str(existing.id))
    person = _new_person(data, gender, born, uow.actor.id)
    uow.session.add(person)
    try:
        await uow.session.flush()
    except IntegrityError as exc:
        raise DuplicateValue("id_number", identity.mask(data.id_number)) from exc
    event = await uow.emit(
        PERSON_REGISTERED, PersonSnapshot(**snapshot(person)), subject=f"person/{person.id}"
    )
    await uow.record(
        "person.registered",
        entity_type="person",
        entity_id=person.id,
        changes={k: str(v) if v is not None else None for k, v in snapshot(person).items() if k in AUDITED},
        event=event,
    )
    return person


async def update(uow: UnitOfWork, principal: Principal, person: Person, patch: PersonUpdate) -> Person:
    require(may_manage_unit(principal, person.unit_id), "edit this person", "修改该人员信息")
    requested = patch.model_dump(exclude_unset=True, exclude={"reason"})
    if "unit_id" in requested:
        require(
            may_manage_unit(principal, requested["unit_id"]), "move a person to that unit", "将人员调入该单位"
        )
    changes: dict[str, list[Any]] = {}
    for name, value in requested.items():
        if value is None and name in ("name", "full_time"):
            continue
        if getattr(person, name) != value:
            changes[name] = [getattr(person, name), value]
    if not changes:
        return person
    for name, (_, new) in changes.items():
        setattr(person, name, new)
    person.version += 1
    person.updated_by = uow.actor.id
    await uow.session.flush()
    event = await uow.emit(
        PERSON_UPDATED,
        PersonUpdatedPayload(**snapshot(person), changed_fields=sorted(changes)),
        subject=f"person/{person.id}",
    )
    await uow.record(
        "person.updated",
        entity_type="person",
        entity_id=person.id,
        changes={
            k: [str(a) if a is not None else None, str(b) if b is not None else None]
            for k, (a, b) in changes.items()
        },
        reason=patch.reason,
        event=event,
    )
    return person


async def register_imported(
    uow: UnitOfWork,
    principal: Principal,
    rows: list[tuple[dict[str, Any], UUID | None]],
    *,
    reason: str,
    chunk: int = 500,
) -> int:
    """Bulk registration (Excel import) of people already checked, encrypted and matched to
    the register (``registry.imports``): each is the person (the ``people`` columns as plain
    values, id and birth date as text, plus ``id_number_digest``) and the unit.

    Written in chunks (one insert of the rows and one of their ``registry.person.registered``
    events each), handing the event loop back between them, and one audit row for the whole
    import listing every person it created. Returns how many were created.
    """
    now = utcnow()
    created: list[str] = []
    for start in range(0, len(rows), chunk):
        people, events = [], []
        for given, unit_id in rows[start : start + chunk]:
            require(
                may_manage_unit(principal, unit_id), "register people outside your units", "登记非本单位人员"
            )
            person = dict(given)
            digest = person.pop("id_number_digest")
            person |= {
                "id": UUID(person["id"]),
                "birth_date": date.fromisoformat(person["birth_date"]),
                "unit_id": unit_id,
                "version": 1,
                "created_at": now,
                "updated_at": now,
                "created_by": uow.actor.id,
                "updated_by": uow.actor.id,
            }
            people.append(person)
            snap = PersonSnapshot(
                id=person["id"],
                name=person["name"],
                gender=person["gender"],
                birth_date=person["birth_date"],
                id_number_digest=digest,
                unit_id=unit_id,
                title=person["title"],
                discipline=person["discipline"],
                department=person["department"],
                department_id=department_id(unit_id, person["department"]),
                full_time=person["full_time"],
                version=1,
            )
            events.append((snap, f"person/{snap.id}"))
            created.append(str(snap.id))
        await uow.session.execute(insert(Person), people)
        await uow.emit_many(PERSON_REGISTERED, events)
    if created:
        await uow.record(
            "people.imported",
            entity_type="person_import",
            entity_id=uuid7(),
            changes={"created": created},
            reason=reason,
        )
    return len(created)
