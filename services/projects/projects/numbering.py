"""Human-readable codes (ZN2027 0001, SB2027 000001, …) without races.

A transaction-scoped advisory lock per prefix serialises the few statements that pick the next
number, so two drafts created at the same moment never get the same code (no 500, no retry).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession


async def next_code(session: AsyncSession, column: Any, prefix: str, width: int) -> str:
    await session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": f"code:{prefix}"})
    last: str | None = (
        await session.execute(select(func.max(column)).where(column.like(f"{prefix}%")))
    ).scalar_one()
    number = int(last[len(prefix) :]) + 1 if last else 1
    return f"{prefix}{number:0{width}d}"
