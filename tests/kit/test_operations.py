"""What operators rely on: readiness, metrics, request ids, retention, the command line."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import timedelta
from typing import Any

import pytest
from fastapi import APIRouter
from pydantic import ValidationError
from sqlalchemy import Integer, literal, select, update

from registry.definition import MIGRATIONS_DIR, build_definition
from registry.settings import RegistrySettings
from shared.app import create_service_app
from shared.clock import utcnow
from shared.http.deps import SessionDep
from shared.testing.servers import eventually, running
from tests.helpers import count_rows, org_body


async def test_writes_go_on_while_nats_is_down_and_readiness_says_so(
    start_service: Any, auth: Any, own_nats: Any
) -> None:
    nats = own_nats()
    async with start_service("registry", nats_url=nats.url) as registry:
        await registry.runtime.bus.wait_connected(timeout=10)
        assert (await registry.client.get("/readyz")).status_code == 200
        nats.stop()

        async def not_ready() -> bool:
            response = await registry.client.get("/readyz")
            return response.status_code == 503 and response.json()["checks"]["nats"] == "disconnected"

        await eventually(not_ready, timeout=5)
        created = await registry.client.post(
            "/organisations", json=org_body(1), headers=auth("department_staff")
        )
        assert created.status_code == 201
        nats.restart()
        await eventually(lambda: _ready(registry), timeout=10)
        unsent = registry.runtime.tables.outbox.c.sent_at.is_(None)
        await eventually(
            lambda: _zero(count_rows(registry, registry.runtime.tables.outbox, unsent)), timeout=10
        )


async def _ready(svc: Any) -> bool:
    return (await svc.client.get("/readyz")).status_code == 200


async def _zero(awaitable: Any) -> bool:
    return await awaitable == 0


async def test_metrics_show_latency_backlog_lag_and_dead_letters(start_service: Any, auth: Any) -> None:
    async with start_service("registry") as registry, start_service("projects") as projects:
        await registry.client.post("/organisations", json=org_body(1), headers=auth("department_staff"))
        await eventually(lambda: count_rows(projects, projects.runtime.tables.inbox), timeout=10)
        registry_metrics = (await registry.client.get("/metrics")).text
        assert (
            'http_request_duration_seconds_count{method="POST",route="/organisations",status="201"} 1.0'
            in (registry_metrics)
        )
        assert "outbox_backlog 0.0" in registry_metrics
        projects_metrics = (await projects.client.get("/metrics")).text
        assert 'consumer_lag{source="registry"} 0.0' in projects_metrics
        assert "dead_letters 0.0" in projects_metrics
        assert "events_applied 1.0" in projects_metrics


async def test_a_request_id_follows_the_request_into_its_events(start_service: Any, auth: Any) -> None:
    async with start_service("registry") as registry:
        response = await registry.client.post(
            "/organisations",
            json=org_body(1),
            headers={**auth("department_staff"), "X-Request-ID": "trace-2026-11-23-0001"},
        )
        assert response.headers["x-request-id"] == "trace-2026-11-23-0001"
        outbox = registry.runtime.tables.outbox
        async with registry.runtime.sessionmaker() as session:
            envelope = (await session.execute(select(outbox.c.envelope))).scalar_one()
        assert envelope["requestid"] == "trace-2026-11-23-0001"
        generated = await registry.client.get("/organisations", headers=auth("applicant"))
        assert len(generated.headers["x-request-id"]) == 36


async def test_expired_outbox_and_inbox_rows_are_purged_and_recent_ones_kept(
    start_service: Any, auth: Any
) -> None:
    async with start_service("registry") as registry, start_service("projects") as projects:
        staff = auth("department_staff")
        for n in range(1, 5):
            await registry.client.post("/organisations", json=org_body(n), headers=staff)
        await eventually(lambda: _equals(count_rows(projects, projects.runtime.tables.inbox), 4), timeout=10)
        outbox, inbox = registry.runtime.tables.outbox, projects.runtime.tables.inbox
        long_ago = utcnow() - timedelta(days=40)
        async with registry.runtime.sessionmaker() as session:
            ids = (await session.execute(select(outbox.c.id).order_by(outbox.c.position))).scalars().all()
            await session.execute(
                update(outbox).where(outbox.c.id.in_(ids[:2])).values(created_at=long_ago, sent_at=long_ago)
            )
            await session.commit()
        async with projects.runtime.sessionmaker() as session:
            await session.execute(
                update(inbox).where(inbox.c.event_id.in_(ids[:1])).values(applied_at=long_ago)
            )
            await session.commit()
        assert await registry.runtime.relay.purge_expired() == 2
        assert await projects.runtime.consumer.purge_expired() == 1
        assert await count_rows(registry, outbox) == 2
        assert await count_rows(projects, inbox) == 3


async def _equals(awaitable: Any, expected: int) -> bool:
    return await awaitable == expected


async def test_republish_from_the_command_line(
    start_service: Any, auth: Any, infra: Any, namespace: str
) -> None:
    async with start_service("registry") as registry:
        staff = auth("department_staff")
        for n in range(1, 4):
            await registry.client.post("/organisations", json=org_body(n), headers=staff)
        unsent = registry.runtime.tables.outbox.c.sent_at.is_(None)
        await eventually(
            lambda: _zero(count_rows(registry, registry.runtime.tables.outbox, unsent)), timeout=10
        )
        env = {
            **os.environ,
            "REGISTRY_DATABASE_URL": registry.database_url,
            "REGISTRY_NATS_URL": infra.nats_url,
            "REGISTRY_EVENTS_NAMESPACE": namespace,
            "REGISTRY_ENVIRONMENT": "test",
        }
        result = await asyncio.to_thread(
            subprocess.run,
            [
                sys.executable,
                "-m",
                "registry",
                "republish",
                "--type",
                "registry.organisation.registered",
                "--from",
                "2",
                "--to",
                "3",
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr
        assert "re-published 2 events of registry.organisation.registered" in result.stdout
        info = await registry.runtime.bus.js.stream_info(registry.runtime.bus.stream_for("registry"))
        assert info.state.messages == 5


def test_production_settings_refuse_a_missing_key_set() -> None:
    with pytest.raises(ValidationError, match="auth_jwks_url"):
        RegistrySettings(
            database_url="postgresql+asyncpg://x/y", nats_url="nats://x", environment="production"
        )
    with pytest.raises(ValidationError, match="placeholder"):
        RegistrySettings(
            database_url="postgresql+asyncpg://x/y",
            nats_url="nats://x",
            environment="production",
            auth_jwks_url="changeme",
        )


async def test_a_number_the_database_cannot_hold_is_a_422_not_a_500(
    infra: Any, namespace: str, jwks_json: str, auth: Any
) -> None:
    probe = APIRouter()

    @probe.get("/probe")
    async def probe_endpoint(n: int, session: SessionDep) -> dict[str, int]:
        return {"n": (await session.execute(select(literal(n, Integer)))).scalar_one()}

    _, url = await infra.fresh_database("registry", MIGRATIONS_DIR)
    settings = RegistrySettings(
        database_url=url, nats_url=infra.nats_url, events_namespace=namespace, auth_jwks_json=jwks_json
    )
    definition = build_definition(settings)
    definition.routers = [*definition.routers, probe]
    async with running(create_service_app(definition)) as client:
        assert (await client.get("/probe", params={"n": 7})).json() == {"n": 7}
        response = await client.get("/probe", params={"n": 2**40})
        assert response.status_code == 422
        assert response.json()["code"] == "value_out_of_range"
        assert response.json()["errors"][0]["message_zh"] == "某个值超出可存储的范围"


async def test_the_gateway_forwards_escaped_paths_as_they_came(start_service: Any, auth: Any) -> None:
    async with (
        start_service("registry", http=True) as registry,
        start_service(
            "gateway",
            http=True,
            registry_url=registry.base_url,
            projects_url=registry.base_url,
            evaluation_url=registry.base_url,
        ) as gateway,
    ):
        response = await gateway.client.put(
            "/api/registry/policy/%13%C2%A8bad",
            json={"value": True, "reason": "fuzzed"},
            headers=auth("department_staff"),
        )
        assert response.status_code == 404
        assert response.json()["detail_zh"] == "未找到该政策参数"
