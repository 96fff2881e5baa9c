"""The event path end to end: outbox → relay → JetStream → inbox, through faults.

Every test runs the real services on real PostgreSQL and real NATS JetStream; tests that
stop or lose NATS data use a NATS server of their own.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from sqlalchemy import event, select

from registry.organisations.schemas import OrganisationCreate
from registry.organisations.service import register
from shared.events.relay import OutboxRelay
from shared.testing.servers import eventually
from shared.uow import Actor, UnitOfWork
from tests.helpers import count_rows, ids_of, org_body

pytestmark = pytest.mark.asyncio


async def post_orgs(registry: Any, staff: dict[str, str], numbers: range) -> list[str]:
    ids = []
    for n in numbers:
        response = await registry.client.post("/organisations", json=org_body(n), headers=staff)
        assert response.status_code == 201, response.text
        ids.append(response.json()["id"])
    return ids


async def read_model_ids(svc: Any) -> set[str]:
    module = __import__(f"{svc.name}.organisations.models", fromlist=["OrganisationView"])
    return {str(i) for i in await ids_of(svc, module.OrganisationView.id)}


async def outbox_ids(registry: Any) -> set[Any]:
    return await ids_of(registry, registry.runtime.tables.outbox.c.id)


async def inbox_ids(svc: Any) -> set[Any]:
    return await ids_of(svc, svc.runtime.tables.inbox.c.event_id)


async def stream_message_count(svc: Any, source: str = "registry") -> int:
    info = await svc.runtime.bus.js.stream_info(svc.runtime.bus.stream_for(source))
    return int(info.state.messages)


class RelayCrash(Exception):
    """Stands for the relay process dying at one exact point."""


async def test_organisation_registered_through_gateway_reaches_both_read_models(
    start_service: Any, auth: Any
) -> None:
    async with (
        start_service("registry", http=True) as registry,
        start_service("projects", http=True) as projects,
        start_service("evaluation", http=True) as evaluation,
        start_service(
            "gateway",
            http=True,
            registry_url=registry.base_url,
            projects_url=projects.base_url,
            evaluation_url=evaluation.base_url,
        ) as gateway,
    ):
        staff = auth("department_staff")
        response = await gateway.client.post("/api/registry/organisations", json=org_body(1), headers=staff)
        assert response.status_code == 201, response.text
        org_id = response.json()["id"]
        started = asyncio.get_running_loop().time()

        async def visible_everywhere() -> bool:
            seen = []
            for service in ("projects", "evaluation"):
                r = await gateway.client.get(f"/api/{service}/organisations/{org_id}", headers=staff)
                seen.append(r.status_code == 200 and r.json()["credit_code"] == org_body(1)["credit_code"])
            return all(seen)

        await eventually(visible_everywhere, timeout=2.0)
        assert asyncio.get_running_loop().time() - started < 2.0

        renamed = await gateway.client.patch(
            f"/api/registry/organisations/{org_id}", json={"name": "改名后的单位"}, headers=staff
        )
        assert renamed.status_code == 200

        async def renamed_everywhere() -> bool:
            names = [
                (await gateway.client.get(f"/api/{s}/organisations/{org_id}", headers=staff)).json()["name"]
                for s in ("projects", "evaluation")
            ]
            return names == ["改名后的单位", "改名后的单位"]

        await eventually(renamed_everywhere, timeout=2.0)
        assert response.headers["x-request-id"]


async def test_writes_during_a_nats_outage_are_delivered_exactly_once_after_it(
    start_service: Any, auth: Any, own_nats: Any
) -> None:
    nats = own_nats()
    async with (
        start_service("registry", nats_url=nats.url) as registry,
        start_service("projects", nats_url=nats.url) as projects,
        start_service("evaluation", nats_url=nats.url) as evaluation,
    ):
        await registry.runtime.bus.wait_connected(timeout=10)
        nats.stop()
        staff = auth("department_staff")
        created = await post_orgs(registry, staff, range(200))
        assert len(created) == 200
        unsent = registry.runtime.tables.outbox.c.sent_at.is_(None)
        assert await count_rows(registry, registry.runtime.tables.outbox, unsent) == 200

        nats.restart()

        async def all_applied() -> bool:
            return len(await read_model_ids(projects)) == 200 and len(await read_model_ids(evaluation)) == 200

        await eventually(all_applied, timeout=30)
        published = await outbox_ids(registry)
        assert await count_rows(registry, registry.runtime.tables.outbox, unsent) == 0
        for consumer in (projects, evaluation):
            assert await inbox_ids(consumer) == published
            assert await read_model_ids(consumer) == set(created)
            assert consumer.runtime.consumer.applied_total == 200
            assert await count_rows(consumer, consumer.runtime.tables.dead_letter) == 0


async def _publish_then_crash(registry: Any) -> None:
    async def crash(rows: Any) -> None:
        raise RelayCrash

    crashing = OutboxRelay(
        registry.runtime.engine,
        registry.runtime.tables,
        registry.runtime.bus,
        registry.runtime.settings,
        after_publish=crash,
    )
    with pytest.raises(RelayCrash):
        await crashing.run_once()


async def test_relay_dying_after_publish_before_marking_sent_publishes_again_and_consumers_apply_once(
    start_service: Any, auth: Any
) -> None:
    async with (
        start_service("registry") as registry,
        start_service("projects") as projects,
    ):
        await registry.runtime.relay.stop()
        await registry.runtime.bus.wait_connected(timeout=10)
        created = await post_orgs(registry, auth("department_staff"), range(20))
        await _publish_then_crash(registry)
        unsent = registry.runtime.tables.outbox.c.sent_at.is_(None)
        assert await count_rows(registry, registry.runtime.tables.outbox, unsent) == 20
        assert await stream_message_count(registry) == 20

        restarted = OutboxRelay(
            registry.runtime.engine, registry.runtime.tables, registry.runtime.bus, registry.runtime.settings
        )
        assert await restarted.run_once() == 20
        assert await count_rows(registry, registry.runtime.tables.outbox, unsent) == 0
        assert await stream_message_count(registry) == 20, "JetStream drops the re-publish by Nats-Msg-Id"

        await eventually(lambda: _has(projects, 20), timeout=10)
        await asyncio.sleep(0.5)
        assert await read_model_ids(projects) == set(created)
        assert projects.runtime.consumer.applied_total == 20


async def _has(svc: Any, n: int) -> bool:
    return len(await inbox_ids(svc)) >= n


async def test_republish_after_the_duplicate_window_is_still_applied_once(
    start_service: Any, auth: Any
) -> None:
    async with (
        start_service("registry", stream_duplicate_window_seconds=0.5) as registry,
        start_service("projects") as projects,
    ):
        await registry.runtime.relay.stop()
        await registry.runtime.bus.wait_connected(timeout=10)
        await post_orgs(registry, auth("department_staff"), range(10))
        await _publish_then_crash(registry)
        await eventually(lambda: _has(projects, 10), timeout=10)
        await asyncio.sleep(2.5)  # the broker forgets the message ids

        restarted = OutboxRelay(
            registry.runtime.engine, registry.runtime.tables, registry.runtime.bus, registry.runtime.settings
        )
        assert await restarted.run_once() == 10
        assert await stream_message_count(registry) == 20, "past the window JetStream keeps both copies"

        async def redeliveries_consumed() -> bool:
            info = await projects.runtime.bus.js.consumer_info(
                projects.runtime.bus.stream_for("registry"),
                projects.runtime.consumer.durable_name("registry"),
            )
            return info.num_pending == 0 and info.num_ack_pending == 0 and info.delivered.stream_seq == 20

        await eventually(redeliveries_consumed, timeout=10)
        assert projects.runtime.consumer.applied_total == 10
        assert len(await inbox_ids(projects)) == 10


async def test_a_long_transaction_committing_last_is_still_published(start_service: Any, auth: Any) -> None:
    async with (
        start_service("registry") as registry,
        start_service("projects") as projects,
    ):
        long_session = registry.runtime.sessionmaker()
        uow = UnitOfWork(long_session, registry.runtime.tables, actor=Actor("staff-long"))
        slow = await register(uow, OrganisationCreate(**org_body(900)))
        quick = await post_orgs(registry, auth("department_staff"), range(3))
        await eventually(lambda: _has(projects, 3), timeout=10)
        outbox = registry.runtime.tables.outbox
        async with registry.runtime.sessionmaker() as session:
            positions = dict((await session.execute(select(outbox.c.subject, outbox.c.position))).all())
        assert len(positions) == 3, "the long transaction's row is not visible yet"

        await uow.commit()
        await long_session.close()
        await eventually(lambda: _has(projects, 4), timeout=10)
        assert await read_model_ids(projects) == {*quick, str(slow.id)}
        async with registry.runtime.sessionmaker() as session:
            slow_position = (
                await session.execute(
                    select(outbox.c.position).where(outbox.c.subject == f"organisation/{slow.id}")
                )
            ).scalar_one()
        assert slow_position < min(positions.values()), "it took its place in line before the others"


async def test_events_of_one_organisation_arrive_in_the_order_they_were_written(
    start_service: Any, auth: Any
) -> None:
    async with start_service("registry") as registry, start_service("projects") as projects:
        staff = auth("department_staff")
        org_id = (await post_orgs(registry, staff, range(1)))[0]
        for i in range(15):
            r = await registry.client.patch(
                f"/organisations/{org_id}", json={"name": f"名称{i:02d}"}, headers=staff
            )
            assert r.status_code == 200
        await eventually(lambda: _has(projects, 16), timeout=10)
        sub = await projects.runtime.bus.js.pull_subscribe(
            projects.runtime.bus.subject_for("registry.>"), stream=projects.runtime.bus.stream_for("registry")
        )
        msgs = await sub.fetch(16, timeout=5)
        versions = [json.loads(m.data)["data"]["version"] for m in msgs]
        assert versions == list(range(1, 17))
        response = await projects.client.get(f"/organisations/{org_id}", headers=staff)
        assert response.json()["name"] == "名称14"


async def test_two_relays_together_publish_each_event_once_in_order(start_service: Any, auth: Any) -> None:
    async with start_service("registry") as registry:
        await registry.runtime.relay.stop()
        await registry.runtime.bus.wait_connected(timeout=10)
        staff = auth("department_staff")
        ids = await post_orgs(registry, staff, range(30))
        for org_id in ids[:10]:
            await registry.client.patch(
                f"/organisations/{org_id}", json={"address": "新地址一号"}, headers=staff
            )
        rt = registry.runtime
        relays = [OutboxRelay(rt.engine, rt.tables, rt.bus, rt.settings) for _ in range(2)]
        for relay in relays:
            relay.settings = rt.settings.model_copy(update={"relay_batch_size": 7})
        while await relays[0].backlog():
            await asyncio.gather(*(r.run_once() for r in relays))
        assert await stream_message_count(registry) == 40
        sub = await rt.bus.js.pull_subscribe(
            rt.bus.subject_for("registry.>"), stream=rt.bus.stream_for("registry")
        )
        msgs = await sub.fetch(40, timeout=5)
        envelopes = [json.loads(m.data) for m in msgs]
        assert len({e["id"] for e in envelopes}) == 40
        for org_id in ids[:10]:
            kinds = [e["type"] for e in envelopes if e["data"]["id"] == org_id]
            assert kinds == ["registry.organisation.registered", "registry.organisation.updated"]
        for kind, expected in (
            ("registry.organisation.registered", 30),
            ("registry.organisation.updated", 10),
        ):
            seqs = sorted(e["producerseq"] for e in envelopes if e["type"] == kind)
            assert seqs == list(range(1, expected + 1))
        unsent = rt.tables.outbox.c.sent_at.is_(None)
        assert await count_rows(registry, rt.tables.outbox, unsent) == 0


async def test_an_idle_relay_waits_for_commits_instead_of_querying_in_a_loop(
    start_service: Any, auth: Any
) -> None:
    """An idle service costs the database nothing but the relay's poll: a commit wakes the
    relay, and an empty claim does not wake it again at once."""
    async with start_service("registry") as registry, start_service("projects") as projects:
        staff = auth("department_staff")
        await post_orgs(registry, staff, range(1))
        await eventually(lambda: _outbox_all_sent(registry), timeout=10)
        relay = registry.runtime.relay
        statements: list[str] = []

        def count(*args: Any) -> None:
            statements.append(" ".join(str(args[2]).split())[:30])

        engine = relay.engine.sync_engine
        event.listen(engine, "before_cursor_execute", count)
        try:
            await asyncio.sleep(2.0)
        finally:
            event.remove(engine, "before_cursor_execute", count)
        # One round per poll interval: a sequencing statement and a claim. A relay that
        # claims again as soon as an empty claim ends runs hundreds of rounds in two seconds.
        polls = 2.0 / relay.settings.relay_poll_interval_seconds + 1
        assert len(statements) <= 2 * polls, (len(statements), sorted(set(statements)))
        published = relay.published_total
        [org_id] = await post_orgs(registry, staff, range(1, 2))
        await eventually(lambda: _outbox_all_sent(registry), timeout=2)
        assert relay.published_total == published + 1
        await eventually(lambda: _in_read_model(projects, org_id), timeout=5)


async def _outbox_all_sent(registry: Any) -> bool:
    unsent = registry.runtime.tables.outbox.c.sent_at.is_(None)
    return await count_rows(registry, registry.runtime.tables.outbox, unsent) == 0


async def _in_read_model(svc: Any, org_id: str) -> bool:
    return org_id in await read_model_ids(svc)
