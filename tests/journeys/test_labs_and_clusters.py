"""Journeys: a lab director and the host unit's admin keep their lab; a cluster secretariat files
a joint project (实验室群联合攻关项目备案). Each is refused outside their own lab or cluster.
"""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import Gateway, Person, World, refused, serial, until

pytestmark = pytest.mark.asyncio


async def lab(world: World, unit_id: str, name: str) -> dict[str, Any]:
    r = await world.registrar.post(
        "/api/registry/platforms",
        {
            "name": name,
            "kind": "autonomous_region_key_lab",
            "host_unit_id": unit_id,
            "lab_type": "university",
            "field": "materials",
            "sub_field": "rare_earth",
            "research_directions": ["稀土永磁材料制备", "稀土发光材料"],
            "region": "150200",
            "approved_on": "2015-06-01",
            "approval_document": "内科发〔2015〕12号",
            "initial_state": "operating",
        },
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


async def test_a_lab_director_and_the_unit_admin_keep_their_lab(gateway_door: Gateway, world: World) -> None:
    gw = gateway_door
    unit = await world.unit()
    own = await lab(world, unit["id"], f"内蒙古自治区稀土功能材料重点实验室{serial()}")
    other = await lab(world, (await world.unit())["id"], f"内蒙古自治区稀土冶金重点实验室{serial()}")
    director_person = await world.person(unit["id"], "主任")
    director = await gw.open_account(
        f"director{serial()}",
        [{"role": "lab_director", "scope_ids": [own["id"]]}],
        unit_id=unit["id"],
        person_id=director_person,
    )
    unit_admin = await world.unit_admin(unit["id"])
    member = await world.person(unit["id"], "成员")

    r = await director.post(f"/api/registry/platforms/{own['id']}/members", {"person_id": member})
    assert r.status_code == 201, r.text
    r = await director.put(f"/api/registry/platforms/{own['id']}/outputs/2025", {"papers": 12, "patents": 3})
    assert r.status_code == 200 and r.json()["total"] == 15, r.text
    instrument = await director.post(
        "/api/registry/instruments",
        {
            "platform_id": own["id"],
            "owner_unit_id": unit["id"],
            "name": "X射线衍射仪",
            "category": "analytical",
            "value_fen": 180_000_000,
        },
    )
    assert instrument.status_code == 201, instrument.text
    r = await director.patch(
        f"/api/registry/instruments/{instrument.json()['id']}",
        {"open_for_sharing": False, "reason": "设备检修"},
    )
    assert r.status_code == 200 and r.json()["open_for_sharing"] is False, r.text
    r = await unit_admin.patch(
        f"/api/registry/platforms/{own['id']}",
        {"staff_count": 42, "annual_funding_fen": 5_000_000, "reason": "年度更新"},
    )
    assert r.status_code == 200, r.text

    # a director does not rename the lab nor touch another; another unit's admin touches neither
    before = (await director.get(f"/api/registry/platforms/{own['id']}")).json()
    assert refused(
        await director.patch(f"/api/registry/platforms/{own['id']}", {"name": "主任自行改名的实验室"})
    )
    assert refused(
        await director.post(f"/api/registry/platforms/{other['id']}/members", {"person_id": member})
    )
    stranger = await world.unit_admin((await world.unit())["id"])
    assert refused(await stranger.post(f"/api/registry/platforms/{own['id']}/members", {"person_id": member}))
    assert refused(await stranger.patch(f"/api/registry/platforms/{own['id']}", {"staff_count": 1}))
    after = (await director.get(f"/api/registry/platforms/{own['id']}")).json()
    assert (after["name"], after["staff_count"], after["version"]) == (
        before["name"],
        42,
        before["version"],
    )
    assert refused(
        await director.post(f"/api/registry/platforms/{own['id']}/actions/revoke", {"reason": "自行撤销"})
    )


async def established_cluster(world: World, member_unit: dict[str, Any]) -> str:
    r = await world.registrar.post(
        "/api/registry/clusters",
        {
            "name": f"稀土新材料实验室群{serial()}",
            "field": "materials",
            "direction": "稀土功能材料与应用",
            "director": {"name": "巴特尔", "unit": member_unit["name"]},
            "secretariat": {
                "secretary_general": {"name": "乌云", "unit": member_unit["name"]},
                "deputies": [{"name": "张处长", "unit": "自治区科技厅"}],
                "liaisons": [{"name": "李联络", "unit": "包头市科技局"}],
            },
            "lead_platform_ids": ["01a20000-0000-7000-8000-000000000009"],
            "expert_committee": {
                "chair": {"name": "陈院士", "unit": "中国科学院", "province": "北京"},
                "members": [{"name": "王教授", "unit": "内蒙古科技大学"}],
            },
            "member_units": [{"name": member_unit["name"], "unit_id": member_unit["id"]}],
            "service_organisations": [{"name": "包头稀土科技服务中心", "duties": ["资源数据采集整理"]}],
            "work_plan": "年内明确组织架构、选择服务机构并编制组建方案",
            "plan_document": "组建方案",
            "approval_document": "内科发〔2026〕9号",
        },
    )
    assert r.status_code == 201, r.text
    cluster_id = str(r.json()["id"])
    for action in ("define_structure", "select_service_organisations", "submit_plan", "establish"):
        r = await world.registrar.post(
            f"/api/registry/clusters/{cluster_id}/actions/{action}", {"reason": "按程序推进"}
        )
        assert r.status_code == 200, r.text
    return cluster_id


def joint_filing(cluster_id: str, unit_id: str, pi: str) -> dict[str, Any]:
    return {
        "kind": "cluster_joint",
        "title": "稀土永磁电机联合攻关项目",
        "funder": "包头稀土高新区某企业",
        "pi_person_id": pi,
        "unit_id": unit_id,
        "cluster_id": cluster_id,
        "start_date": "2027-01-01",
        "end_date": "2028-12-31",
        "external_funding_fen": 3_000_000,
    }


async def secretariat_of(gw: Gateway, cluster_id: str) -> Person:
    return await gw.open_account(
        f"secretariat{serial()}", [{"role": "cluster_secretariat", "scope_ids": [cluster_id]}]
    )


async def test_the_cluster_secretariat_files_a_joint_project(gateway_door: Gateway, world: World) -> None:
    gw = gateway_door
    member = await world.unit()
    cluster_id = await established_cluster(world, member)
    other_cluster = await established_cluster(world, await world.unit())
    secretariat = await secretariat_of(gw, cluster_id)
    pi = await world.person(member["id"], "负责人")
    staff = await gw.staff(f"filing.office{serial()}")

    assert refused(
        await secretariat.post("/api/projects/filings", joint_filing(other_cluster, member["id"], pi))
    )
    filed: list[Any] = []

    async def accepted_for_filing() -> bool:  # the unit and the person reach projects by event
        r = await secretariat.post("/api/projects/filings", joint_filing(cluster_id, member["id"], pi))
        filed[:] = [r]
        return r.status_code == 201

    await until(accepted_for_filing)
    filing_id = filed[0].json()["id"]
    assert refused(await secretariat.post(f"/api/projects/filings/{filing_id}/actions/accept"))
    r = await staff.post(f"/api/projects/filings/{filing_id}/actions/accept")
    assert r.status_code == 200 and r.json()["state"] == "filed", r.text
    mine = (await secretariat.get("/api/projects/filings")).json()
    assert [f["id"] for f in mine["items"]] == [filing_id]


async def test_the_cluster_secretariat_cannot_file_for_a_unit_outside_the_cluster(
    gateway_door: Gateway, world: World
) -> None:
    gw = gateway_door
    member, outsider = await world.unit(), await world.unit()
    cluster_id = await established_cluster(world, member)
    secretariat = await secretariat_of(gw, cluster_id)
    outsider_pi = await world.person(outsider["id"], "外单位负责人")
    member_pi = await world.person(member["id"], "负责人")  # registered after the outsider

    async def projects_knows_them() -> bool:  # registry's events arrive in order
        r = await secretariat.post("/api/projects/filings", joint_filing(cluster_id, member["id"], member_pi))
        return r.status_code == 201

    await until(projects_knows_them)
    r = await secretariat.post("/api/projects/filings", joint_filing(cluster_id, outsider["id"], outsider_pi))
    assert refused(r) or r.status_code in (409, 422), r.text
