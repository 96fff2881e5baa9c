"""Each service's Alembic chain matches its models and goes down and up cleanly."""

from __future__ import annotations

import asyncio
import importlib
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import create_async_engine

from shared.migrations import downgrade, upgrade
from shared.testing.infra import TestInfra

pytestmark = pytest.mark.asyncio

SERVICES = ["registry", "projects", "evaluation", "gateway"]


@pytest.mark.parametrize("service", SERVICES)
async def test_migrations_match_models_and_round_trip(infra: TestInfra, service: str) -> None:
    definition = importlib.import_module(f"{service}.definition")
    name = f"mig_{service}_{infra.run_id}"
    url = await infra.create_database(name)
    try:
        await asyncio.to_thread(upgrade, definition.MIGRATIONS_DIR, url)
        assert await _autogenerate_diff(url, definition.metadata) == []
        await asyncio.to_thread(downgrade, definition.MIGRATIONS_DIR, url, "base")
        assert await _tables(url) == {"alembic_version"}
        await asyncio.to_thread(upgrade, definition.MIGRATIONS_DIR, url)
        assert await _autogenerate_diff(url, definition.metadata) == []
    finally:
        await infra.drop_database(name)


async def _autogenerate_diff(url: str, metadata: Any) -> list[Any]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(
                lambda sync: compare_metadata(
                    MigrationContext.configure(
                        sync, opts={"compare_type": True, "compare_server_default": True}
                    ),
                    metadata,
                )
            )
    finally:
        await engine.dispose()


async def _tables(url: str) -> set[str]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            return set(await conn.run_sync(lambda sync: inspect(sync).get_table_names()))
    finally:
        await engine.dispose()
