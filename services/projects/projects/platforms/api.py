from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends

from projects.funded.machines import STAFF
from projects.platforms import service
from shared.auth import Principal
from shared.http.auth import PrincipalDep, require_roles
from shared.http.deps import SessionDep

router = APIRouter(prefix="/platforms", tags=["platforms"])
StaffDep = Annotated[Principal, Depends(require_roles(*STAFF))]


@router.get(
    "/{platform_id}/projects",
    summary="A platform's projects, with the funding per organisation mode (e.g. 稳定支持 per lab)",
)
async def platform_projects(
    platform_id: UUID, session: SessionDep, principal: PrincipalDep
) -> dict[str, Any]:
    await service.require_project_reader(session, platform_id, principal)
    return await service.projects_of(session, platform_id)
