"""``GET /metadata/codes``: every code list the registry uses, with Chinese labels."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

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


@router.get("/codes", summary="Code lists with Chinese labels")
async def codes(_: PrincipalDep) -> dict[str, Any]:
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
