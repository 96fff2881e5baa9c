"""Host units and 盟市 see their own findings (seed 000 各盟市科技局…全面梳理)."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.asyncio
ON = {"on": "2026-11-23"}


async def codes_seen(reg: Any, headers: dict[str, str], **params: Any) -> set[str]:
    response = await reg.client.get("/reorganisation/advice", params=ON | params, headers=headers)
    assert response.status_code == 200, response.text
    return {lab["code"] for lab in response.json()["labs"]}


async def test_a_host_unit_admin_and_a_municipal_bureau_read_only_their_own_labs(reg: Any) -> None:
    first, second = await reg.org(1), await reg.org(2)
    # Registered without a director: every lab has a finding (未配备实验室主任).
    a = await reg.platform(first["id"], region="150200", research_directions=["稀土永磁材料"])
    b = await reg.platform(
        second["id"],
        name="内蒙古自治区乳业重点实验室",
        field="agriculture",
        sub_field="dairy",
        region="150100",
        research_directions=["乳品加工"],
    )
    c = await reg.platform(
        second["id"],
        name="内蒙古自治区包头草原重点实验室",
        field="agriculture",
        sub_field="grassland",
        region="150200",
        research_directions=["草原生态修复"],
    )
    assert await codes_seen(reg, reg.staff) == {a["code"], b["code"], c["code"]}

    host = reg.auth("host_unit_admin", unit_id=first["id"])
    assert await codes_seen(reg, host) == {a["code"]}
    assert await codes_seen(reg, host, host_unit_id=second["id"]) == set()

    baotou = reg.auth("competent_department", regions=["150200"])
    assert await codes_seen(reg, baotou) == {a["code"], c["code"]}
    assert await codes_seen(reg, baotou, region="150100") == set()

    # A bureau account without its 盟市 in the token sees nothing rather than everything.
    assert await codes_seen(reg, reg.auth("competent_department")) == set()
    for outsider in (reg.auth("applicant"), reg.auth("lab_director"), reg.auth("expert")):
        refused = await reg.client.get("/reorganisation/advice", params=ON, headers=outsider)
        assert refused.status_code == 403
        assert refused.json()["detail_zh"] == "无权查看优化重组建议"


async def test_a_municipal_bureau_token_as_the_gateway_issues_it_reads_only_its_own_region(reg: Any) -> None:
    """The gateway puts the 盟市 of a competent-department grant into ``scopes.regions`` beside the
    bureau's own unit in ``scopes.units``; the units widen nothing here, the 盟市 decide."""
    bureau_unit, hohhot_host, baotou_host = await reg.org(1), await reg.org(2), await reg.org(3)
    in_hohhot = await reg.platform(hohhot_host["id"], region="150100", research_directions=["稀土永磁材料"])
    in_baotou = await reg.platform(
        baotou_host["id"],
        name="内蒙古自治区包头稀土冶金重点实验室",
        sub_field="rare_earth",
        region="150200",
        research_directions=["稀土冶金分离"],
    )
    in_wuhai = await reg.platform(
        baotou_host["id"],
        name="内蒙古自治区乌海煤化工重点实验室",
        field="energy",
        sub_field="coal",
        region="150300",
        research_directions=["煤焦化副产品利用"],
    )
    claims = {"unit_id": bureau_unit["id"], "units": [bureau_unit["id"], hohhot_host["id"]]}
    baotou = reg.auth("competent_department", **claims, regions=["150200"])
    assert await codes_seen(reg, baotou) == {in_baotou["code"]}
    assert await codes_seen(reg, baotou, field="energy") == set()
    both = reg.auth("competent_department", **claims, regions=["150200", "150300"])
    assert await codes_seen(reg, both) == {in_baotou["code"], in_wuhai["code"]}
    assert in_hohhot["code"] not in await codes_seen(reg, both)
