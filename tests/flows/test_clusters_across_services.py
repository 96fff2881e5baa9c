"""Projects knows registry's laboratory clusters and their member units by event (real NATS), and a
cluster secretariat's joint-project filing (备案) holds only for its own cluster's member units."""

from __future__ import annotations

from typing import Any

import pytest

from shared.testing.servers import eventually

pytestmark = pytest.mark.asyncio


async def test_a_secretariat_files_for_member_units_as_registry_says_them(whole_platform: Any) -> None:
    p = whole_platform
    member, outsider = await p.org(1), await p.org(2)
    lead, stranger = await p.person(1, member), await p.person(2, outsider)
    members = [{"name": "测试依托单位001", "unit_id": member}, {"name": "清华大学", "province": "北京"}]
    cluster_id = await p.established_cluster(members)
    secretariat = p.auth("cluster_secretariat", user_id="sec-1", clusters=[cluster_id])

    def joint(person: str, unit: str) -> dict[str, Any]:
        return {
            "kind": "cluster_joint",
            "title": "草原生态修复产业集群联合攻关",
            "funder": "鄂尔多斯某生态企业",
            "pi_person_id": person,
            "unit_id": unit,
            "cluster_id": cluster_id,
            "start_date": "2027-01-01",
            "end_date": "2028-12-31",
            "external_funding_fen": 3_000_000,
        }

    filed: list[Any] = []

    async def accepted() -> bool:
        # the cluster, the units and the people reach projects by event
        r = await p.projects.client.post("/filings", json=joint(lead, member), headers=secretariat)
        filed[:] = [r]
        return r.status_code == 201

    await eventually(accepted, timeout=15)
    filing_id = filed[0].json()["id"]

    refused = await p.projects.client.post("/filings", json=joint(stranger, outsider), headers=secretariat)
    assert refused.status_code == 422, refused.text
    assert {(e["field"], e["code"]) for e in refused.json()["errors"]} == {
        ("unit_id", "not_cluster_member"),
        ("pi_person_id", "not_cluster_member"),
    }
    assert all(e["message_zh"] for e in refused.json()["errors"])

    # The member unit leaves the cluster in registry: projects hears of it, staff cannot accept.
    r = await p.registry.client.patch(
        f"/clusters/{cluster_id}",
        json={"member_units": members[1:], "reason": "成员单位退出"},
        headers=p.staff,
    )
    assert r.status_code == 200, r.text

    async def left() -> bool:
        return await p.applied(p.projects, "registry.cluster.updated") >= 1

    await eventually(left, timeout=15)
    r = await p.projects.client.post(f"/filings/{filing_id}/actions/accept", json={}, headers=p.staff)
    assert r.status_code == 409, r.text
    assert {e["field"] for e in r.json()["errors"]} == {"unit_id", "pi_person_id"}
    listed = (await p.projects.client.get("/filings", headers=p.staff)).json()["items"]
    assert [(f["id"], f["state"], f["project_id"]) for f in listed] == [(filing_id, "submitted", None)]
