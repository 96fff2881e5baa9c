"""The whole platform on real ports for contract tests: three services and the gateway."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

GATEWAY_SETTINGS = {
    "bootstrap_admin_username": "root-admin",
    "bootstrap_admin_password": "Contract-Suite-2026!",
    "background_work": False,
    "password_hash_time_cost": 1,
    "password_hash_memory_kib": 1024,
    "password_hash_parallelism": 1,
}


@pytest.fixture
async def platform(start_service: Any) -> AsyncIterator[dict[str, Any]]:
    """``platform["gateway"]``, ``platform["registry"]``…, sharing one NATS namespace."""
    async with (
        start_service("registry", http=True) as registry,
        start_service("projects", http=True) as projects,
        start_service("evaluation", http=True) as evaluation,
        start_service(
            "gateway",
            http=True,
            registry_url=registry.base_url,
            projects_url=projects.base_url,
            evaluation_url=evaluation.base_url,
            **GATEWAY_SETTINGS,
        ) as gw,
    ):
        yield {"gateway": gw, "registry": registry, "projects": projects, "evaluation": evaluation}
