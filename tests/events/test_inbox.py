"""The inbox consumer: exactly-once application, poison events, gaps and healing."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from pydantic import BaseModel
from sqlalchemy import select

from shared.events.consumer import Handlers, InboxConsumer, ReceivedEvent
from shared.events.envelope import EventPayload, EventType
from shared.testing.servers import eventually
from shared.uow import UnitOfWork
from tests.helpers import count_rows, org_body

pytestmark = pytest.mark.asyncio


class OrgSeen(EventPayload):
    id: str
    name: str


REGISTERED = EventType("registry.organisation.registered", OrgSeen)


class Switch(BaseModel):
    broken_names: set[str] = set()


def counting_consumer(svc: Any, switch: Switch) -> InboxConsumer:
    """A consumer (on a service's own database) whose handler leaves one audit row per apply."""
    handlers = Handlers()

    @handlers.on(REGISTERED)
    async def note(uow: UnitOfWork, event: ReceivedEvent[OrgSeen]) -> None:
        if event.payload.name in switch.broken_names:
            raise RuntimeError(f"cannot apply {event.payload.name}")
        await uow.record("test.applied", entity_type="organisation", entity_id=event.payload.id)

    rt = svc.runtime
    return InboxConsumer("audit", rt.engine, rt.sessionmaker, rt.tables, rt.bus, rt.settings, handlers)


async def applied(svc: Any, org_id: str | None = None) -> int:
    a = svc.runtime.tables.audit_log
    where = [a.c.action == "test.applied"]
    if org_id is not None:
        where.append(a.c.entity_id == org_id)
    return await count_rows(svc, a, *where)


async def test_the_same_event_delivered_twice_is_applied_once(start_service: Any, auth: Any) -> None:
    async with start_service("registry") as registry, start_service("projects") as projects:
        consumer = counting_consumer(projects, Switch())
        consumer.start()
        try:
            org_id = (
                await registry.client.post(
                    "/organisations", json=org_body(1), headers=auth("department_staff")
                )
            ).json()["id"]
            await eventually(lambda: applied(projects, org_id), timeout=10)
            # The broker (or an operator) delivers the very same event again, as a new message.
            outbox = registry.runtime.tables.outbox
            async with registry.runtime.sessionmaker() as session:
                envelope, seq = (await session.execute(select(outbox.c.envelope, outbox.c.sequence))).one()
            envelope["producerseq"] = seq
            js = registry.runtime.bus.js
            for copy in range(2):
                await js.publish(
                    registry.runtime.bus.subject_for(envelope["type"]),
                    json.dumps(envelope).encode(),
                    headers={"Nats-Msg-Id": f"copy-{copy}"},
                )
            await eventually(lambda: _drained(consumer, expected_delivered=3), timeout=10)
            assert await applied(projects, org_id) == 1
            assert consumer.applied_total == 1
        finally:
            await consumer.stop()


async def _drained(consumer: InboxConsumer, expected_delivered: int) -> bool:
    info = await consumer.bus.js.consumer_info(
        consumer.bus.stream_for("registry"), consumer.durable_name("registry")
    )
    return (
        info.delivered.stream_seq >= expected_delivered
        and info.num_ack_pending == 0
        and info.num_pending == 0
    )


async def test_a_failing_event_is_parked_others_flow_and_replay_applies_it_once(
    start_service: Any, auth: Any
) -> None:
    async with (
        start_service("registry") as registry,
        start_service("projects", consumer_max_deliveries=3) as projects,
    ):
        switch = Switch(broken_names={"测试单位0002"})
        consumer = counting_consumer(projects, switch)
        consumer.start()
        try:
            staff = auth("department_staff")
            ids = [
                (await registry.client.post("/organisations", json=org_body(n), headers=staff)).json()["id"]
                for n in range(1, 6)
            ]
            poison = ids[1]
            dead = projects.runtime.tables.dead_letter
            await eventually(lambda: count_rows(projects, dead), timeout=15)
            await eventually(lambda: _equals(applied(projects), 4), timeout=10)
            assert await applied(projects, poison) == 0
            async with projects.runtime.sessionmaker() as session:
                parked = (await session.execute(select(dead))).one()
            assert parked.event_type == "registry.organisation.registered"
            assert parked.attempts == 3
            assert "cannot apply 测试单位0002" in parked.error

            # The projects service's own admin endpoint lists it; the fix arrives; replay.
            admin = auth("administrator")
            listed = (await projects.client.get("/admin/events/dead-letters", headers=admin)).json()
            assert [item["event_id"] for item in listed["items"]] == [str(parked.event_id)]
            switch.broken_names.clear()
            projects.runtime.consumer = consumer  # the endpoint replays through this consumer
            replay = await projects.client.post(
                f"/admin/events/dead-letters/{parked.id}/replay", headers=admin
            )
            assert replay.status_code == 200, replay.text
            assert replay.json() == {"outcome": "applied"}
            assert await applied(projects, poison) == 1
            again = await projects.client.post(
                f"/admin/events/dead-letters/{parked.id}/replay", headers=admin
            )
            assert again.status_code == 409
            assert await applied(projects, poison) == 1
            assert await applied(projects) == 5
        finally:
            await consumer.stop()


async def _equals(awaitable: Any, expected: int) -> bool:
    return await awaitable == expected


async def test_replay_of_a_still_failing_event_keeps_it_parked(start_service: Any, auth: Any) -> None:
    async with (
        start_service("registry") as registry,
        start_service("projects", consumer_max_deliveries=2) as projects,
    ):
        switch = Switch(broken_names={"测试单位0001"})
        consumer = counting_consumer(projects, switch)
        consumer.start()
        try:
            await registry.client.post("/organisations", json=org_body(1), headers=auth("department_staff"))
            dead = projects.runtime.tables.dead_letter
            await eventually(lambda: count_rows(projects, dead), timeout=15)
            async with projects.runtime.sessionmaker() as session:
                parked_id = (await session.execute(select(dead.c.id))).scalar_one()
            projects.runtime.consumer = consumer
            replay = await projects.client.post(
                f"/admin/events/dead-letters/{parked_id}/replay", headers=auth("administrator")
            )
            assert replay.status_code == 409
            assert replay.json()["code"] == "replay_failed"
            assert await count_rows(projects, dead, dead.c.status == "parked") == 1
            assert await applied(projects) == 0
        finally:
            await consumer.stop()


# Republishing the whole range, or only the lost events: then the run they complete goes
# on past them to the events received after the hole.
@pytest.mark.parametrize("republished", [(1, 10), (4, 6)])
async def test_events_lost_by_the_broker_show_as_a_gap_and_republishing_heals_it(
    start_service: Any, auth: Any, republished: tuple[int, int]
) -> None:
    async with start_service("registry") as registry:
        staff = auth("department_staff")
        for n in range(1, 11):
            await registry.client.post("/organisations", json=org_body(n), headers=staff)
        rt = registry.runtime
        unsent = rt.tables.outbox.c.sent_at.is_(None)
        await eventually(lambda: _equals(count_rows(registry, rt.tables.outbox, unsent), 0), timeout=10)
        stream = rt.bus.stream_for("registry")
        for stream_seq in range(1, 11):
            msg = await rt.bus.js.get_msg(stream, stream_seq)
            if json.loads(msg.data)["producerseq"] in (4, 5, 6):
                await rt.bus.js.delete_msg(stream, stream_seq)

        async with start_service("projects") as projects:
            await eventually(lambda: _has_inbox(projects, 7), timeout=10)
            admin = auth("administrator")

            async def gap_reported() -> Any:
                return (await projects.client.get("/admin/events/gaps", headers=admin)).json()["gaps"]

            await eventually(gap_reported, timeout=5)
            gaps = await gap_reported()
            assert gaps == [
                {
                    "consumer": "projects",
                    "source": "registry",
                    "event_type": "registry.organisation.registered",
                    "contiguous_upto": 3,
                    "max_seen": 10,
                    "missing_ranges": [{"from": 4, "to": 6}],
                    "since": gaps[0]["since"],
                }
            ]
            metrics = (await projects.client.get("/metrics")).text
            assert "event_gaps 1.0" in metrics

            heal = await registry.client.post(
                "/admin/events/outbox/republish",
                json={
                    "event_type": "registry.organisation.registered",
                    "from_sequence": republished[0],
                    "to_sequence": republished[1],
                },
                headers=admin,
            )
            assert heal.json() == {"republished": republished[1] - republished[0] + 1}
            await eventually(lambda: _has_inbox(projects, 10), timeout=10)
            await eventually(lambda: _no_gaps(projects, admin), timeout=5)
            await asyncio.sleep(0.3)
            assert projects.runtime.consumer.applied_total == 10
            # the run goes on past the lost events to what arrived after them
            cp = projects.runtime.tables.consumer_progress
            async with projects.runtime.sessionmaker() as session:
                progress = (await session.execute(select(cp.c.contiguous_upto, cp.c.max_seen))).all()
            assert [tuple(p) for p in progress] == [(10, 10)]
            views = projects.runtime.definition.metadata.tables["organisations"]
            assert await count_rows(projects, views) == 10


async def _has_inbox(svc: Any, n: int) -> bool:
    return await count_rows(svc, svc.runtime.tables.inbox) >= n


async def _no_gaps(svc: Any, admin: dict[str, str]) -> bool:
    return (await svc.client.get("/admin/events/gaps", headers=admin)).json()["gaps"] == []


async def test_republish_and_replay_need_the_administrator_role(start_service: Any, auth: Any) -> None:
    async with start_service("registry") as registry:
        response = await registry.client.post(
            "/admin/events/outbox/republish",
            json={"event_type": "registry.organisation.registered", "from_sequence": 1, "to_sequence": 2},
            headers=auth("department_staff"),
        )
        assert response.status_code == 403


async def test_an_unreadable_message_is_parked_without_blocking(start_service: Any, auth: Any) -> None:
    async with start_service("registry") as registry, start_service("projects") as projects:
        await registry.runtime.bus.wait_connected(timeout=10)
        js = registry.runtime.bus.js
        await js.publish(
            registry.runtime.bus.subject_for("registry.organisation.registered"), b"\xff not json"
        )
        await registry.client.post("/organisations", json=org_body(3), headers=auth("department_staff"))
        await eventually(lambda: _has_inbox(projects, 1), timeout=10)
        dead = projects.runtime.tables.dead_letter
        await eventually(lambda: count_rows(projects, dead), timeout=10)
