"""Assessments across the real services: evaluation grades, registry acts on the grade.

Registry and evaluation run side by side on their own databases and one NATS namespace; the
people, units, labs and clusters are made in registry and reach evaluation only as events,
experts score through their own API, and the finalized result travels back as an event that
registry applies exactly once, even when evaluation publishes it again.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from shared.testing.servers import eventually

pytestmark = pytest.mark.asyncio


async def test_a_lab_graded_unqualified_enters_rectification_in_registry_once(platform: Any) -> None:
    host = await platform.org(1)
    lab = await platform.registry.client.post(
        "/platforms",
        json={
            "name": "内蒙古自治区稀土功能材料重点实验室",
            "kind": "autonomous_region_key_lab",
            "host_unit_id": host,
            "lab_type": "university",
            "field": "materials",
            "sub_field": "rare_earth",
            "research_directions": ["稀土永磁材料制备"],
            "region": "150200",
            "approved_on": "2015-06-01",
            "approval_document": "内科发〔2015〕12号",
            "initial_state": "operating",
        },
        headers=platform.staff,
    )
    assert lab.status_code == 201, lab.text
    lab_id = lab.json()["id"]
    experts = await platform.experts(3)
    await platform.start_assessment(
        "/assessments/labs",
        {
            "period": "2021-2025",
            "labs": [{"platform_id": lab_id, "orientation": "goal_oriented", "discipline_codes": ["F0201"]}],
        },
    )
    assert await platform.score_everything(experts, 52) == 3
    final = await platform.finalize("2021-2025", {"remarks": "产出不足，限期整改"})
    assert final["result"] == "unqualified"

    async def lab_state() -> str:
        r = await platform.registry.client.get(f"/platforms/{lab_id}", headers=platform.staff)
        return str(r.json()["state"])

    async def rectifying() -> bool:
        return await lab_state() == "under_rectification"

    await eventually(rectifying)
    event_type = "evaluation.lab_assessment.finalized"
    assert await platform.republish_all(event_type) == 1
    history = await platform.registry.client.get(f"/platforms/{lab_id}/history", headers=platform.staff)
    assert history.status_code == 200, history.text

    async def republished_and_seen() -> bool:
        # the second delivery reaches registry's consumer and is recognised, not applied
        consumer = platform.registry.runtime.consumer
        return bool(consumer is not None and consumer.duplicates_total >= 1)

    await eventually(republished_and_seen)
    assert await platform.applied(platform.registry, event_type) == 1
    history_after = await platform.registry.client.get(f"/platforms/{lab_id}/history", headers=platform.staff)
    assert history_after.json() == history.json()
    assert await lab_state() == "under_rectification"
    actions = [h["action"] for h in history_after.json()["items"]]
    assert actions.count("open_rectification") == 1, actions


async def test_a_cluster_failing_two_years_running_becomes_a_restructuring_case(platform: Any) -> None:
    cluster_id = await platform.established_cluster()
    experts = await platform.experts(3)

    async def cluster_state(expected: str) -> bool:
        r = await platform.registry.client.get(f"/clusters/{cluster_id}", headers=platform.staff)
        return bool(r.json()["state"] == expected)

    entry = {"cluster_id": cluster_id, "discipline_codes": ["F0201"]}
    await platform.start_assessment("/assessments/clusters", {"year": 2026, "clusters": [entry]})
    await platform.score_everything(experts, 50)
    assert (await platform.finalize("2026"))["result"] == "fail"
    await eventually(lambda: cluster_state("under_rectification"))

    # the next year: evaluation learns of the rectification from registry's event, assesses again
    await platform.start_assessment("/assessments/clusters", {"year": 2027, "clusters": [entry]})
    await platform.score_everything(experts, 45)
    assert (await platform.finalize("2027", {"required_measures": ["更换服务机构"]}))["result"] == "fail"
    await eventually(lambda: cluster_state("restructuring"))
    r = await platform.registry.client.get(f"/clusters/{cluster_id}", headers=platform.staff)
    assert set(r.json()["allowed_actions"]) == {"reorganise", "revoke"}
    assert await platform.applied(platform.registry, "evaluation.cluster_assessment.finalized") == 2
    outbox = platform.registry.runtime.tables.outbox
    async with platform.registry.runtime.sessionmaker() as session:
        published = (
            (
                await session.execute(
                    select(outbox.c.event_type).where(outbox.c.event_type.like("registry.cluster.%"))
                )
            )
            .scalars()
            .all()
        )
    assert published.count("registry.cluster.restructure_required") == 1


async def test_an_academician_workstation_is_assessed_on_its_own_form_and_registry_applies_the_grade(
    platform: Any,
) -> None:
    host = await platform.org(2)
    station = await platform.registry.client.post(
        "/platforms",
        json={
            "name": "包头稀土研究院院士专家工作站",
            "kind": "academician_workstation",
            "host_unit_id": host,
            "lab_type": "enterprise",
            "field": "materials",
            "sub_field": "rare_earth",
            "research_directions": ["稀土永磁材料产业化"],
            "region": "150200",
            "approved_on": "2019-06-01",
            "approval_document": "内科发〔2019〕8号",
            "initial_state": "operating",
        },
        headers=platform.staff,
    )
    assert station.status_code == 201, station.text
    station_id = station.json()["id"]
    experts = await platform.experts(3)
    await platform.start_assessment(
        "/assessments/platforms",
        {"period": "2026", "platforms": [{"platform_id": station_id, "discipline_codes": ["F0201"]}]},
    )
    assert await platform.score_everything(experts, 50) == 3
    final = await platform.finalize("2026", {"remarks": "院士团队进站工作不足"})
    assert final["result"] == "unqualified" and final["kind_zh"] == "创新平台考核评估"

    async def rectifying() -> bool:
        r = await platform.registry.client.get(f"/platforms/{station_id}", headers=platform.staff)
        return bool(r.json()["state"] == "under_rectification")

    await eventually(rectifying)
    assert await platform.applied(platform.registry, "evaluation.lab_assessment.finalized") == 1
