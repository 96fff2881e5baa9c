"""Helpers for read models fed by events (each service keeps its own copy of what it needs)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession


async def upsert_versioned(session: AsyncSession, table: Table, values: dict[str, Any]) -> bool:
    """Insert or update a row by ``id``, never letting an older ``version`` overwrite a newer.

    Events of one aggregate normally arrive in order; after a replay or a parked event they
    may not, and the version makes the outcome the same either way. Returns whether it wrote.
    """
    insert = pg_insert(table).values(**values)
    stmt = insert.on_conflict_do_update(
        index_elements=[table.c.id],
        set_={k: insert.excluded[k] for k in values if k != "id"},
        where=table.c.version < insert.excluded.version,
    ).returning(table.c.id)
    return (await session.execute(stmt)).scalar_one_or_none() is not None
