"""Which events feed which open-data collection, and which of their fields are public.

One line per collection. Fields not listed (people's ids, reasons, internal documents) never
reach a partner. An instrument closed for sharing or retired keeps coming through with
``open_for_sharing`` false and its ``status``, so that a partner's copy drops it too.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func
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

    def matches(self, event_type: str) -> bool:
        return any(fnmatch.fnmatchcase(event_type, p) for p in self.event_types)


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
    ),
)
BY_KIND = {p.kind: p for p in PROJECTIONS}


async def apply(session: AsyncSession, event_type: str, data: dict[str, Any]) -> None:
    """Upsert the public part of an event's object into every collection it feeds."""
    for projection in PROJECTIONS:
        if not projection.matches(event_type) or projection.id_field not in data:
            continue
        public = {k: data.get(k) for k in projection.public_fields}
        version = int(data.get("version") or 1)
        stmt = insert(OpenDataRecord).values(
            kind=projection.kind, id=str(data[projection.id_field]), data=public, version=version
        )
        await session.execute(
            stmt.on_conflict_do_update(
                index_elements=[OpenDataRecord.kind, OpenDataRecord.id],
                set_={"data": stmt.excluded.data, "version": stmt.excluded.version, "updated_at": func.now()},
                where=OpenDataRecord.version <= stmt.excluded.version,
            )
        )
