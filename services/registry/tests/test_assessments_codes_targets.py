"""Lab assessments from evaluation, the code lists and the targets monitor."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import pytest

from registry.platforms.events import LAB_ASSESSMENT_FINALIZED, LabAssessmentFinalized
from shared.testing.events import publish_as_producer
from shared.testing.servers import eventually

pytestmark = pytest.mark.asyncio


async def test_unqualified_assessment_opens_rectification_and_a_pass_closes_it(reg: Any) -> None:
    org = await reg.org(1)
    p = await reg.platform(org["id"])
    bus = reg.svc.runtime.bus

    def assessment(n: int, grade: str) -> LabAssessmentFinalized:
        return LabAssessmentFinalized(
            assessment_id=UUID(f"01a20000-0000-7000-8000-00000000000{n}"),
            platform_id=UUID(p["id"]),
            period="2021-2025" if n == 1 else "2026",
            grade=grade,
            score=55.0,
            finalized_at=datetime(2026, 6, 30, tzinfo=UTC),
        )

    async def state_is(expected: str) -> bool:
        current = (await reg.client.get(f"/platforms/{p['id']}", headers=reg.staff)).json()["state"]
        return bool(current == expected)

    await publish_as_producer(
        bus, LAB_ASSESSMENT_FINALIZED, assessment(1, "unqualified"), subject="a/1", sequence=1
    )
    await eventually(lambda: state_is("under_rectification"))
    await publish_as_producer(
        bus, LAB_ASSESSMENT_FINALIZED, assessment(2, "qualified"), subject="a/2", sequence=2
    )
    await eventually(lambda: state_is("operating"))
    types = [e["type"] for e in await reg.events("registry.platform.")]
    assert types == [
        "registry.platform.proposed",
        "registry.platform.rectification_opened",
        "registry.platform.rectification_closed",
    ]
    history = (await reg.client.get(f"/platforms/{p['id']}/history", headers=reg.staff)).json()["items"]
    assert history[1]["action"] == "open_rectification"
    assert history[1]["details"] == {
        "assessment_id": "01a20000-0000-7000-8000-000000000001",
        "grade": "unqualified",
        "period": "2021-2025",
    }


async def test_code_lists_cover_every_field_region_and_kind_with_zh_labels(reg: Any) -> None:
    codes = (await reg.client.get("/metadata/codes", headers=reg.auth("applicant"))).json()
    assert len(codes["fields"]) == 13
    assert [f["zh"] for f in codes["fields"]][:3] == ["数理", "化学", "天文与空间"]
    assert all(f["sub_fields"] for f in codes["fields"])
    assert len(codes["regions"]) == 12
    assert len(codes["platform_kinds"]) == 8
    assert {"code": "university_enterprise", "zh": "校企联合"} in codes["lab_types"]
    assert {"code": "merged", "zh": "已整合"} in codes["platform_states"]
    assert {"code": "strengthen", "zh": "充实"} in codes["platform_actions"]
    for name in ("industry_chains", "misconduct_types", "cluster_states", "advisor_rules", "titles"):
        assert codes[name] and all(item["zh"] for item in codes[name]), name
