"""``GET /metadata/codes``: every code list evaluation uses, with Chinese labels."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from evaluation import codes
from evaluation.coi.rules import RULES
from shared.http.auth import PrincipalDep

router = APIRouter(prefix="/metadata", tags=["metadata"])


@router.get("/codes", summary="Code lists with Chinese labels")
async def code_lists(_: PrincipalDep) -> dict[str, Any]:
    return {
        "round_kinds": codes.labelled(codes.ROUND_KINDS),
        "assessment_types": codes.labelled(codes.ASSESSMENT_TYPES),
        "round_statuses": codes.labelled(codes.ROUND_STATUSES),
        "assignment_statuses": codes.labelled(codes.ASSIGNMENT_STATUSES),
        "sheet_statuses": codes.labelled(codes.SHEET_STATUSES),
        "recommendations": codes.labelled(codes.RECOMMENDATIONS),
        "lab_orientations": codes.labelled(codes.LAB_ORIENTATIONS),
        "lab_grades": codes.labelled(codes.LAB_GRADES),
        "cluster_results": codes.labelled(codes.CLUSTER_RESULTS),
        "project_results": codes.labelled(codes.PROJECT_RESULTS),
        "project_evaluation_kinds": codes.labelled(codes.PROJECT_EVALUATION_KINDS),
        "indicator_verdicts": codes.labelled(codes.INDICATOR_VERDICTS),
        "score_bases": codes.labelled(codes.SCORE_BASES),
        "duties": codes.labelled(codes.DUTIES),
        "expert_statuses": codes.labelled(codes.EXPERT_STATUSES),
        "coi_rules": [{"code": code, "zh": zh} for code, (zh, _) in RULES.items()],
    }
