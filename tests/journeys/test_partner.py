"""Journey: a partner platform (蒙科聚-style) with read scope pulls open data and receives webhooks.

The administrator registers the partner; it signs in with client credentials, pulls the units
the department registered, subscribes to published calls and receives one, signed per
Standard Webhooks, when staff publish a call. A partner token never opens a service route,
a user's token never opens open data, and a read-only partner cannot subscribe.
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from standardwebhooks.webhooks import Webhook
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from shared.clock import utcnow
from shared.testing.servers import serving

from .conftest import Gateway, World, refused, serial, until

pytestmark = pytest.mark.asyncio


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[list[dict[str, Any]], str]]:
    received: list[dict[str, Any]] = []

    async def hook(request: Request) -> Response:
        received.append({"headers": dict(request.headers), "body": await request.body()})
        return Response(status_code=204)

    async with serving(Starlette(routes=[Route("/hook", hook, methods=["POST"])])) as url:  # type: ignore[arg-type]
        yield received, url


async def partner(gw: Gateway, scopes: list[str]) -> dict[str, str]:
    admin = await gw.administrator()
    r = await admin.post(
        "/partners",
        {"name": f"蒙科聚{serial()}", "scopes": scopes, "allowed_event_types": ["projects.call.*"]},
    )
    assert r.status_code == 201, r.text
    basic = base64.b64encode(
        f"{r.json()['partner']['client_id']}:{r.json()['client_secret']}".encode()
    ).decode()
    token = await gw.client.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, headers={"Authorization": f"Basic {basic}"}
    )
    assert token.status_code == 200, token.text
    return {"Authorization": f"Bearer {token.json()['access_token']}"}


async def test_a_partner_pulls_open_data_and_receives_webhooks(
    gateway_door: Gateway, world: World, receiver: Any
) -> None:
    gw = gateway_door
    received, url = receiver
    reader = await partner(gw, ["open_data:read", "webhooks:manage"])
    unit = await world.unit()

    async def unit_published() -> bool:
        r = await gw.client.get("/open-data/organisations", params={"size": 200}, headers=reader)
        assert r.status_code == 200, r.text
        return any(item["id"] == unit["id"] for item in r.json()["items"])

    await until(unit_published)
    subscribed = await gw.client.post(
        "/partner/webhooks",
        json={"url": f"{url}/hook", "event_types": ["projects.call.published"]},
        headers=reader,
    )
    assert subscribed.status_code == 201, subscribed.text
    secret = subscribed.json()["secret"]

    staff = await gw.staff(f"open.office{serial()}")
    now = utcnow()
    call = await staff.post(
        "/api/projects/calls",
        {
            "programme_code": "basic.nsf",
            "year": 2027,
            "title": "2027年度开放数据测试指南",
            "guideline": "支持基础研究。",
            "directions": ["基础研究"],
            "opens_at": (now - timedelta(days=1)).isoformat(),
            "closes_at": (now + timedelta(days=10)).isoformat(),
            "budget_fen": 10_000_000,
            "min_funding_fen": 100_000,
            "max_funding_fen": 1_000_000,
            "projects_to_fund": 1,
        },
    )
    assert call.status_code == 201, call.text
    assert (await staff.post(f"/api/projects/calls/{call.json()['id']}/actions/publish")).status_code == 200

    async def delivered() -> bool:
        return any(call.json()["id"].encode() in d["body"] for d in received)

    await until(delivered)
    delivery = next(d for d in received if call.json()["id"].encode() in d["body"])
    headers = delivery["headers"]
    # verified as the partner's receiver does, with the Standard Webhooks library
    event = Webhook(secret).verify(delivery["body"], headers)
    assert event["type"] == "projects.call.published"

    async def call_published() -> bool:
        r = await gw.client.get("/open-data/calls", params={"size": 200}, headers=reader)
        return any(item["id"] == call.json()["id"] for item in r.json()["items"])

    await until(call_published)

    # a partner token never opens a service route; a user's token never opens open data
    assert (await gw.client.get("/api/registry/organisations", headers=reader)).status_code in (401, 403)
    assert (await staff.get("/open-data/organisations")).status_code in (401, 403)
    # a read-only partner reads but cannot subscribe
    read_only = await partner(gw, ["open_data:read"])
    assert (await gw.client.get("/open-data/organisations", headers=read_only)).status_code == 200
    refused_hook = await gw.client.post(
        "/partner/webhooks",
        json={"url": f"{url}/hook", "event_types": ["projects.call.published"]},
        headers=read_only,
    )
    assert refused(refused_hook)
    async with httpx.AsyncClient(base_url=gw.base_url) as anonymous:
        assert (await anonymous.get("/open-data/organisations")).status_code == 401
