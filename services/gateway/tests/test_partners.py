"""Partner platforms: client credentials, open data with paging and updated_since, limits."""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict
from sqlalchemy import func, select

from shared.events.envelope import EventType
from shared.ids import uuid7
from shared.testing.events import publish_as_producer
from shared.testing.servers import eventually

from .conftest import admin_headers

pytestmark = pytest.mark.asyncio


@pytest.fixture
async def gateway(start_gateway: Any) -> Any:
    async with start_gateway(background_work=True) as gw:
        yield gw


class Data(BaseModel):
    model_config = ConfigDict(extra="allow")


_sequences: dict[str, int] = {}


async def publish(gw: Any, event_type: str, subject: str, **data: Any) -> None:
    _sequences[event_type] = _sequences.get(event_type, 0) + 1
    await publish_as_producer(
        gw.runtime.bus,
        EventType(event_type, Data),
        Data(**data),
        subject=subject,
        sequence=_sequences[event_type],
    )


def organisation(n: int, version: int = 1, **overrides: Any) -> dict[str, Any]:
    data = {
        "id": f"00000000-0000-7000-8000-{n:012d}",
        "name": f"测试单位{n}",
        "credit_code": f"91150100MA0N0G2A{n:02d}",
        "type": "enterprise",
        "region": "150100",
        "address": f"呼和浩特市{n}号",
        "version": version,
    }
    data.update(overrides)
    return data


async def register_partner(gw: Any, **body: Any) -> dict[str, Any]:
    response = await gw.client.post(
        "/partners",
        json={"name": "蒙科聚", "scopes": ["open_data:read"], **body},
        headers=await admin_headers(gw),
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


async def partner_token(gw: Any, partner: dict[str, Any], scope: str | None = None) -> dict[str, str]:
    basic = base64.b64encode(
        f"{partner['partner']['client_id']}:{partner['client_secret']}".encode()
    ).decode()
    form = {"grant_type": "client_credentials", **({"scope": scope} if scope else {})}
    response = await gw.client.post("/oauth/token", data=form, headers={"Authorization": f"Basic {basic}"})
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def test_client_credentials_give_a_token_with_the_granted_scopes(gateway: Any) -> None:
    partner = await register_partner(gateway, scopes=["open_data:read", "webhooks:manage"])
    client_id, secret = partner["partner"]["client_id"], partner["client_secret"]
    by_form = await gateway.client.post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": client_id,
            "client_secret": secret,
            "scope": "open_data:read",
        },
    )
    assert by_form.status_code == 200 and by_form.json()["scope"] == "open_data:read"
    wrong = await gateway.client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": "x"},
    )
    assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_client"
    unknown = await gateway.client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "client_id": "pc_nobody", "client_secret": "x"},
    )
    assert unknown.json() | {"request_id": None} == wrong.json() | {"request_id": None}
    grant = await gateway.client.post("/oauth/token", data={"grant_type": "password", "client_id": client_id})
    assert grant.status_code == 400 and grant.json()["error"] == "unsupported_grant_type"
    scope = await gateway.client.post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": client_id,
            "client_secret": secret,
            "scope": "admin",
        },
    )
    assert scope.status_code == 400 and scope.json()["error"] == "invalid_scope"


async def test_partner_tokens_never_open_the_services_and_user_tokens_never_open_open_data(
    gateway: Any, gw_auth: Any
) -> None:
    partner = await partner_token(gateway, await register_partner(gateway))
    assert (await gateway.client.get("/api/registry/organisations", headers=partner)).status_code == 401
    assert (await gateway.client.get("/auth/me", headers=partner)).status_code == 401
    user = gw_auth("administrator")
    assert (await gateway.client.get("/open-data/organisations", headers=user)).status_code == 401


async def test_open_data_serves_public_fields_with_paging_and_updated_since(gateway: Any) -> None:
    headers = await partner_token(gateway, await register_partner(gateway))
    for n in (1, 2, 3):
        await publish(gateway, "registry.organisation.registered", f"organisation/{n}", **organisation(n))
    await publish(
        gateway,
        "registry.platform.accepted",
        "platform/1",
        id="p1",
        code="ZDSYS-2026-01",
        name="内蒙古稀土材料重点实验室",
        kind="key_laboratory",
        state="operating",
        host_unit_id=organisation(1)["id"],
        director_person_id="person-secret",
        reason="验收通过",
        version=3,
    )

    async def synced() -> bool:
        body = (await gateway.client.get("/open-data/organisations", headers=headers)).json()
        return bool(body.get("total") == 3)

    await eventually(synced, timeout=10)
    first = (await gateway.client.get("/open-data/organisations", params={"size": 2}, headers=headers)).json()
    assert first["total"] == 3 and len(first["items"]) == 2
    checkpoint = first["items"][-1]["updated_at"]

    await publish(
        gateway,
        "registry.organisation.updated",
        "organisation/1",
        **organisation(1, version=2, name="改名单位"),
    )

    async def updated() -> bool:
        body = (
            await gateway.client.get(
                "/open-data/organisations", params={"updated_since": checkpoint}, headers=headers
            )
        ).json()
        return any(i["data"]["name"] == "改名单位" for i in body["items"])

    await eventually(updated, timeout=10)
    since = (
        await gateway.client.get(
            "/open-data/organisations", params={"updated_since": checkpoint}, headers=headers
        )
    ).json()
    assert all(
        datetime.fromisoformat(i["updated_at"]) >= datetime.fromisoformat(checkpoint) for i in since["items"]
    )
    assert since["total"] < 4

    async def lab() -> Any:
        return (await gateway.client.get("/open-data/platforms", headers=headers)).json()["items"]

    await eventually(lab, timeout=10)
    platform = (await lab())[0]["data"]
    assert platform["name"] == "内蒙古稀土材料重点实验室"
    assert "director_person_id" not in platform and "reason" not in platform
    naive = await gateway.client.get(
        "/open-data/organisations", params={"updated_since": "2026-01-01T00:00:00"}, headers=headers
    )
    assert naive.status_code == 422


async def test_open_instruments_are_served_and_a_retired_one_comes_through_closed(gateway: Any) -> None:
    headers = await partner_token(gateway, await register_partner(gateway))
    instrument = {
        "id": "00000000-0000-7000-8000-00000000a001",
        "platform_id": "00000000-0000-7000-8000-00000000b001",
        "owner_unit_id": organisation(1)["id"],
        "name": "场发射扫描电子显微镜",
        "category": "electron_optics",
        "model": "SU8220",
        "value_fen": 380_000_000,
        "location": "包头市稀土高新区",
        "open_for_sharing": True,
        "booking_contact": "0472-5110000",
        "annual_service_hours": 1200,
        "status": "in_service",
        "retired_on": None,
        "version": 1,
    }
    await publish(gateway, "registry.instrument.registered", "instrument/a001", **instrument)

    async def served() -> list[Any]:
        body = (await gateway.client.get("/open-data/instruments", headers=headers)).json()
        return list(body["items"])

    await eventually(served, timeout=10)
    [record] = await served()
    assert record["data"]["name"] == "场发射扫描电子显微镜" and record["data"]["open_for_sharing"] is True
    assert "retired_on" not in record["data"]
    retired = instrument | {
        "open_for_sharing": False,
        "status": "retired",
        "retired_on": "2026-11-01",
        "version": 2,
        "changed_fields": ["status"],
        "reason": "设备报废（内部处置文件）",
    }
    await publish(gateway, "registry.instrument.retired", "instrument/a001", **retired)

    async def closed() -> bool:
        [record] = await served()
        return record["version"] == 2

    await eventually(closed, timeout=10)
    [record] = await served()
    assert record["data"] == {"id": instrument["id"], "open_for_sharing": False, "status": "retired"}
    one = (await gateway.client.get(f"/open-data/instruments/{instrument['id']}", headers=headers)).json()
    assert one == record and one["updated_at"].endswith("+08:00")
    missing = await gateway.client.get(f"/open-data/platforms/{instrument['id']}", headers=headers)
    assert missing.status_code == 404
    listed = (await gateway.client.get("/open-data", headers=headers)).json()
    assert listed["total"] == 5 and listed["page"] == 1
    assert {"instruments", "platforms", "calls", "projects", "organisations"} == {
        c["kind"] for c in listed["items"]
    }


async def test_an_instrument_reaches_open_data_only_while_open_for_sharing(gateway: Any) -> None:
    headers = await partner_token(gateway, await register_partner(gateway))
    unopened = {
        "id": "00000000-0000-7000-8000-00000000a002",
        "platform_id": None,
        "owner_unit_id": organisation(2)["id"],
        "name": "高分辨透射电子显微镜",
        "category": "electron_optics",
        "model": "JEM-F200",
        "value_fen": 900_000_000,
        "location": "呼和浩特市赛罕区某楼204室",
        "open_for_sharing": False,
        "booking_contact": None,
        "annual_service_hours": 0,
        "status": "in_service",
        "retired_on": None,
        "version": 1,
    }
    await publish(gateway, "registry.instrument.registered", "instrument/a002", **unopened)

    async def applied() -> bool:
        async with gateway.runtime.sessionmaker() as session:
            inbox = gateway.runtime.tables.inbox
            return int((await session.execute(select(func.count()).select_from(inbox))).scalar_one()) >= 1

    await eventually(applied, timeout=10)
    body = (await gateway.client.get("/open-data/instruments", headers=headers)).json()
    assert body["total"] == 0 and "呼和浩特市赛罕区" not in str(body)

    opened = unopened | {"open_for_sharing": True, "version": 2, "changed_fields": ["open_for_sharing"]}
    await publish(gateway, "registry.instrument.updated", "instrument/a002", **opened)

    async def version(v: int) -> bool:
        items = (await gateway.client.get("/open-data/instruments", headers=headers)).json()["items"]
        return bool(items) and items[0]["version"] == v

    await eventually(lambda: version(2), timeout=10)
    [record] = (await gateway.client.get("/open-data/instruments", headers=headers)).json()["items"]
    assert record["data"]["location"] == unopened["location"] and record["data"]["value_fen"] == 900_000_000

    closed = opened | {"open_for_sharing": False, "version": 3, "reason": "仅供本单位使用"}
    await publish(gateway, "registry.instrument.updated", "instrument/a002", **closed)
    await eventually(lambda: version(3), timeout=10)
    [record] = (await gateway.client.get("/open-data/instruments", headers=headers)).json()["items"]
    assert record["data"] == {"id": unopened["id"], "open_for_sharing": False, "status": "in_service"}


async def test_an_older_event_never_overwrites_a_newer_record(gateway: Any) -> None:
    headers = await partner_token(gateway, await register_partner(gateway))
    await publish(
        gateway, "registry.organisation.updated", "organisation/5", **organisation(5, version=4, name="新名")
    )
    await publish(
        gateway,
        "registry.organisation.registered",
        "organisation/5",
        **organisation(5, version=1, name="旧名"),
    )

    async def both_applied() -> bool:
        async with gateway.runtime.sessionmaker() as session:
            inbox = gateway.runtime.tables.inbox
            return int((await session.execute(select(func.count()).select_from(inbox))).scalar_one()) >= 2

    await eventually(both_applied, timeout=10)
    items = (await gateway.client.get("/open-data/organisations", headers=headers)).json()["items"]
    assert [(i["data"]["name"], i["version"]) for i in items] == [("新名", 4)]


async def test_each_partner_has_its_own_rate_limit(gateway: Any) -> None:
    limited = await partner_token(gateway, await register_partner(gateway, rate_limit_per_minute=3))
    other = await partner_token(gateway, await register_partner(gateway, name="另一平台"))
    statuses = [(await gateway.client.get("/open-data", headers=limited)).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    last = await gateway.client.get("/open-data", headers=limited)
    assert 1 <= int(last.headers["retry-after"]) <= 60
    assert (await gateway.client.get("/open-data", headers=other)).status_code == 200


async def test_disabled_partner_and_missing_scope_are_refused(gateway: Any) -> None:
    partner = await register_partner(gateway, scopes=["webhooks:manage"])
    headers = await partner_token(gateway, partner)
    assert (await gateway.client.get("/open-data", headers=headers)).status_code == 403
    admin = await admin_headers(gateway)
    await gateway.client.post(f"/partners/{partner['partner']['id']}/disable", headers=admin)
    assert (await gateway.client.get("/partner/webhooks", headers=headers)).status_code == 401
    shown = (await gateway.client.get(f"/partners/{partner['partner']['id']}", headers=admin)).json()
    assert shown["status"] == "disabled" and shown["created_at"].endswith("+08:00")
    assert (await gateway.client.get(f"/partners/{uuid7()}", headers=admin)).status_code == 404
