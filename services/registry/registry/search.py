"""Substring search that works for Chinese whatever the database's locale.

pg_trgm only indexes characters the database's ctype calls alphanumeric, which under the C
locale leaves Chinese out. Instead, a generated column keeps each row's distinct character
pairs (``registry_bigrams``, a SQL function of the migrations) under a GIN index: a row can
contain the query only if it has all of the query's pairs, which the index answers; the
literal substring test (ILIKE, wildcards escaped) then confirms. One-character queries have
no pair and fall back to the substring test alone.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, func
from sqlalchemy.orm import InstrumentedAttribute


def contains(
    text: InstrumentedAttribute[Any], bigrams: InstrumentedAttribute[Any], query: str
) -> ColumnElement[bool]:
    literal = text.icontains(query, autoescape=True)
    if len(query) < 2:
        return literal
    return bigrams.contains(func.registry_bigrams(query)) & literal
