"""RFC 9457 problem details for every error a service returns.

Validation errors list each field with ``field``, ``code``, ``message`` and ``message_zh``.
No stack trace ever leaves the process: an unexpected error is logged with the request id
and the caller gets a 500 problem naming that id.
"""

from __future__ import annotations

import logging
from typing import Any

import asyncpg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException

from shared.context import current_request_id
from shared.errors import DomainError, FieldIssue

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "https://errors.sci-platform.example/"

_ZH_BY_CODE = {
    "missing": "必填项缺失",
    "extra_forbidden": "不允许提交该字段",
    "string_type": "应为文本",
    "string_too_short": "内容过短",
    "string_too_long": "内容过长",
    "string_pattern_mismatch": "格式不正确",
    "int_type": "应为整数",
    "int_parsing": "应为整数",
    "int_from_float": "应为整数",
    "float_type": "应为数字",
    "float_parsing": "应为数字",
    "decimal_parsing": "应为数字",
    "decimal_type": "应为数字",
    "bool_type": "应为是/否",
    "bool_parsing": "应为是/否",
    "enum": "取值不在允许范围内",
    "literal_error": "取值不在允许范围内",
    "uuid_type": "不是有效的标识",
    "uuid_parsing": "不是有效的标识",
    "date_type": "应为日期",
    "date_parsing": "应为日期（YYYY-MM-DD）",
    "date_from_datetime_parsing": "应为日期（YYYY-MM-DD）",
    "datetime_type": "应为日期时间",
    "datetime_parsing": "应为日期时间",
    "datetime_from_date_parsing": "应为日期时间",
    "greater_than": "数值过小",
    "greater_than_equal": "数值过小",
    "less_than": "数值过大",
    "less_than_equal": "数值过大",
    "too_short": "条目过少",
    "too_long": "条目过多",
    "list_type": "应为列表",
    "dict_type": "应为对象",
    "model_type": "应为对象",
    "model_attributes_type": "应为对象",
    "json_invalid": "JSON 格式错误",
    "json_type": "JSON 格式错误",
    "value_error": "取值无效",
    "url_parsing": "不是有效的网址",
    "url_type": "不是有效的网址",
    "email": "不是有效的电子邮箱",
    "value_error.email": "不是有效的电子邮箱",
}


def problem(
    status: int,
    title: str,
    detail: str,
    *,
    type_: str = "about:blank",
    instance: str | None = None,
    **extra: Any,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": type_,
        "title": title,
        "status": status,
        "detail": detail,
        "instance": instance,
        "request_id": current_request_id(),
    }
    body.update({k: v for k, v in extra.items() if v is not None})
    headers = {}
    if status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="sci-platform"'
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def issues_from_validation(exc: RequestValidationError) -> list[dict[str, Any]]:
    issues: list[dict[str, Any]] = []
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ())]
        location = loc[0] if loc and loc[0] in ("body", "query", "path", "header", "cookie") else None
        field_parts = loc[1:] if location else loc
        code = str(err.get("type", "value_error"))
        ctx = err.get("ctx") or {}
        message = str(err.get("msg", "invalid value"))
        message_zh = str(ctx.get("message_zh") or _ZH_BY_CODE.get(code) or "取值无效")
        issue = FieldIssue(".".join(field_parts) or (location or "body"), code, message, message_zh)
        entry = issue.as_dict()
        if location:
            entry["in"] = location
        issues.append(entry)
    return issues


def _is_bad_value(exc: DBAPIError) -> bool:
    """SQLSTATE class 22 (data exception), or the driver refusing to encode a parameter."""
    cause: BaseException | None = exc.orig
    while cause is not None:
        if isinstance(cause, asyncpg.exceptions.DataError):
            return True
        if str(getattr(cause, "sqlstate", "") or "").startswith("22"):
            return True
        cause = cause.__cause__
    return False


def domain_problem(exc: DomainError, instance: str) -> JSONResponse:
    """The problem+json answer for a refusal a service gives on purpose."""
    extra: dict[str, Any] = dict(exc.extra)
    issues = getattr(exc, "issues", None)
    if issues and "errors" not in extra:
        extra["errors"] = [i.as_dict() for i in issues]
    return problem(
        exc.status,
        exc.title,
        exc.detail,
        type_=TYPE_BASE + exc.code,
        instance=instance,
        title_zh=exc.title_zh,
        detail_zh=exc.detail_zh,
        code=exc.code,
        **extra,
    )


def install_problem_handlers(app: FastAPI) -> None:
    async def on_domain_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, DomainError)
        return domain_problem(exc, request.url.path)

    async def on_validation_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        issues = issues_from_validation(exc)
        return problem(
            422,
            "Validation failed",
            "; ".join(f"{i['field']}: {i['message']}" for i in issues),
            type_=TYPE_BASE + "validation_failed",
            instance=request.url.path,
            title_zh="数据校验未通过",
            detail_zh="；".join(f"{i['field']}：{i['message_zh']}" for i in issues),
            code="validation_failed",
            errors=issues,
        )

    async def on_http_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        titles = {
            401: ("Authentication required", "需要登录"),
            403: ("Forbidden", "无权操作"),
            404: ("Not found", "未找到"),
            405: ("Method not allowed", "不支持该请求方法"),
            413: ("Request body too large", "请求内容过大"),
            429: ("Too many requests", "请求过于频繁"),
        }
        title, title_zh = titles.get(exc.status_code, ("Error", "错误"))
        response = problem(
            exc.status_code,
            title,
            str(exc.detail) if exc.detail else title,
            instance=request.url.path,
            title_zh=title_zh,
        )
        for key, value in (exc.headers or {}).items():
            response.headers[key] = value
        return response

    async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", extra={"path": request.url.path})
        return problem(
            500,
            "Internal server error",
            "An unexpected error occurred; it has been logged with the request id.",
            instance=request.url.path,
            title_zh="服务器内部错误",
            detail_zh="发生了意外错误，已按请求编号记录。",
        )

    async def on_database_error(request: Request, exc: Exception) -> JSONResponse:
        if isinstance(exc, DBAPIError) and _is_bad_value(exc):
            # A value the database cannot hold (an integer past its range, a NUL byte…) that
            # input validation let through: the caller's mistake, nothing was written.
            log.warning("value refused by the database", extra={"path": request.url.path})
            return problem(
                422,
                "Value out of range",
                "A value in the request is outside what can be stored (e.g. a number too large).",
                type_=TYPE_BASE + "value_out_of_range",
                instance=request.url.path,
                title_zh="数值超出范围",
                detail_zh="请求中的某个值超出可存储的范围（例如数字过大）。",
                code="value_out_of_range",
                errors=[
                    {
                        "field": "request",
                        "code": "value_out_of_range",
                        "message": "a value is outside what can be stored",
                        "message_zh": "某个值超出可存储的范围",
                    }
                ],
            )
        if isinstance(exc, DBAPIError) and exc.connection_invalidated:
            log.warning("database connection lost", extra={"path": request.url.path})
            response = problem(
                503,
                "Service temporarily unavailable",
                "The database connection was lost; nothing was saved. Please retry.",
                instance=request.url.path,
                title_zh="服务暂时不可用",
                detail_zh="数据库连接中断，本次操作未保存，请重试。",
            )
            response.headers["Retry-After"] = "1"
            return response
        return await on_unexpected(request, exc)

    app.add_exception_handler(DomainError, on_domain_error)
    app.add_exception_handler(DBAPIError, on_database_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    app.add_exception_handler(Exception, on_unexpected)
