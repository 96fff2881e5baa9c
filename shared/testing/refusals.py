"""What every state refusal looks like to a caller (issue 17 §6), for the services' API tests."""

from __future__ import annotations

from typing import Any

import httpx

STATE_MEMBERS = ("current_state", "current_state_zh", "allowed_actions", "allowed_actions_zh")


def assert_state_refusal(
    response: httpx.Response, *, state: str, state_zh: str, allowed: list[str], allowed_zh: list[str]
) -> dict[str, Any]:
    """A 409 problem naming the state and what remains, whose Chinese text uses the state's label
    and none of the codes. Returns the problem for further checks."""
    assert response.status_code == 409, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert {k: body.get(k) for k in STATE_MEMBERS} == {
        "current_state": state,
        "current_state_zh": state_zh,
        "allowed_actions": allowed,
        "allowed_actions_zh": allowed_zh,
    }, body
    zh = body["detail_zh"]
    assert state_zh in zh, zh
    assert not any(code in zh for code in [state, *allowed]), zh
    return body
