"""Which events feed which open-data collection, and which of their fields are public.

One line per collection. Fields not listed (people's ids, reasons, internal documents) never
reach a partner. A collection may publish an object only while it is public (an instrument only
while its unit has it open for sharing and in service): one that never was is not published at
all; one that was and is no longer comes through once more as a withdrawal — its id, version
and the fields saying why (``open_for_sharing`` false, ``status``), nothing else — so that a
partner's copy drops it too.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.opendata.models import OpenDataRecord


@dataclass(frozen=True)
class Projection:
    kind: str
    label_zh: str
    event_types: tuple[str, ...]  # patterns, e.g. registry.platform.*
    id_field: str
    public_fields: tuple[str, ...]
    # Whether the object is public now; None: always. When it is not, only withdrawal_fields go out.
    published_while: Callable[[dict[str, Any]], bool] | None = None
    withdrawal_fields: tuple[str, ...] = ()

    def matches(self, event_type: str) -> bool:
        return any(fnmatch.fnmatchcase(event_type, p) for p in self.event_types)

    def is_public(self, data: dict[str, Any]) -> bool:
        return self.published_while is None or self.published_while(data)


def _instrument_shared(data: dict[str, Any]) -> bool:
    return data.get("open_for_sharing") is True and data.get("status", "in_service") == "in_service"


PROJECTIONS: tuple[Projection, ...] = (
    Projection(
        "organisations",
        "单位",
        ("registry.organisation.registered", "registry.organisation.updated"),
        "id",
        ("id", "name", "credit_code", "type", "region", "address"),
    ),
    Projection(
        "platforms",
        "创新平台（重点实验室等）",
        ("registry.platform.*",),
        "id",
        (
            "id",
            "code",
            "name",
            "kind",
            "state",
            "host_unit_id",
            "co_builder_unit_ids",
            "field",
            "sub_field",
            "region",
        ),
    ),
    Projection(
        "calls",
        "项目申报指南",
        ("projects.call.published",),
        "id",
        (
            "id",
            "programme_code",
            "plan_category",
            "year",
            "title",
            "organisation_mode",
            "opens_at",
            "closes_at",
        ),
    ),
    Projection(
        "projects",
        "立项项目公开信息",
        ("projects.project.approved",),
        "project_id",
        ("project_id", "code", "call_id", "title", "organisation_mode", "unit_id", "start_date", "end_date"),
    ),
    Projection(
        "instruments",
        "大型科研仪器开放共享",
        ("registry.instrument.*",),
        "id",
        (
            "id",
            "platform_id",
            "owner_unit_id",
            "name",
            "category",
            "model",
            "value_fen",
            "location",
            "open_for_sharing",
            "booking_contact",
            "annual_service_hours",
            "status",
        ),
        published_while=_instrument_shared,
        withdrawal_fields=("id", "open_for_sharing", "status"),
    ),
)
BY_KIND = {p.kind: p for p in PROJECTIONS}


# Events about people are personal data, never partner data, whatever patterns a partner holds:
# a person event carries the birth date beside the ID number's SHA-256 digest, and with the birth
# date known the few million numbers left are hashed through in seconds.
NEVER_TO_PARTNERS = ("registry.person.*",)


def private(event_type: str) -> bool:
    return any(fnmatch.fnmatchcase(event_type, p) for p in NEVER_TO_PARTNERS)


async def apply(session: AsyncSession, event_type: str, data: dict[str, Any]) -> dict[str, Any] | None:
    """Upsert the public part of an event's object into every collection it feeds; withdraw an
    object that is no longer public (and never publish one that never was).

    Returns what partners' webhooks may carry of this event: ``data`` itself for collections
    that are always public and for events no collection takes; for one that is public only at
    times, its public fields (or the withdrawal) with the version; ``None`` when the object was
    never public (or the event is personal data), so that no partner hears of it.
    """
    if private(event_type):
        return None
    shared: dict[str, Any] | None = data
    for projection in PROJECTIONS:
        if not projection.matches(event_type) or projection.id_field not in data:
            continue
        version = int(data.get("version") or 1)
        record_id = str(data[projection.id_field])
        if not projection.is_public(data):
            withdrawal = {k: data.get(k) for k in projection.withdrawal_fields}
            withdrawn = await session.execute(
                update(OpenDataRecord)
                .where(
                    OpenDataRecord.kind == projection.kind,
                    OpenDataRecord.id == record_id,
                    OpenDataRecord.version <= version,
                )
                .values(data=withdrawal, version=version, updated_at=func.now())
            )
            shared = withdrawal | {"version": version} if withdrawn.rowcount else None  # type: ignore[attr-defined]
            continue
        public = {k: data.get(k) for k in projection.public_fields}
        stmt = insert(OpenDataRecord).values(kind=projection.kind, id=record_id, data=public, version=version)
        await session.execute(
            stmt.on_conflict_do_update(
                index_elements=[OpenDataRecord.kind, OpenDataRecord.id],
                set_={"data": stmt.excluded.data, "version": stmt.excluded.version, "updated_at": func.now()},
                where=OpenDataRecord.version <= stmt.excluded.version,
            )
        )
        if projection.published_while is not None:
            shared = public | {"version": version}
    return shared
