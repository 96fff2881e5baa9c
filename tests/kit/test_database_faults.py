"""A service outlives its database connections being cut (a restart, a failover)."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import pytest

from tests.helpers import org_body

pytestmark = pytest.mark.asyncio


async def test_requests_after_the_database_dropped_every_connection_succeed(
    start_service: Any, auth: Any, infra: Any
) -> None:
    async with start_service("registry") as registry:
        staff = auth("department_staff")
        assert (
            await registry.client.post("/organisations", json=org_body(1), headers=staff)
        ).status_code == 201
        admin = await asyncpg.connect(infra.libpq_url("postgres"))
        try:
            killed = await admin.fetchval(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = $1 AND pid <> pg_backend_pid()",
                registry.database,
            )
        finally:
            await admin.close()
        assert killed >= 1
        await asyncio.sleep(1.2)  # the pooled connections now look idle: they get checked first
        for n in range(2, 6):
            response = await registry.client.post("/organisations", json=org_body(n), headers=staff)
            assert response.status_code == 201, response.text
        listed = await registry.client.get("/organisations", headers=staff)
        assert listed.json()["total"] == 5
