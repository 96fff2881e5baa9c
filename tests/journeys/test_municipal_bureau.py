"""Journey: a municipal bureau (包头市科技局) reads the reorganisation advisor's findings for the
labs of its 盟市 only (seed 000 各盟市科技局…全面梳理); the 盟市 come from its grant."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import Gateway, World, refused, serial, until

pytestmark = pytest.mark.asyncio


async def lab_in(world: World, region: str, sub_field: str, directions: list[str]) -> dict[str, Any]:
    unit = await world.unit()
    r = await world.registrar.post(
        "/api/registry/platforms",
        {
            "name": f"内蒙古自治区盟市旅程重点实验室{serial()}",
            "kind": "autonomous_region_key_lab",
            "host_unit_id": unit["id"],
            "lab_type": "university",
            "field": "materials",
            "sub_field": sub_field,
            "research_directions": directions,
            "region": region,
            "approved_on": "2015-06-01",
            "approval_document": "内科发〔2015〕12号",
            "initial_state": "operating",
        },
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


async def test_a_municipal_bureau_reads_the_findings_of_its_own_region(
    gateway_door: Gateway, world: World
) -> None:
    gw = gateway_door
    baotou_lab = await lab_in(world, "150200", "rare_earth", ["稀土永磁材料制备"])
    wuhai_lab = await lab_in(world, "150300", "rare_earth", ["稀土抛光粉"])
    bureau_unit = await world.unit(kind="other")
    admin = await gw.administrator()
    wrong = await admin.post(
        "/accounts",
        {
            "username": f"bureau.wrong{serial()}",
            "display_name": "包头市科技局",
            "roles": [{"role": "competent_department", "regions": ["150299"]}],
        },
    )
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "roles[0].regions"
    username = f"baotou.bureau{serial()}"
    bureau = await gw.open_account(
        username,
        [{"role": "competent_department", "scope_ids": [bureau_unit["id"]], "regions": ["150200"]}],
        unit_id=bureau_unit["id"],
    )

    async def seen() -> list[dict[str, Any]]:
        r = await bureau.get("/api/registry/reorganisation/advice")
        assert r.status_code == 200, r.text
        return list(r.json()["labs"])

    labs = await seen()
    assert baotou_lab["code"] in {lab["code"] for lab in labs}
    assert {lab["region"] for lab in labs} == {"150200"}  # other journeys' labs of 包头 too, no other 盟市
    r = await bureau.post(f"/api/registry/platforms/{baotou_lab['id']}/actions/rectify", {"reason": "越权"})
    assert refused(r)

    r = await admin.post(
        f"/accounts/{bureau.account_id}/grants",
        {
            "role": "competent_department",
            "scope_ids": [bureau_unit["id"]],
            "regions": ["150200", "150300"],
            "reason": "代管乌海市科技业务",
        },
    )
    assert r.status_code == 200, r.text
    bureau = await gw.person(username)

    async def widened() -> bool:
        return wuhai_lab["code"] in {lab["code"] for lab in await seen()}

    await until(widened)
    assert {lab["region"] for lab in await seen()} == {"150200", "150300"}
