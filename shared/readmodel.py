"""Helpers for read models fed by events (each service keeps its own copy of what it needs)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.dml import ReturningInsert

_statements: dict[tuple[Table, tuple[str, ...]], ReturningInsert[Any]] = {}


def _upsert_statement(table: Table, columns: tuple[str, ...]) -> ReturningInsert[Any]:
    # Built once per table and column set: building an ON CONFLICT statement (its EXCLUDED
    # proxies) costs more than running it, and consumers run it for every event.
    key = (table, columns)
    stmt = _statements.get(key)
    if stmt is None:
        insert = pg_insert(table)
        stmt = insert.on_conflict_do_update(
            index_elements=[table.c.id],
            set_={k: insert.excluded[k] for k in columns if k != "id"},
            where=table.c.version < insert.excluded.version,
        ).returning(table.c.id)
        _statements[key] = stmt
    return stmt


async def upsert_versioned(session: AsyncSession, table: Table, values: dict[str, Any]) -> bool:
    """Insert or update a row by ``id``, never letting an older ``version`` overwrite a newer.

    Events of one aggregate normally arrive in order; after a replay or a parked event they
    may not, and the version makes the outcome the same either way. Returns whether it wrote.
    """
    stmt = _upsert_statement(table, tuple(sorted(values)))
    return (await session.execute(stmt, values)).scalar_one_or_none() is not None


async def upsert_versioned_many(session: AsyncSession, table: Table, rows: Sequence[dict[str, Any]]) -> int:
    """``upsert_versioned`` for many rows in one statement; returns how many it wrote.

    Within the batch only the newest version of each id is kept (one statement may not
    touch a row twice).
    """
    newest: dict[Any, dict[str, Any]] = {}
    for row in rows:
        current = newest.get(row["id"])
        if current is None or row["version"] > current["version"]:
            newest[row["id"]] = row
    if not newest:
        return 0
    columns = tuple(sorted(next(iter(newest.values()))))
    insert = pg_insert(table)
    stmt = insert.on_conflict_do_update(
        index_elements=[table.c.id],
        set_={k: insert.excluded[k] for k in columns if k != "id"},
        where=table.c.version < insert.excluded.version,
    ).returning(table.c.id)
    # executemany form: the statement compiles once and is cached whatever the batch size
    return len((await session.execute(stmt, list(newest.values()))).all())
