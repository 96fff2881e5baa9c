from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict

from evaluation.organisations.models import OrganisationView
from shared.errors import NotFound
from shared.http.auth import PrincipalDep
from shared.http.deps import SessionDep

router = APIRouter(prefix="/organisations", tags=["organisations"])


class OrganisationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    name: str
    credit_code: str
    type: str
    region: str
    address: str
    version: int


@router.get("/{org_id}", response_model=OrganisationOut, summary="A unit as evaluation knows it")
async def get_organisation(org_id: UUID, session: SessionDep, _: PrincipalDep) -> OrganisationOut:
    org = await session.get(OrganisationView, org_id)
    if org is None:
        raise NotFound(f"organisation {org_id} not known here", "未找到该单位")
    return OrganisationOut.model_validate(org)
