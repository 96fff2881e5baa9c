"""``GET /metadata/codes``: every code list evaluation uses, with Chinese labels."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from evaluation import codes
from evaluation.coi.rules import RULES
from shared.http.auth import PrincipalDep

router = APIRouter(prefix="/metadata", tags=["metadata"])


class Code(BaseModel):
    code: str
    zh: str


class CodeLists(BaseModel):
    """Every code evaluation answers with, and its Chinese label."""

    round_kinds: list[Code]
    assessment_types: list[Code]
    round_statuses: list[Code]
    assignment_statuses: list[Code]
    sheet_statuses: list[Code]
    recommendations: list[Code]
    lab_orientations: list[Code]
    assessed_platform_kinds: list[Code]
    lab_grades: list[Code]
    cluster_results: list[Code]
    project_results: list[Code]
    project_evaluation_kinds: list[Code]
    indicator_verdicts: list[Code]
    score_bases: list[Code]
    duties: list[Code]
    expert_statuses: list[Code]
    coi_rules: list[Code]


@router.get("/codes", response_model=CodeLists, summary="Code lists with Chinese labels")
async def code_lists(_: PrincipalDep) -> CodeLists:
    return CodeLists.model_validate(
        {
            "round_kinds": codes.labelled(codes.ROUND_KINDS),
            "assessment_types": codes.labelled(codes.ASSESSMENT_TYPES),
            "round_statuses": codes.labelled(codes.ROUND_STATUSES),
            "assignment_statuses": codes.labelled(codes.ASSIGNMENT_STATUSES),
            "sheet_statuses": codes.labelled(codes.SHEET_STATUSES),
            "recommendations": codes.labelled(codes.RECOMMENDATIONS),
            "lab_orientations": codes.labelled(codes.LAB_ORIENTATIONS),
            "assessed_platform_kinds": codes.labelled(codes.ASSESSED_PLATFORM_KINDS),
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
    )
