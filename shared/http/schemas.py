"""The one page of a collection, shared by every service's lists.

Every collection route of every service answers :class:`Page`: the items, then the same paging
fields everywhere. Page/size paging fills ``page`` and ``total``; cursor (keyset) paging fills
``next_cursor`` and leaves ``page`` null (``total`` too unless counted). A count that stops at a
cap says so with ``total_exact: false`` ("at least ``total``"). Timestamps are
:data:`shared.timestamps.Timestamp` (Beijing time).
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from shared.timestamps import Timestamp

__all__ = ["Page", "Timestamp"]

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """One page of a collection: the same fields on every list of the platform."""

    # Every answer carries all six fields; the document says so, and generated clients need not
    # treat ``total_exact`` or ``next_cursor`` as possibly absent.
    model_config = ConfigDict(json_schema_serialization_defaults_required=True)

    items: list[T]
    total: int | None = Field(
        description="all matches (at least this many when total_exact is false); "
        "null on cursor pages that were not counted"
    )
    total_exact: bool = Field(default=True, description="false when the count stopped at its cap")
    page: int | None = Field(description="page number (page/size paging); null on cursor pages")
    size: int = Field(description="the page size asked for")
    next_cursor: str | None = Field(
        default=None, description="cursor of the next page (cursor paging); null on the last page"
    )

    @classmethod
    def whole(cls, items: list[Any]) -> Page[Any]:
        """A short collection answered in one page (e.g. a round's runs): every item, counted."""
        return cls(items=items, total=len(items), page=1, size=max(len(items), 1))
