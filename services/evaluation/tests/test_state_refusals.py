"""Refusals because of a round's or an expert's state name it by its Chinese label, with what remains."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

import pytest

from shared.testing.refusals import assert_state_refusal

pytestmark = pytest.mark.asyncio


async def test_a_round_refuses_a_step_in_its_own_words(office: Any) -> None:
    await office.expert()
    call = uuid4()
    await office.item(call)
    round_id = await office.round_with(call, 1)
    too_early = await office.client.post(f"/rounds/{round_id}/open", headers=office.drawer)
    body = assert_state_refusal(
        too_early,
        state="collecting",
        state_zh="收集项目",
        allowed=["request", "configure", "edit_item"],
        allowed_zh=["申请专家", "调整评审设置", "修改评审对象"],
    )
    assert body["detail_zh"] == (
        "当前状态「收集项目」不允许执行「开始评审」，可执行：「申请专家」、「调整评审设置」、「修改评审对象」"
    )


async def test_a_suspended_expert_cannot_reconfirm_and_is_told_what_remains(office: Any) -> None:
    expert = await office.expert()
    approve_again = await office.client.post(
        f"/experts/{expert['id']}/approve", json={}, headers=office.db_staff
    )
    assert_state_refusal(
        approve_again,
        state="active",
        state_zh="在库",
        allowed=["suspend", "retire", "reconfirm"],
        allowed_zh=["暂停", "退出专家库", "确认信息"],
    )
    suspended = await office.client.post(
        f"/experts/{expert['id']}/suspend", json={"reason": "核查中"}, headers=office.db_staff
    )
    assert suspended.status_code == 200, suspended.text
    refused = await office.client.post("/experts/me/reconfirm", headers=office.as_person(expert["person_id"]))
    body = assert_state_refusal(
        refused,
        state="suspended",
        state_zh="暂停",
        allowed=["reinstate", "retire"],
        allowed_zh=["恢复", "退出专家库"],
    )
    assert body["code"] == "not_active"
