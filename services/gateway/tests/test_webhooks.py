"""Outbound webhooks to a real local HTTP receiver: signatures, retries, log, replay, SSRF."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import func, select
from standardwebhooks.webhooks import Webhook, WebhookVerificationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from gateway.webhooks.models import WebhookDelivery
from shared.testing.servers import eventually, serving

from .conftest import admin_headers
from .test_partners import organisation, partner_token, publish, register_partner

pytestmark = pytest.mark.asyncio

LOOPBACK_ALLOWED = {
    "background_work": True,
    "webhook_allowed_networks": ["127.0.0.0/8"],
    "webhook_require_https": False,
    "webhook_poll_seconds": 0.05,
    "webhook_backoff_base_seconds": 0.05,
    "webhook_max_attempts": 3,
}


class Receiver:
    """A partner's endpoint: fails the first ``failures`` calls, records every request."""

    def __init__(self) -> None:
        self.failures = 0
        self.received: list[dict[str, Any]] = []
        self.redirect_target_hits = 0

        async def hook(request: Request) -> Response:
            body = await request.body()
            self.received.append({"headers": dict(request.headers), "body": body})
            if self.failures > 0:
                self.failures -= 1
                return JSONResponse({"error": "busy"}, status_code=503)
            return Response(status_code=204)

        async def moved(request: Request) -> Response:
            self.received.append({"headers": dict(request.headers), "body": await request.body()})
            return RedirectResponse("/elsewhere", status_code=307)

        async def elsewhere(request: Request) -> Response:
            self.redirect_target_hits += 1
            return Response(status_code=204)

        self.app = Starlette(
            routes=[
                Route("/hook", hook, methods=["POST"]),
                Route("/moved", moved, methods=["POST"]),
                Route("/elsewhere", elsewhere, methods=["POST"]),
            ]
        )


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[Receiver, str]]:
    stub = Receiver()
    async with serving(stub.app) as url:  # type: ignore[arg-type]
        yield stub, url


@pytest.fixture
async def gw(start_gateway: Any) -> AsyncIterator[Any]:
    async with start_gateway(**LOOPBACK_ALLOWED) as gateway:
        yield gateway


async def webhook_partner(gw: Any) -> dict[str, str]:
    partner = await register_partner(
        gw, scopes=["webhooks:manage"], allowed_event_types=["registry.*", "projects.call.*"]
    )
    return await partner_token(gw, partner)


async def subscribe(gw: Any, headers: dict[str, str], url: str, *types: str) -> Any:
    return await gw.client.post(
        "/partner/webhooks", json={"url": url, "event_types": list(types)}, headers=headers
    )


def verify(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """As a partner's receiver built on the Standard Webhooks library checks a delivery."""
    try:
        Webhook(secret).verify(body, headers)
    except WebhookVerificationError:
        return False
    return True


async def test_subscribed_events_arrive_signed_and_others_do_not(gw: Any, receiver: Any) -> None:
    stub, url = receiver
    headers = await webhook_partner(gw)
    created = await subscribe(gw, headers, f"{url}/hook", "registry.platform.*")
    assert created.status_code == 201, created.text
    secret = created.json()["secret"]
    await publish(gw, "registry.organisation.registered", "organisation/1", **organisation(1))
    await publish(gw, "registry.platform.accepted", "platform/1", id="p1", name="重点实验室", version=2)

    async def arrived() -> int:
        return len(stub.received)

    await eventually(arrived, timeout=10)
    delivery = stub.received[0]
    assert verify(secret, delivery["headers"], delivery["body"])
    assert not verify("whsec_" + "A" * 44, delivery["headers"], delivery["body"])
    assert secret.startswith("whsec_")
    # the message id is signed: the same body under another id does not verify
    forged = {**delivery["headers"], "webhook-id": "00000000-0000-0000-0000-000000000000"}
    assert not verify(secret, forged, delivery["body"])
    assert b'"type":"registry.platform.accepted"' in delivery["body"]
    assert delivery["headers"]["content-type"].startswith("application/cloudevents+json")
    sub_id = created.json()["subscription"]["id"]
    log = (await gw.client.get(f"/partner/webhooks/{sub_id}/deliveries", headers=headers)).json()
    assert [(d["event_type"], d["status"], d["status_zh"]) for d in log["items"]] == [
        ("registry.platform.accepted", "delivered", "已送达")
    ]
    assert log["items"][0]["id"] == delivery["headers"]["webhook-id"]
    assert log["items"][0]["payload"]["data"]["name"] == "重点实验室"
    assert len(stub.received) == 1  # the organisation event was not subscribed
    first = log["items"][0]["id"]
    one = (await gw.client.get(f"/partner/webhooks/deliveries/{first}", headers=headers)).json()
    assert one == log["items"][0] and one["created_at"].endswith("+08:00")
    mine = (await gw.client.get("/partner/webhooks", headers=headers)).json()
    assert [s["id"] for s in mine["items"]] == [sub_id] and mine["total"] == 1
    assert (await gw.client.get(f"/partner/webhooks/{sub_id}", headers=headers)).json() == mine["items"][0]


async def test_failed_delivery_is_retried_with_back_off_until_it_succeeds(gw: Any, receiver: Any) -> None:
    stub, url = receiver
    stub.failures = 2
    headers = await webhook_partner(gw)
    sub_id = (await subscribe(gw, headers, f"{url}/hook", "registry.platform.*")).json()["subscription"]["id"]
    await publish(gw, "registry.platform.revoked", "platform/2", id="p2", version=5)

    async def delivered() -> Any:
        items = (await gw.client.get(f"/partner/webhooks/{sub_id}/deliveries", headers=headers)).json()[
            "items"
        ]
        return items and items[0]["status"] == "delivered" and items[0]

    await eventually(delivered, timeout=10)
    assert (await delivered())["attempts"] == 3
    ids = {r["headers"]["webhook-id"] for r in stub.received}
    assert len(stub.received) == 3 and len(ids) == 1  # the same delivery id: receivers deduplicate


async def test_a_delivery_that_keeps_failing_is_logged_and_can_be_replayed(gw: Any, receiver: Any) -> None:
    stub, url = receiver
    stub.failures = 100
    headers = await webhook_partner(gw)
    sub_id = (await subscribe(gw, headers, f"{url}/hook", "projects.call.published")).json()["subscription"][
        "id"
    ]
    await publish(gw, "projects.call.published", "call/1", id="c1", title="2027年度自然科学基金", version=1)

    async def failed() -> Any:
        items = (
            await gw.client.get(
                f"/partner/webhooks/{sub_id}/deliveries", params={"status": "failed"}, headers=headers
            )
        ).json()["items"]
        return items and items[0]

    await eventually(failed, timeout=10)
    delivery = await failed()
    assert (
        delivery["attempts"] == 3
        and delivery["last_status_code"] == 503
        and delivery["last_error"] == "HTTP 503"
    )
    operators = (
        await gw.client.get(
            "/admin/webhooks/deliveries", params={"status": "failed"}, headers=await admin_headers(gw)
        )
    ).json()
    assert operators["total"] == 1

    stub.failures = 0
    replay = await gw.client.post(f"/partner/webhooks/deliveries/{delivery['id']}/replay", headers=headers)
    assert replay.status_code == 200 and replay.json()["status"] == "pending"

    async def delivered() -> bool:
        items = (await gw.client.get(f"/partner/webhooks/{sub_id}/deliveries", headers=headers)).json()[
            "items"
        ]
        return bool(items[0]["status"] == "delivered")

    await eventually(delivered, timeout=10)
    other = await webhook_partner(gw)
    stolen = await gw.client.post(f"/partner/webhooks/deliveries/{delivery['id']}/replay", headers=other)
    assert stolen.status_code == 404
    assert (await gw.client.get(f"/partner/webhooks/{sub_id}/deliveries", headers=other)).status_code == 404
    peeked = await gw.client.get(f"/partner/webhooks/deliveries/{delivery['id']}", headers=other)
    assert peeked.status_code == 404
    assert (await gw.client.get(f"/partner/webhooks/{sub_id}", headers=other)).status_code == 404


async def test_redirects_are_not_followed(gw: Any, receiver: Any) -> None:
    stub, url = receiver
    headers = await webhook_partner(gw)
    sub_id = (await subscribe(gw, headers, f"{url}/moved", "registry.*")).json()["subscription"]["id"]
    await publish(gw, "registry.cluster.formed", "cluster/1", id="cl1", version=1)

    async def settled() -> Any:
        items = (await gw.client.get(f"/partner/webhooks/{sub_id}/deliveries", headers=headers)).json()[
            "items"
        ]
        return items and items[0]["status"] == "failed" and items[0]

    await eventually(settled, timeout=10)
    assert (await settled())["last_status_code"] == 307
    assert stub.redirect_target_hits == 0


REFUSED_TARGETS = [
    "http://127.0.0.1:9/hook",
    "http://localhost/hook",
    "http://10.0.0.8/hook",
    "http://192.168.1.1/hook",
    "http://169.254.169.254/latest/meta-data",
    "http://[::1]/hook",
    "http://0.0.0.0/hook",
    "https://user:pw@example.org/hook",
    "ftp://example.org/hook",
    "file:///etc/passwd",
]


async def test_private_loopback_and_link_local_targets_are_refused(start_gateway: Any) -> None:
    async with start_gateway(webhook_require_https=False) as gateway:
        headers = await webhook_partner(gateway)
        for url in REFUSED_TARGETS:
            response = await subscribe(gateway, headers, url, "registry.*")
            assert response.status_code == 422, url
            assert response.json()["errors"][0]["field"] == "url"


async def test_plain_http_is_refused_by_default(gateway: Any) -> None:
    headers = await webhook_partner(gateway)
    response = await subscribe(gateway, headers, "http://example.org/hook", "registry.*")
    assert (
        response.status_code == 422 and response.json()["errors"][0]["message_zh"] == "回调地址必须使用 https"
    )


async def test_partners_subscribe_only_to_event_types_granted_to_them(gw: Any, receiver: Any) -> None:
    _, url = receiver
    headers = await webhook_partner(gw)
    for pattern in ("projects.application.*", "evaluation.review.completed", "*", "registry"):
        response = await subscribe(gw, headers, f"{url}/hook", pattern)
        assert response.status_code == 422, pattern
        assert response.json()["errors"][0]["field"] == "event_types.0"


async def test_instrument_webhooks_carry_only_what_open_data_shows(gw: Any, receiver: Any) -> None:
    """An instrument never opened for sharing reaches no partner; an opened one its public fields;
    a closed one its withdrawal."""
    import json

    stub, url = receiver
    headers = await webhook_partner(gw)
    created = await subscribe(gw, headers, f"{url}/hook", "registry.instrument.*")
    assert created.status_code == 201, created.text
    base = {
        "platform_id": None,
        "owner_unit_id": organisation(3)["id"],
        "name": "核磁共振波谱仪",
        "category": "analytical",
        "model": "AVANCE NEO 600",
        "value_fen": 650_000_000,
        "location": "包头市昆都仑区某楼101室",
        "booking_contact": "0472-0000000",
        "annual_service_hours": 800,
        "status": "in_service",
        "retired_on": None,
    }
    never = base | {"id": "00000000-0000-7000-8000-00000000c001", "open_for_sharing": False, "version": 1}
    await publish(gw, "registry.instrument.registered", "instrument/c001", **never)
    shared = base | {"id": "00000000-0000-7000-8000-00000000c002", "open_for_sharing": True, "version": 1}
    await publish(gw, "registry.instrument.registered", "instrument/c002", **shared)
    closed = shared | {"open_for_sharing": False, "version": 2, "reason": "内部使用", "changed_fields": ["x"]}
    await publish(gw, "registry.instrument.updated", "instrument/c002", **closed)

    async def arrived() -> bool:
        return len(stub.received) >= 2

    await eventually(arrived, timeout=10)
    bodies = sorted((json.loads(r["body"]) for r in stub.received), key=lambda b: b["data"]["version"])
    assert [b["data"]["id"] for b in bodies] == [shared["id"], shared["id"]]
    assert bodies[0]["data"]["location"] == base["location"] and "reason" not in bodies[0]["data"]
    assert bodies[1]["data"] == {
        "id": shared["id"],
        "open_for_sharing": False,
        "status": "in_service",
        "version": 2,
    }
    assert all(never["id"] not in r["body"].decode() for r in stub.received)


async def test_person_events_never_reach_a_partner_even_one_granted_all_registry_events(
    gw: Any, receiver: Any
) -> None:
    stub, url = receiver
    headers = await webhook_partner(gw)  # granted registry.*
    created = await subscribe(gw, headers, f"{url}/hook", "registry.*")
    assert created.status_code == 201, created.text
    person = {
        "id": "00000000-0000-7000-8000-00000000d001",
        "name": "张明",
        "gender": "male",
        "birth_date": "1975-03-14",
        "id_number_digest": "ab" * 32,
        "unit_id": None,
        "version": 1,
    }
    await publish(gw, "registry.person.registered", "person/d001", **person)
    await publish(gw, "registry.platform.accepted", "platform/9", id="p9", name="重点实验室", version=1)

    async def applied() -> bool:
        async with gw.runtime.sessionmaker() as session:
            inbox = gw.runtime.tables.inbox
            return int((await session.execute(select(func.count()).select_from(inbox))).scalar_one()) == 2

    await eventually(applied, timeout=10)  # both consumed; deliveries are written with them
    async with gw.runtime.sessionmaker() as session:
        types = (await session.execute(select(WebhookDelivery.event_type))).scalars().all()
    assert types == ["registry.platform.accepted"]

    async def arrived() -> bool:
        return len(stub.received) >= 1

    await eventually(arrived, timeout=10)
    assert all(b"1975-03-14" not in r["body"] for r in stub.received)
