"""Director tenure (主任任期): consecutive terms counted from the appointment history."""

from __future__ import annotations

from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from registry.policy.service import current as current_policy


def terms_served(since: date | None, on: date, term_years: int) -> int | None:
    """The term ``on`` falls in, counting from the start of an uninterrupted tenure: the first
    ``term_years`` years are term 1, the next ones term 2 … (None without a director)."""
    if since is None:
        return None
    years = on.year - since.year - ((on.month, on.day) < (since.month, since.day))
    return max(years, 0) // term_years + 1


async def term_years(session: AsyncSession) -> int:
    return int((await current_policy(session))["director_term_years"])
