"""Dependency aliases every service's endpoints use."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Query, Request
from sqlalchemy.ext.asyncio import AsyncSession

from shared.http.auth import PrincipalDep
from shared.service import ServiceRuntime
from shared.uow import UnitOfWork


def get_runtime(request: Request) -> ServiceRuntime:
    runtime: ServiceRuntime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[ServiceRuntime, Depends(get_runtime)]


async def get_session(runtime: RuntimeDep) -> AsyncIterator[AsyncSession]:
    async with runtime.sessionmaker() as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session)]


async def get_uow(runtime: RuntimeDep, principal: PrincipalDep) -> AsyncIterator[UnitOfWork]:
    """A unit of work acting for the caller; the endpoint commits it once, at the end."""
    async with runtime.sessionmaker() as session:
        yield UnitOfWork(session, runtime.tables, actor=principal.actor())


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
