from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from projects.funded.machines import STAFF
from projects.platforms import service
from shared.auth import Principal
from shared.http.auth import PrincipalDep, require_roles
from shared.http.deps import SessionDep
from shared.http.schemas import Page

router = APIRouter(prefix="/platforms", tags=["platforms"])
StaffDep = Annotated[Principal, Depends(require_roles(*STAFF))]


class PlatformProjectOut(BaseModel):
    """A project the platform undertakes."""

    id: UUID
    code: str
    title: str
    organisation_mode: str
    organisation_mode_zh: str
    state: str
    state_zh: str
    funding_fen: int


class PlatformRef(BaseModel):
    id: UUID
    code: str
    name: str
    state: str


class ModeFunding(BaseModel):
    organisation_mode: str
    organisation_mode_zh: str
    projects: int
    funding_fen: int


class PlatformFundingOut(BaseModel):
    """基地、人才、项目、资金一体化: what a platform undertakes, per organisation mode."""

    platform: PlatformRef
    projects: int
    funding_fen: int
    by_mode: list[ModeFunding]


@router.get(
    "/{platform_id}/projects",
    response_model=Page[PlatformProjectOut],
    summary="The projects a platform undertakes (e.g. 稳定支持 of a lab)",
)
async def platform_projects(platform_id: UUID, session: SessionDep, principal: PrincipalDep) -> Page[Any]:
    await service.require_project_reader(session, platform_id, principal)
    return Page.whole(await service.projects_of(session, platform_id))


@router.get(
    "/{platform_id}/funding",
    response_model=PlatformFundingOut,
    summary="A platform's projects and money per organisation mode (e.g. 稳定支持 per lab)",
)
async def platform_funding(platform_id: UUID, session: SessionDep, principal: PrincipalDep) -> dict[str, Any]:
    await service.require_project_reader(session, platform_id, principal)
    return await service.funding_of(session, platform_id)
