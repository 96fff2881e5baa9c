"""Outbox relay: publishes committed outbox rows to JetStream, then marks them sent.

Correctness rules it keeps:

* Rows are found by ``sent_at IS NULL``, never by "position greater than the last one seen":
  a long transaction that took a position first and committed last is still published.
* Sequence numbers (per event type) are assigned in a transaction of their own before the
  row is published, so a crash after publishing re-publishes the row with the same number.
* Each message carries ``Nats-Msg-Id`` = event id: JetStream drops a re-publish inside its
  duplicate window, and the consumers' inboxes make a later one harmless.
* A row is marked sent only after JetStream acknowledged it (stored and, with
  ``sync_interval: always``, on disk).
* Several relays (replicas) can run: rows are claimed ``FOR UPDATE SKIP LOCKED``, and a row
  is held back while an earlier unsent row of the same aggregate is claimed by another
  relay, so events of one aggregate are published in the order they were written.
* NATS outages: the claim transaction rolls back, rows wait, the relay backs off and retries.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from uuid import UUID

from opentelemetry.trace import Span, StatusCode
from sqlalchemy import BigInteger, String, column, delete, func, select, text, update
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import UUID as PgUUID
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.clock import utcnow
from shared.db import KitTables, equals_any
from shared.events.bus import EventBus
from shared.events.wake import on_outbox_commit
from shared.settings import ServiceSettings
from shared.tracing import Tracing

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ClaimedRow:
    id: UUID
    position: int
    event_type: str
    aggregate_key: str
    sequence: int
    body: str  # the envelope with its ``producerseq``, as JSON: the message published
    trace: dict[str, Any] | None  # the envelope's trace context fields, when it carries one

    @property
    def carrier(self) -> dict[str, Any]:
        return {"id": self.id, **(self.trace or {})}


# Numbers the next unsequenced rows in position order, per event type, in one round trip:
# the rows are locked (skipping those another relay is numbering), each type's counter is
# raised by its count (types in name order, so two relays never lock counters crosswise),
# and each row gets its type's next number.
_ASSIGN_SEQUENCES = text(
    """
    WITH picked AS (
        SELECT id, event_type, position FROM outbox
        WHERE sent_at IS NULL AND sequence IS NULL
        ORDER BY position
        LIMIT :limit
        FOR UPDATE SKIP LOCKED
    ), counts AS (
        SELECT event_type, count(*) AS n FROM picked GROUP BY event_type
    ), raised AS (
        INSERT INTO event_sequence AS s (event_type, last_value)
        SELECT event_type, n FROM counts ORDER BY event_type
        ON CONFLICT (event_type) DO UPDATE SET last_value = s.last_value + excluded.last_value
        RETURNING s.event_type, s.last_value
    ), numbered AS (
        SELECT id, event_type, row_number() OVER (PARTITION BY event_type ORDER BY position) AS k
        FROM picked
    )
    UPDATE outbox AS o SET sequence = raised.last_value - counts.n + numbered.k
    FROM numbered
    JOIN counts ON counts.event_type = numbered.event_type
    JOIN raised ON raised.event_type = numbered.event_type
    WHERE o.id = numbered.id
    """
)

# Claims the next sequenced rows (locked until they are marked sent; rows another relay holds
# are skipped) and keeps only those with no earlier unsent row of their aggregate outside
# the claim, so that the events of one aggregate go out in the order they were written.
_CLAIM = text(
    """
    WITH claimed AS (
        SELECT id, position, event_type, aggregate_key, sequence, envelope FROM outbox
        WHERE sent_at IS NULL AND sequence IS NOT NULL
        ORDER BY position
        LIMIT :limit
        FOR UPDATE SKIP LOCKED
    ), held_back AS (
        SELECT o.aggregate_key, min(o.position) AS before
        FROM outbox AS o
        WHERE o.sent_at IS NULL
          AND o.aggregate_key IN (SELECT aggregate_key FROM claimed)
          AND o.position < (SELECT max(position) FROM claimed)
          AND o.id NOT IN (SELECT id FROM claimed)
        GROUP BY o.aggregate_key
    )
    SELECT c.id, c.position, c.event_type, c.aggregate_key, c.sequence,
           (c.envelope || jsonb_build_object('producerseq', c.sequence))::text AS body,
           CASE WHEN c.envelope ? 'traceparent'
                THEN jsonb_build_object('traceparent', c.envelope -> 'traceparent',
                                        'tracestate', c.envelope -> 'tracestate')
           END AS trace
    FROM claimed AS c
    LEFT JOIN held_back AS h ON h.aggregate_key = c.aggregate_key
    WHERE h.before IS NULL OR c.position < h.before
    ORDER BY c.position
    """
).columns(
    column("id", PgUUID(as_uuid=True)),
    column("position", BigInteger),
    column("event_type", String),
    column("aggregate_key", String),
    column("sequence", BigInteger),
    column("body", String),
    column("trace", JSONB),
)


AfterPublish = Callable[[Sequence[ClaimedRow]], Awaitable[None]]


def _end_span_on_ack(span: Span) -> Callable[[asyncio.Future[Any]], None]:
    def end(future: asyncio.Future[Any]) -> None:
        if future.cancelled() or future.exception() is not None:
            span.set_status(StatusCode.ERROR, "not acknowledged")
        span.end()

    return end


class OutboxRelay:
    def __init__(
        self,
        engine: AsyncEngine,
        tables: KitTables,
        bus: EventBus,
        settings: ServiceSettings,
        *,
        after_publish: AfterPublish | None = None,
        tracing: Tracing | None = None,
        woken_by: AsyncEngine | None = None,
    ) -> None:
        self.engine = engine
        # The engine whose commits wake the relay: the service's own, when the relay has a
        # pool of its own (so that requests queueing for connections never hold it back).
        self.woken_by = woken_by or engine
        self.tracing = tracing
        self.t = tables
        self.bus = bus
        self.settings = settings
        self.after_publish = after_publish
        self.published_total = 0
        self._wake = asyncio.Event()
        self._stop_requested = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._unregister_wake: Callable[[], None] | None = None
        self._stopping = False
        self._last_purge = float("-inf")

    def start(self) -> None:
        self._unregister_wake = on_outbox_commit(self.woken_by.sync_engine, self.wake)
        self._task = asyncio.create_task(self.run(), name="outbox-relay")

    async def stop(self, grace_seconds: float = 10.0) -> None:
        """Let the batches in hand finish (rows acknowledged are marked sent), then stop."""
        self._stopping = True
        self._stop_requested.set()
        self._wake.set()
        if self._unregister_wake is not None:
            self._unregister_wake()
            self._unregister_wake = None
        if self._task is not None:
            _, pending = await asyncio.wait({self._task}, timeout=grace_seconds)
            for task in pending:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        """Claim and publish batch after batch, several in flight while JetStream acknowledges.

        A batch is claimed (its rows locked), published without waiting, and then waits for
        its acknowledgements in a task of its own while the next batch is claimed: the rows
        locked by a batch in flight are skipped, and a later row of an aggregate that has one
        in flight is held back, so events of one aggregate still go out in order.
        """
        while not await self.bus.connected_within(0.5):
            if self._stopping:
                return
        backoff = 0.1
        in_flight: set[asyncio.Task[int]] = set()
        failure: BaseException | None = None
        try:
            while not self._stopping:
                # Cleared before the claim, so that a commit landing after the claim's snapshot
                # leaves it set and the next round starts at once.
                self._wake.clear()
                try:
                    if failure is not None:
                        raise failure
                    claimed = await self._claim_next(in_flight)
                    backoff = 0.1
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # noqa: BLE001 - the relay must survive any outage
                    log.warning("outbox relay round failed; rows wait", extra={"error": repr(exc)})
                    failure = None
                    await self._settle(in_flight)
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._stop_requested.wait(), backoff)
                    backoff = min(backoff * 2, 5.0)
                    continue
                if len(in_flight) >= self.settings.relay_batches_in_flight:
                    await asyncio.wait(in_flight, return_when=asyncio.FIRST_COMPLETED)
                failure = self._reap(in_flight)
                if failure is not None or claimed >= self.settings.relay_batch_size:
                    continue
                try:
                    await self._maybe_purge()
                except Exception as exc:  # noqa: BLE001 - housekeeping; publishing goes on
                    log.warning("outbox purge failed", extra={"error": repr(exc)})
                # The claim took every row there was. With a batch still in flight, the rows
                # committed meanwhile wait for its end and then go out together (under a
                # stream of commits, one batch per round trip to JetStream rather than one
                # per commit); with none, until a commit wakes the relay or the poll
                # interval passes.
                woken = asyncio.ensure_future(self._wake.wait())
                await asyncio.wait(
                    in_flight or {woken},
                    timeout=self.settings.relay_poll_interval_seconds,
                    return_when=asyncio.FIRST_COMPLETED,
                )
                woken.cancel()
                failure = self._reap(in_flight)
        finally:
            await self._settle(in_flight)

    def _reap(self, in_flight: set[asyncio.Task[int]]) -> BaseException | None:
        """Forget finished batches; the first failure among them, if any."""
        failure = None
        for task in [t for t in in_flight if t.done()]:
            in_flight.discard(task)
            if not task.cancelled() and task.exception() is not None and failure is None:
                failure = task.exception()
        return failure

    async def _settle(self, in_flight: set[asyncio.Task[int]]) -> None:
        """Wait for every batch in flight to be marked (or rolled back)."""
        if in_flight:
            await asyncio.wait(in_flight)
            self._reap(in_flight)

    async def _claim_next(self, in_flight: set[asyncio.Task[int]]) -> int:
        """Sequence and claim one batch, leave it publishing in flight; how many rows it took."""
        await self._assign_sequences()
        claimed: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        task = asyncio.create_task(self._publish_batch(claimed), name="outbox-batch")
        in_flight.add(task)
        await asyncio.wait({claimed, task}, return_when=asyncio.FIRST_COMPLETED)
        if not claimed.done():
            claimed.cancel()
            in_flight.discard(task)
            task.result()  # the claim failed: raise its error
            return 0
        if claimed.result() == 0:
            # Nothing claimed: the batch only ends its empty transaction. It is not a batch in
            # flight that rows wait for; waiting on its end would wake the relay at once and
            # keep an idle relay querying in a loop.
            in_flight.discard(task)
            await task
        return claimed.result()

    async def run_once(self) -> int:
        """Sequence, publish and mark one batch; returns how many rows were published."""
        await self._assign_sequences()
        return await self._publish_batch()

    async def _assign_sequences(self) -> None:
        """Number the next unsequenced rows, per event type, in one statement of its own.

        The numbers are committed before any of these rows is published, so a crash after a
        publish re-publishes the row under the number it went out with.
        """
        async with self.engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(_ASSIGN_SEQUENCES, {"limit": self.settings.relay_batch_size})

    async def _publish_batch(self, claimed_count: asyncio.Future[int] | None = None) -> int:
        t = self.t.outbox
        async with self.engine.begin() as conn:
            result = await conn.execute(_CLAIM, {"limit": self.settings.relay_batch_size})
            claimed = [
                ClaimedRow(r.id, r.position, r.event_type, r.aggregate_key, r.sequence, r.body, r.trace)
                for r in result.all()
            ]
            if claimed_count is not None:
                claimed_count.set_result(len(claimed))
            if not claimed:
                return 0
            acked = await self._publish(claimed)
            if self.after_publish is not None:
                await self.after_publish(acked)
            if acked:
                await conn.execute(
                    update(t)
                    .where(equals_any(t.c.id, [r.id for r in acked], "ids"))
                    .values(sent_at=func.now(), publish_attempts=t.c.publish_attempts + 1)
                )
        self.published_total += len(acked)
        if len(acked) < len(claimed):
            raise ConnectionError(f"{len(claimed) - len(acked)} events not acknowledged by JetStream")
        return len(acked)

    async def _publish(self, rows: Sequence[ClaimedRow]) -> list[ClaimedRow]:
        """Publish in position order (one connection keeps order); return the acknowledged."""
        js = self.bus.js
        futures = []
        tracing = self.tracing if self.tracing is not None and self.tracing.enabled else None
        for row in rows:
            subject = self.bus.subject_for(row.event_type)
            future = await js.publish_async(
                subject,
                row.body.encode(),
                headers={"Nats-Msg-Id": str(row.id)},
                # No stall timeout: asyncio.wait_for would yield to the event loop for
                # every message, and a busy loop then stretches a batch to seconds.
                # A batch never exceeds the client's pending limit.
                wait_stall=None,
            )
            if tracing is not None and row.trace and (span := tracing.publishing(subject, row.carrier)):
                future.add_done_callback(_end_span_on_ack(span))
            futures.append(future)
        done, pending = await asyncio.wait(futures, timeout=self.settings.relay_publish_timeout_seconds)
        for fut in pending:
            fut.cancel()
        acked = []
        for row, fut in zip(rows, futures, strict=True):
            if fut in done and not fut.cancelled() and fut.exception() is None:
                acked.append(row)
        return acked

    async def republish(self, *, event_type: str, from_sequence: int, to_sequence: int, tag: str) -> int:
        """Publish a range of sent events again (healing a consumer after broker data loss).

        The message id gets a suffix so that JetStream accepts it even inside its duplicate
        window; consumers recognise the event by its envelope id and apply it at most once.
        """
        t = self.t.outbox
        async with self.engine.connect() as conn:
            rows = (
                await conn.execute(
                    select(t.c.id, t.c.sequence, t.c.envelope)
                    .where(
                        t.c.event_type == event_type,
                        t.c.sequence >= from_sequence,
                        t.c.sequence <= to_sequence,
                    )
                    .order_by(t.c.sequence)
                )
            ).all()
        js = self.bus.js
        for row in rows:
            event_id, sequence = row.id, row.sequence
            body: dict[str, Any] = dict(row.envelope)
            body["producerseq"] = sequence
            await js.publish(
                self.bus.subject_for(event_type),
                json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode(),
                headers={"Nats-Msg-Id": f"{event_id}:{tag}"},
            )
        return len(rows)

    async def backlog(self) -> int:
        t = self.t.outbox
        async with self.engine.connect() as conn:
            return int((await conn.execute(select(func.count()).where(t.c.sent_at.is_(None)))).scalar_one())

    async def _maybe_purge(self) -> None:
        """Drop expired rows at most once an hour (and on the first round)."""
        loop_time = asyncio.get_running_loop().time()
        if loop_time - self._last_purge < 3600:
            return
        self._last_purge = loop_time
        await self.purge_expired()

    async def purge_expired(self) -> int:
        """Delete sent outbox rows older than the retention period; returns how many."""
        cutoff = utcnow() - timedelta(days=self.settings.outbox_retention_days)
        async with self.engine.begin() as conn:
            outbox = self.t.outbox
            result = await conn.execute(
                delete(outbox).where(outbox.c.created_at < cutoff, outbox.c.sent_at < cutoff)
            )
        return int(result.rowcount or 0)
