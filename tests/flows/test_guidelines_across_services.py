"""A lab cluster's guideline suggestion (指南建议) reaches the staff drafting calls in projects,
and a revision replaces it there; a rejected revision withdraws it (seed 002)."""

from __future__ import annotations

from typing import Any

import pytest

from shared.testing.servers import eventually

pytestmark = pytest.mark.asyncio


async def test_a_cluster_suggestion_and_its_revision_reach_the_call_drafters(whole_platform: Any) -> None:
    p = whole_platform
    cluster_id = await p.established_cluster()
    secretariat = p.auth("cluster_secretariat", user_id="sec-1", clusters=[cluster_id])
    r = await p.registry.client.post(
        f"/clusters/{cluster_id}/guideline-suggestions",
        json={
            "year": 2027,
            "title": "稀土永磁材料高端应用",
            "directions": ["高丰度稀土永磁", "稀土永磁电机"],
            "field": "materials",
            "rationale": "服务稀土产业链延链补链",
        },
        headers=secretariat,
    )
    assert r.status_code == 201, r.text
    suggestion_id = r.json()["id"]
    vetting = f"/clusters/{cluster_id}/guideline-suggestions/{suggestion_id}/vetting"
    r = await p.registry.client.post(vetting, json={"outcome": "passed"}, headers=secretariat)
    assert r.status_code == 200, r.text

    async def seen_by_drafters() -> list[dict[str, Any]]:
        r = await p.projects.client.get(
            "/calls/guideline-suggestions", params={"year": 2027}, headers=p.staff
        )
        return list(r.json()["items"])

    await eventually(seen_by_drafters)
    [copy] = await seen_by_drafters()
    assert copy["cluster_name"] == "稀土新材料实验室群" and copy["directions"] == [
        "高丰度稀土永磁",
        "稀土永磁电机",
    ]

    r = await p.registry.client.patch(
        f"/clusters/{cluster_id}/guideline-suggestions/{suggestion_id}",
        json={"directions": ["高丰度稀土永磁", "稀土永磁电机", "稀土永磁回收"], "reason": "补充回收方向"},
        headers=secretariat,
    )
    assert r.status_code == 200, r.text
    r = await p.registry.client.post(vetting, json={"outcome": "passed"}, headers=secretariat)
    assert r.status_code == 200, r.text

    async def revised() -> bool:
        items = await seen_by_drafters()
        return len(items) == 1 and items[0]["directions"][-1] == "稀土永磁回收"

    await eventually(revised)

    # revised again, and this time the expert committee rejects it: the drafters lose it
    r = await p.registry.client.patch(
        f"/clusters/{cluster_id}/guideline-suggestions/{suggestion_id}",
        json={"directions": ["稀土永磁电机整机制造"], "reason": "改为整机方向"},
        headers=secretariat,
    )
    assert r.status_code == 200, r.text
    r = await p.registry.client.post(
        vetting, json={"outcome": "rejected", "comments": "整机制造不属于本群研究领域"}, headers=secretariat
    )
    assert r.status_code == 200, r.text

    async def withdrawn() -> bool:
        return await seen_by_drafters() == []

    await eventually(withdrawn)
