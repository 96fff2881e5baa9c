"""A municipal bureau (盟市科技局) is a competent department whose grant names its 盟市: the
division codes are checked, every change is audited, and the token carries them as
``scopes.regions`` for the services to read."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import admin_headers, sign_in
from .test_sign_in import PASSWORD, make_account

pytestmark = pytest.mark.asyncio


async def token_regions(gw: Any, username: str) -> frozenset[str]:
    principal = await gw.runtime.verifier.verify(
        (await sign_in(gw, username, PASSWORD)).json()["access_token"]
    )
    return frozenset(principal.scope("regions"))


async def test_a_bureau_grant_carries_its_division_codes_into_the_token(gateway: Any) -> None:
    admin = await admin_headers(gateway)
    wrong = await gateway.client.post(
        "/accounts",
        json={
            "username": "baotou.kjj",
            "display_name": "包头市科技局",
            "roles": [{"role": "competent_department", "scope_ids": ["unit-bt"], "regions": ["150201"]}],
        },
        headers=admin,
    )
    assert wrong.status_code == 422
    [issue] = wrong.json()["errors"]
    assert issue["field"] == "roles[0].regions" and issue["code"] == "unknown_region"
    assert "150201" in issue["message_zh"]
    not_a_bureau = await gateway.client.post(
        "/accounts",
        json={
            "username": "li.si",
            "display_name": "李四",
            "roles": [{"role": "applicant", "regions": ["150200"]}],
        },
        headers=admin,
    )
    assert not_a_bureau.status_code == 422
    assert not_a_bureau.json()["errors"][0]["code"] == "regions_for_competent_department_only"

    account = await make_account(
        gateway,
        username="baotou.kjj",
        unit_id="unit-bt",
        roles=[{"role": "competent_department", "scope_ids": ["unit-bt"], "regions": ["150200"]}],
    )
    [grant] = account["roles"]
    assert grant["regions"] == [{"code": "150200", "zh": "包头市"}]
    assert await token_regions(gateway, "baotou.kjj") == {"150200"}

    widened = await gateway.client.post(
        f"/accounts/{account['id']}/grants",
        json={
            "role": "competent_department",
            "scope_ids": ["unit-bt"],
            "regions": ["150200", "150300"],
            "reason": "代管乌海市科技业务",
        },
        headers=admin,
    )
    assert widened.status_code == 200, widened.text
    assert await token_regions(gateway, "baotou.kjj") == {"150200", "150300"}
    audit = (await gateway.client.get(f"/accounts/{account['id']}/audit", headers=admin)).json()["items"]
    change = next(e for e in audit if e["action"] == "role_granted")
    assert change["reason"] == "代管乌海市科技业务"
    assert change["changes"]["before"]["regions"] == ["150200"]
    assert change["changes"]["after"]["regions"] == ["150200", "150300"]

    # a competent department of the autonomous region's own departments has no 盟市: no scope
    await make_account(
        gateway,
        username="jyt",
        unit_id="unit-jyt",
        roles=[{"role": "competent_department", "scope_ids": ["unit-jyt"]}],
    )
    assert await token_regions(gateway, "jyt") == frozenset()


async def test_a_local_token_takes_only_known_division_codes(gateway: Any) -> None:
    body = {"roles": ["competent_department"], "scopes": {"regions": ["150200"]}}
    assert (await gateway.client.post("/dev/token", json=body)).status_code == 200
    assert (
        await gateway.client.post("/dev/token", json=body | {"scopes": {"regions": ["999999"]}})
    ).status_code == 422
    assert (
        await gateway.client.post(
            "/dev/token", json={"roles": ["applicant"], "scopes": {"regions": ["150200"]}}
        )
    ).status_code == 422
