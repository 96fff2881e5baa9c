"""Wakes a process's outbox relay when a transaction that wrote outbox rows has committed.

PostgreSQL's ``NOTIFY`` would do it across processes, but a transaction that notifies takes a
database-wide lock from its commit until the commit is on disk, so notifying writers commit
one after another: with 32 concurrent writers about a fifth of the commits per second that
PostgreSQL manages without it (measured in ``bench/bench_events.py``'s setting). Every process
that writes events runs a relay, so the wake-up stays in the process: the unit of work marks
the session, and after its commit the relays of that database are woken. Rows written by
other processes (a command-line job) wait at most one poll interval.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

_WRITTEN = "kit.outbox_written"
_wakers: weakref.WeakKeyDictionary[Engine, list[Callable[[], None]]] = weakref.WeakKeyDictionary()


def outbox_written(session: Session) -> None:
    """Note that this session's transaction wrote outbox rows (called by the unit of work)."""
    session.info[_WRITTEN] = True


def on_outbox_commit(engine: Engine, wake: Callable[[], None]) -> Callable[[], None]:
    """Call ``wake`` after every commit on ``engine`` that wrote outbox rows; returns the undo."""
    _wakers.setdefault(engine, []).append(wake)

    def remove() -> None:
        callbacks = _wakers.get(engine, [])
        if wake in callbacks:
            callbacks.remove(wake)

    return remove


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    if not session.info.pop(_WRITTEN, False):
        return
    bind: Any = session.bind
    engine = getattr(bind, "engine", None)
    for wake in list(_wakers.get(engine, ())) if engine is not None else ():
        wake()


@event.listens_for(Session, "after_soft_rollback")
def _after_rollback(session: Session, previous_transaction: Any) -> None:
    if previous_transaction.parent is None:  # the whole transaction, not a savepoint
        session.info.pop(_WRITTEN, None)
