"""Assignment runs as jobs: queued by the office, taken by a worker under a renewable lease.

* ``enqueue`` records the run (``queued``) with its seed fixed up front, so a draw repeats;
* a worker ``claim``s the oldest queued run, or a ``running`` one whose lease ran out (its
  worker died), counting the attempt; after ``max_attempts`` the run is ``failed`` with why;
* ``execute`` runs it in one transaction while a heartbeat renews the lease; between stages it
  reports progress and stops if cancellation was asked (nothing is written then);
* the outcome and the ``done`` status commit together with the assignments, and only while
  the worker still holds the run (a worker that lost its lease writes nothing).

So a run never sits "running" without end: it is finished, retried, failed or cancelled.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import secrets
import socket
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from evaluation.assignment.plan import Outcome, Problem, warm_up
from evaluation.assignment.service import PREVIEW_LIMIT, Infeasible, Offload, in_thread, run_assignment
from evaluation.rounds import machine
from evaluation.rounds.models import AssignmentRun, ReviewRound
from shared.clock import utcnow
from shared.db import KitTables
from shared.errors import DomainError, InvalidTransition
from shared.ids import uuid7
from shared.uow import Actor, UnitOfWork

log = logging.getLogger(__name__)
_SPAWN = multiprocessing.get_context("spawn")

STATUS_ZH = {
    "queued": "排队中",
    "running": "运行中",
    "done": "已完成",
    "failed": "失败",
    "cancelled": "已取消",
    "infeasible": "专家不足，未写入",
}
STAGE_ZH = {
    "loading": "读取专家与项目",
    "candidates": "生成候选并回避筛查",
    "solving": "求解分配",
    "writing": "写入分配结果",
}


class Cancelled(Exception):
    pass


class LeaseLost(Exception):
    pass


async def enqueue(
    uow: UnitOfWork,
    rnd: ReviewRound,
    *,
    mode: str,
    seed: int | None,
    commit: bool,
    params: dict[str, Any],
) -> AssignmentRun:
    if rnd.status not in ("requested", "drawn"):
        machine.require(rnd, "run")
    run = AssignmentRun(
        id=uuid7(),
        round_id=rnd.id,
        mode=mode,
        seed=(seed if seed is not None else secrets.randbelow(2**31)) if mode == "draw" else None,
        commit=commit,
        params=params,
        status="queued",
        progress=0,
        attempts=0,
        cancel_requested=False,
        shortfalls=[],
        started_by=uow.actor.id,
        created_at=utcnow(),
    )
    uow.session.add(run)
    await uow.session.flush()
    await uow.record(
        "assignment_run_queued",
        entity_type="review_round",
        entity_id=rnd.id,
        changes={"run_id": str(run.id), "mode": mode, "seed": run.seed, "commit": commit, **params},
        reason=params.get("partial_reason"),
    )
    return run


async def cancel(uow: UnitOfWork, run: AssignmentRun, reason: str | None) -> AssignmentRun:
    """A queued run is cancelled at once; a running one stops at its next stage."""
    await uow.session.refresh(run, with_for_update=True)
    if run.status == "queued":
        run.status, run.finished_at = "cancelled", utcnow()
    elif run.status == "running":
        run.cancel_requested = True
    else:
        raise InvalidTransition(
            current_state=run.status,
            action="cancel",
            allowed=[],
            state_labels_zh=STATUS_ZH,
            action_labels_zh={"cancel": "取消运行"},
        )
    await uow.record("assignment_run_cancel", entity_type="assignment_run", entity_id=run.id, reason=reason)
    return run


async def claim(
    sessionmaker: async_sessionmaker[AsyncSession],
    *,
    worker: str,
    lease: timedelta,
    max_attempts: int,
) -> UUID | None:
    """Take the oldest queued run, or a running one whose worker stopped renewing its lease."""
    async with sessionmaker() as session:
        now = utcnow()
        run = (
            await session.execute(
                select(AssignmentRun)
                .where(
                    or_(
                        AssignmentRun.status == "queued",
                        (AssignmentRun.status == "running") & (AssignmentRun.lease_until < now),
                    )
                )
                .order_by(AssignmentRun.created_at)
                .limit(1)
                .with_for_update(skip_locked=True)
            )
        ).scalar_one_or_none()
        if run is None:
            return None
        if run.attempts >= max_attempts:
            run.status, run.finished_at = "failed", now
            run.error = (
                f"gave up after {run.attempts} attempts: the worker stopped each time / "
                f"已尝试{run.attempts}次均未完成"
            )
            await session.commit()
            return None
        if run.cancel_requested:
            run.status, run.finished_at = "cancelled", now
            await session.commit()
            return None
        run.status, run.worker, run.attempts = "running", worker, run.attempts + 1
        run.heartbeat_at, run.lease_until = now, now + lease
        run.started_at = run.started_at or now
        await session.commit()
        return run.id


async def execute(
    sessionmaker: async_sessionmaker[AsyncSession],
    tables: KitTables,
    run_id: UUID,
    *,
    worker: str,
    lease: timedelta,
    offload: Offload = in_thread,
) -> str:
    """Run a claimed run to its end; returns the status it ended in."""
    async with sessionmaker() as hb_session:
        attempt = (await hb_session.get(AssignmentRun, run_id)).attempts  # type: ignore[union-attr]

    async def renew(stage: str | None = None, percent: int | None = None) -> None:
        values: dict[str, Any] = {"heartbeat_at": utcnow(), "lease_until": utcnow() + lease}
        if stage is not None:
            values.update(stage=stage, progress=percent)
        async with sessionmaker() as hb:
            cancel_asked = (
                await hb.execute(
                    update(AssignmentRun)
                    .where(
                        AssignmentRun.id == run_id,
                        AssignmentRun.status == "running",
                        AssignmentRun.worker == worker,
                        AssignmentRun.attempts == attempt,
                    )
                    .values(**values)
                    .returning(AssignmentRun.cancel_requested)
                )
            ).scalar_one_or_none()
            await hb.commit()
        if cancel_asked is None:
            raise LeaseLost()
        if cancel_asked and stage is not None:
            raise Cancelled()

    async def heartbeat() -> None:
        while True:
            await asyncio.sleep(lease.total_seconds() / 3)
            with contextlib.suppress(LeaseLost):
                await renew()

    beating = asyncio.create_task(heartbeat())
    outcome = "failed"
    error: str | None = None
    try:
        async with sessionmaker() as session:
            uow = UnitOfWork(session, tables, actor=Actor.system(f"assignment-run:{run_id}"))
            run = await session.get(AssignmentRun, run_id)
            assert run is not None
            rnd = await session.get(ReviewRound, run.round_id)
            assert rnd is not None
            try:
                rows = await run_assignment(uow, rnd, run, progress=renew, offload=offload)
            except Infeasible as exc:
                # nothing is written and the round stays where it was: the report names each item
                await session.rollback()
                return await _infeasible(sessionmaker, tables, run_id, worker, attempt, exc)
            except Cancelled:
                await session.rollback()
                outcome = "cancelled"
            except DomainError as exc:
                await session.rollback()
                error = f"{exc.detail} / {exc.detail_zh}"
            else:
                # the outcome commits with the assignments, and only while this worker holds the run
                held = (
                    await session.execute(
                        select(AssignmentRun.id)
                        .where(
                            AssignmentRun.id == run_id,
                            AssignmentRun.status == "running",
                            AssignmentRun.worker == worker,
                            AssignmentRun.attempts == attempt,
                        )
                        .with_for_update()
                    )
                ).scalar_one_or_none()
                if held is None:
                    await session.rollback()
                    return "lost"
                await session.refresh(run)
                run.preview = None if run.commit else _jsonable(rows[:PREVIEW_LIMIT])
                run.status, run.stage, run.progress, run.finished_at = "done", None, 100, utcnow()
                await uow.record(
                    "assignment_run_done",
                    entity_type="assignment_run",
                    entity_id=run.id,
                    changes={"assigned": run.assigned, "shortfalls": len(run.shortfalls or [])},
                )
                await uow.commit()
                return "done"
    except LeaseLost:
        return "lost"
    except Exception as exc:
        log.exception("assignment run failed", extra={"run_id": str(run_id)})
        error = f"{type(exc).__name__}: {exc}"
    finally:
        beating.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await beating
    async with sessionmaker() as session:
        await session.execute(
            update(AssignmentRun)
            .where(
                AssignmentRun.id == run_id, AssignmentRun.worker == worker, AssignmentRun.attempts == attempt
            )
            .values(status=outcome, error=error, finished_at=utcnow())
        )
        await session.commit()
    return outcome


async def _infeasible(
    sessionmaker: async_sessionmaker[AsyncSession],
    tables: KitTables,
    run_id: UUID,
    worker: str,
    attempt: int,
    exc: Infeasible,
) -> str:
    async with sessionmaker() as session:
        held = (
            await session.execute(
                select(AssignmentRun)
                .where(
                    AssignmentRun.id == run_id,
                    AssignmentRun.status == "running",
                    AssignmentRun.worker == worker,
                    AssignmentRun.attempts == attempt,
                )
                .with_for_update()
            )
        ).scalar_one_or_none()
        if held is None:
            return "lost"
        held.status, held.stage, held.progress, held.finished_at = "infeasible", None, 100, utcnow()
        held.shortfalls, held.objective, held.assigned = exc.shortfalls, exc.objective, 0
        held.error = (
            f"{len(exc.shortfalls)} items lack qualified experts; nothing was written / "
            f"{len(exc.shortfalls)}个项目符合条件的专家不足，未写入任何分配"
        )
        uow = UnitOfWork(session, tables, actor=Actor.system(f"assignment-run:{run_id}"))
        await uow.record(
            "assignment_run_infeasible",
            entity_type="assignment_run",
            entity_id=run_id,
            changes={"short_items": [sf["item_id"] for sf in exc.shortfalls], "proposed": exc.assigned},
        )
        await uow.commit()
    return "infeasible"


def _jsonable(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: str(v) if isinstance(v, UUID) else v for k, v in row.items()} for row in rows]


class RunWorkers:
    """The process's workers: each claims and executes runs; a NOTIFY-free poll with a wake-up."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        tables: KitTables,
        *,
        count: int,
        lease_seconds: float,
        poll_seconds: float,
        max_attempts: int,
        prestart: bool = False,
    ) -> None:
        self.sessionmaker, self.tables = sessionmaker, tables
        self.count, self.lease = count, timedelta(seconds=lease_seconds)
        self.poll, self.max_attempts = poll_seconds, max_attempts
        self.wake = asyncio.Event()
        self.tasks: list[asyncio.Task[None]] = []
        self.name = f"{socket.gethostname()}:{uuid7().hex[-8:]}"
        self.pool: Executor | None = None
        self.prestart = prestart

    def _pool(self) -> Executor:
        if self.pool is None:
            self.pool = ProcessPoolExecutor(max_workers=max(1, self.count), mp_context=_SPAWN)
        return self.pool

    async def offload(self, fn: Callable[[Problem], Outcome], problem: Problem) -> Outcome:
        """Plan in a worker process (spawned: a fresh interpreter, not a copy of this process)."""
        pool = self._pool()
        try:
            return await asyncio.get_running_loop().run_in_executor(pool, fn, problem)
        except BrokenProcessPool:
            self.pool = None  # the next run starts a fresh one
            raise

    def start(self) -> None:
        if self.prestart and self.count:
            # the planning process imports its libraries now, not when the first run waits for it
            self._pool().submit(warm_up)
        self.tasks = [asyncio.create_task(self._loop(f"{self.name}/{n}")) for n in range(self.count)]

    async def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self.pool is not None:
            self.pool.shutdown(wait=False, cancel_futures=True)
            self.pool = None

    def notify(self) -> None:
        self.wake.set()

    async def work_once(self, worker: str) -> str | None:
        run_id = await claim(
            self.sessionmaker, worker=worker, lease=self.lease, max_attempts=self.max_attempts
        )
        if run_id is None:
            return None
        return await execute(
            self.sessionmaker, self.tables, run_id, worker=worker, lease=self.lease, offload=self.offload
        )

    async def _loop(self, worker: str) -> None:
        while True:
            try:
                if await self.work_once(worker) is not None:
                    continue
            except Exception:
                log.exception("assignment worker could not claim a run")
            self.wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), self.poll)


def as_dict(run: AssignmentRun) -> dict[str, Any]:
    return {
        "id": run.id,
        "round_id": run.round_id,
        "mode": run.mode,
        "seed": run.seed,
        "commit": run.commit,
        "params": run.params,
        "status": run.status,
        "status_zh": STATUS_ZH.get(run.status, run.status),
        "stage": run.stage,
        "stage_zh": STAGE_ZH.get(run.stage or ""),
        "progress": run.progress,
        "cancel_requested": run.cancel_requested,
        "attempts": run.attempts,
        "heartbeat_at": run.heartbeat_at,
        "lease_until": run.lease_until,
        "objective": run.objective,
        "assigned": run.assigned,
        "shortfalls": run.shortfalls or [],
        "error": run.error,
        "created_at": run.created_at,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
    }
