"""One OpenAPI document for the SPAs, built from the services' own documents.

Each service's paths appear under ``/api/<service>``; its component schemas are renamed
``<Service>_<Name>`` (and every ``$ref`` rewritten) so that two services may both have an
``OrganisationOut`` without clashing. The document is cached briefly; a service that is down
is left out and named under ``x-unavailable-services``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import httpx

from gateway.proxy.forward import BLOCKED_PATHS, Upstreams
from shared import asyncapi


def _rename_refs(node: Any, renames: dict[str, str]) -> Any:
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str) and value.startswith("#/components/schemas/"):
                name = value.rsplit("/", 1)[1]
                out[key] = f"#/components/schemas/{renames.get(name, name)}"
            else:
                out[key] = _rename_refs(value, renames)
        return out
    if isinstance(node, list):
        return [_rename_refs(v, renames) for v in node]
    return node


def merge_documents(own: dict[str, Any], services: dict[str, dict[str, Any]]) -> dict[str, Any]:
    merged: dict[str, Any] = {
        "openapi": own.get("openapi", "3.1.0"),
        "info": {
            "title": "Science & technology management platform API",
            "version": own.get("info", {}).get("version", "0.1.0"),
            "description": "All services behind the gateway. Errors are RFC 9457 problem+json.",
        },
        "paths": dict(own.get("paths", {})),
        "components": {
            "schemas": dict(own.get("components", {}).get("schemas", {})),
            "securitySchemes": dict(own.get("components", {}).get("securitySchemes", {})),
        },
        "tags": list(own.get("tags", [])),
    }
    for service, original in sorted(services.items()):
        prefix = service.capitalize()
        schemas = original.get("components", {}).get("schemas", {})
        renames = {name: f"{prefix}_{name}" for name in schemas}
        doc = _rename_refs(original, renames)
        for name, schema in doc.get("components", {}).get("schemas", {}).items():
            merged["components"]["schemas"][renames[name]] = schema
        merged["components"]["securitySchemes"].update(doc.get("components", {}).get("securitySchemes", {}))
        for path, item in doc.get("paths", {}).items():
            if path.strip("/").split("/", 1)[0] in BLOCKED_PATHS:
                continue
            for operation in item.values():
                if isinstance(operation, dict) and "operationId" in operation:
                    if not operation["operationId"].startswith(f"{service}_"):
                        operation["operationId"] = f"{service}_{operation['operationId']}"
                    operation["tags"] = [f"{service}: {t}" for t in operation.get("tags", [])] or [service]
            merged["paths"][f"/api/{service}{path}"] = item
    return merged


Merge = Callable[[dict[str, Any], dict[str, dict[str, Any]]], dict[str, Any]]


def merge_asyncapi(own: dict[str, Any], services: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return asyncapi.merge_documents({"gateway": own, **services}, version=own["info"]["version"])


class CombinedDocument:
    """The gateway's own document merged with the services' (``path`` on each), cached briefly."""

    def __init__(self, upstreams: Upstreams, cache_seconds: float, *, path: str, merge: Merge) -> None:
        self.upstreams = upstreams
        self.cache_seconds = cache_seconds
        self.path = path
        self.merge = merge
        self._cached: dict[str, Any] | None = None
        self._cached_at = 0.0
        self._lock = asyncio.Lock()

    async def _fetch(self, name: str, client: httpx.AsyncClient) -> tuple[str, dict[str, Any] | None]:
        try:
            response = await client.get(self.path, timeout=5.0)
            response.raise_for_status()
            return name, response.json()
        except (httpx.HTTPError, ValueError):
            return name, None

    async def document(self, own: dict[str, Any]) -> dict[str, Any]:
        async with self._lock:
            if self._cached is not None and time.monotonic() - self._cached_at < self.cache_seconds:
                return self._cached
            fetches = (self._fetch(n, c) for n, c in self.upstreams.clients.items())
            results = await asyncio.gather(*fetches)
            available = {n: d for n, d in results if d is not None}
            merged = self.merge(own, available)
            missing = sorted(n for n, d in results if d is None)
            if missing:
                merged["x-unavailable-services"] = missing
            else:
                self._cached, self._cached_at = merged, time.monotonic()
            return merged
