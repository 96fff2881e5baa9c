"""A refusal because of an account's or a partner's status names it in Chinese and what remains."""

from __future__ import annotations

from typing import Any

import pytest

from shared.testing.refusals import assert_state_refusal

from .conftest import admin_headers
from .test_partners import register_partner
from .test_sign_in import make_account

pytestmark = pytest.mark.asyncio


async def test_account_status_refusals_name_the_status_and_the_remaining_steps(gateway: Any) -> None:
    account = await make_account(gateway)
    admin = await admin_headers(gateway)
    path = f"/accounts/{account['id']}"

    approve_active = await gateway.client.post(f"{path}/approve", json={}, headers=admin)
    assert_state_refusal(
        approve_active, state="active", state_zh="正常", allowed=["disable"], allowed_zh=["停用"]
    )
    enable_active = await gateway.client.post(f"{path}/enable", json={}, headers=admin)
    assert_state_refusal(
        enable_active, state="active", state_zh="正常", allowed=["disable"], allowed_zh=["停用"]
    )

    assert (
        await gateway.client.post(f"{path}/disable", json={"reason": "离职"}, headers=admin)
    ).status_code == 200
    again = await gateway.client.post(f"{path}/disable", json={"reason": "离职"}, headers=admin)
    body = assert_state_refusal(
        again, state="disabled", state_zh="已停用", allowed=["enable"], allowed_zh=["启用"]
    )
    assert body["detail_zh"] == "账号当前状态为「已停用」，不能停用"
    grant = await gateway.client.post(
        f"{path}/grants", json={"role": "expert", "reason": "聘任"}, headers=admin
    )
    assert_state_refusal(grant, state="disabled", state_zh="已停用", allowed=["enable"], allowed_zh=["启用"])


async def test_partner_already_disabled_is_told_it_may_only_be_enabled(gateway: Any) -> None:
    partner = (await register_partner(gateway))["partner"]
    admin = await admin_headers(gateway)
    assert (await gateway.client.post(f"/partners/{partner['id']}/disable", headers=admin)).status_code == 200
    again = await gateway.client.post(f"/partners/{partner['id']}/disable", headers=admin)
    assert_state_refusal(again, state="disabled", state_zh="已停用", allowed=["enable"], allowed_zh=["启用"])
