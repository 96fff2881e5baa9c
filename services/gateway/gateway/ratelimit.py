"""Fixed-window rate limits kept in the gateway's database, so every replica shares them.

Used for sign-in (per submitted identifier, whether or not an account has it, so that limits
reveal nothing; per client IP only a cap far above a deadline day's peak, and a tighter one
on *failed* attempts, so that a whole university behind one NAT address signs in while a
password spray from it is stopped), registration (per e-mail and phone as well as per
address) and partner clients. Over the limit: 429 with ``Retry-After``.
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


async def over(
    sessionmaker: async_sessionmaker[AsyncSession], key: str, *, limit: int, window_seconds: int
) -> int | None:
    """Without counting: the seconds to wait if ``key`` already reached ``limit`` in this window."""
    now = time.time()
    start = math.floor(now / window_seconds) * window_seconds
    stmt = select(RateCounter.count).where(
        RateCounter.key == key[:200], RateCounter.window_start == datetime.fromtimestamp(start, UTC)
    )
    async with sessionmaker() as session:
        count = (await session.execute(stmt)).scalar_one_or_none() or 0
    if count >= limit:
        return max(1, math.ceil(start + window_seconds - now))
    return None


def too_many(retry_after: int, what: str) -> HTTPException:
    return HTTPException(
        status_code=429,
        detail=f"too many {what}; retry after {retry_after} s",
        headers={"Retry-After": str(retry_after)},
    )
