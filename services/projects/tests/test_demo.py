"""The demo data `make run` loads: next year's calls, published and announced, loaded once."""

from __future__ import annotations

from typing import Any

import pytest

from projects.demo import load

pytestmark = pytest.mark.asyncio


async def test_demo_calls_are_published_once_with_their_events(world: Any) -> None:
    sessionmaker = world.svc.runtime.sessionmaker
    assert await load(sessionmaker, if_empty=True) == 3
    assert await load(sessionmaker, if_empty=True) == 0  # a second start changes nothing
    listed = (await world.client.get("/calls", headers=world.staff)).json()["items"]
    assert sorted(c["organisation_mode"] for c in listed) == ["horse_race", "open_competition", "unveiling"]
    assert {c["state"] for c in listed} == {"published"}
    assert len(await world.events("projects.call.published")) == 3
