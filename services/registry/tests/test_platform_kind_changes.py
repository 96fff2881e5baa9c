"""晋升/降级/变更类别: a change of kind keeps the record, its history and its old code (能进能出)."""

from __future__ import annotations

from typing import Any

import pytest

from registry.platforms.models import Platform, PlatformHistory

pytestmark = pytest.mark.asyncio


async def incubator(reg: Any) -> dict[str, Any]:
    org = await reg.org(1)
    return await reg.platform(
        org["id"],
        kind="national_key_lab_incubator",
        name="省部共建稀土资源综合利用全国重点实验室培育基地",
        kind_attributes={"target_national_lab": "稀土资源综合利用"},
    )


async def test_promotion_keeps_the_record_and_its_history_under_a_new_kind_and_code(reg: Any) -> None:
    base = await incubator(reg)
    assert base["code"] == "PYJ-2015-001"
    await reg.act(base["id"], "strengthen", research_directions=["稀土永磁材料制备", "稀土催化材料"])
    response = await reg.act(
        base["id"],
        "promote",
        kind="national_key_lab",
        document_number="国科发基〔2026〕8号",
        approved_on="2026-03-01",
        kind_attributes={"approving_ministry": "科技部", "restructured_from": "稀土资源综合利用培育基地"},
        reason="科技部批准建设全国重点实验室",
    )
    assert response.status_code == 200, response.text
    promoted = response.json()
    assert promoted["id"] == base["id"] and promoted["state"] == "operating"
    assert promoted["kind"] == "national_key_lab" and promoted["kind_zh"] == "全国重点实验室"
    assert promoted["code"] == "QGZ-2026-001"
    assert promoted["former_codes"] == ["PYJ-2015-001"]
    assert promoted["approval_document"] == "国科发基〔2026〕8号" and promoted["approved_on"] == "2026-03-01"
    assert promoted["kind_attributes"] == {
        "approving_ministry": "科技部",
        "restructured_from": "稀土资源综合利用培育基地",
    }
    assert await reg.count(Platform) == 1

    # The old code still finds it, by lookup and by search.
    found = await reg.client.get("/platforms/by-code/PYJ-2015-001", headers=reg.staff)
    assert found.status_code == 200 and found.json()["id"] == base["id"]
    assert found.json()["code"] == "QGZ-2026-001"
    listed = (await reg.client.get("/platforms", params={"q": "PYJ-2015"}, headers=reg.staff)).json()
    assert [p["id"] for p in listed["items"]] == [base["id"]]
    assert listed["items"][0]["former_codes"] == ["PYJ-2015-001"]

    history = (await reg.client.get(f"/platforms/{base['id']}/history", headers=reg.staff)).json()["items"]
    assert [h["action"] for h in history] == ["propose", "strengthen", "promote"]
    last = history[-1]
    assert last["action_zh"] == "晋升" and last["actor_id"] == "staff-1"
    assert last["reason"] == "科技部批准建设全国重点实验室"
    assert last["document_number"] == "国科发基〔2026〕8号"
    assert last["details"]["kind"] == ["national_key_lab_incubator", "national_key_lab"]
    assert last["details"]["code"] == ["PYJ-2015-001", "QGZ-2026-001"]
    assert last["details"]["kind_attributes"][0] == {"target_national_lab": "稀土资源综合利用"}

    [event] = await reg.events("registry.platform.reclassified")
    assert event["data"]["action"] == "promote"
    assert event["data"]["kind"] == "national_key_lab" and event["data"]["code"] == "QGZ-2026-001"
    assert event["data"]["previous_kind"] == "national_key_lab_incubator"
    assert event["data"]["previous_code"] == "PYJ-2015-001"
    assert event["data"]["version"] == promoted["version"]


async def test_demotion_and_a_change_of_kind_are_the_same_kind_of_action(reg: Any) -> None:
    org = await reg.org(1)
    national = await reg.platform(org["id"], kind="national_key_lab", name="草原家畜生殖调控全国重点实验室")
    demoted = await reg.act(
        national["id"], "demote", kind="autonomous_region_key_lab", document_number="国科发基〔2026〕9号"
    )
    assert demoted.status_code == 200, demoted.text
    assert demoted.json()["code"].startswith("ZDS-") and demoted.json()["former_codes"] == [national["code"]]
    centre = await reg.act(
        national["id"], "reclassify", kind="technology_innovation_centre", document_number="内科发〔2026〕3号"
    )
    assert centre.status_code == 200, centre.text
    assert centre.json()["kind"] == "technology_innovation_centre"
    assert centre.json()["former_codes"] == [national["code"], demoted.json()["code"]]
    actions = [
        h["action"]
        for h in (await reg.client.get(f"/platforms/{national['id']}/history", headers=reg.staff)).json()[
            "items"
        ]
    ]
    assert actions == ["propose", "demote", "reclassify"]


@pytest.mark.parametrize(
    ("action", "body", "field", "code"),
    [
        ("promote", {"kind": "national_key_lab"}, "document_number", "missing"),
        ("promote", {"document_number": "国科发〔2026〕1号"}, "kind", "missing"),
        ("promote", {"kind": "national_key_lab_incubator", "document_number": "x1"}, "kind", "same_kind"),
        ("demote", {"kind": "national_key_lab", "document_number": "x1"}, "kind", "wrong_direction"),
        (
            "promote",
            {
                "kind": "national_key_lab",
                "document_number": "x1",
                "kind_attributes": {"disease_area": "肿瘤"},
            },
            "kind_attributes.disease_area",
            "not_an_attribute_of_kind",
        ),
    ],
)
async def test_a_change_of_kind_refuses_bad_input_field_by_field_and_changes_nothing(
    reg: Any, action: str, body: dict[str, Any], field: str, code: str
) -> None:
    base = await incubator(reg)
    response = await reg.act(base["id"], action, **body)
    assert response.status_code == 422, response.text
    issue = next(e for e in response.json()["errors"] if e["field"] == field)
    assert issue["code"] == code and issue["message_zh"]
    after = (await reg.client.get(f"/platforms/{base['id']}", headers=reg.staff)).json()
    assert (after["kind"], after["code"], after["version"]) == (base["kind"], base["code"], base["version"])
    assert await reg.count(PlatformHistory) == 1


async def test_a_closed_platform_cannot_change_kind_and_hosts_cannot_promote(reg: Any) -> None:
    base = await incubator(reg)
    org_admin = reg.auth("host_unit_admin", unit_id=base["host_unit_id"])
    response = await reg.client.post(
        f"/platforms/{base['id']}/actions/promote",
        json={"reason": "申请晋升", "kind": "national_key_lab", "document_number": "x1"},
        headers=org_admin,
    )
    assert response.status_code == 403
    assert (await reg.act(base["id"], "revoke")).status_code == 200
    refused = await reg.act(base["id"], "promote", kind="national_key_lab", document_number="x1")
    assert refused.status_code == 409
    assert refused.json()["current_state"] == "revoked" and refused.json()["allowed_actions"] == []


async def test_a_former_code_cannot_be_given_to_a_new_platform(reg: Any) -> None:
    base = await incubator(reg)
    await reg.act(base["id"], "promote", kind="national_key_lab", document_number="国科发基〔2026〕8号")
    response = await reg.client.post(
        "/platforms",
        json=reg.platform_body(base["host_unit_id"], code="PYJ-2015-001", name="另一个培育基地实验室"),
        headers=reg.staff,
    )
    assert response.status_code == 409
    assert response.json()["errors"][0]["field"] == "code"
