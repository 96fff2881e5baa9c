"""Database plumbing: naming conventions, engines, and the tables every service carries.

Each service owns its own database. Besides its domain tables, each service database has the
kit's tables: ``outbox`` (events written in the same transaction as the change),
``event_sequence`` (per event type counters), ``inbox`` (events already applied),
``consumer_progress`` (gap detection), ``dead_letter`` (events a handler could not apply),
``audit_log`` (who changed what, when and why) and ``idempotency_key`` (the stored answers of
writes sent with an ``Idempotency-Key``). They are declared on the service's own
metadata so that its Alembic chain creates them and autogenerate keeps them in step.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import asyncpg
from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Identity,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Select,
    String,
    Table,
    Text,
    any_,
    bindparam,
    event,
    func,
    inspect,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.types import JSON

from shared.errors import FieldIssue, ValidationFailed
from shared.settings import ServiceSettings

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def make_metadata() -> MetaData:
    return MetaData(naming_convention=NAMING_CONVENTION)


@dataclass(frozen=True)
class KitTables:
    outbox: Table
    event_sequence: Table
    inbox: Table
    consumer_progress: Table
    dead_letter: Table
    audit_log: Table
    idempotency_key: Table


def _ts(name: str, *, nullable: bool = False, default_now: bool = True) -> Column[object]:
    return Column(
        name,
        DateTime(timezone=True),
        nullable=nullable,
        server_default=func.now() if default_now else None,
    )


def kit_tables(metadata: MetaData) -> KitTables:
    """Declare the kit's tables on a service's metadata (call once per service)."""
    outbox = Table(
        "outbox",
        metadata,
        Column("id", UUID(as_uuid=True), primary_key=True, comment="event id (UUIDv7)"),
        Column("position", BigInteger, Identity(always=True), nullable=False, unique=True),
        Column("event_type", String(200), nullable=False),
        Column("subject", String(300), nullable=False),
        Column("aggregate_key", String(300), nullable=False, comment="events of one key keep order"),
        Column("sequence", BigInteger, nullable=True, comment="per event type, set by the relay"),
        Column("envelope", JSONB, nullable=False),
        _ts("created_at"),
        _ts("sent_at", nullable=True, default_now=False),
        Column("publish_attempts", Integer, nullable=False, server_default=text("0")),
        Index("ix_outbox_unsent", "position", postgresql_where=text("sent_at IS NULL")),
        Index("ix_outbox_event_type_sequence", "event_type", "sequence", unique=True),
        # Purging goes by created_at, which never changes: an index on sent_at would be
        # rewritten by every "mark sent" update on the hot path.
        Index("ix_outbox_created_at", "created_at"),
        comment="Transactional outbox: events written with the change, published by the relay.",
    )
    event_sequence = Table(
        "event_sequence",
        metadata,
        Column("event_type", String(200), primary_key=True),
        Column("last_value", BigInteger, nullable=False),
    )
    inbox = Table(
        "inbox",
        metadata,
        Column("consumer", String(100), primary_key=True, comment="which consumer applied it"),
        Column("event_id", UUID(as_uuid=True), primary_key=True),
        Column("source", String(100), nullable=False),
        Column("event_type", String(200), nullable=False),
        Column("sequence", BigInteger, nullable=True),
        _ts("applied_at"),
        Index("ix_inbox_consumer_source_type_sequence", "consumer", "source", "event_type", "sequence"),
        Index("ix_inbox_applied_at", "applied_at"),
        comment="Events this service has applied: a redelivered event finds its row and is skipped.",
    )
    consumer_progress = Table(
        "consumer_progress",
        metadata,
        Column("consumer", String(100), primary_key=True),
        Column("source", String(100), primary_key=True),
        Column("event_type", String(200), primary_key=True),
        Column("contiguous_upto", BigInteger, nullable=False, server_default=text("0")),
        Column("max_seen", BigInteger, nullable=False, server_default=text("0")),
        _ts("gap_since", nullable=True, default_now=False),
        _ts("updated_at"),
        comment="Per producer and event type: every sequence up to contiguous_upto was received.",
    )
    dead_letter = Table(
        "dead_letter",
        metadata,
        Column("id", UUID(as_uuid=True), primary_key=True),
        Column("consumer", String(100), nullable=False),
        Column("event_id", UUID(as_uuid=True), nullable=False),
        Column("source", String(100), nullable=False),
        Column("event_type", String(200), nullable=False),
        Column("sequence", BigInteger, nullable=True),
        Column("envelope", JSONB, nullable=False),
        Column("error", Text, nullable=False),
        Column("attempts", Integer, nullable=False),
        Column("status", String(20), nullable=False, server_default=text("'parked'")),
        _ts("parked_at"),
        _ts("resolved_at", nullable=True, default_now=False),
        Column("resolved_by", String(100), nullable=True),
        Index("ix_dead_letter_status", "status"),
        Index("ix_dead_letter_consumer_event_id", "consumer", "event_id", unique=True),
        comment="Events a handler failed to apply after the allowed deliveries; replayable.",
    )
    audit_log = Table(
        "audit_log",
        metadata,
        Column("id", UUID(as_uuid=True), primary_key=True),
        _ts("occurred_at"),
        Column("actor_id", String(100), nullable=True, comment="user id, or 'system'"),
        Column("actor_roles", JSONB, nullable=False, server_default=text("'[]'::jsonb")),
        Column("action", String(100), nullable=False),
        Column("entity_type", String(100), nullable=False),
        Column("entity_id", String(100), nullable=False),
        Column("changes", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
        Column("reason", Text, nullable=True),
        Column("request_id", String(100), nullable=True),
        Column("event_id", UUID(as_uuid=True), nullable=True),
        Column(
            "cause_event_id",
            UUID(as_uuid=True),
            nullable=True,
            comment="the event (of this or another service) this step was applied from",
        ),
        Column("cause_actor_id", String(100), nullable=True, comment="who acted at the event's source"),
        Index("ix_audit_log_entity", "entity_type", "entity_id", "occurred_at"),
        Index("ix_audit_log_actor_id", "actor_id"),
        comment="Append-only record of every state change: who, when, what, why.",
    )
    idempotency_key = Table(
        "idempotency_key",
        metadata,
        Column("principal", String(200), primary_key=True, comment="the caller the key belongs to"),
        Column("key", String(255), primary_key=True, comment="the caller's Idempotency-Key"),
        Column("fingerprint", String(64), nullable=False, comment="SHA-256 of method, path and body"),
        Column("method", String(10), nullable=False),
        Column("path", Text, nullable=False),
        Column("status", Integer, nullable=False),
        Column("headers", JSONB, nullable=False, server_default=text("'[]'::jsonb")),
        Column("body", LargeBinary, nullable=False),
        _ts("created_at"),
        _ts("expires_at", default_now=False),
        Index("ix_idempotency_key_expires_at", "expires_at"),
        comment="The answer of a write sent with an Idempotency-Key, stored with the change: "
        "a repeat gets it again instead of a second write.",
    )
    return KitTables(
        outbox, event_sequence, inbox, consumer_progress, dead_letter, audit_log, idempotency_key
    )


IDLE_PING_SECONDS = 1.0


SelectT = TypeVar("SelectT", bound=Select)  # type: ignore[type-arg]


def where_equal(stmt: SelectT, *pairs: tuple[Any, object]) -> SelectT:
    """``stmt`` narrowed to ``column == value`` for each pair whose value is given (not None):
    a list route's optional equality filters."""
    for column, value in pairs:
        if value is not None:
            stmt = stmt.where(column == value)
    return stmt


def equals_any(column: Any, values: Iterable[Any], name: str) -> ColumnElement[bool]:
    """``column = ANY(:name)``: one array parameter of the column's type, however many values.

    An ``IN`` list renders a parameter per value while the event loop waits (20,000 for a
    large import) and is a new prepared statement for every length.
    """
    return column == any_(bindparam(name, list(values), type_=ARRAY(column.type)))  # type: ignore[no-any-return]


def create_engine(settings: ServiceSettings) -> AsyncEngine:
    engine = create_async_engine(
        settings.database_url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_timeout=settings.db_pool_timeout_seconds,
        connect_args={
            "server_settings": {"application_name": type(settings).__name__},
            "timeout": settings.db_connect_timeout_seconds,
        },
    )
    _ping_connections_that_were_idle(engine)
    return engine


def _ping_connections_that_were_idle(engine: AsyncEngine) -> None:
    """Pessimistic disconnect handling, paid only where it helps.

    SQLAlchemy's ``pool_pre_ping`` pings on every checkout, a third of the cost of a short
    write transaction. A connection handed back a moment ago is as alive as a ping would
    show, so only connections idle for longer (the ones a database restart leaves broken)
    are pinged; a dead one is replaced before the request sees it.
    """

    @event.listens_for(engine.sync_engine, "checkin")
    def _stamp(dbapi_connection: Any, record: Any) -> None:
        record.info["checked_in_at"] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def _ping_if_idle(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        checked_in_at = record.info.get("checked_in_at")
        if checked_in_at is None or time.monotonic() - checked_in_at < IDLE_PING_SECONDS:
            return
        try:
            dbapi_connection.ping()
        except Exception as exc:  # any failure means: this connection is gone
            raise DisconnectionError("stale connection") from exc


class GuardedSession(Session):
    """The services' ORM session: a ``None`` bound for a JSON column that may not be null is
    refused before it is written.

    PostgreSQL cannot catch this itself: SQLAlchemy writes ``None`` into a JSON column as the
    JSON value ``null``, which passes ``NOT NULL``, and every later read that expects a list or
    an object fails on the row. Refused here, it is a 422 naming the field, like any missing
    value, whichever endpoint let it through."""


def _json_nulls(session: Session) -> list[FieldIssue]:
    issues = []
    for obj in (*session.new, *session.dirty):
        state = inspect(obj)
        for prop in state.mapper.column_attrs:
            column = prop.columns[0]
            if column.nullable or not isinstance(column.type, JSON) or prop.key not in state.dict:
                continue
            # A new row's value, or a value set in this unit of work (a row stored before this
            # guard may hold a null the change does not touch: that is not this caller's doing).
            added = [state.dict[prop.key]] if state.key is None else state.attrs[prop.key].history.added
            if any(value is None for value in added):
                issues.append(FieldIssue(prop.key, "missing", "may not be null", "不能为空"))
    return issues


@event.listens_for(GuardedSession, "before_flush")
def _refuse_json_nulls(session: Session, flush_context: Any, instances: Any) -> None:
    issues = _json_nulls(session)
    if issues:
        raise ValidationFailed(issues)


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker:  # type: ignore[type-arg]
    from sqlalchemy.ext.asyncio import AsyncSession

    return async_sessionmaker(
        engine, class_=AsyncSession, sync_session_class=GuardedSession, expire_on_commit=False
    )


def asyncpg_dsn(sqlalchemy_url: str) -> str:
    """The same database as a plain libpq/asyncpg URL (for LISTEN and admin connections)."""
    return sqlalchemy_url.replace("postgresql+asyncpg://", "postgresql://", 1)


def error_chain(exc: BaseException) -> Iterator[BaseException]:
    """The exception, the driver's error it wraps, and what caused those."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        orig = getattr(current, "orig", None)
        if isinstance(orig, BaseException) and id(orig) not in seen:
            yield from error_chain(orig)
        current = current.__cause__ or current.__context__


def sqlstate(exc: BaseException) -> str:
    return str(getattr(exc, "sqlstate", "") or "")


# The connection to the server broke: 08 connection exception, 57P01/57P02 the server shut down
# or crashed under it. (A refusal such as a serialisation failure is not one: the server
# answered, and rolled the transaction back.)
_CONNECTION_LOST_SQLSTATES = ("08", "57P01", "57P02")


def connection_lost(exc: BaseException) -> bool:
    """The error means the database connection went away (rather than the database saying no)."""
    for cause in error_chain(exc):
        if isinstance(cause, DBAPIError) and cause.connection_invalidated:
            return True
        if isinstance(cause, (DisconnectionError, asyncpg.exceptions.InterfaceError)):
            return True
        if sqlstate(cause).startswith(_CONNECTION_LOST_SQLSTATES):
            return True
        if isinstance(cause, (ConnectionError, TimeoutError, socket.gaierror)):
            return True
    return False


class CommitOutcomeUnknown(Exception):
    """The connection went away while COMMIT was on its way: the server may have stored the
    change before it stopped, or not. Only reading it back (or repeating the request with the
    same ``Idempotency-Key``) tells which."""


async def commit(session: AsyncSession) -> None:
    """Commit, telling apart "not saved" from "outcome unknown".

    Everything the transaction writes is sent first (a failure then leaves nothing stored and
    is raised as it is); only a connection lost during the COMMIT itself is in doubt, and that
    is raised as :class:`CommitOutcomeUnknown`."""
    await session.flush()
    try:
        await session.commit()
    except Exception as exc:
        if connection_lost(exc):
            raise CommitOutcomeUnknown(f"{type(exc).__name__}: {exc}"[:300]) from exc
        raise
