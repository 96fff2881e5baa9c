"""Dependency aliases every service's endpoints use."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Query, Request
from sqlalchemy.ext.asyncio import AsyncSession

from shared.http.auth import PrincipalDep
from shared.http.idempotency import keyed_write
from shared.http.problems import unavailable_dependency
from shared.service import ServiceRuntime
from shared.uow import UnitOfWork


def get_runtime(request: Request) -> ServiceRuntime:
    runtime: ServiceRuntime = request.app.state.runtime
    return runtime


log = logging.getLogger(__name__)

RuntimeDep = Annotated[ServiceRuntime, Depends(get_runtime)]


async def _close(session: AsyncSession) -> None:
    """Close the request's session; a connection the database dropped meanwhile is let go.

    Closing rolls back what is left open. When the database went away during the request that
    rollback fails too, after the answer (a 503) may already be on its way: raising then would
    cut that answer off mid-stream, and the gateway would report a broken upstream (502)."""
    try:
        await session.close()
    except Exception as exc:
        if unavailable_dependency(exc) is None:
            raise
        log.warning("database connection lost while closing a session", extra={"error": type(exc).__name__})


async def get_session(runtime: RuntimeDep) -> AsyncIterator[AsyncSession]:
    session = runtime.sessionmaker()
    try:
        yield session
    finally:
        await _close(session)


SessionDep = Annotated[AsyncSession, Depends(get_session)]


async def get_uow(
    request: Request, runtime: RuntimeDep, principal: PrincipalDep
) -> AsyncIterator[UnitOfWork]:
    """A unit of work acting for the caller; the endpoint commits it once, at the end.

    For a write sent with an ``Idempotency-Key`` the unit of work runs in the session that holds
    the key, and its commit waits for the answer (``shared.http.idempotency``)."""
    keyed = keyed_write(request)
    if keyed is not None and keyed.session is not None and keyed.principal == principal.user_id:
        uow = UnitOfWork(keyed.session, runtime.tables, actor=principal.actor(), commit_with_answer=True)
        keyed.uow = uow
        yield uow  # the key's session is the guard's to close
        return
    session = runtime.sessionmaker()
    try:
        yield UnitOfWork(session, runtime.tables, actor=principal.actor())
    finally:
        await _close(session)


UnitOfWorkDep = Annotated[UnitOfWork, Depends(get_uow)]

MAX_PAGE_SIZE = 200


class PageParams:
    def __init__(
        self,
        page: Annotated[int, Query(ge=1, le=100_000, description="1-based page number")] = 1,
        size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description="items per page")] = 20,
    ) -> None:
        self.page = page
        self.size = size

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.size


PageDep = Annotated[PageParams, Depends()]
