"""The combined API document as SPA teams and partners build on it: every operation named,
every answer typed, every list one page shape, every timestamp in Beijing time.

Every operation of every service meets it: an operation that answers an untyped object, a bare
list, a timestamp without its zone or a list envelope other than the kit's ``Page`` fails here.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

import pytest

from shared.timestamps import ZONE_EXTENSION

pytestmark = pytest.mark.asyncio

OPERATION_ID = re.compile(r"^(gateway|registry|projects|evaluation)_[a-z][a-z0-9_]*$")
METHODS = {"get", "put", "post", "patch", "delete"}
JSON = "application/json"


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]


def resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def success_schemas(document: dict[str, Any], operation: dict[str, Any]) -> list[dict[str, Any] | None]:
    found: list[dict[str, Any] | None] = []
    for status, response in operation.get("responses", {}).items():
        if status.startswith("2") and JSON in response.get("content", {}):
            schema = response["content"][JSON].get("schema")
            found.append(resolve(document, schema) if schema else None)
    return found


def is_untyped(schema: dict[str, Any] | None) -> bool:
    """No schema, ``{}``, or an object without declared properties (``dict[str, Any]``)."""
    if not schema:
        return True
    if "anyOf" in schema or "oneOf" in schema or "allOf" in schema:
        return False
    return schema.get("type") == "object" and not schema.get("properties")


def is_bare_list(schema: dict[str, Any] | None) -> bool:
    return bool(schema) and schema.get("type") == "array"  # type: ignore[union-attr]


def contract_report(document: dict[str, Any]) -> dict[str, set[str]]:
    untyped, bare = set(), set()
    for _, _, operation in operations(document):
        for schema in success_schemas(document, operation):
            if is_untyped(schema):
                untyped.add(operation["operationId"])
            elif is_bare_list(schema):
                bare.add(operation["operationId"])
    return {"untyped": untyped, "bare_list": bare}


#: The kit's ``shared.http.schemas.Page``: every collection answer has exactly these fields.
PAGE_FIELDS = frozenset({"items", "total", "total_exact", "page", "size", "next_cursor"})


def reachable(document: dict[str, Any], schema: Any, seen: set[str] | None = None) -> list[dict[str, Any]]:
    """Every schema node under ``schema``, following ``$ref`` (each component once)."""
    seen = set() if seen is None else seen
    found: list[dict[str, Any]] = []
    stack = [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(node)
            continue
        if not isinstance(node, dict):
            continue
        ref = node.get("$ref")
        if isinstance(ref, str):
            name = ref.rsplit("/", 1)[1]
            if name not in seen:
                seen.add(name)
                stack.append(document["components"]["schemas"][name])
            continue
        found.append(node)
        for key in ("properties", "$defs"):
            stack.extend((node.get(key) or {}).values())
        for key in ("items", "additionalProperties", "anyOf", "oneOf", "allOf", "prefixItems", "not"):
            stack.append(node.get(key))
    return found


def zoneless_report(document: dict[str, Any]) -> set[str]:
    """Operations whose 2xx JSON answer reaches a ``date-time`` without the kit's zone marker
    (a bare ``datetime`` instead of ``shared.timestamps.Timestamp``)."""
    found = set()
    for _, _, operation in operations(document):
        for schema in success_schemas(document, operation):
            nodes = reachable(document, schema)
            if any(n.get("format") == "date-time" and ZONE_EXTENSION not in n for n in nodes):
                found.add(operation["operationId"])
    return found


#: Fields that make an object with an ``items`` array a list envelope (rather than, say, a spot
#: check that lists what it checked).
PAGING_WORDS = frozenset(
    {"total", "count", "page", "size", "limit", "offset", "cursor", "next_cursor", "has_more"}
)


def is_collection(schema: dict[str, Any] | None) -> bool:
    """A list envelope: the kit's ``Page[…]``, or an ``items`` array with paging fields beside it."""
    if not schema:
        return False
    properties = schema.get("properties") or {}
    items = properties.get("items") or {}
    if str(schema.get("title", "")).startswith("Page["):
        return True
    return items.get("type") == "array" and bool(PAGING_WORDS & set(properties))


def page_shape_report(document: dict[str, Any]) -> set[str]:
    """Operations answering a collection that is not exactly the kit's Page of typed items
    (extra or missing envelope fields, or ``Page[dict[str, Any]]``)."""
    found = set()
    for _, _, operation in operations(document):
        for schema in success_schemas(document, operation):
            if not schema or not is_collection(schema):
                continue
            properties = schema.get("properties") or {}
            item = resolve(document, properties.get("items", {}).get("items") or {})
            if set(properties) != PAGE_FIELDS or is_untyped(item):
                found.add(operation["operationId"])
    return found


async def test_operation_ids_are_readable_and_unique_across_the_platform(platform: dict[str, Any]) -> None:
    document = (await platform["gateway"].client.get("/openapi.json")).json()
    assert "x-unavailable-services" not in document
    ids = [operation.get("operationId", "") for _, _, operation in operations(document)]
    assert len(ids) > 150
    assert [i for i in ids if not OPERATION_ID.match(i) or "__" in i] == []
    assert [i for i, n in Counter(ids).items() if n > 1] == []
    for name in ("registry", "projects", "evaluation"):
        own = (await platform[name].client.get("/openapi.json")).json()
        own_ids = {operation["operationId"] for _, _, operation in operations(own)}
        assert own_ids <= set(ids), f"{name}'s own document names operations as the combined one does"


async def test_no_operation_joins_the_untyped_or_bare_list_answers(platform: dict[str, Any]) -> None:
    document = (await platform["gateway"].client.get("/openapi.json")).json()
    report = contract_report(document)
    print(f"contract: {len(report['untyped'])} untyped 2xx answers, {len(report['bare_list'])} bare lists")
    untyped, bare = sorted(report["untyped"]), sorted(report["bare_list"])
    assert not untyped, f"untyped answers: {untyped}"
    assert not bare, f"bare lists instead of a page: {bare}"


async def test_every_timestamp_answers_in_beijing_time(platform: dict[str, Any]) -> None:
    document = (await platform["gateway"].client.get("/openapi.json")).json()
    found = zoneless_report(document)
    print(f"contract: {len(found)} operations answer a timestamp without its zone")
    new = sorted(found)
    assert not new, f"timestamps without {ZONE_EXTENSION} (use shared.timestamps.Timestamp): {new}"


async def test_every_collection_answers_the_kit_page(platform: dict[str, Any]) -> None:
    document = (await platform["gateway"].client.get("/openapi.json")).json()
    found = page_shape_report(document)
    print(f"contract: {len(found)} collections not in the kit's Page shape")
    new = sorted(found)
    assert not new, f"collections with other fields than {sorted(PAGE_FIELDS)} or untyped items: {new}"
