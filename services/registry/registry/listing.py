"""The HTTP side of ``registry.paging``: query parameters, and the kit's ``Page`` they answer."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Query

from registry.paging import Fetched, PageRequest
from shared.http.schemas import Page

T = TypeVar("T")
MAX_PAGE_SIZE = 200


def page_request(
    page: Annotated[int, Query(ge=1, le=100_000, description="1-based page number")] = 1,
    size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description="items per page")] = 20,
    cursor: Annotated[
        str | None,
        Query(max_length=500, description="keyset paging: empty for the first page, then next_cursor"),
    ] = None,
    with_total: Annotated[
        bool | None, Query(description="count the matches too (default: yes for pages, no for cursors)")
    ] = None,
) -> PageRequest:
    return PageRequest(page=page, size=size, cursor=cursor, with_total=with_total)


PageRequestDep = Annotated[PageRequest, Depends(page_request)]


def list_page(fetched: Fetched[Any], request: PageRequest, items: Sequence[T]) -> Page[T]:
    """One page of ``fetched`` in the kit's shape: page/size pages carry the page number and the
    total; cursor pages the next cursor (and the total only when it was counted)."""
    return Page[T](
        items=list(items),
        total=fetched.total,
        page=None if request.keyset else request.page,
        size=request.size,
        next_cursor=fetched.next_cursor,
    )
