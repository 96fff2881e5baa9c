"""Read-only open data for partner platforms (开放数据接口): paging and ``updated_since``."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query
from pydantic import AwareDatetime, BaseModel
from sqlalchemy import func, select

from gateway.opendata.models import OpenDataRecord
from gateway.opendata.projections import PROJECTIONS
from gateway.partners.api import require_scope
from gateway.partners.models import PartnerClient
from gateway.partners.service import PartnerScope
from shared.errors import NotFound
from shared.http.deps import PageDep, SessionDep
from shared.http.schemas import Page
from shared.timestamps import Timestamp

router = APIRouter(prefix="/open-data", tags=["open data"])
ReaderDep = Annotated[PartnerClient, Depends(require_scope(PartnerScope.open_data_read))]
Kind = Literal["organisations", "platforms", "calls", "projects", "instruments"]
assert set(Kind.__args__) == {p.kind for p in PROJECTIONS}  # type: ignore[attr-defined]


class Collection(BaseModel):
    kind: str
    label_zh: str
    fields: list[str]


class OpenRecord(BaseModel):
    id: str
    version: int
    updated_at: Timestamp
    data: dict[str, Any]


@router.get("", response_model=Page[Collection], summary="Collections a partner can sync")
async def collections(_: ReaderDep) -> Page[Collection]:
    return Page.whole(
        [Collection(kind=p.kind, label_zh=p.label_zh, fields=list(p.public_fields)) for p in PROJECTIONS]
    )


@router.get("/{kind}", response_model=Page[OpenRecord])
async def records(
    kind: Kind,
    session: SessionDep,
    _: ReaderDep,
    page: PageDep,
    updated_since: Annotated[
        AwareDatetime | None,
        Query(description="only records changed at or after this instant (ISO 8601 with zone)"),
    ] = None,
) -> Page[OpenRecord]:
    """Oldest change first, so that a partner pages forward and keeps the last ``updated_at``
    as its next ``updated_since`` (records changed at that same instant come again: harmless,
    each carries its ``version``)."""
    where = [OpenDataRecord.kind == kind]
    if updated_since is not None:
        where.append(OpenDataRecord.updated_at >= updated_since)
    total = (
        await session.execute(select(func.count()).select_from(OpenDataRecord).where(*where))
    ).scalar_one()
    rows = await session.execute(
        select(OpenDataRecord)
        .where(*where)
        .order_by(OpenDataRecord.updated_at, OpenDataRecord.id)
        .offset(page.offset)
        .limit(page.size)
    )
    items = [
        OpenRecord(id=r.id, version=r.version, updated_at=r.updated_at, data=r.data) for r in rows.scalars()
    ]
    return Page(items=items, total=total, page=page.page, size=page.size)


@router.get("/{kind}/{record_id}", response_model=OpenRecord, summary="One record as last published")
async def record(
    kind: Kind, record_id: Annotated[str, Path(max_length=64)], session: SessionDep, _: ReaderDep
) -> OpenRecord:
    """A partner re-reads one object (e.g. after a webhook), as the collection pages it."""
    row = await session.get(OpenDataRecord, (kind, record_id))
    if row is None:
        raise NotFound(f"{kind} record {record_id} not found", "未找到该公开数据")
    return OpenRecord(id=row.id, version=row.version, updated_at=row.updated_at, data=row.data)
