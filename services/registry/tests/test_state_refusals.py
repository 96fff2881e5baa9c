"""Refusals because of an instrument's, a platform's or a bar's state name it in Chinese."""

from __future__ import annotations

from typing import Any

import pytest

from shared.testing.refusals import assert_state_refusal

from .test_integrity import bar

pytestmark = pytest.mark.asyncio


async def test_a_retired_instrument_is_read_only_and_nothing_remains(reg: Any) -> None:
    org = await reg.org(1)
    lab = await reg.platform(org["id"])
    director = reg.auth("lab_director", user_id="director-1", platforms=[lab["id"]])
    body = {
        "platform_id": lab["id"],
        "owner_unit_id": org["id"],
        "name": "场发射扫描电子显微镜",
        "category": "analytical",
        "value_fen": 350_000_000,
    }
    instrument = (await reg.client.post("/instruments", json=body, headers=director)).json()
    path = f"/instruments/{instrument['id']}"
    retired = await reg.client.post(f"{path}/retire", json={"reason": "设备老化报废"}, headers=director)
    assert retired.status_code == 200, retired.text
    again = await reg.client.post(f"{path}/retire", json={"reason": "重复报废"}, headers=director)
    assert_state_refusal(again, state="retired", state_zh="已报废/调出", allowed=[], allowed_zh=[])
    edit = await reg.client.patch(path, json={"open_for_sharing": True, "reason": "开放"}, headers=director)
    problem = assert_state_refusal(edit, state="retired", state_zh="已报废/调出", allowed=[], allowed_zh=[])
    assert problem["detail_zh"] == "仪器已报废/调出，档案只读"


async def test_a_lifted_bar_is_not_lifted_twice(reg: Any) -> None:
    person = await reg.person(1)
    record = await bar(reg, person["id"], barred_until=None, scope=["all"])
    path = f"/integrity/{record['id']}/lift"
    assert (await reg.client.post(path, json={"reason": "复核撤销"}, headers=reg.staff)).status_code == 200
    again = await reg.client.post(path, json={"reason": "重复"}, headers=reg.staff)
    problem = assert_state_refusal(again, state="lifted", state_zh="已解除", allowed=[], allowed_zh=[])
    assert problem["lifted_at"]
