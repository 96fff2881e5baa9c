"""Idempotency-Key on writes, and a commit whose outcome is unknown, through a service's API.

A repeat of a keyed write gets the first answer and writes nothing twice; the same key with
another request is a 422, a repeat while the first is in progress a 409. When the connection
breaks during COMMIT the answer says "outcome unknown" (not "not saved"), and a retry with the
same key settles it either way: the first answer if the change was stored, the change now if
it was not.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import asyncpg
import pytest
from sqlalchemy import event

from shared.db import GuardedSession, asyncpg_dsn
from shared.http.idempotency import LOCK_CLASS
from tests.helpers import org_body

pytestmark = pytest.mark.asyncio

KEY = "5f2b8c1e-7a44-4c1b-9e0a-2f6a1d3c9b70"


def keyed(headers: dict[str, str], key: str = KEY) -> dict[str, str]:
    return {**headers, "Idempotency-Key": f'"{key}"'}


async def _count(registry: Any, staff: dict[str, str]) -> int:
    listed = await registry.client.get("/organisations", headers=staff)
    assert listed.status_code == 200, listed.text
    total: int = listed.json()["total"]
    return total


async def test_a_repeated_write_gets_the_first_answer_and_writes_once(start_service: Any, auth: Any) -> None:
    async with start_service("registry") as registry:
        staff = auth("department_staff")
        first = await registry.client.post("/organisations", json=org_body(1), headers=keyed(staff))
        assert first.status_code == 201, first.text
        assert "idempotent-replayed" not in first.headers
        again = await registry.client.post("/organisations", json=org_body(1), headers=keyed(staff))
        assert again.status_code == 201, again.text
        assert again.headers["idempotent-replayed"] == "true"
        assert again.json() == first.json()
        assert again.headers["content-type"] == first.headers["content-type"]
        assert await _count(registry, staff) == 1

        other_body = await registry.client.post("/organisations", json=org_body(2), headers=keyed(staff))
        assert other_body.status_code == 422, other_body.text
        assert other_body.headers["content-type"].startswith("application/problem+json")
        assert other_body.json()["code"] == "idempotency_key_reused"
        assert other_body.json()["errors"][0]["field"] == "Idempotency-Key"
        assert other_body.json()["errors"][0]["message_zh"]
        assert await _count(registry, staff) == 1

        # keys are the caller's own: another caller's same key is another request
        colleague = auth("department_staff", user_id="user-2")
        theirs = await registry.client.post("/organisations", json=org_body(3), headers=keyed(colleague))
        assert theirs.status_code == 201, theirs.text
        assert "idempotent-replayed" not in theirs.headers
        assert await _count(registry, staff) == 2


async def test_a_refused_write_stores_nothing_and_a_repeat_is_carried_out(
    start_service: Any, auth: Any
) -> None:
    async with start_service("registry") as registry:
        staff = auth("department_staff")
        body = org_body(1)
        bad = await registry.client.post(
            "/organisations", json={**body, "credit_code": "x"}, headers=keyed(staff, "k-1")
        )
        assert bad.status_code == 422
        # a different body under the same key is fine: the refused first request stored nothing
        good = await registry.client.post("/organisations", json=body, headers=keyed(staff, "k-1"))
        assert good.status_code == 201, good.text
        assert "idempotent-replayed" not in good.headers


async def test_a_repeat_while_the_first_is_in_progress_is_a_409(
    start_service: Any, auth: Any, infra: Any
) -> None:
    async with start_service("registry") as registry:
        staff = auth("department_staff")
        # the first request holds its key's lock until it commits: held here, as if it were running
        holder = await asyncpg.connect(asyncpg_dsn(registry.database_url))
        try:
            await holder.execute("SELECT pg_advisory_lock($1, hashtext($2))", LOCK_CLASS, f"user-1\x1f{KEY}")
            busy = await registry.client.post("/organisations", json=org_body(1), headers=keyed(staff))
        finally:
            await holder.close()
        assert busy.status_code == 409, busy.text
        assert busy.json()["code"] == "idempotency_key_in_use"
        assert busy.json()["detail_zh"]
        assert await _count(registry, staff) == 0
        after = await registry.client.post("/organisations", json=org_body(1), headers=keyed(staff))
        assert after.status_code == 201, after.text


WRITES_A_UNIT = "kit-test.writes-a-unit"


def _note_unit_writes(session: Any, flush_context: Any) -> None:
    # only the request's own transaction fails, not the relay's or the consumer's meanwhile
    if any(type(o).__name__ == "Organisation" for o in session.new):
        session.info[WRITES_A_UNIT] = True


@contextmanager
def connection_lost_after_commit() -> Iterator[None]:
    """The next commit of a new unit reaches the database, and its answer never comes back."""
    failures = [ConnectionResetError(104, "Connection reset by peer")]

    def lose_the_answer(session: Any) -> None:
        if session.info.pop(WRITES_A_UNIT, False) and failures:
            raise failures.pop()

    event.listen(GuardedSession, "after_flush", _note_unit_writes)
    event.listen(GuardedSession, "after_commit", lose_the_answer)
    try:
        yield
    finally:
        event.remove(GuardedSession, "after_commit", lose_the_answer)
        event.remove(GuardedSession, "after_flush", _note_unit_writes)


@contextmanager
def connection_lost_at_commit(registry: Any) -> Iterator[None]:
    """The next COMMIT of a new unit goes down a connection the database has just closed."""
    engine = registry.runtime.engine.sync_engine
    pending = [True]

    def note(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO ORGANISATIONS"):
            conn.info[WRITES_A_UNIT] = True

    def terminate(conn: Any) -> None:
        if conn.info.pop(WRITES_A_UNIT, False) and pending:
            pending.pop()
            conn.exec_driver_sql("SELECT pg_terminate_backend(pg_backend_pid())")

    event.listen(engine, "before_cursor_execute", note)
    event.listen(engine, "commit", terminate)
    try:
        yield
    finally:
        event.remove(engine, "commit", terminate)
        event.remove(engine, "before_cursor_execute", note)


def _assert_outcome_unknown(response: Any) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.headers["retry-after"].isdigit()
    problem = response.json()
    assert problem["code"] == "commit_outcome_unknown"
    assert problem["type"].endswith("/commit_outcome_unknown")
    assert "may or may not" in problem["detail"]
    assert "可能已保存" in problem["detail_zh"]


async def test_a_commit_stored_though_its_answer_was_lost_is_settled_by_the_retry(
    start_service: Any, auth: Any
) -> None:
    async with start_service("registry") as registry:
        staff = auth("department_staff")
        with connection_lost_after_commit():
            lost = await registry.client.post("/organisations", json=org_body(1), headers=keyed(staff))
        _assert_outcome_unknown(lost)
        assert await _count(registry, staff) == 1  # it was stored

        retry = await registry.client.post("/organisations", json=org_body(1), headers=keyed(staff))
        assert retry.status_code == 201, retry.text
        assert retry.headers["idempotent-replayed"] == "true"
        assert await _count(registry, staff) == 1  # and not twice


async def test_a_commit_lost_on_its_way_is_carried_out_by_the_retry(start_service: Any, auth: Any) -> None:
    async with start_service("registry") as registry:
        staff = auth("department_staff")
        with connection_lost_at_commit(registry):
            lost = await registry.client.post("/organisations", json=org_body(1), headers=keyed(staff))
        _assert_outcome_unknown(lost)
        assert await _count(registry, staff) == 0

        retry = await registry.client.post("/organisations", json=org_body(1), headers=keyed(staff))
        assert retry.status_code == 201, retry.text
        assert "idempotent-replayed" not in retry.headers
        assert await _count(registry, staff) == 1


async def test_without_a_key_an_in_doubt_commit_still_says_outcome_unknown(
    start_service: Any, auth: Any
) -> None:
    async with start_service("registry") as registry:
        staff = auth("department_staff")
        with connection_lost_after_commit():
            lost = await registry.client.post("/organisations", json=org_body(1), headers=staff)
        _assert_outcome_unknown(lost)


async def test_a_malformed_key_is_a_400_and_writes_document_the_header(start_service: Any, auth: Any) -> None:
    async with start_service("registry") as registry:
        staff = auth("department_staff")
        bad = await registry.client.post(
            "/organisations", json=org_body(1), headers={**staff, "Idempotency-Key": "x" * 256}
        )
        assert bad.status_code == 400, bad.text
        assert bad.json()["code"] == "idempotency_key_invalid"
        assert await _count(registry, staff) == 0

        document = (await registry.client.get("/openapi.json")).json()
        operations = document["paths"]["/organisations"]
        post = operations["post"]["parameters"]
        assert any(p["name"] == "Idempotency-Key" and p["in"] == "header" for p in post)
        assert not any(p["name"] == "Idempotency-Key" for p in operations["get"].get("parameters", []))
        patch = document["paths"]["/organisations/{org_id}"]["patch"]
        assert any(p["name"] == "Idempotency-Key" for p in patch["parameters"])
