"""Inbox consumer: applies each event exactly once, parks the ones that keep failing.

Per (consuming service, producing service) there is one durable pull consumer with explicit
acks, filtered to the event types this service handles. Each event is applied in one
database transaction together with its ``inbox`` row (keyed by event id), so a redelivered or
re-published event finds the row and is acknowledged without being applied again. The ack is
sent after the commit: a crash in between means a redelivery, which the inbox absorbs.

A handler that fails is retried with back-off (NAK with delay, other events keep flowing);
after ``consumer_max_deliveries`` the event is parked in ``dead_letter`` with the error and can
be replayed (applied once) after the cause is fixed.

Every event carries a sequence number per producer and type; ``consumer_progress`` keeps how
far the sequence is complete, so a hole (events lost by the broker) is noticed and reported.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Generic, TypeVar
from uuid import UUID

from nats.aio.msg import Msg
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError
from pydantic import BaseModel, ValidationError
from sqlalchemy import delete, func, select, union_all, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from shared.clock import utcnow
from shared.context import request_id_var
from shared.db import KitTables
from shared.errors import Conflict, NotFound
from shared.events.bus import EventBus
from shared.events.envelope import Envelope, EventType
from shared.ids import uuid7
from shared.settings import ServiceSettings
from shared.tracing import Tracing
from shared.uow import Actor, UnitOfWork

log = logging.getLogger(__name__)

P = TypeVar("P", bound=BaseModel)


@dataclass(frozen=True)
class ReceivedEvent(Generic[P]):
    envelope: Envelope
    payload: P

    @property
    def id(self) -> UUID:
        return self.envelope.id


Handler = Callable[[UnitOfWork, ReceivedEvent[Any]], Awaitable[None]]
ManyHandler = Callable[[UnitOfWork, list[ReceivedEvent[Any]]], Awaitable[None]]


@dataclass(frozen=True)
class Registration:
    event_type: EventType[Any]
    handler: Handler | None = None
    many: ManyHandler | None = None

    async def apply(self, uow: UnitOfWork, events: list[ReceivedEvent[Any]]) -> None:
        if self.many is not None:
            await self.many(uow, events)
            return
        assert self.handler is not None
        for event in events:
            await self.handler(uow, event)


class Handlers:
    """The event types a service consumes and the plain async function for each."""

    def __init__(self) -> None:
        self._by_type: dict[str, Registration] = {}

    def on(self, event_type: EventType[P]) -> Callable[[Handler], Handler]:
        """Register a handler applied to one event at a time."""

        def register(fn: Handler) -> Handler:
            self._add(Registration(event_type, handler=fn))
            return fn

        return register

    def on_many(self, event_type: EventType[P]) -> Callable[[ManyHandler], ManyHandler]:
        """Register a handler given runs of consecutive events of this type at once.

        For high-volume read models: one multi-row statement instead of one per event. The
        run is applied in the same transaction as the events' inbox rows, as always.
        """

        def register(fn: ManyHandler) -> ManyHandler:
            self._add(Registration(event_type, many=fn))
            return fn

        return register

    def _add(self, registration: Registration) -> None:
        if registration.event_type.name in self._by_type:
            raise ValueError(f"{registration.event_type.name} already has a handler")
        self._by_type[registration.event_type.name] = registration

    def get(self, type_name: str) -> Registration | None:
        return self._by_type.get(type_name)

    def sources(self) -> dict[str, list[str]]:
        by_source: dict[str, list[str]] = {}
        for name, reg in sorted(self._by_type.items()):
            by_source.setdefault(reg.event_type.source, []).append(name)
        return by_source

    def __iter__(self) -> Iterator[Registration]:
        return iter(self._by_type.values())


class ApplyOutcome:
    APPLIED = "applied"
    DUPLICATE = "duplicate"


class InboxConsumer:
    def __init__(
        self,
        service: str,
        engine: AsyncEngine,
        sessionmaker: async_sessionmaker[AsyncSession],
        tables: KitTables,
        bus: EventBus,
        settings: ServiceSettings,
        handlers: Handlers,
        tracing: Tracing | None = None,
    ) -> None:
        self.service = service
        self.tracing = tracing
        self.engine = engine
        self.sessionmaker = sessionmaker
        self.t = tables
        self.bus = bus
        self.settings = settings
        self.handlers = handlers
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = False
        self.applied_total = 0
        self.duplicates_total = 0  # deliveries recognised as already applied (inbox hit)
        self.parked_total = 0

    def durable_name(self, source: str) -> str:
        return f"{self.service}__{source}"

    async def purge_expired(self) -> int:
        """Forget applied event ids past ``inbox_retention_days``; returns how many."""
        cutoff = utcnow() - timedelta(days=self.settings.inbox_retention_days)
        inbox = self.t.inbox
        async with self.sessionmaker() as session:
            result = await session.execute(delete(inbox).where(inbox.c.applied_at < cutoff))
            await session.commit()
        return int(getattr(result, "rowcount", 0) or 0)

    async def _purge_hourly(self) -> None:
        while not self._stopping:
            try:
                await self.purge_expired()
            except Exception as exc:  # noqa: BLE001 - housekeeping retries next hour
                log.warning("inbox purge failed", extra={"error": repr(exc)})
            for _ in range(36_000):
                if self._stopping:
                    return
                await asyncio.sleep(0.1)

    def start(self) -> None:
        self._tasks.append(asyncio.create_task(self._purge_hourly(), name="inbox-purge"))
        for source, types in self.handlers.sources().items():
            self._tasks.append(asyncio.create_task(self._consume(source, types), name=f"consume-{source}"))

    async def stop(self, grace_seconds: float = 10.0) -> None:
        """Finish the batch in hand (so its acks go out), then stop; cancel after the grace."""
        self._stopping = True
        if self._tasks:
            _, pending = await asyncio.wait(self._tasks, timeout=grace_seconds)
            for task in pending:
                task.cancel()
            for task in pending:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._tasks.clear()

    async def _ensure_consumer(self, source: str, types: list[str]) -> None:
        config = ConsumerConfig(
            durable_name=self.durable_name(source),
            name=self.durable_name(source),
            ack_policy=AckPolicy.EXPLICIT,
            deliver_policy=DeliverPolicy.ALL,
            ack_wait=self.settings.consumer_ack_wait_seconds,
            max_deliver=-1,  # parking after N failures is ours, so nothing is dropped silently
            max_ack_pending=1000,
            filter_subjects=[self.bus.subject_for(t) for t in types],
            description=f"{self.service} applies {', '.join(types)}",
        )
        await self.bus.js.add_consumer(self.bus.stream_for(source), config)

    async def _consume(self, source: str, types: list[str]) -> None:
        while not await self.bus.connected_within(0.5):
            if self._stopping:
                return
        backoff = 0.2
        while not self._stopping:
            try:
                await self._ensure_consumer(source, types)
                sub = await self.bus.js.pull_subscribe_bind(
                    durable=self.durable_name(source), stream=self.bus.stream_for(source)
                )
                backoff = 0.2
                await self._fetch_and_apply(sub)
            except asyncio.CancelledError:
                raise
            except NotFoundError:
                log.info("stream of %s not there yet; waiting", source)
            except Exception as exc:  # noqa: BLE001 - consumption resumes after any outage
                log.warning("consumer %s interrupted", source, extra={"error": repr(exc)})
            for _ in range(int(backoff / 0.1)):
                if self._stopping:
                    return
                await asyncio.sleep(0.1)
            backoff = min(backoff * 2, 5.0)

    async def _fetch_and_apply(self, sub: JetStreamContext.PullSubscription) -> None:
        """Apply batch after batch; the next batch is fetched while one is being applied.

        Batches are still applied one after another, in the order the stream delivered them;
        the fetch of the next one only overlaps the current one's transaction.
        """
        ahead: asyncio.Task[list[Msg]] | None = None
        try:
            while not self._stopping:
                batch = await (ahead or self._fetch(sub))
                ahead = None
                if not batch:
                    continue
                ahead = asyncio.create_task(self._fetch(sub), name="consumer-fetch-ahead")
                await self.handle_batch(batch)
        finally:
            if ahead is not None:
                await self._give_back(ahead)

    async def _fetch(self, sub: JetStreamContext.PullSubscription) -> list[Msg]:
        try:
            return await sub.fetch(self.settings.consumer_batch_size, timeout=1.0)
        except (TimeoutError, NatsTimeoutError):
            return []

    async def _give_back(self, ahead: asyncio.Task[list[Msg]]) -> None:
        """Hand a batch fetched ahead but not applied back to the stream for redelivery now
        (to this or another replica) rather than after the ack wait."""
        try:
            batch = await asyncio.wait_for(ahead, 2.0)
        except BaseException:  # noqa: BLE001 - cancelled, failed or slow: the ack wait redelivers
            ahead.cancel()
            return
        for msg in batch:
            with contextlib.suppress(Exception):
                await msg.nak()

    async def handle_message(self, msg: Msg) -> None:
        await self.handle_batch([msg])

    async def handle_batch(self, msgs: list[Msg]) -> None:
        """Apply a fetched batch in one transaction, each event in a savepoint of its own.

        One commit per batch (not per event) is what keeps up with a busy producer; the
        savepoints keep one failing event from taking the others down with it. Acks go out
        only after the commit.
        """
        batch: list[tuple[Msg, Envelope, Registration]] = []
        for msg in msgs:
            try:
                envelope = Envelope.model_validate_json(msg.data)
            except ValidationError as exc:
                log.error("unreadable event parked", extra={"subject": msg.subject})
                await self._park_unreadable(msg, str(exc))
                await msg.ack()
                continue
            registration = self.handlers.get(envelope.type)
            if registration is None:
                await msg.ack()
                continue
            batch.append((msg, envelope, registration))
        if not batch:
            return
        try:
            applied = await self._apply_batch_at_once(batch)
        except Exception as exc:  # noqa: BLE001 - some event failed: isolate it, one savepoint each
            log.info("batch of %d failed (%r); applying one by one", len(batch), exc)
            await self._apply_batch_one_by_one(batch)
            return
        self.applied_total += applied
        self.duplicates_total += len(batch) - applied
        for msg, _, _ in batch:
            await msg.ack()

    async def _apply_batch_at_once(self, batch: list[tuple[Msg, Envelope, Registration]]) -> int:
        """The common case: every event applies. One inbox insert, the handlers, one commit."""
        inbox = self.t.inbox
        async with self.sessionmaker() as session:
            fresh = set(
                (
                    # executemany form: one cached statement whatever the batch size (a
                    # multi-VALUES statement would be compiled anew for every batch)
                    await session.execute(
                        pg_insert(inbox)
                        .on_conflict_do_nothing(index_elements=[inbox.c.consumer, inbox.c.event_id])
                        .returning(inbox.c.event_id),
                        [
                            {
                                "consumer": self.service,
                                "event_id": envelope.id,
                                "source": envelope.source,
                                "event_type": envelope.type,
                                "sequence": envelope.producerseq,
                            }
                            for _, envelope, _ in batch
                        ],
                    )
                ).scalars()
            )
            runs: list[tuple[Registration, list[Envelope]]] = []
            for _, envelope, registration in batch:
                if envelope.id not in fresh:
                    continue
                fresh.discard(envelope.id)  # the same event twice in one batch applies once
                if runs and runs[-1][0] is registration and registration.many is not None:
                    runs[-1][1].append(envelope)
                else:
                    runs.append((registration, [envelope]))
            applied = 0
            for registration, envelopes in runs:
                token = request_id_var.set(envelopes[0].requestid)
                try:
                    with self._traced(registration, envelopes):
                        await registration.apply(
                            self._uow(session, envelopes[0], cause=len(envelopes) == 1),
                            [ReceivedEvent(e, e.payload(registration.event_type)) for e in envelopes],
                        )
                finally:
                    request_id_var.reset(token)
                applied += len(envelopes)
            await self._track_sequences(session, [e for _, e, _ in batch])
            await session.commit()
        return applied

    async def _apply_batch_one_by_one(self, batch: list[tuple[Msg, Envelope, Registration]]) -> None:
        """After a failure: each event in a savepoint, so one bad event holds back no other."""
        failures: list[tuple[Msg, Envelope, Exception]] = []
        done: list[Msg] = []
        applied = 0
        async with self.sessionmaker() as session:
            for msg, envelope, registration in batch:
                token = request_id_var.set(envelope.requestid)
                try:
                    async with session.begin_nested():
                        uow = self._uow(session, envelope)
                        if await self._apply_in(session, uow, envelope, registration):
                            applied += 1
                    done.append(msg)
                except Exception as exc:  # noqa: BLE001 - a failing handler must not stop the others
                    failures.append((msg, envelope, exc))
                finally:
                    request_id_var.reset(token)
            await self._track_sequences(session, [e for m, e, _ in batch if m in done])
            await session.commit()
        self.applied_total += applied
        self.duplicates_total += len(done) - applied
        for msg in done:
            await msg.ack()
        for msg, envelope, error in failures:
            await self._retry_or_park(msg, envelope, error)

    async def _retry_or_park(self, msg: Msg, envelope: Envelope, exc: Exception) -> None:
        attempts = msg.metadata.num_delivered or 1
        details = {"event_id": str(envelope.id), "type": envelope.type, "error": repr(exc)}
        if attempts >= self.settings.consumer_max_deliveries:
            log.error("event parked after %d deliveries", attempts, extra=details)
            await self.park(envelope, repr(exc), attempts)
            await msg.ack()
        else:
            log.warning("handler failed, will retry", extra=details)
            await msg.nak(delay=self.settings.consumer_retry_base_seconds * 2 ** (attempts - 1))

    def _uow(self, session: AsyncSession, envelope: Envelope, *, cause: bool = True) -> UnitOfWork:
        """The handler's unit of work; its audit rows name the event applied and its actor
        (a batch of several events names none: its handler records each event's own)."""
        return UnitOfWork(
            session,
            self.t,
            actor=Actor.system(f"event:{envelope.type}"),
            request_id=envelope.requestid,
            cause=envelope if cause else None,
        )

    async def _apply_in(
        self, session: AsyncSession, uow: UnitOfWork, envelope: Envelope, registration: Registration
    ) -> bool:
        """Inbox row plus handler, inside the caller's transaction; False if already applied."""
        inserted = (
            await session.execute(
                pg_insert(self.t.inbox)
                .values(
                    consumer=self.service,
                    event_id=envelope.id,
                    source=envelope.source,
                    event_type=envelope.type,
                    sequence=envelope.producerseq,
                )
                .on_conflict_do_nothing(index_elements=[self.t.inbox.c.consumer, self.t.inbox.c.event_id])
                .returning(self.t.inbox.c.event_id)
            )
        ).scalar_one_or_none()
        if inserted is None:
            return False
        payload = envelope.payload(registration.event_type)
        with self._traced(registration, [envelope]):
            await registration.apply(uow, [ReceivedEvent(envelope, payload)])
        return True

    def _traced(self, registration: Registration, envelopes: list[Envelope]) -> AbstractContextManager[None]:
        """The handler's span, in the trace of the request that wrote the (first) event."""
        if self.tracing is None or not self.tracing.enabled:
            return contextlib.nullcontext()
        carriers = [{"id": e.id, "traceparent": e.traceparent, "tracestate": e.tracestate} for e in envelopes]
        return self.tracing.consuming(registration.event_type.name, carriers)

    async def apply(
        self,
        envelope: Envelope,
        registration: Registration,
        *,
        also: Callable[[AsyncSession], Awaitable[None]] | None = None,
    ) -> str:
        """Apply one event exactly once; ``also`` runs in the same transaction (replays)."""
        async with self.sessionmaker() as session:
            uow = self._uow(session, envelope)
            fresh = await self._apply_in(session, uow, envelope, registration)
            if fresh:
                await self._track_sequences(session, [envelope])
            if also is not None:
                await also(session)
            await uow.commit()
        if not fresh:
            self.duplicates_total += 1
            return ApplyOutcome.DUPLICATE
        self.applied_total += 1
        return ApplyOutcome.APPLIED

    async def park(self, envelope: Envelope, error: str, attempts: int) -> None:
        async with self.sessionmaker() as session:
            await session.execute(
                pg_insert(self.t.dead_letter)
                .values(
                    id=uuid7(),
                    consumer=self.service,
                    event_id=envelope.id,
                    source=envelope.source,
                    event_type=envelope.type,
                    sequence=envelope.producerseq,
                    envelope=envelope.model_dump(mode="json", exclude_none=True),
                    error=error[:4000],
                    attempts=attempts,
                )
                .on_conflict_do_nothing(
                    index_elements=[self.t.dead_letter.c.consumer, self.t.dead_letter.c.event_id]
                )
            )
            await self._track_sequences(session, [envelope])
            await session.commit()
        self.parked_total += 1

    async def _park_unreadable(self, msg: Msg, error: str) -> None:
        async with self.sessionmaker() as session:
            await session.execute(
                pg_insert(self.t.dead_letter).values(
                    id=uuid7(),
                    consumer=self.service,
                    event_id=uuid7(),
                    source=msg.subject.split(".")[0],
                    event_type=msg.subject,
                    envelope={"raw": msg.data.decode("utf-8", "replace")[:100_000]},
                    error=error[:4000],
                    attempts=msg.metadata.num_delivered or 1,
                )
            )
            await session.commit()

    async def _track_sequences(self, session: AsyncSession, envelopes: list[Envelope]) -> None:
        """Advance ``consumer_progress`` for each producer/type these events belong to."""
        arrived: dict[tuple[str, str], set[int]] = {}
        for envelope in envelopes:
            if envelope.producerseq is not None:
                arrived.setdefault((envelope.source, envelope.type), set()).add(envelope.producerseq)
        cp = self.t.consumer_progress
        for (source, event_type), numbers in sorted(arrived.items()):
            seq = max(numbers)
            where = (cp.c.consumer == self.service, cp.c.source == source, cp.c.event_type == event_type)
            lowest = min(numbers)
            if len(numbers) == seq - lowest + 1:
                # The common case in one round trip: these events continue the complete run
                # exactly, and nothing beyond them was seen before (no hole to look into).
                advanced = await session.execute(
                    update(cp)
                    .where(*where, cp.c.contiguous_upto == lowest - 1, cp.c.max_seen <= seq)
                    .values(contiguous_upto=seq, max_seen=seq, gap_since=None, updated_at=func.now())
                    .returning(cp.c.consumer)
                )
                if advanced.first() is not None:
                    continue
            # One round trip creates the row or locks the one there (an upsert that updates
            # locks the row, as SELECT … FOR UPDATE would) and reads it.
            row = (
                await session.execute(
                    pg_insert(cp)
                    .values(consumer=self.service, source=source, event_type=event_type)
                    .on_conflict_do_update(
                        index_elements=[cp.c.consumer, cp.c.source, cp.c.event_type],
                        set_={"consumer": cp.c.consumer},
                    )
                    .returning(cp.c.contiguous_upto, cp.c.max_seen, cp.c.gap_since)
                )
            ).one()
            contiguous, max_seen = int(row.contiguous_upto), max(int(row.max_seen), seq)
            for received in await self._received_after(session, source, event_type, contiguous):
                if received != contiguous + 1:
                    break
                contiguous = received
            gap_since = None
            if max_seen > contiguous:
                gap_since = row.gap_since if row.gap_since is not None else func.now()
            await session.execute(
                update(cp)
                .where(*where)
                .values(
                    contiguous_upto=contiguous, max_seen=max_seen, gap_since=gap_since, updated_at=func.now()
                )
            )

    async def _received_after(
        self, session: AsyncSession, source: str, event_type: str, after: int, limit: int = 100_000
    ) -> list[int]:
        i, d = self.t.inbox, self.t.dead_letter
        received = union_all(
            select(i.c.sequence.label("seq")).where(
                i.c.consumer == self.service,
                i.c.source == source,
                i.c.event_type == event_type,
                i.c.sequence > after,
            ),
            select(d.c.sequence.label("seq")).where(
                d.c.consumer == self.service,
                d.c.source == source,
                d.c.event_type == event_type,
                d.c.sequence > after,
            ),
        ).subquery()
        rows = await session.execute(select(received.c.seq).distinct().order_by(received.c.seq).limit(limit))
        values: list[Any] = list(rows.scalars().all())
        return [int(v) for v in values]

    async def replay_dead_letter(self, dead_letter_id: UUID, actor: Actor) -> str:
        """Apply a parked event now (after its cause was fixed); at most once, as always."""
        d = self.t.dead_letter
        async with self.sessionmaker() as session:
            row = (await session.execute(select(d).where(d.c.id == dead_letter_id))).one_or_none()
        if row is None:
            raise NotFound(f"dead letter {dead_letter_id} not found", "未找到该死信事件")
        if row.status != "parked":
            raise Conflict(
                f"dead letter is {row.status}, only parked ones can be replayed",
                "该事件已处理，不能重放",
            )
        envelope = Envelope.model_validate(row.envelope)
        registration = self.handlers.get(envelope.type)
        if registration is None:
            raise Conflict(f"no handler for {envelope.type}", "没有处理该事件类型的程序")

        async def mark_replayed(session: AsyncSession) -> None:
            await session.execute(
                update(d)
                .where(d.c.id == dead_letter_id)
                .values(status="replayed", resolved_at=func.now(), resolved_by=actor.id)
            )

        try:
            return await self.apply(envelope, registration, also=mark_replayed)
        except Exception as exc:
            async with self.sessionmaker() as session:
                await session.execute(
                    update(d)
                    .where(d.c.id == dead_letter_id)
                    .values(attempts=d.c.attempts + 1, error=repr(exc)[:4000])
                )
                await session.commit()
            raise Conflict(f"replay failed again: {exc!r}", "重放仍然失败", code="replay_failed") from exc

    async def lag(self) -> dict[str, int]:
        """Messages waiting per durable consumer (for metrics)."""
        result: dict[str, int] = {}
        for source in self.handlers.sources():
            with contextlib.suppress(Exception):
                info = await self.bus.js.consumer_info(
                    self.bus.stream_for(source), self.durable_name(source), timeout=1
                )
                result[source] = int(info.num_pending or 0) + int(info.num_ack_pending or 0)
        return result
