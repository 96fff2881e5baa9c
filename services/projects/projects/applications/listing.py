"""Work-queue lists at scale: keyset (cursor) paging, a capped count, narrow rows.

A page is the next ``size`` rows after the cursor in the order ``(sort column, id)`` — both in
the sort's direction, so one btree index serves it whatever the depth; an offset page (``page``)
is still accepted for short lists. Rows whose sort value is empty (not yet submitted, not yet
scored) come after all others: the query first pages through the non-empty values and then
through the empty ones, each part by index. The total is exact up to ``COUNT_CAP`` and shown as
"at least" beyond it (``total_exact: false``): nobody pages through ten thousand rows, and an
exact count over a province's applications on every page would cost more than the page.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime
from typing import Any, cast
from uuid import UUID

from sqlalchemy import Select, func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from projects.applications.models import Application
from shared.errors import FieldIssue, ValidationFailed

COUNT_CAP = 10_000
ROW_COLUMNS = (
    Application.id,
    Application.code,
    Application.call_id,
    Application.year,
    Application.title,
    Application.applicant_person_id,
    Application.unit_id,
    Application.competent_department_id,
    Application.requested_funding_fen,
    Application.state,
    Application.review_score,
    Application.submitted_at,
    Application.updated_at,
)
NULLABLE = {"submitted_at", "review_score"}
_KINDS = {
    "submitted_at": "datetime",
    "updated_at": "datetime",
    "review_score": "float",
    "requested_funding_fen": "int",
}


def _bad_cursor() -> ValidationFailed:
    return ValidationFailed(
        [FieldIssue("cursor", "invalid", "the cursor is not one this list gave out", "分页游标无效")]
    )


def encode_cursor(sort: str, row: Any) -> str:
    value = getattr(row, sort.lstrip("-"))
    if isinstance(value, datetime):
        value = value.isoformat()
    raw = json.dumps([sort, value, str(row.id)], ensure_ascii=False, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, sort: str) -> tuple[Any, UUID]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        made_for, value, row_id = json.loads(raw)
        if made_for != sort or not isinstance(row_id, str):
            raise ValueError("cursor of another order")
        kind = _KINDS.get(sort.lstrip("-"), "str")
        if value is None:
            if sort.lstrip("-") not in NULLABLE:
                raise ValueError("empty value for a column that has none")
        elif kind == "datetime":
            value = datetime.fromisoformat(value)
            if value.tzinfo is None:
                raise ValueError("a cursor's time has its offset")
        elif kind == "float" and isinstance(value, int | float) and not isinstance(value, bool):
            value = float(value)
        elif kind == "int" and isinstance(value, int) and not isinstance(value, bool):
            pass
        elif not (kind == "str" and isinstance(value, str)):
            raise ValueError("value of the wrong type")
        return value, UUID(row_id)
    except (ValueError, TypeError, AttributeError, binascii.Error) as exc:
        raise _bad_cursor() from exc


async def count_capped(session: AsyncSession, stmt: Select[Any]) -> tuple[int, bool]:
    limited = stmt.with_only_columns(Application.id).order_by(None).limit(COUNT_CAP + 1).subquery()
    n = int((await session.execute(select(func.count()).select_from(limited))).scalar_one())
    return min(n, COUNT_CAP), n <= COUNT_CAP


async def page_rows(
    session: AsyncSession,
    stmt: Select[Any],
    sort: str,
    size: int,
    *,
    cursor: str | None,
    offset: int,
) -> tuple[list[Any], str | None]:
    """The rows of one page and the cursor of the next (None at the end)."""
    name = sort.lstrip("-")
    desc = sort.startswith("-")
    column = getattr(Application, name)
    rows_stmt = cast(Select[Any], stmt.with_only_columns(*ROW_COLUMNS))

    def ordered(s: Select[Any]) -> Select[Any]:
        # Each part holds only empty or only non-empty values, so the NULLS clause does not change
        # the result; it is spelled to match the index (ix_applications_submitted is DESC NULLS
        # LAST, read backwards for ascending order).
        if name in NULLABLE:
            if desc:
                return s.order_by(column.desc().nulls_last(), Application.id.desc())
            return s.order_by(column.asc().nulls_first(), Application.id.asc())
        if desc:
            return s.order_by(column.desc(), Application.id.desc())
        return s.order_by(column.asc(), Application.id.asc())

    def after(value: Any, row_id: UUID) -> Any:
        if desc:
            return tuple_(column, Application.id) < tuple_(value, row_id)
        return tuple_(column, Application.id) > tuple_(value, row_id)

    def after_id(row_id: UUID) -> Any:
        return Application.id < row_id if desc else Application.id > row_id

    rows: list[Any] = []
    if cursor is None and offset:
        # an offset page (short lists): deep offsets cost what they skip; a cursor goes deep cheaply
        if desc:
            order = (column.desc().nulls_last(), Application.id.desc())
        else:
            order = (column.asc().nulls_last(), Application.id.asc())
        rows = list((await session.execute(rows_stmt.order_by(*order).offset(offset).limit(size + 1))).all())
    else:
        value, row_id = decode_cursor(cursor, sort) if cursor else (None, None)
        in_empty_part = cursor is not None and value is None
        if not in_empty_part:
            part = rows_stmt.where(column.is_not(None)) if name in NULLABLE else rows_stmt
            if row_id is not None:
                part = part.where(after(value, row_id))
            rows = list((await session.execute(ordered(part).limit(size + 1))).all())
        if name in NULLABLE and len(rows) <= size:
            part = rows_stmt.where(column.is_(None))
            if in_empty_part and row_id is not None:
                part = part.where(after_id(row_id))
            rows += list((await session.execute(ordered(part).limit(size + 1 - len(rows)))).all())
    more = len(rows) > size
    rows = rows[:size]
    return rows, (encode_cursor(sort, rows[-1]) if more and rows else None)
