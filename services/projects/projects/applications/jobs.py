"""Long jobs over a whole call: the 查重 sweep at closing and bulk formal review.

A job row carries progress (done/total), a heartbeat and a lease. The worker renews the lease at
every batch and stops at the next batch after cancellation is asked. A job whose lease ran out
(the process died) is shown and stored as ``failed`` with the reason, so nothing sits "running"
forever; a new job may then be started for the same call.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from projects.applications import checks
from projects.applications.models import Application, Job
from projects.calls.models import Call
from shared.clock import utcnow
from shared.db import KitTables
from shared.errors import Conflict, FieldIssue, NotFound, ValidationFailed
from shared.ids import uuid7
from shared.uow import Actor, UnitOfWork

KINDS = {"dedup_sweep": "查重全量比对", "formal_review": "批量形式审查"}
LEASE = timedelta(seconds=30)
BATCH = 20
STATE_ZH = {"running": "运行中", "succeeded": "已完成", "failed": "失败", "cancelled": "已取消"}
SWEEP_STATES = ("submitted", "endorsed", "recommended", "formally_accepted", "in_review", "reviewed")
_tasks: set[asyncio.Task[None]] = set()


def expire_if_stale(job: Job) -> bool:
    if job.state == "running" and job.lease_until is not None and job.lease_until < utcnow():
        job.state = "failed"
        job.error = "lease expired: the worker stopped without finishing (重启后可重新发起)"
        job.finished_at = utcnow()
        return True
    return False


async def start(uow: UnitOfWork, call: Call, kind: str) -> Job:
    if kind not in KINDS:
        raise ValidationFailed(
            [FieldIssue("kind", "unknown", f"kind must be one of {sorted(KINDS)}", "任务类型无效")]
        )
    running = (
        (
            await uow.session.execute(
                select(Job)
                .where(Job.call_id == call.id, Job.kind == kind, Job.state == "running")
                .with_for_update()
            )
        )
        .scalars()
        .all()
    )
    for job in running:
        if not expire_if_stale(job):
            raise Conflict(
                "the same job is already running for this call",
                "该指南已有同类任务在运行",
                code="job_running",
                extra={"job_id": str(job.id)},
            )
    total = len(
        (
            await uow.session.execute(
                select(Application.id).where(
                    Application.call_id == call.id, Application.state.in_(SWEEP_STATES)
                )
            )
        ).all()
    )
    job = Job(
        id=uuid7(),
        kind=kind,
        call_id=call.id,
        state="running",
        total=total,
        done=0,
        result={},
        cancel_requested=False,
        heartbeat_at=utcnow(),
        lease_until=utcnow() + LEASE,
        created_by=uow.actor.id,
    )
    uow.session.add(job)
    await uow.record(
        f"job.{kind}.started",
        entity_type="call",
        entity_id=call.id,
        changes={"job_id": str(job.id), "total": total},
    )
    return job


def launch(sessionmaker: async_sessionmaker[AsyncSession], tables: KitTables, job_id: UUID) -> None:
    task = asyncio.create_task(run(sessionmaker, tables, job_id))
    _tasks.add(task)
    task.add_done_callback(_tasks.discard)


async def run(sessionmaker: async_sessionmaker[AsyncSession], tables: KitTables, job_id: UUID) -> None:
    try:
        await _run(sessionmaker, tables, job_id)
    except Exception as exc:  # noqa: BLE001  the job records its failure instead of dying silently
        async with sessionmaker() as session:
            job = await session.get(Job, job_id)
            if job is not None and job.state == "running":
                job.state, job.error, job.finished_at = "failed", f"{type(exc).__name__}: {exc}", utcnow()
                await session.commit()


async def _run(sessionmaker: async_sessionmaker[AsyncSession], tables: KitTables, job_id: UUID) -> None:
    async with sessionmaker() as session:
        job = await session.get(Job, job_id)
        assert job is not None
        call = await session.get(Call, job.call_id)
        assert call is not None
        ids = list(
            (
                await session.execute(
                    select(Application.id)
                    .where(Application.call_id == call.id, Application.state.in_(SWEEP_STATES))
                    .order_by(Application.code)
                )
            ).scalars()
        )
        kind = job.kind
    flagged: list[dict[str, Any]] = []
    for start_at in range(0, len(ids), BATCH):
        async with sessionmaker() as session:
            uow = UnitOfWork(session, tables, actor=Actor.system(f"job:{job_id}"))
            job = (await session.execute(select(Job).where(Job.id == job_id).with_for_update())).scalar_one()
            if job.cancel_requested:
                job.state, job.finished_at = "cancelled", utcnow()
                job.result = {"flagged": flagged}
                await uow.record(
                    f"job.{kind}.cancelled",
                    entity_type="call",
                    entity_id=job.call_id,
                    changes={"job_id": str(job_id), "done": job.done},
                )
                await session.commit()
                return
            call = await session.get(Call, job.call_id)
            assert call is not None
            for app_id in ids[start_at : start_at + BATCH]:
                app = await session.get(Application, app_id)
                if app is None:
                    continue
                if kind == "dedup_sweep":
                    result = await checks.duplicates(session, app, call.dedup_threshold)
                    if not result["passed"]:
                        flagged.append(
                            {
                                "application_id": str(app.id),
                                "code": app.code,
                                "matches": [m["code"] for m in result["evidence"]],
                            }
                        )
                elif app.state == "recommended":
                    app.formal_report = await checks.formal_report(session, app, call)
                    if not app.formal_report["passed"]:
                        flagged.append({"application_id": str(app.id), "code": app.code})
            job.done = min(job.total, start_at + BATCH)
            job.heartbeat_at = utcnow()
            job.lease_until = utcnow() + LEASE
            job.result = {"flagged": flagged}
            await session.commit()
        await asyncio.sleep(0)
    async with sessionmaker() as session:
        uow = UnitOfWork(session, tables, actor=Actor.system(f"job:{job_id}"))
        job = await session.get(Job, job_id)
        assert job is not None
        job.state, job.done, job.finished_at = "succeeded", job.total, utcnow()
        job.result = {"flagged": flagged}
        await uow.record(
            f"job.{kind}.finished",
            entity_type="call",
            entity_id=job.call_id,
            changes={"job_id": str(job_id), "flagged": len(flagged)},
        )
        await session.commit()


async def get(session: AsyncSession, job_id: UUID) -> Job:
    job = await session.get(Job, job_id)
    if job is None:
        raise NotFound(f"job {job_id} not found", "未找到该任务")
    return job


def as_dict(job: Job) -> dict[str, Any]:
    return {
        "id": job.id,
        "kind": job.kind,
        "kind_zh": KINDS.get(job.kind, job.kind),
        "call_id": job.call_id,
        "state": job.state,
        "state_zh": STATE_ZH.get(job.state, job.state),
        "total": job.total,
        "done": job.done,
        "progress": round(job.done / job.total, 3) if job.total else 1.0,
        "result": job.result,
        "error": job.error,
        "cancel_requested": job.cancel_requested,
        "heartbeat_at": job.heartbeat_at,
        "lease_until": job.lease_until,
        "created_by": job.created_by,
        "created_at": job.created_at,
        "finished_at": job.finished_at,
    }
