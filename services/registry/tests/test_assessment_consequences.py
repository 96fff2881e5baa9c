"""What a grade leads to (seed 000 强化结果应用): 优秀 → support candidates, 不合格 again under
rectification → a 撤销（取消资格）case and the advisor suggesting revocation."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import pytest

from registry.platforms.events import LAB_ASSESSMENT_FINALIZED, LabAssessmentFinalized
from shared.testing.events import publish_as_producer
from shared.testing.servers import eventually

pytestmark = pytest.mark.asyncio


class Evaluation:
    """Publishes finalized assessments as evaluation does."""

    def __init__(self, reg: Any) -> None:
        self.reg = reg
        self.sequence = 0

    async def finalize(self, platform_id: str, period: str, grade: str, score: float = 60.0) -> str:
        self.sequence += 1
        assessment_id = UUID(f"01a20000-0000-7000-8000-{self.sequence:012d}")
        await publish_as_producer(
            self.reg.svc.runtime.bus,
            LAB_ASSESSMENT_FINALIZED,
            LabAssessmentFinalized(
                assessment_id=assessment_id,
                platform_id=UUID(platform_id),
                period=period,
                grade=grade,
                score=score,
                finalized_at=datetime(2026, 6, 30, tzinfo=UTC),
            ),
            subject=f"a/{self.sequence}",
            sequence=self.sequence,
        )
        return str(assessment_id)


async def history_actions(reg: Any, platform_id: str) -> list[str]:
    items = (await reg.client.get(f"/platforms/{platform_id}/history", headers=reg.staff)).json()["items"]
    return [h["action"] for h in items]


async def test_an_excellent_grade_puts_the_lab_on_the_support_candidate_list(reg: Any) -> None:
    org = await reg.org(1)
    lab = await reg.platform(org["id"])
    other = await reg.platform(
        org["id"], name="内蒙古自治区乳品质量重点实验室", field="agriculture", sub_field="dairy"
    )
    evaluation = Evaluation(reg)
    excellent = await evaluation.finalize(lab["id"], "2021-2025", "excellent", 93.5)
    await evaluation.finalize(other["id"], "2021-2025", "good", 81.0)

    async def listed() -> bool:
        page = (await reg.client.get("/platforms/support-candidates", headers=reg.staff)).json()
        return bool(page["total"] == 1)

    await eventually(listed)
    await eventually(lambda: _assessed(reg, other["id"]))
    page = (await reg.client.get("/platforms/support-candidates", headers=reg.staff)).json()
    [entry] = page["items"]
    assert entry["platform"]["code"] == lab["code"] and entry["platform"]["kind_zh"] == "自治区重点实验室"
    assert entry["evidence"] == {
        "id": excellent,
        "period": "2021-2025",
        "grade": "excellent",
        "grade_zh": "优秀",
        "score": 93.5,
        "finalized_at": "2026-06-30T08:00:00+08:00",
        "remarks": None,
    }
    filtered = await reg.client.get(
        "/platforms/support-candidates", params={"field": "agriculture"}, headers=reg.staff
    )
    assert filtered.json()["total"] == 0
    assert (await history_actions(reg, lab["id"]))[-1] == "list_for_support"
    [event] = await reg.events("registry.platform.support_listed")
    assert event["data"]["id"] == lab["id"]
    # Only department staff read the list.
    admin = reg.auth("host_unit_admin", unit_id=org["id"])
    assert (await reg.client.get("/platforms/support-candidates", headers=admin)).status_code == 403


async def _assessed(reg: Any, platform_id: str) -> bool:
    from registry.platforms.models import PlatformAssessment

    return bool(await reg.count(PlatformAssessment, PlatformAssessment.platform_id == UUID(platform_id)))


async def failed_twice(reg: Any) -> tuple[dict[str, Any], str, str]:
    org = await reg.org(1)
    lab = await reg.platform(org["id"])
    evaluation = Evaluation(reg)
    first = await evaluation.finalize(lab["id"], "2021-2025", "unqualified", 52.0)
    await eventually(lambda: _state_is(reg, lab["id"], "under_rectification"))
    second = await evaluation.finalize(lab["id"], "2026", "unqualified", 55.0)

    async def case_opened() -> bool:
        page = (await reg.client.get("/platforms/revocation-cases", headers=reg.staff)).json()
        return bool(page["total"] == 1)

    await eventually(case_opened)
    return lab, first, second


async def _state_is(reg: Any, platform_id: str, state: str) -> bool:
    return bool(
        (await reg.client.get(f"/platforms/{platform_id}", headers=reg.staff)).json()["state"] == state
    )


async def test_failing_again_under_rectification_opens_a_revocation_case_citing_both(reg: Any) -> None:
    lab, first, second = await failed_twice(reg)
    [case] = (await reg.client.get("/platforms/revocation-cases", headers=reg.staff)).json()["items"]
    assert case["status"] == "open" and case["status_zh"] == "待决定"
    assert case["allowed_actions"] == ["revoke", "dismiss"]
    assert [a["id"] for a in case["assessments"]] == [first, second]
    assert [a["period"] for a in case["assessments"]] == ["2021-2025", "2026"]
    assert case["platform"]["state"] == "under_rectification"
    detail = await reg.client.get(f"/platforms/revocation-cases/{case['id']}", headers=reg.staff)
    assert detail.status_code == 200 and detail.json() == case
    admin = reg.auth("host_unit_admin", unit_id=lab["host_unit_id"])
    assert (
        await reg.client.get(f"/platforms/revocation-cases/{case['id']}", headers=admin)
    ).status_code == 403
    assert await history_actions(reg, lab["id"]) == ["propose", "open_rectification", "open_revocation_case"]
    [event] = await reg.events("registry.platform.revocation_case_opened")
    assert event["data"]["id"] == lab["id"]

    advice = (await reg.client.get("/reorganisation/advice", headers=reg.staff)).json()
    [entry] = [x for x in advice["labs"] if x["code"] == lab["code"]]
    rules = {f["rule"]: f for f in entry["findings"]}
    assert "failed_assessment" not in rules
    finding = rules["failed_again_under_rectification"]
    assert finding["suggested_action"] == "revoke" and finding["suggested_action_zh"] == "撤销"
    assert finding["evidence"]["case_id"] == case["id"]
    assert [a["assessment_id"] for a in finding["evidence"]["assessments"]] == [first, second]


async def test_staff_decide_the_case_revoking_the_lab_once(reg: Any) -> None:
    lab, _, _ = await failed_twice(reg)
    [case] = (await reg.client.get("/platforms/revocation-cases", headers=reg.staff)).json()["items"]
    url = f"/platforms/revocation-cases/{case['id']}/decision"
    bad = await reg.client.post(url, json={"decision": "abolish", "reason": "x2"}, headers=reg.staff)
    assert bad.status_code == 422
    admin = reg.auth("host_unit_admin", unit_id=lab["host_unit_id"])
    body = {
        "decision": "revoke",
        "reason": "整改期间再次不合格，取消资格",
        "document_number": "内科发〔2026〕40号",
    }
    assert (await reg.client.post(url, json=body, headers=admin)).status_code == 403
    decided = await reg.client.post(url, json=body, headers=reg.staff)
    assert decided.status_code == 200, decided.text
    assert decided.json()["status"] == "revoked" and decided.json()["decided_by"] == "staff-1"
    assert decided.json()["allowed_actions"] == []
    assert await _state_is(reg, lab["id"], "revoked")
    history = (await reg.client.get(f"/platforms/{lab['id']}/history", headers=reg.staff)).json()["items"]
    assert history[-1]["action"] == "revoke" and history[-1]["document_number"] == "内科发〔2026〕40号"
    assert history[-1]["details"]["case_id"] == case["id"]
    assert len(await reg.events("registry.platform.revoked")) == 1
    again = await reg.client.post(url, json=body, headers=reg.staff)
    assert again.status_code == 409
    assert again.json()["current_state"] == "revoked" and again.json()["allowed_actions"] == []


async def test_a_dismissed_case_leaves_the_lab_under_rectification(reg: Any) -> None:
    lab, _, _ = await failed_twice(reg)
    [case] = (await reg.client.get("/platforms/revocation-cases", headers=reg.staff)).json()["items"]
    decided = await reg.client.post(
        f"/platforms/revocation-cases/{case['id']}/decision",
        json={"decision": "dismiss", "reason": "整改措施已落实，延长整改期"},
        headers=reg.staff,
    )
    assert decided.status_code == 200 and decided.json()["status"] == "dismissed"
    assert await _state_is(reg, lab["id"], "under_rectification")
    assert (await history_actions(reg, lab["id"]))[-1] == "dismiss_revocation_case"
    open_cases = await reg.client.get(
        "/platforms/revocation-cases", params={"status": "open"}, headers=reg.staff
    )
    assert open_cases.json()["total"] == 0
