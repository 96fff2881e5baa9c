"""The 查重 index in PostgreSQL, kept off the submission's path.

Submit only queues the application (``dedup_pending``, one row in the same transaction). The
indexer — a background loop in every instance, or a check that needs the index complete — takes
a batch of queued rows, computes the signatures from the application's current text and upserts
one row of band keys per application. One indexer drains at a time (a transaction-level advisory
lock): a check waits for a loop's batch in flight, a loop lets its turn pass while a check or
another instance drains. Two drainers at once could deadlock on each other's queue rows and
signature rows, which failed the check with it. A resubmission queues the application again, so
the index follows its latest text. After a change of signature scheme the migration queues every
submitted application and the index is rebuilt incrementally.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any
from uuid import UUID

from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from projects.applications import dedup
from projects.applications.models import Application, DedupPending, DedupSignature
from shared.clock import utcnow

log = logging.getLogger(__name__)
BATCH = 200
# The advisory lock that gives one indexer at a time its turn (any fixed number, unique in this
# service's database).
DRAIN_LOCK = 7_340_612_001
CHECK_DRAIN_LIMIT = 5000  # a check indexes at most this many queued texts itself; the loop does the rest


def text_of(title: str, abstract: str, content: str) -> str:
    return "\n".join([title, abstract, content])


async def queue(session: AsyncSession, application_id: UUID, revision: int) -> None:
    stmt = insert(DedupPending).values(application_id=application_id, revision=revision, queued_at=utcnow())
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[DedupPending.application_id],
            set_={"revision": stmt.excluded.revision, "queued_at": stmt.excluded.queued_at},
        )
    )


def _signatures(rows: list[Any]) -> list[dict[str, Any]]:
    now = utcnow()
    return [
        {
            "application_id": r.id,
            "revision": r.revision,
            "bands": dedup.signature(text_of(r.title, r.abstract, r.content)),
            "indexed_at": now,
        }
        for r in rows
    ]


async def drain(session: AsyncSession, *, limit: int = BATCH, skip_locked: bool = False) -> int:
    """Index up to ``limit`` queued applications in the session's transaction; the count done."""
    picked = (
        select(DedupPending.application_id)
        .order_by(DedupPending.application_id)
        .limit(limit)
        .with_for_update(skip_locked=skip_locked)
    )
    ids = list(
        (
            await session.execute(
                delete(DedupPending)
                .where(DedupPending.application_id.in_(picked.scalar_subquery()))
                .returning(DedupPending.application_id)
            )
        ).scalars()
    )
    if not ids:
        return 0
    rows = (
        await session.execute(
            select(
                Application.id,
                Application.revision,
                Application.title,
                Application.abstract,
                Application.content,
            ).where(Application.id.in_(ids))
        )
    ).all()
    values = await asyncio.to_thread(_signatures, list(rows)) if len(rows) > 20 else _signatures(list(rows))
    if values:
        stmt = insert(DedupSignature)
        await session.execute(
            stmt.on_conflict_do_update(
                index_elements=[DedupSignature.application_id],
                set_={
                    "revision": stmt.excluded.revision,
                    "bands": stmt.excluded.bands,
                    "indexed_at": stmt.excluded.indexed_at,
                },
            ),
            values,
        )
    return len(ids)


async def take_turn(session: AsyncSession, *, wait: bool) -> bool:
    """The indexer's turn, held to the end of the session's transaction."""
    if wait:
        await session.execute(select(func.pg_advisory_xact_lock(DRAIN_LOCK)))
        return True
    return bool((await session.execute(select(func.pg_try_advisory_xact_lock(DRAIN_LOCK)))).scalar_one())


async def catch_up(session: AsyncSession, *, limit: int = CHECK_DRAIN_LIMIT) -> int:
    """What a check does first: index what is queued (waiting for a loop's batch in flight), up to
    ``limit``; returns how many are still queued (0 when the index is complete)."""
    # Rows a loop is indexing right now are still visible here until it commits, so an empty
    # queue means the index is complete and no turn is needed.
    if (await session.execute(select(DedupPending.application_id).limit(1))).first() is None:
        return 0
    await take_turn(session, wait=True)
    done = 0
    while done < limit:
        n = await drain(session, limit=min(BATCH * 5, limit - done))
        if n == 0:
            return 0
        done += n
    return int((await session.execute(select(func.count()).select_from(DedupPending))).scalar_one())


async def candidates(session: AsyncSession, bands: list[int], exclude: UUID) -> list[UUID]:
    if not bands:
        return []
    return list(
        (
            await session.execute(
                select(DedupSignature.application_id).where(
                    DedupSignature.bands.overlap(bands), DedupSignature.application_id != exclude
                )
            )
        ).scalars()
    )


class Indexer:
    """The background loop of one instance: drains the queue, sleeps when it is empty."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], interval: float) -> None:
        self.sessionmaker = sessionmaker
        self.interval = interval
        self.task: asyncio.Task[None] | None = None
        self.indexed = 0

    def start(self) -> None:
        self.task = asyncio.create_task(self._loop(), name="dedup-indexer")

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
            self.task = None

    async def _loop(self) -> None:
        while True:
            try:
                async with self.sessionmaker() as session:
                    turn = await take_turn(session, wait=False)
                    n = await drain(session, skip_locked=True) if turn else 0
                    await session.commit()
                self.indexed += n
                if n < BATCH:
                    await asyncio.sleep(self.interval)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("查重 indexer batch failed")
                await asyncio.sleep(self.interval * 4)
