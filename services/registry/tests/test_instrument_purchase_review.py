"""新购大型科研仪器查重评议 (seed 001): a new large instrument of the category and model of one
already open for sharing in the same 盟市 waits for the department's decision."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.asyncio

SEM = {
    "name": "场发射扫描电子显微镜",
    "category": "analytical",
    "model": "Gemini 560",
    "value_fen": 350_000_000,
}


async def register(reg: Any, unit_id: str, headers: dict[str, str], **fields: Any) -> dict[str, Any]:
    response = await reg.client.post(
        "/instruments", json={"owner_unit_id": unit_id} | SEM | fields, headers=headers
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


async def test_a_duplicate_purchase_in_the_same_region_is_flagged_with_evidence_and_decided_once(
    reg: Any,
) -> None:
    hohhot_a, hohhot_b = await reg.org(1), await reg.org(2)
    baotou = await reg.org(3, region="150200", address="包头市阿尔丁大街1号")
    admin_a = reg.auth("host_unit_admin", unit_id=hohhot_a["id"])
    admin_b = reg.auth("host_unit_admin", unit_id=hohhot_b["id"])

    # the unit's own old microscope is not open for sharing: it is no evidence against the next one
    old = await register(reg, hohhot_a["id"], admin_a, name="旧扫描电镜", open_for_sharing=False)
    assert old["purchase_review"] is None
    shared = await register(
        reg, hohhot_a["id"], admin_a, location="内蒙古大学分析测试中心", annual_service_hours=1600
    )
    assert shared["purchase_review"] is None
    in_baotou = await register(reg, baotou["id"], reg.auth("host_unit_admin", unit_id=baotou["id"]))
    assert in_baotou["purchase_review"] is None  # another 盟市
    other_model = await register(reg, hohhot_b["id"], admin_b, model="Sigma 300")
    assert other_model["purchase_review"] is None
    small = await register(reg, hohhot_b["id"], admin_b, name="台式扫描电镜", value_fen=30_000_000)
    assert small["purchase_review"] is None  # below 50万元: not a large instrument

    new = await register(reg, hohhot_b["id"], admin_b, model=" gemini  560 ")
    review = new["purchase_review"]
    assert review["state"] == "pending" and review["state_zh"] == "待查重评议"
    assert review["region_zh"] == "呼和浩特市" and review["allowed_actions"] == ["decide"]
    # the busiest shared instrument first; the small one is shared too, so it is evidence as well
    evidence, also = review["evidence"]
    assert also["instrument_id"] == small["id"]
    assert evidence["instrument_id"] == shared["id"] and evidence["owner_unit_name"] == hohhot_a["name"]
    assert evidence["annual_service_hours"] == 1600 and evidence["location"] == "内蒙古大学分析测试中心"

    listed = await reg.client.get(
        "/instrument-purchase-reviews", params={"state": "pending"}, headers=reg.staff
    )
    assert listed.status_code == 200 and [r["id"] for r in listed.json()["items"]] == [review["id"]]
    assert (await reg.client.get("/instrument-purchase-reviews", headers=admin_b)).json()["total"] == 1
    assert (await reg.client.get("/instrument-purchase-reviews", headers=admin_a)).json()["total"] == 0
    hohhot_bureau = reg.auth("competent_department", regions=["150100"])
    baotou_bureau = reg.auth("competent_department", regions=["150200"])
    assert (await reg.client.get("/instrument-purchase-reviews", headers=hohhot_bureau)).json()["total"] == 1
    assert (await reg.client.get("/instrument-purchase-reviews", headers=baotou_bureau)).json()["total"] == 0
    assert (
        await reg.client.get(f"/instrument-purchase-reviews/{review['id']}", headers=admin_a)
    ).status_code == 404
    assert (
        await reg.client.get("/instrument-purchase-reviews", params={"state": "open"}, headers=reg.staff)
    ).status_code == 422

    path = f"/instrument-purchase-reviews/{review['id']}/decision"
    refused = await reg.client.post(path, json={"outcome": "approved", "reason": "自行批准"}, headers=admin_b)
    assert refused.status_code == 403
    no_reason = await reg.client.post(path, json={"outcome": "not_approved"}, headers=reg.staff)
    assert no_reason.status_code == 422 and no_reason.json()["errors"][0]["field"] == "reason"
    decided = await reg.client.post(
        path,
        json={"outcome": "not_approved", "reason": "内蒙古大学同型号电镜年服务机时未饱和，应共享使用"},
        headers=reg.staff,
    )
    assert decided.status_code == 200, decided.text
    body = decided.json()
    assert body["state_zh"] == "不同意购置（共享使用现有仪器）" and body["allowed_actions"] == []
    assert body["decided_by"] == "staff-1" and body["decided_at"].endswith("+08:00")
    again = await reg.client.post(path, json={"outcome": "approved", "reason": "复议"}, headers=reg.staff)
    assert again.status_code == 409
    assert again.json()["current_state"] == "not_approved" and again.json()["allowed_actions"] == []

    trail = await reg.client.get(
        "/audit",
        params={"entity_type": "instrument_purchase_review", "entity_id": review["id"]},
        headers=reg.auth("department_staff", user_id="supervisor-1", duties=["supervision"]),
    )
    assert [(e["action"], e["actor_id"]) for e in trail.json()["items"]] == [
        ("instrument.purchase_review_opened", "user-1"),
        ("instrument.purchase_review_decided", "staff-1"),
    ]
    assert trail.json()["items"][1]["reason"] == "内蒙古大学同型号电镜年服务机时未饱和，应共享使用"


async def test_the_size_of_a_large_instrument_is_a_policy_value(reg: Any) -> None:
    org, other = await reg.org(1), await reg.org(2)
    await register(reg, org["id"], reg.staff)
    changed = await reg.client.put(
        "/policy/instrument_purchase_review_min_fen",
        json={"value": 500_000_000, "reason": "只评议500万元以上"},
        headers=reg.staff,
    )
    assert changed.status_code == 200, changed.text
    assert (await register(reg, other["id"], reg.staff))["purchase_review"] is None


async def test_a_corrected_category_or_model_that_duplicates_a_shared_instrument_opens_the_review(
    reg: Any,
) -> None:
    hohhot_a, hohhot_b = await reg.org(1), await reg.org(2)
    admin_b = reg.auth("host_unit_admin", unit_id=hohhot_b["id"])
    shared = await register(reg, hohhot_a["id"], reg.auth("host_unit_admin", unit_id=hohhot_a["id"]))
    typo = await register(reg, hohhot_b["id"], admin_b, model="Gemini 56")
    wrong_kind = await register(reg, hohhot_b["id"], admin_b, name="扫描电镜（类别误填）", category="other")
    assert typo["purchase_review"] is None and wrong_kind["purchase_review"] is None
    assert typo["purchase_review_state"] is None

    corrected = await reg.client.patch(
        f"/instruments/{typo['id']}", json={"model": "Gemini 560", "reason": "型号录入错误"}, headers=admin_b
    )
    assert corrected.status_code == 200, corrected.text
    assert corrected.json()["purchase_review_state"] == "pending"
    assert corrected.json()["purchase_review_state_zh"] == "待查重评议"
    reviews = await reg.client.get(
        "/instrument-purchase-reviews", params={"instrument_id": typo["id"]}, headers=admin_b
    )
    (review,) = reviews.json()["items"]
    assert review["model"] == "Gemini 560" and review["state"] == "pending"
    assert [e["instrument_id"] for e in review["evidence"]] == [shared["id"]]

    recategorised = await reg.client.patch(
        f"/instruments/{wrong_kind['id']}", json={"category": "analytical"}, headers=admin_b
    )
    assert recategorised.status_code == 200, recategorised.text
    assert recategorised.json()["category_zh"] == "分析仪器"
    assert recategorised.json()["purchase_review_state"] == "pending"
    trail = await reg.client.get(
        "/audit",
        params={"entity_type": "instrument_purchase_review", "entity_id": review["id"]},
        headers=reg.auth("department_staff", user_id="supervisor-1", duties=["supervision"]),
    )
    assert [(e["action"], e["actor_id"], e["reason"]) for e in trail.json()["items"]] == [
        (
            "instrument.purchase_review_opened",
            "user-1",
            "登记信息变更后，同一盟市已有1台同类同型号仪器开放共享",
        )
    ]

    # an edit that leaves category and model as they were opens nothing more
    renamed = await reg.client.patch(
        f"/instruments/{typo['id']}",
        json={"name": "场发射扫描电镜", "value_fen": 360_000_000},
        headers=admin_b,
    )
    assert renamed.status_code == 200 and renamed.json()["purchase_review_state"] == "pending"
    total = (await reg.client.get("/instrument-purchase-reviews", headers=reg.staff)).json()["total"]
    assert total == 2
    # a correction that matches nothing opens nothing
    elsewhere = await register(reg, hohhot_b["id"], admin_b, name="透射电镜", model="Talos F200X")
    changed = await reg.client.patch(
        f"/instruments/{elsewhere['id']}", json={"model": "Talos F200S"}, headers=admin_b
    )
    assert changed.status_code == 200 and changed.json()["purchase_review_state"] is None


async def test_a_purchase_not_approved_shows_on_the_record_and_leaves_the_sharing_register(reg: Any) -> None:
    hohhot_a, hohhot_b, hohhot_c = await reg.org(1), await reg.org(2), await reg.org(4)
    admin_b = reg.auth("host_unit_admin", unit_id=hohhot_b["id"])
    admin_c = reg.auth("host_unit_admin", unit_id=hohhot_c["id"])
    shared = await register(reg, hohhot_a["id"], reg.auth("host_unit_admin", unit_id=hohhot_a["id"]))
    refused = await register(reg, hohhot_b["id"], admin_b)
    approved = await register(reg, hohhot_c["id"], admin_c)

    decided = await reg.client.post(
        f"/instrument-purchase-reviews/{refused['purchase_review']['id']}/decision",
        json={"outcome": "not_approved", "reason": "同型号电镜机时未饱和，共享使用"},
        headers=reg.staff,
    )
    assert decided.status_code == 200, decided.text
    record = (await reg.client.get(f"/instruments/{refused['id']}", headers=admin_b)).json()
    assert record["purchase_review_state"] == "not_approved"
    assert record["purchase_review_state_zh"] == "不同意购置（共享使用现有仪器）"
    assert record["open_for_sharing"] is False and record["version"] == refused["version"] + 1
    # others no longer find it in the sharing register
    partner = reg.auth("host_unit_admin", unit_id=hohhot_a["id"])
    assert (await reg.client.get(f"/instruments/{refused['id']}", headers=partner)).status_code == 404
    listed = await reg.client.get("/instruments", params={"q": "场发射"}, headers=partner)
    assert refused["id"] not in [i["id"] for i in listed.json()["items"]]

    ok = await reg.client.post(
        f"/instrument-purchase-reviews/{approved['purchase_review']['id']}/decision",
        json={"outcome": "approved", "reason": "服务草原生态研究，机时需求已超现有仪器"},
        headers=reg.staff,
    )
    assert ok.status_code == 200, ok.text
    kept = (await reg.client.get(f"/instruments/{approved['id']}", headers=admin_c)).json()
    assert kept["purchase_review_state"] == "approved" and kept["open_for_sharing"] is True

    # the instrument not bought is no evidence against the next purchase; the approved one is
    hohhot_d = await reg.org(5)
    nxt = await register(reg, hohhot_d["id"], reg.auth("host_unit_admin", unit_id=hohhot_d["id"]))
    evidence = {e["instrument_id"] for e in nxt["purchase_review"]["evidence"]}
    assert evidence == {shared["id"], approved["id"]}

    trail = await reg.client.get(
        "/audit",
        params={"entity_type": "instrument", "entity_id": refused["id"]},
        headers=reg.auth("department_staff", user_id="supervisor-1", duties=["supervision"]),
    )
    last = trail.json()["items"][-1]
    assert (last["action"], last["actor_id"], last["reason"]) == (
        "instrument.purchase_decided",
        "staff-1",
        "同型号电镜机时未饱和，共享使用",
    )
    assert last["changes"]["open_for_sharing"] == [True, False]


async def test_a_pending_review_follows_the_new_model_and_a_decided_one_is_not_reused(reg: Any) -> None:
    hohhot_a, hohhot_b = await reg.org(1), await reg.org(2)
    admin_a = reg.auth("host_unit_admin", unit_id=hohhot_a["id"])
    admin_b = reg.auth("host_unit_admin", unit_id=hohhot_b["id"])
    gemini = await register(reg, hohhot_a["id"], admin_a)
    sigma = await register(reg, hohhot_a["id"], admin_a, name="场发射扫描电镜二号", model="Sigma 300")
    new = await register(reg, hohhot_b["id"], admin_b)
    review_id = new["purchase_review"]["id"]

    moved = await reg.client.patch(f"/instruments/{new['id']}", json={"model": "Sigma 300"}, headers=admin_b)
    assert moved.status_code == 200 and moved.json()["purchase_review_state"] == "pending"
    same = (await reg.client.get(f"/instrument-purchase-reviews/{review_id}", headers=admin_b)).json()
    assert same["model"] == "Sigma 300" and [e["instrument_id"] for e in same["evidence"]] == [sigma["id"]]

    await reg.client.post(
        f"/instrument-purchase-reviews/{review_id}/decision",
        json={"outcome": "approved", "reason": "同意购置"},
        headers=reg.staff,
    )
    back = await reg.client.patch(f"/instruments/{new['id']}", json={"model": "Gemini 560"}, headers=admin_b)
    assert back.json()["purchase_review_state"] == "pending"
    reviews = await reg.client.get(
        "/instrument-purchase-reviews", params={"instrument_id": new["id"]}, headers=reg.staff
    )
    assert [(r["model"], r["state"]) for r in reviews.json()["items"]] == [
        ("Sigma 300", "approved"),
        ("Gemini 560", "pending"),
    ]
    assert reviews.json()["items"][1]["evidence"][0]["instrument_id"] == gemini["id"]
