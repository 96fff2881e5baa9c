"""Operator views of the event machinery: gaps, dead letters, outbox state."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.clock import utcnow
from shared.db import KitTables


@dataclass(frozen=True)
class Gap:
    consumer: str
    source: str
    event_type: str
    contiguous_upto: int
    max_seen: int
    missing: list[tuple[int, int]]
    since: datetime

    def as_dict(self) -> dict[str, Any]:
        return {
            "consumer": self.consumer,
            "source": self.source,
            "event_type": self.event_type,
            "contiguous_upto": self.contiguous_upto,
            "max_seen": self.max_seen,
            "missing_ranges": [{"from": a, "to": b} for a, b in self.missing],
            "since": self.since.isoformat(),
        }


def _ranges(missing: list[int]) -> list[tuple[int, int]]:
    ranges: list[tuple[int, int]] = []
    for n in missing:
        if ranges and ranges[-1][1] == n - 1:
            ranges[-1] = (ranges[-1][0], n)
        else:
            ranges.append((n, n))
    return ranges


async def find_gaps(engine: AsyncEngine, t: KitTables, *, grace_seconds: float) -> list[Gap]:
    """Sequence holes older than the grace period: events that were lost on the way."""
    cp, i, d = t.consumer_progress, t.inbox, t.dead_letter
    cutoff = utcnow() - timedelta(seconds=grace_seconds)
    gaps: list[Gap] = []
    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                select(cp).where(cp.c.max_seen > cp.c.contiguous_upto, cp.c.gap_since <= cutoff)
            )
        ).all()
        for row in rows:
            lo, hi = int(row.contiguous_upto) + 1, int(row.max_seen)
            present: set[int] = set(
                (
                    await conn.execute(
                        select(i.c.sequence).where(
                            i.c.consumer == row.consumer,
                            i.c.source == row.source,
                            i.c.event_type == row.event_type,
                            i.c.sequence.between(lo, hi),
                        )
                    )
                ).scalars()
            ) | set(
                (
                    await conn.execute(
                        select(d.c.sequence).where(
                            d.c.consumer == row.consumer,
                            d.c.source == row.source,
                            d.c.event_type == row.event_type,
                            d.c.sequence.between(lo, hi),
                        )
                    )
                ).scalars()
            )
            missing = [n for n in range(lo, hi + 1) if n not in present]
            gaps.append(
                Gap(row.consumer, row.source, row.event_type, lo - 1, hi, _ranges(missing), row.gap_since)
            )
    return gaps


async def dead_letter_counts(engine: AsyncEngine, t: KitTables) -> int:
    d = t.dead_letter
    async with engine.connect() as conn:
        return int((await conn.execute(select(func.count()).where(d.c.status == "parked"))).scalar_one())
