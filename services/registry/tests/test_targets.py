"""Seed 004 targets as data with history, counted as the register stood on any day."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.asyncio


def by_key(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {item["key"]: item for item in body["items"]}


async def targets(reg: Any, **params: Any) -> dict[str, dict[str, Any]]:
    response = await reg.client.get("/targets", params=params, headers=reg.auth("applicant"))
    assert response.status_code == 200, response.text
    return by_key(response.json())


async def test_targets_separate_national_and_regional_centres_and_count_by_region_and_field(reg: Any) -> None:
    org = await reg.org(1)
    await reg.platform(org["id"])
    await reg.platform(
        org["id"],
        name="内蒙古自治区乳品质量安全重点实验室",
        field="agriculture",
        sub_field="dairy",
        region="150100",
        research_directions=["乳品质量安全检测"],
    )
    await reg.platform(org["id"], name="内蒙古自治区某拟建重点实验室", initial_state="proposed")
    await reg.platform(
        org["id"],
        name="国家稀土功能材料技术创新中心",
        kind="technology_innovation_centre",
        kind_attributes={"level": "national"},
    )
    await reg.platform(org["id"], name="内蒙古自治区煤化工技术创新中心", kind="technology_innovation_centre")
    await reg.platform(
        org["id"],
        name="国家心血管病临床医学研究中心内蒙古分中心",
        kind="clinical_research_centre",
        field="medicine",
        sub_field="clinical",
        kind_attributes={"level": "national_sub_centre"},
    )
    now = await targets(reg)
    labs = now["autonomous_region_key_lab"]
    assert (labs["target"], labs["count"], labs["gap"]) == (165, 2, 163)
    assert {r["region_zh"]: r["count"] for r in labs["by_region"]}["包头市"] == 1
    assert {f["field"]: f["count"] for f in labs["by_field"]}["agriculture"] == 1
    assert (
        now["national_technology_innovation_centre"]["target"],
        now["national_technology_innovation_centre"]["count"],
    ) == (2, 1)
    assert (
        now["regional_technology_innovation_centre"]["target"],
        now["regional_technology_innovation_centre"]["count"],
    ) == (20, 1)
    assert now["national_clinical_research_sub_centre"]["target"] == 15
    assert now["national_clinical_research_sub_centre"]["count"] == 1
    assert now["regional_clinical_research_centre"]["target"] == 10
    assert now["regional_clinical_research_centre"]["count"] == 0
    assert now["national_key_lab"]["target"] == 4 and now["pilot_base"]["target"] == 2
    assert now["laboratory_cluster"]["target"] is None


async def test_counts_on_a_past_day_undo_later_promotions_and_revocations(reg: Any) -> None:
    org = await reg.org(1)
    promoted = await reg.platform(org["id"])  # approved 2015
    revoked = await reg.platform(
        org["id"], name="内蒙古自治区稀土冶金重点实验室", research_directions=["冶金"]
    )
    await reg.platform(
        org["id"],
        name="内蒙古自治区新批重点实验室",
        approved_on="2025-03-01",
        research_directions=["新批方向"],
    )
    response = await reg.act(
        promoted["id"], "promote", kind="national_key_lab", document_number="国科发基〔2026〕8号"
    )
    assert response.status_code == 200, response.text
    assert (await reg.act(revoked["id"], "revoke")).status_code == 200

    now = await targets(reg)
    assert now["national_key_lab"]["count"] == 1 and now["autonomous_region_key_lab"]["count"] == 1
    then = await targets(reg, on="2024-12-31")
    assert then["national_key_lab"]["count"] == 0 and then["autonomous_region_key_lab"]["count"] == 2
    before = await targets(reg, on="2014-12-31")
    assert before["autonomous_region_key_lab"]["count"] == 0

    snapshots = (await reg.client.get("/targets/snapshots", headers=reg.staff)).json()["items"]
    years = {s["year"]: s for s in snapshots}
    assert [s["year"] for s in snapshots][:5] == [2021, 2022, 2023, 2024, 2025]
    assert years[2023]["purpose_zh"] == "中期评估" and years[2025]["purpose_zh"] == "终期总结"
    assert years[2022]["purpose_zh"] == "年度监测"
    counts = {y: by_key(s)["autonomous_region_key_lab"]["count"] for y, s in years.items()}
    assert counts[2024] == 2 and counts[2025] == 3

    future = await reg.client.get("/targets", params={"on": "2999-01-01"}, headers=reg.staff)
    assert future.status_code == 422 and future.json()["errors"][0]["field"] == "on"


async def test_a_target_changes_with_a_reason_and_keeps_its_history(reg: Any) -> None:
    url = "/targets/regional_technology_innovation_centre"
    refused = await reg.client.put(
        url, json={"value": 25, "reason": "调整"}, headers=reg.auth("host_unit_admin")
    )
    assert refused.status_code == 403
    missing_reason = await reg.client.put(url, json={"value": 25}, headers=reg.staff)
    assert missing_reason.status_code == 422
    assert missing_reason.json()["errors"][0]["field"] == "reason"
    assert (
        await reg.client.put("/targets/nonsense", json={"value": 1, "reason": "调整"}, headers=reg.staff)
    ).status_code == 404

    changed = await reg.client.put(url, json={"value": 25, "reason": "中期评估后上调"}, headers=reg.staff)
    assert changed.status_code == 200, changed.text
    assert (changed.json()["previous"], changed.json()["value"]) == (20, 25)
    assert (await targets(reg))["regional_technology_innovation_centre"]["target"] == 25
    assert (await targets(reg, on="2024-12-31"))["regional_technology_innovation_centre"]["target"] == 20

    history = (await reg.client.get(f"{url}/history", headers=reg.staff)).json()
    assert history["default"] == 20
    [entry] = history["items"]
    assert entry["reason"] == "中期评估后上调" and entry["changed_by"] == "staff-1"
    audit = reg.svc.runtime.tables.audit_log
    from sqlalchemy import select

    async with reg.svc.runtime.sessionmaker() as session:
        rows = (
            await session.execute(
                select(audit.c.action, audit.c.changes).where(audit.c.entity_type == "target")
            )
        ).all()
    assert [(a, c["regional_technology_innovation_centre"]) for a, c in rows] == [
        ("target.changed", [20, 25])
    ]


async def test_a_target_change_is_announced_with_the_value_before_and_after(reg: Any) -> None:
    url = "/targets/regional_clinical_research_centre"
    changed = await reg.client.put(url, json={"value": 12, "reason": "新增两家布局"}, headers=reg.staff)
    assert changed.status_code == 200, changed.text
    [event] = await reg.events("registry.target.changed")
    assert event["subject"] == "target/regional_clinical_research_centre"
    data = event["data"]
    assert (data["previous"], data["value"], data["reason"]) == (10, 12, "新增两家布局")
    assert data["kind"] == "clinical_research_centre" and data["changed_by"] == "staff-1"
