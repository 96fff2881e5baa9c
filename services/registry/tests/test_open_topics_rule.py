"""持续设立开放课题 (seed 000): a lab without open topics in a year is an advisor finding."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.asyncio
ON = {"on": "2026-11-23"}


async def topic_finding(reg: Any, code: str) -> dict[str, Any] | None:
    advice = (await reg.client.get("/reorganisation/advice", params=ON, headers=reg.staff)).json()
    for lab in advice["labs"]:
        if lab["code"] == code:
            return next((f for f in lab["findings"] if f["rule"] == "no_open_topics"), None)
    return None


async def test_a_year_without_open_topics_is_a_finding_and_the_window_is_policy(reg: Any) -> None:
    org = await reg.org(1)
    lab = await reg.platform(org["id"])
    finding = await topic_finding(reg, lab["code"])
    assert finding is not None and finding["suggested_action_zh"] == "调整"
    assert finding["evidence"] == {"years_without_topics": [2025], "years_checked": [2025]}

    topic = {"platform_id": lab["id"], "year": 2025, "title": "稀土永磁材料开放课题"}
    assert (await reg.client.post("/topics", json=topic, headers=reg.staff)).status_code == 201
    assert await topic_finding(reg, lab["code"]) is None

    changed = await reg.client.put(
        "/policy/open_topic_years", json={"value": 3, "reason": "检查近三年"}, headers=reg.staff
    )
    assert changed.status_code == 200, changed.text
    finding = await topic_finding(reg, lab["code"])
    assert finding is not None
    assert finding["evidence"] == {"years_without_topics": [2023, 2024], "years_checked": [2023, 2024, 2025]}


async def test_years_before_approval_are_not_checked(reg: Any) -> None:
    org = await reg.org(1)
    young = await reg.platform(org["id"], approved_on="2025-09-01")
    assert await topic_finding(reg, young["code"]) is None
