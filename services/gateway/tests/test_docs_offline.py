"""The API document pages work on a network without Internet access."""

from __future__ import annotations

import re
from typing import Any

import pytest

pytestmark = pytest.mark.asyncio

ASSET = re.compile(r"""(?:src|href|spec-url)\s*=\s*["']([^"']+)["']|url:\s*["']([^"']+)["']""")


async def test_document_pages_load_everything_from_the_gateway(gateway: Any) -> None:
    for page, title in (("/docs", "Swagger UI"), ("/redoc", "ReDoc")):
        response = await gateway.client.get(page)
        assert response.status_code == 200, page
        html = response.text
        assert title in html
        assert "http://" not in html and "https://" not in html, f"{page} names an external host"
        csp = response.headers["content-security-policy"]
        assert "http" not in csp and "script-src 'self'" in csp
        references = [a or b for a, b in ASSET.findall(html)]
        assert "/openapi.json" in references
        for reference in references:
            assert reference.startswith("/"), reference
            loaded = await gateway.client.get(reference)
            assert loaded.status_code == 200, reference
            assert loaded.content, reference
    script = await gateway.client.get("/docs-assets/swagger-ui-bundle.js")
    assert script.headers["content-type"].startswith(("application/javascript", "text/javascript"))


async def test_a_service_serves_its_own_document_pages_offline_too(start_service: Any) -> None:
    async with start_service("registry") as registry:
        page = await registry.client.get("/docs")
        assert page.status_code == 200
        assert "https://" not in page.text
        assert "/openapi.json" in page.text
        assert (await registry.client.get("/docs-assets/swagger-ui.css")).status_code == 200
