"""Fixed-window rate limits kept in the gateway's database, so every replica shares them.

Used for sign-in (per submitted identifier, whether or not an account has it, so that limits
reveal nothing; per client IP only on *failed* attempts, so that a whole university behind one
NAT address signs in on deadline day while a password spray from it is stopped), registration
(per e-mail and phone as well as per address) and partner clients. Over the limit: 429 with ``Retry-After``.
"""

from __future__ import annotations

import math
import random
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.exceptions import HTTPException

from gateway.accounts.models import RateCounter

PURGE_AFTER = timedelta(days=1)


async def hit(
    sessionmaker: async_sessionmaker[AsyncSession], key: str, *, limit: int, window_seconds: int
) -> int | None:
    """Count one request; the seconds to wait if ``key`` is over ``limit`` in this window."""
    now = time.time()
    start = math.floor(now / window_seconds) * window_seconds
    window_start = datetime.fromtimestamp(start, UTC)
    stmt = (
        insert(RateCounter)
        .values(key=key[:200], window_start=window_start, count=1)
        .on_conflict_do_update(
            index_elements=[RateCounter.key, RateCounter.window_start],
            set_={"count": RateCounter.count + 1},
        )
        .returning(RateCounter.count)
    )
    async with sessionmaker() as session:
        count = (await session.execute(stmt)).scalar_one()
        if count == 1 and random.random() < 0.01:  # noqa: S311 - housekeeping, not security
            await session.execute(
                delete(RateCounter).where(RateCounter.window_start < window_start - PURGE_AFTER)
            )
        await session.commit()
    if count > limit:
        return max(1, math.ceil(start + window_seconds - now))
    return None


async def check(
    sessionmaker: async_sessionmaker[AsyncSession],
    *,
    count: list[tuple[str, int]],
    watch: list[tuple[str, int]],
    window_seconds: int,
) -> int | None:
    """In one transaction: count one request on each ``count`` key and look (without counting)
    at each ``watch`` key; the seconds to wait if any is over its limit in this window."""
    now = time.time()
    start = math.floor(now / window_seconds) * window_seconds
    window_start = datetime.fromtimestamp(start, UTC)
    over = False
    async with sessionmaker() as session:
        for key, limit in watch:
            seen = await session.execute(
                select(RateCounter.count).where(
                    RateCounter.key == key[:200], RateCounter.window_start == window_start
                )
            )
            over = over or (seen.scalar_one_or_none() or 0) >= limit
        for key, limit in count:
            stmt = (
                insert(RateCounter)
                .values(key=key[:200], window_start=window_start, count=1)
                .on_conflict_do_update(
                    index_elements=[RateCounter.key, RateCounter.window_start],
                    set_={"count": RateCounter.count + 1},
                )
                .returning(RateCounter.count)
            )
            over = over or (await session.execute(stmt)).scalar_one() > limit
        await session.commit()
    return max(1, math.ceil(start + window_seconds - now)) if over else None


def too_many(retry_after: int, what: str) -> HTTPException:
    return HTTPException(
        status_code=429,
        detail=f"too many {what}; retry after {retry_after} s",
        headers={"Retry-After": str(retry_after)},
    )
