"""Time as officials read it.

Every timestamp an API answer carries is written in Beijing time (``+08:00``, Asia/Shanghai,
which has kept one offset since 1991), whatever the database holds. A timestamp a caller sends
without an offset is read as Beijing time; one with an offset keeps it. Events between services
stay in UTC: they are a machine contract, not a page people read.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Annotated

from pydantic import AfterValidator, PlainSerializer, WithJsonSchema

#: Beijing time. A fixed offset, not the tz database: China has had no daylight saving since
#: 1991, and a fixed offset needs no ``tzdata`` on a slim image.
BEIJING = timezone(timedelta(hours=8), "Asia/Shanghai")

#: The marker every timestamp in the document carries; the contract test looks for it.
ZONE_EXTENSION = "x-timezone"


def beijing(value: datetime) -> datetime:
    """The same instant in Beijing time; a naive value is taken as UTC (how the database and the
    clock hand them over)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(BEIJING)


def beijing_text(value: datetime) -> str:
    """``2026-12-02T09:00:00+08:00``: the instant as officials read it."""
    return beijing(value).isoformat()


def _entered_in_beijing(value: datetime) -> datetime:
    return value.replace(tzinfo=BEIJING) if value.tzinfo is None else value


Timestamp = Annotated[
    datetime,
    AfterValidator(_entered_in_beijing),
    PlainSerializer(beijing_text, return_type=str, when_used="json"),
    WithJsonSchema(
        {
            "type": "string",
            "format": "date-time",
            "description": "Beijing time (+08:00); input without an offset is read as Beijing time",
            "examples": ["2026-12-02T09:00:00+08:00"],
            ZONE_EXTENSION: "Asia/Shanghai",
        }
    ),
]
"""A point in time in an API answer or request: see the module's note."""
