"""The kit's audit trail route (GET /audit), the same in every service: for supervisors only."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from tests.helpers import org_body

pytestmark = pytest.mark.asyncio


async def test_the_audit_trail_shows_actor_time_action_reason_and_event_to_supervisors(
    start_service: Any, auth: Any
) -> None:
    async with start_service("registry") as registry:
        staff = auth("department_staff", user_id="staff-9")
        created = await registry.client.post("/organisations", json=org_body(901), headers=staff)
        assert created.status_code == 201, created.text
        org_id = created.json()["id"]
        query = {"entity_type": "organisation", "entity_id": org_id}

        supervisor = auth("department_staff", user_id="sup-1", duties=["supervision"])
        trail = await registry.client.get("/audit", params=query, headers=supervisor)
        assert trail.status_code == 200, trail.text
        page = trail.json()
        assert (page["total"], page["page"]) == (1, 1)
        entry = page["items"][0]
        assert (entry["actor_id"], entry["action"]) == ("staff-9", "organisation.registered")
        assert entry["occurred_at"] and "reason" in entry and entry["cause_event_id"] is None
        outbox = registry.runtime.tables.outbox
        async with registry.runtime.sessionmaker() as s:
            sent = (await s.execute(select(outbox.c.id, outbox.c.envelope))).one()
        assert entry["event_id"] == str(sent.id) and sent.envelope["actorid"] == "staff-9"

        for who in (staff, auth("administrator"), auth("department_staff", duties=["results"])):
            refused = await registry.client.get("/audit", params=query, headers=who)
            assert refused.status_code == 403 and refused.json()["required_duties"] == ["supervision"]
        unknown = await registry.client.get("/audit", params={**query, "since": "x"}, headers=supervisor)
        assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "query.since"
        missing = await registry.client.get("/audit", params={"entity_type": "x"}, headers=supervisor)
        assert missing.status_code == 422
