"""An error that means a dependency is out for a moment is a 503 with Retry-After, whatever
layer raised it; anything else unexpected stays a 500."""

from __future__ import annotations

import asyncpg
import httpx
import nats.errors
import pytest
from fastapi import FastAPI
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from shared.http.problems import install_problem_handlers

pytestmark = pytest.mark.asyncio


def _wrapped(error: BaseException) -> DBAPIError:
    return DBAPIError("SELECT 1", None, error)


CASES: dict[str, tuple[BaseException, int, str | None]] = {
    "connection refused": (ConnectionRefusedError(111, "Connection refused"), 503, "database_unavailable"),
    "starting up": (
        asyncpg.exceptions.CannotConnectNowError("the database system is starting up"),
        503,
        None,
    ),
    "shut down by the administrator": (
        _wrapped(asyncpg.exceptions.AdminShutdownError("terminating")),
        503,
        None,
    ),
    "connection closed": (asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed"), 503, None),
    "pool exhausted": (PoolTimeout("QueuePool limit reached"), 503, None),
    "too many connections": (
        asyncpg.exceptions.TooManyConnectionsError("sorry, too many clients"),
        503,
        None,
    ),
    "deadlock": (_wrapped(asyncpg.exceptions.DeadlockDetectedError("deadlock detected")), 503, None),
    "NATS gone": (nats.errors.NoServersError(), 503, "nats_unavailable"),
    "a bug": (KeyError("x"), 500, None),
}


@pytest.mark.parametrize("case", list(CASES))
async def test_an_outage_is_a_503_with_retry_after_and_a_bug_a_500(case: str) -> None:
    error, status, code = CASES[case]
    app = FastAPI()
    install_problem_handlers(app)

    @app.get("/boom")
    async def boom() -> None:
        raise error

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        response = await client.get("/boom")
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    if status == 503:
        assert response.headers["retry-after"] == "2"
        assert response.json()["code"] == (code or "database_unavailable")
        assert response.json()["detail_zh"]
