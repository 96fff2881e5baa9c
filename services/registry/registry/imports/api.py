"""Excel import endpoints: the file is the request body (an .xlsx upload, no form encoding)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse

from registry.imports import service
from registry.imports.schemas import ImportRefused, ImportReport
from shared.errors import FieldIssue, ValidationFailed
from shared.excel import XLSX_MEDIA_TYPE
from shared.http.auth import PrincipalDep
from shared.http.deps import UnitOfWorkDep
from shared.http.problems import PROBLEM_JSON, TYPE_BASE, problem

router = APIRouter(tags=["import"])
MAX_BYTES = 20 * 1024 * 1024
ModeQuery = Annotated[
    service.Mode,
    Query(description="all_or_nothing: any bad row → nothing written; valid_rows_only: write the good rows"),
]


SPREADSHEET: dict[int | str, dict[str, Any]] = {
    200: {"content": {XLSX_MEDIA_TYPE: {}}, "description": "The template (.xlsx, Chinese headers)"}
}
IMPORT_ANSWERS: dict[int | str, dict[str, Any]] = {
    422: {
        "model": ImportRefused,
        "content": {PROBLEM_JSON: {}},
        "description": "Nothing imported (not a spreadsheet, an empty sheet, or bad rows in "
        "all_or_nothing mode): the row-by-row report",
    }
}


def _answer(report: service.ImportReport, instance: str) -> ImportReport | JSONResponse:
    """200 with the report when rows were imported (or were already there); 422 with the same
    report when nothing was."""
    body = ImportReport.model_validate(report.as_dict())
    if report.committed:
        return body
    return problem(
        422,
        "Nothing imported",
        f"nothing was imported: {body.rejected} of {body.rows} rows refused; see issues",
        type_=TYPE_BASE + "import_refused",
        instance=instance,
        title_zh="未导入任何数据",
        detail_zh=f"未导入任何数据：{body.rows}行中{body.rejected}行未通过校验，详见问题列表",
        code="import_refused",
        **body.model_dump(mode="json"),
    )


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


@router.get(
    "/platforms/import/template",
    summary="Import template for platforms (Chinese headers)",
    response_class=Response,
    responses=SPREADSHEET,
)
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


@router.post(
    "/platforms/import",
    summary="Import platforms from Excel; returns the row-by-row report",
    response_model=ImportReport,
    responses=IMPORT_ANSWERS,
)
async def import_platforms(
    request: Request, uow: UnitOfWorkDep, principal: PrincipalDep, mode: ModeQuery = "all_or_nothing"
) -> ImportReport | JSONResponse:
    report = await service.import_platforms(uow, principal, await _body(request), mode)
    return _answer(report, request.url.path)


@router.get(
    "/people/import/template",
    summary="Import template for people (Chinese headers)",
    response_class=Response,
    responses=SPREADSHEET,
)
async def people_template(_: PrincipalDep) -> Response:
    example = {"name": "张三", "id_number": "身份证号码", "title": "教授", "full_time": "全职"}
    return _xlsx(service.template(service.PEOPLE_COLUMNS, example), "people-import-template.xlsx")


@router.post(
    "/people/import",
    summary="Import people from Excel; returns the row-by-row report",
    response_model=ImportReport,
    responses=IMPORT_ANSWERS,
)
async def import_people(
    request: Request, uow: UnitOfWorkDep, principal: PrincipalDep, mode: ModeQuery = "all_or_nothing"
) -> ImportReport | JSONResponse:
    report = await service.import_people(uow, principal, await _body(request), mode)
    return _answer(report, request.url.path)
