"""Paging of the registry's big lists: page/size with a total, or keyset cursors.

``?page=3&size=20`` answers with the total, as the officials' tables show it. ``?cursor=``
(empty for the first page, then the ``next_cursor`` of the previous answer) walks the same
order by keyset: each page costs the same however deep it is, rows inserted meanwhile are
neither skipped nor repeated, and no count is made unless ``with_total=true`` asks for one.

A cursor is opaque to clients: base64url JSON of the sort it belongs to, the last row's sort
value and id. A cursor from another sort, or one that does not decode, is a 422.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Generic, TypeVar
from uuid import UUID

from sqlalchemy import ColumnElement, Select, and_, func, or_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from shared.errors import FieldIssue, ValidationFailed

R = TypeVar("R")


@dataclass(frozen=True)
class SortKey:
    """One sort a list offers: a column, its direction, and whether it may be null."""

    column: InstrumentedAttribute[Any]
    descending: bool = False
    nullable: bool = False

    def order_by(self, id_column: InstrumentedAttribute[Any]) -> list[Any]:
        col = self.column.desc() if self.descending else self.column.asc()
        if self.nullable:
            col = col.nulls_last()
        return [col, id_column.desc() if self.descending else id_column.asc()]

    def after(self, id_column: InstrumentedAttribute[Any], value: Any, last_id: UUID) -> ColumnElement[bool]:
        """Rows that come after (value, last_id) in this order (nulls last)."""
        col = self.column
        tie = id_column < last_id if self.descending else id_column > last_id
        if value is None:
            return and_(col.is_(None), tie)
        if not self.nullable:
            pair, last = tuple_(col, id_column), tuple_(value, last_id)
            return pair < last if self.descending else pair > last
        beyond = col < value if self.descending else col > value
        return or_(beyond, and_(col == value, tie), col.is_(None))


def sorts(*columns: tuple[str, InstrumentedAttribute[Any], bool]) -> dict[str, SortKey]:
    """``name`` and ``-name`` for each (name, column, nullable)."""
    out: dict[str, SortKey] = {}
    for name, column, nullable in columns:
        out[name] = SortKey(column, False, nullable)
        out[f"-{name}"] = SortKey(column, True, nullable)
    return out


@dataclass(frozen=True)
class PageRequest:
    """Which page: ``page``/``size`` (with a total unless ``with_total`` is false), or a cursor."""

    page: int = 1
    size: int = 20
    cursor: str | None = None
    with_total: bool | None = None

    @property
    def keyset(self) -> bool:
        return self.cursor is not None

    @property
    def counts(self) -> bool:
        return self.with_total if self.with_total is not None else self.cursor is None

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.size


@dataclass
class Fetched(Generic[R]):
    rows: list[R]
    total: int | None
    next_cursor: str | None


def _encode(sort: str, value: Any, row_id: UUID) -> str:
    if isinstance(value, (date, datetime)):
        value = value.isoformat()
    raw = json.dumps([sort, value, str(row_id)], ensure_ascii=False, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _bad_cursor(message: str, message_zh: str) -> ValidationFailed:
    return ValidationFailed([FieldIssue("cursor", "invalid_cursor", message, message_zh)])


def _decode(cursor: str, sort: str, key: SortKey) -> tuple[Any, UUID]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        name, value, row_id = json.loads(raw)
        last_id = UUID(row_id)
    except (ValueError, TypeError, binascii.Error):
        raise _bad_cursor("not a cursor this list gave", "分页游标无效") from None
    if name != sort:
        raise _bad_cursor(
            f"the cursor belongs to sort '{name}', not '{sort}'", "分页游标与当前排序方式不一致"
        )
    if value is None:
        return None, last_id
    try:
        kind = key.column.type.python_type
        if kind is datetime:
            return datetime.fromisoformat(value), last_id
        if kind is date:
            return date.fromisoformat(value), last_id
        if kind is bool or not isinstance(value, kind):
            raise TypeError(value)
    except (ValueError, TypeError, NotImplementedError):
        raise _bad_cursor("not a cursor this list gave", "分页游标无效") from None
    return value, last_id


async def fetch(
    session: AsyncSession,
    stmt: Select[Any],
    *,
    sort: str,
    keys: dict[str, SortKey],
    id_column: InstrumentedAttribute[Any],
    request: PageRequest,
) -> Fetched[Any]:
    """One page of ``stmt`` (a select of one entity) in the order ``sort`` names."""
    key = keys[sort]
    page = stmt.order_by(*key.order_by(id_column))
    if request.keyset:
        if request.cursor:
            value, last_id = _decode(request.cursor, sort, key)
            page = page.where(key.after(id_column, value, last_id))
    else:
        page = page.offset(request.offset)
    rows = list((await session.execute(page.limit(request.size + 1))).scalars())
    total = None
    if request.counts:
        if not request.keyset and 0 < len(rows) <= request.size:
            total = request.offset + len(rows)  # the last page: no count needed
        else:
            counted = select(func.count()).select_from(stmt.order_by(None).subquery())
            total = int((await session.execute(counted)).scalar_one())
    next_cursor = None
    if len(rows) > request.size:
        rows = rows[: request.size]
        last = rows[-1]
        next_cursor = _encode(sort, getattr(last, key.column.key), getattr(last, id_column.key))
    return Fetched(rows, total, next_cursor)
