"""Every kind of platform the seeds assess (seed 004) is assessed by the default form of its kind:
technology innovation centres, clinical research centres, new R&D institutions, academician
workstations (考核激励、动态管理) and pilot bases (加强评估评价)."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

import pytest

from evaluation.assessments.events import PlatformSnapshot

from .test_assessments import PLATFORM_ACCEPTED, outbox, post_eventually, score_all

pytestmark = pytest.mark.asyncio

FORMS = {
    "technology_innovation_centre": "技术创新中心考核评估表",
    "clinical_research_centre": "临床医学研究中心考核评估表",
    "new_rd_institution": "新型研发机构考核评估表",
    "academician_workstation": "院士专家工作站考核评估表",
    "pilot_base": "中试基地考核评估表",
}


async def platform(office: Any, kind: str, n: int, host: UUID) -> UUID:
    pid = uuid4()
    await office.publish(
        PLATFORM_ACCEPTED,
        PlatformSnapshot(
            id=pid,
            code=f"PT-2026-{n:03d}",
            name=f"{FORMS.get(kind, '重点实验室')[:-5]}{n}",
            kind=kind,
            state="operating",
            host_unit_id=host,
            field="materials",
            sub_field="rare_earth",
            region="150200",
            director_person_id=uuid4(),
            version=1,
        ),
        f"platform/{pid}",
    )
    return pid


async def test_each_assessed_platform_kind_is_scored_on_its_own_form_and_graded(office: Any) -> None:
    host = uuid4()
    key_lab = await platform(office, "autonomous_region_key_lab", 9, host)
    ids = {kind: await platform(office, kind, n, host) for n, kind in enumerate(FORMS, start=1)}
    experts = [await office.expert() for _ in range(3)]
    entries = [{"platform_id": str(pid), "discipline_codes": ["F0201"]} for pid in ids.values()]

    # once every platform has arrived from registry (an earlier period's campaign opens)
    await post_eventually(office, "/assessments/platforms", {"period": "2021-2025", "platforms": entries})
    with_key_lab = await office.client.post(
        "/assessments/platforms",
        json={"period": "2026", "platforms": [*entries, {"platform_id": str(key_lab)}]},
        headers=office.requester,
    )
    assert with_key_lab.status_code == 422, with_key_lab.text
    [issue] = with_key_lab.json()["errors"]
    assert issue["field"] == "platforms[5].platform_id" and "重点实验室考核评估" in issue["message_zh"]
    workstation_as_lab = await office.client.post(
        "/assessments/labs",
        json={
            "period": "2026",
            "labs": [{"platform_id": str(ids["academician_workstation"]), "orientation": "goal_oriented"}],
        },
        headers=office.requester,
    )
    assert workstation_as_lab.status_code == 422
    assert "创新平台考核评估" in workstation_as_lab.json()["errors"][0]["message_zh"]

    campaign = await office.client.post(
        "/assessments/platforms", json={"period": "2026", "platforms": entries}, headers=office.requester
    )
    assert campaign.status_code == 201, campaign.text
    assert campaign.json()["kind_zh"] == "创新平台考核评估" and campaign.json()["items"] == 5
    again = await office.client.post(
        "/assessments/platforms", json={"period": "2026", "platforms": entries[:1]}, headers=office.requester
    )
    assert again.status_code == 409
    await office.open_for_review(str(campaign.json()["round_id"]), k=3)
    forms = await score_all(office, experts, 92)
    assert sorted(set(forms)) == sorted(FORMS.values()) and len(forms) == 15

    listed = await office.client.get(
        "/review-forms", params={"assessment_type": "platform_assessment"}, headers=office.requester
    )
    assert listed.status_code == 200, listed.text
    by_kind = {f["variant"]: f for f in listed.json()["items"]}
    assert set(by_kind) == set(FORMS)
    for kind, form in by_kind.items():
        assert form["name"] == FORMS[kind]
        assert round(sum(i["weight"] for i in form["indicators"]), 6) == 1.0
        assert form["policy"]["grade_bands"][0] == [90.0, "excellent"]
    workstation = [i["name_zh"] for i in by_kind["academician_workstation"]["indicators"]]
    assert workstation[0] == "院士团队务实合作（进站工作、合作项目）"

    items = (
        await office.client.get(
            "/assessments", params={"kind": "platform_assessment", "period": "2026"}, headers=office.requester
        )
    ).json()["items"]
    [item] = [i for i in items if i["subject_id"] == str(ids["pilot_base"])]
    assert item["kind_zh"] == "创新平台考核评估" and item["period"] == "2026"
    final = await office.client.post(f"/assessments/{item['id']}/finalize", json={}, headers=office.results)
    assert final.status_code == 200, final.text
    assert final.json()["result"] == "excellent" and final.json()["result_zh"] == "优秀"
    [event] = await outbox(office, "evaluation.lab_assessment.finalized")
    assert event["platform_id"] == str(ids["pilot_base"]) and event["grade"] == "excellent"
    assert event["orientation"] is None


async def test_a_form_names_the_platform_kind_it_fits(office: Any) -> None:
    body = {
        "code": "workstation_2027",
        "name": "院士专家工作站考核评估表（2027版）",
        "assessment_type": "platform_assessment",
        "variant": "goal_oriented",
        "indicators": [{"code": "cooperation", "name_zh": "院士团队务实合作", "weight": 1}],
        "policy": {"grade_bands": [[90, "excellent"], [0, "unqualified"]]},
    }
    wrong = await office.client.post("/review-forms", json=body, headers=office.requester)
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "variant"
    made = await office.client.post(
        "/review-forms", json=body | {"variant": "academician_workstation"}, headers=office.requester
    )
    assert made.status_code == 201, made.text
    assert made.json()["indicators"][0]["weight"] == 1.0 and made.json()["policy"]["trim_from"] == 5
