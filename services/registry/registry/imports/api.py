"""Excel import endpoints: the file is the request body (an .xlsx upload, no form encoding)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from registry.imports import service
from shared.errors import FieldIssue, ValidationFailed
from shared.excel import XLSX_MEDIA_TYPE
from shared.http.auth import PrincipalDep
from shared.http.deps import UnitOfWorkDep

router = APIRouter(tags=["import"])
MAX_BYTES = 20 * 1024 * 1024
ModeQuery = Annotated[
    service.Mode,
    Query(description="all_or_nothing: any bad row → nothing written; valid_rows_only: write the good rows"),
]


def _xlsx(content: bytes, filename: str) -> Response:
    return Response(
        content,
        media_type=XLSX_MEDIA_TYPE,
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{filename}"},
    )


async def _body(request: Request) -> bytes:
    content = await request.body()
    if not content:
        raise ValidationFailed(
            [FieldIssue("file", "missing", "send the .xlsx file as the request body", "请上传Excel文件")]
        )
    if len(content) > MAX_BYTES:
        raise ValidationFailed([FieldIssue("file", "too_large", "at most 20 MB", "文件不能超过20MB")])
    return content


@router.get("/platforms/import/template", summary="Import template for platforms (Chinese headers)")
async def platform_template(_: PrincipalDep) -> Response:
    example = {
        "code": "ZDS-2026-001",
        "name": "内蒙古自治区示例重点实验室",
        "kind": "自治区重点实验室",
        "host_unit_credit_code": "统一社会信用代码",
        "lab_type": "高校",
        "field": "材料",
        "sub_field": "稀土新材料",
        "research_directions": "方向一；方向二",
        "region": "包头市",
        "approved_on": "2026-01-01",
        "initial_state": "运行",
    }
    return _xlsx(service.template(service.PLATFORM_COLUMNS, example), "platform-import-template.xlsx")


@router.post("/platforms/import", summary="Import platforms from Excel; returns the row-by-row report")
async def import_platforms(
    request: Request, uow: UnitOfWorkDep, principal: PrincipalDep, mode: ModeQuery = "all_or_nothing"
) -> dict[str, Any]:
    report = await service.import_platforms(uow, principal, await _body(request), mode)
    return report.as_dict()


@router.get("/people/import/template", summary="Import template for people (Chinese headers)")
async def people_template(_: PrincipalDep) -> Response:
    example = {"name": "张三", "id_number": "身份证号码", "title": "教授", "full_time": "全职"}
    return _xlsx(service.template(service.PEOPLE_COLUMNS, example), "people-import-template.xlsx")


@router.post("/people/import", summary="Import people from Excel; returns the row-by-row report")
async def import_people(
    request: Request, uow: UnitOfWorkDep, principal: PrincipalDep, mode: ModeQuery = "all_or_nothing"
) -> dict[str, Any]:
    report = await service.import_people(uow, principal, await _body(request), mode)
    return report.as_dict()
