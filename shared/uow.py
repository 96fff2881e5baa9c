"""Unit of work: one transaction that commits the domain change, its events and its audit.

Domain services never commit. The edge (an HTTP endpoint, an event handler) opens a unit of
work, lets the domain change things and ``emit`` events, then commits once; the outbox rows
and the audit rows land in that same commit or not at all.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from shared import db
from shared.context import current_request_id
from shared.db import KitTables
from shared.events.envelope import Envelope, EventType, build_envelope
from shared.events.wake import outbox_written
from shared.ids import uuid7

P = TypeVar("P", bound=BaseModel)


@dataclass(frozen=True)
class Actor:
    """Who is doing this: a signed-in user, or the system reacting to an event."""

    id: str
    roles: Sequence[str] = field(default_factory=tuple)

    @classmethod
    def system(cls, reason: str = "system") -> Actor:
        return cls(id=reason, roles=("system",))


class UnitOfWork:
    def __init__(
        self,
        session: AsyncSession,
        tables: KitTables,
        *,
        actor: Actor,
        request_id: str | None = None,
        cause: Envelope | None = None,
        commit_with_answer: bool = False,
    ) -> None:
        self.session = session
        self.tables = tables
        self.actor = actor
        self.request_id = request_id if request_id is not None else current_request_id()
        # the event this unit of work applies (a consumer's step): its id and its original actor
        # go on every audit row, and that actor on every event this step emits in turn
        self.cause = cause
        self.emitted: list[Envelope] = []
        # A write sent with an Idempotency-Key: ``commit`` only flushes, and the kit commits once
        # the answer is known, so that the answer is stored in the same commit as the change
        # (shared.http.idempotency).
        self.commit_with_answer = commit_with_answer
        self.commit_pending = False
        self._after_commit: list[Callable[[], object]] = []

    @property
    def on_behalf_of(self) -> str:
        """The person behind this step: the caller, or the original actor of the event applied."""
        if self.cause is not None and self.cause.actorid:
            return self.cause.actorid
        return self.actor.id

    async def emit(
        self,
        event_type: EventType[P],
        payload: P,
        *,
        subject: str,
        aggregate_key: str | None = None,
    ) -> Envelope:
        """Write an event to the outbox in this transaction.

        ``subject`` is the CloudEvents subject (e.g. ``organisation/<id>``); events with the same
        ``aggregate_key`` (default: the subject) are published in the order they were written.
        """
        envelope, row = self._outbox_row(event_type, payload, subject, aggregate_key or subject)
        await self.session.execute(insert(self.tables.outbox), row)
        outbox_written(self.session.sync_session)
        self.emitted.append(envelope)
        return envelope

    async def emit_many(self, event_type: EventType[P], events: Sequence[tuple[P, str]]) -> list[Envelope]:
        """Write many events of one type to the outbox in one statement, as ``emit`` would one
        by one (``events``: payload and subject each; the subject is the aggregate key)."""
        written = [self._outbox_row(event_type, payload, subject, subject) for payload, subject in events]
        if written:
            await self.session.execute(insert(self.tables.outbox), [row for _, row in written])
            outbox_written(self.session.sync_session)
            self.emitted.extend(envelope for envelope, _ in written)
        return [envelope for envelope, _ in written]

    def _outbox_row(
        self, event_type: EventType[P], payload: P, subject: str, aggregate_key: str
    ) -> tuple[Envelope, dict[str, Any]]:
        if not isinstance(payload, event_type.payload):
            raise TypeError(f"{event_type.name} takes {event_type.payload.__name__}")
        envelope = build_envelope(
            event_type, payload, subject=subject, request_id=self.request_id, actor_id=self.on_behalf_of
        )
        row = {
            "id": envelope.id,
            "event_type": envelope.type,
            "subject": subject,
            "aggregate_key": aggregate_key,
            "envelope": envelope.model_dump(mode="json", exclude_none=True),
        }
        return envelope, row

    async def record(
        self,
        action: str,
        *,
        entity_type: str,
        entity_id: object,
        changes: Mapping[str, Any] | None = None,
        reason: str | None = None,
        event: Envelope | None = None,
    ) -> None:
        """Append who did what to which object, and why, to the audit log."""
        await self.session.execute(
            insert(self.tables.audit_log),
            {
                "id": uuid7(),
                "actor_id": self.actor.id,
                "actor_roles": list(self.actor.roles),
                "action": action,
                "entity_type": entity_type,
                "entity_id": str(entity_id),
                "changes": dict(changes or {}),
                "reason": reason,
                "request_id": self.request_id,
                "event_id": event.id if event else None,
                "cause_event_id": self.cause.id if self.cause else None,
                "cause_actor_id": self.cause.actorid if self.cause else None,
            },
        )

    def after_commit(self, callback: Callable[[], object]) -> None:
        """Call ``callback`` once the change is committed: now, or after the commit the kit
        holds back until the answer is known (a job that reads what this request wrote)."""
        if self.commit_pending:
            self._after_commit.append(callback)
        else:
            callback()

    async def commit(self) -> None:
        if self.commit_with_answer:
            await self.session.flush()
            self.commit_pending = True
            return
        await self.commit_now()

    async def commit_now(self) -> None:
        """Commit; a connection lost during COMMIT is ``shared.db.CommitOutcomeUnknown``."""
        # The commit wakes this process's relay when events were emitted (shared.events.wake).
        await db.commit(self.session)
        self.emitted = []
        self.commit_pending = False
        callbacks, self._after_commit = self._after_commit, []
        for callback in callbacks:
            callback()

    async def rollback(self) -> None:
        await self.session.rollback()
        self.emitted = []
        self.commit_pending = False
        self._after_commit = []
