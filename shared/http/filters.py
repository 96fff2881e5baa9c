"""A list's query parameters are its filters and paging: an unknown one is a 422, never ignored."""

from __future__ import annotations

from typing import Any

from fastapi import Depends, Request

from shared.errors import FieldIssue, ValidationFailed

PAGING = frozenset({"page", "size"})


def only_filters(*names: str) -> Any:
    """A dependency refusing any query parameter other than ``names`` and paging (422, by name)."""
    known = PAGING | set(names)

    async def dependency(request: Request) -> None:
        unknown = sorted(set(request.query_params) - known)
        if unknown:
            raise ValidationFailed(
                [
                    FieldIssue(
                        f"query.{name}",
                        "unknown_filter",
                        f"not a filter of this list; known: {', '.join(sorted(known))}",
                        "不支持该筛选条件",
                    )
                    for name in unknown
                ]
            )

    return Depends(dependency)
