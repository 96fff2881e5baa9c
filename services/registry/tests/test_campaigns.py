"""Reorganisation as a campaign (seed 000 到2023年底基本完成…分批完成): batches by field, each
lab's outcome read from its 充实/调整/整合/撤销 steps, progress per field and batch."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.asyncio


async def test_a_campaign_enrolls_the_labs_of_its_batches_and_reports_progress(reg: Any) -> None:
    org = await reg.org(1)
    rare_earth = await reg.platform(org["id"])
    metals = await reg.platform(
        org["id"], name="内蒙古自治区金属材料重点实验室", sub_field="metals", research_directions=["高强钢"]
    )
    dairy = await reg.platform(
        org["id"],
        name="内蒙古自治区乳业重点实验室",
        field="agriculture",
        sub_field="dairy",
        research_directions=["乳品加工"],
    )
    await reg.platform(org["id"], name="内蒙古自治区拟建材料重点实验室", initial_state="proposed")
    await reg.platform(org["id"], name="内蒙古自治区中试基地材料平台", kind="pilot_base")
    body = {
        "name": "2022—2023年自治区重点实验室优化重组",
        "deadline": "2023-12-31",
        "reason": "自治区重点实验室优化重组方案",
        "document_number": "内科发〔2022〕50号",
        "batches": [
            {"fields": ["materials"], "due_on": "2023-06-30"},
            {"fields": ["agriculture", "energy"], "due_on": "2099-12-31"},
        ],
    }
    too_late = await reg.client.post("/campaigns", json=body, headers=reg.staff)
    assert too_late.status_code == 422
    assert too_late.json()["errors"][0]["field"] == "batches.1.due_on"
    body["batches"][1]["due_on"] = "2023-12-31"
    twice = body | {"batches": [*body["batches"], {"fields": ["materials"], "due_on": "2023-12-01"}]}
    assert (await reg.client.post("/campaigns", json=twice, headers=reg.staff)).json()["errors"][0][
        "code"
    ] == "field_in_two_batches"
    assert (
        await reg.client.post("/campaigns", json=body, headers=reg.auth("host_unit_admin"))
    ).status_code == 403

    started = await reg.client.post("/campaigns", json=body, headers=reg.staff)
    assert started.status_code == 201, started.text
    campaign = started.json()
    assert campaign["labs"] == 3 and campaign["done"] == 0
    assert (await reg.client.post("/campaigns", json=body, headers=reg.staff)).status_code == 409

    await reg.act(rare_earth["id"], "strengthen", research_directions=["稀土永磁材料制备"])
    await reg.act(metals["id"], "revoke", document_number="内科发〔2023〕9号")
    overview = (await reg.client.get(f"/campaigns/{campaign['id']}", headers=reg.staff)).json()
    first, second = overview["batches"]
    assert (
        first["fields_zh"] == ["材料"] and first["progress"]["labs"] == 2 and first["progress"]["done"] == 2
    )
    assert first["progress"]["outcomes"] == {"strengthened": 1, "revoked": 1}
    assert second["progress"] == {
        "labs": 1,
        "done": 0,
        "overdue": 1,
        "outcomes": {"pending": 1},
        "share_done": 0.0,
    }
    fields = {f["field"]: f["progress"] for f in overview["fields"]}
    assert fields["materials"]["share_done"] == 1.0 and fields["agriculture"]["done"] == 0
    assert overview["done"] == 2 and overview["overdue"] is True

    labs = (await reg.client.get(f"/campaigns/{campaign['id']}/labs", headers=reg.staff)).json()["items"]
    outcome = {lab["code"]: (lab["outcome_zh"], lab["document_number"], lab["overdue"]) for lab in labs}
    assert outcome == {
        rare_earth["code"]: ("充实", None, False),
        metals["code"]: ("撤销", "内科发〔2023〕9号", False),
        dairy["code"]: ("待优化重组", None, True),
    }
    pending = await reg.client.get(
        f"/campaigns/{campaign['id']}/labs", params={"outcome": "pending"}, headers=reg.staff
    )
    assert [lab["code"] for lab in pending.json()["items"]] == [dairy["code"]]
    bad = await reg.client.get(
        f"/campaigns/{campaign['id']}/labs", params={"outcome": "kept"}, headers=reg.staff
    )
    assert bad.status_code == 422
