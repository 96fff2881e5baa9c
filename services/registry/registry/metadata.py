"""``GET /metadata/codes``: every code list the registry uses, with Chinese labels."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from registry.advisor.service import RULES
from registry.clusters.machine import MEMBER_ROLES_ZH
from registry.clusters.machine import STATE_LABELS as CLUSTER_STATE_LABELS
from registry.codes import ORGANISATION_TYPE_LABELS, REGION_LABELS, code_list
from registry.platforms import kinds
from registry.platforms.machine import ACTION_LABELS
from registry.platforms.machine import STATE_LABELS as PLATFORM_STATE_LABELS
from registry.reference import (
    ASSESSMENT_GRADES,
    EMPLOYMENT,
    GENDERS,
    INDUSTRY_CHAINS,
    INSTRUMENT_CATEGORIES,
    INTEGRITY_SCOPES,
    LAB_TYPES,
    MEMBER_ROLES,
    MISCONDUCT_TYPES,
    PLATFORM_KINDS,
    TITLES,
    fields_with_sub_fields,
    labelled,
)
from shared.http.auth import PrincipalDep

router = APIRouter(prefix="/metadata", tags=["metadata"])


class Code(BaseModel):
    code: str
    zh: str


class NamedCode(Code):
    name: str = Field(description="the code's English name")


class FieldWithSubFields(Code):
    sub_fields: list[Code]


class KindAttribute(BaseModel):
    name: str
    zh: str
    values: dict[str, str] | None = Field(description="the values' Chinese labels, for coded attributes")


class CodeLists(BaseModel):
    """Every code list the registry uses, with its Chinese labels."""

    regions: list[NamedCode]
    organisation_types: list[NamedCode]
    fields: list[FieldWithSubFields]
    platform_kinds: list[Code]
    platform_kind_attributes: dict[str, list[KindAttribute]] = Field(description="per platform kind")
    lab_types: list[Code]
    platform_states: list[Code]
    platform_actions: list[Code]
    cluster_states: list[Code]
    cluster_roles: list[Code]
    industry_chains: list[Code]
    misconduct_types: list[Code]
    integrity_scopes: list[Code]
    genders: list[Code]
    titles: list[Code]
    employment: list[Code]
    member_roles: list[Code]
    assessment_grades: list[Code]
    instrument_categories: list[Code]
    advisor_rules: list[Code]


@router.get("/codes", response_model=CodeLists, summary="Code lists with Chinese labels")
async def codes(_: PrincipalDep) -> dict[str, object]:
    return {
        "regions": code_list(REGION_LABELS),
        "organisation_types": code_list(ORGANISATION_TYPE_LABELS),
        "fields": fields_with_sub_fields(),
        "platform_kinds": labelled(PLATFORM_KINDS),
        "platform_kind_attributes": kinds.describe(),
        "lab_types": labelled(LAB_TYPES),
        "platform_states": labelled(PLATFORM_STATE_LABELS),
        "platform_actions": labelled(ACTION_LABELS),
        "cluster_states": labelled(CLUSTER_STATE_LABELS),
        "cluster_roles": labelled(MEMBER_ROLES_ZH),
        "industry_chains": labelled(INDUSTRY_CHAINS),
        "misconduct_types": labelled(MISCONDUCT_TYPES),
        "integrity_scopes": labelled(INTEGRITY_SCOPES),
        "genders": labelled(GENDERS),
        "titles": labelled(TITLES),
        "employment": labelled(EMPLOYMENT),
        "member_roles": labelled(MEMBER_ROLES),
        "assessment_grades": labelled(ASSESSMENT_GRADES),
        "instrument_categories": labelled(INSTRUMENT_CATEGORIES),
        "advisor_rules": [{"code": r, "zh": zh} for r, (zh, _) in RULES.items()],
    }
