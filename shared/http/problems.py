"""RFC 9457 problem details for every error a service returns.

Validation errors list each field with ``field``, ``code``, ``message`` and ``message_zh``.
No stack trace ever leaves the process: an unexpected error is logged with the request id
and the caller gets a 500 problem naming that id.
"""

from __future__ import annotations

import logging
import re
import socket
from typing import Any

import asyncpg
import nats.errors
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, DisconnectionError, IntegrityError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from shared.context import current_request_id
from shared.db import CommitOutcomeUnknown, error_chain, sqlstate
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


def _is_bad_value(exc: BaseException) -> bool:
    """SQLSTATE class 22 (data exception), or the driver refusing to encode a parameter."""
    return any(
        isinstance(cause, asyncpg.exceptions.DataError) or sqlstate(cause).startswith("22")
        for cause in error_chain(exc)
    )


# The database is unreachable, restarting, failing over or full of connections: nothing was
# written and the same request can succeed in a moment. SQLSTATE classes and codes:
# 08 connection exception, 57P01-57P03 shutdown / crash / starting up, 53300 too many
# connections, 25006 read-only (a standby during failover), 40001/40P01 serialisation failure
# and deadlock (the transaction was rolled back whole).
_TRANSIENT_SQLSTATES = ("08", "57P01", "57P02", "57P03", "53300", "25006", "40001", "40P01")


def unavailable_dependency(exc: BaseException) -> str | None:
    """``"database"`` or ``"nats"`` when the error means that dependency is out for now."""
    for cause in error_chain(exc):
        if isinstance(cause, nats.errors.Error):
            return "nats"
        if isinstance(cause, DBAPIError) and cause.connection_invalidated:
            return "database"
        if isinstance(cause, (DisconnectionError, PoolTimeout, asyncpg.exceptions.InterfaceError)):
            return "database"
        if sqlstate(cause).startswith(_TRANSIENT_SQLSTATES):
            return "database"
        if isinstance(cause, (ConnectionError, TimeoutError, socket.gaierror)):
            return "database"
    return None


_KEY_COLUMNS = re.compile(r"Key \((?P<columns>[^)]*)\)")


def _constraint_issue(exc: BaseException) -> tuple[int, FieldIssue] | None:
    """A violated foreign key, unique, check, not-null or exclusion constraint, as the field
    it concerns: ``fk_people_unit_id_units`` → ``unit_id``, ``ck_clusters_x_is_object`` → ``x``."""
    violations = [c for c in error_chain(exc) if sqlstate(c).startswith("23")]
    # The driver's own error carries the table, constraint and key; its wrappers only the code.
    violations.sort(key=lambda c: not isinstance(c, asyncpg.exceptions.PostgresError))
    for cause in violations[:1]:
        state = sqlstate(cause)
        detail = str(getattr(cause, "detail", "") or "")
        table = str(getattr(cause, "table_name", "") or "")
        constraint = str(getattr(cause, "constraint_name", "") or "")
        key = _KEY_COLUMNS.search(detail)
        columns = key.group("columns") if key else ""
        field = columns or str(getattr(cause, "column_name", "") or "")
        if not field and constraint:
            field = re.sub(rf"^(ck|uq|fk|ix)_{re.escape(table)}_", "", constraint) if table else constraint
        field = ", ".join(c.strip().strip('"') for c in field.split(",")) or "request"
        if state == "23503" and "still referenced" in detail:
            return 409, FieldIssue(
                field, "still_referenced", "other records still refer to this one", "仍有其他记录引用该数据"
            )
        if state == "23503":
            return 422, FieldIssue(
                field, "unknown_reference", "refers to a record that does not exist", "引用的记录不存在"
            )
        if state == "23505":
            return 409, FieldIssue(field, "duplicate", "this value is already registered", "该值已被登记")
        if state == "23502":
            return 422, FieldIssue(field, "missing", "a value is required", "必填项缺失")
        if state == "23P01":
            return 409, FieldIssue(field, "overlap", "overlaps an existing record", "与已有记录冲突")
        return 422, FieldIssue(
            field, "check_violation", "the value breaks a rule of the register", "取值不符合登记规则"
        )
    return None


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


RETRY_AFTER_SECONDS = 2
_UNAVAILABLE_TEXTS = {
    "database": (
        "The database is not reachable at the moment; nothing was saved. Please retry.",
        "数据库暂时无法访问，本次操作未保存，请稍后重试。",
    ),
    "nats": (
        "The event broker is not reachable at the moment; nothing was saved. Please retry.",
        "消息服务暂时无法访问，本次操作未保存，请稍后重试。",
    ),
}


def unavailable_problem(instance: str, dependency: str, exc: BaseException) -> JSONResponse:
    """503 with ``Retry-After``: a dependency is out for a moment, nothing was written."""
    log.warning(
        "dependency unavailable",
        extra={"path": instance, "dependency": dependency, "error": f"{type(exc).__name__}: {exc}"[:300]},
    )
    detail, detail_zh = _UNAVAILABLE_TEXTS[dependency]
    response = problem(
        503,
        "Service temporarily unavailable",
        detail,
        type_=TYPE_BASE + "unavailable",
        instance=instance,
        title_zh="服务暂时不可用",
        detail_zh=detail_zh,
        code=f"{dependency}_unavailable",
        retry_after=RETRY_AFTER_SECONDS,
    )
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def commit_unknown_problem(instance: str, exc: BaseException) -> JSONResponse:
    """503 with ``Retry-After`` for a commit whose outcome is unknown: the connection to the
    database broke while COMMIT was on its way, so the change may be stored or not. Different
    from "not saved": a blind retry might do it twice; a retry with the same
    ``Idempotency-Key`` (or reading the record back first) is safe."""
    log.warning(
        "commit outcome unknown",
        extra={"path": instance, "error": f"{type(exc).__name__}: {exc}"[:300]},
    )
    response = problem(
        503,
        "Outcome unknown",
        "The database connection broke while the change was being committed: it may or may not "
        "have been saved. Repeat the request with the same Idempotency-Key header (the repeat "
        "returns the first answer if it was saved, or does it now if not), or look the record "
        "up before sending it again.",
        type_=TYPE_BASE + "commit_outcome_unknown",
        instance=instance,
        title_zh="结果未知",
        detail_zh="提交过程中与数据库的连接中断，本次更改可能已保存，也可能未保存。"
        "请使用相同的 Idempotency-Key 请求头重试（若已保存，将返回首次的结果；若未保存，将重新执行），"
        "或先查询该记录再决定是否重新提交。",
        code="commit_outcome_unknown",
        retry_after=RETRY_AFTER_SECONDS,
    )
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def unexpected_problem(instance: str, exc: BaseException) -> JSONResponse:
    """503 for an outage, 500 (logged, no details) for anything else."""
    if isinstance(exc, CommitOutcomeUnknown):
        return commit_unknown_problem(instance, exc)
    dependency = unavailable_dependency(exc)
    if dependency is not None:
        return unavailable_problem(instance, dependency, exc)
    log.error("unhandled error", exc_info=exc, extra={"path": instance})
    return problem(
        500,
        "Internal server error",
        "An unexpected error occurred; it has been logged with the request id.",
        instance=instance,
        title_zh="服务器内部错误",
        detail_zh="发生了意外错误，已按请求编号记录。",
    )


def database_problem(instance: str, exc: BaseException) -> JSONResponse:
    """The answer for an error the database raised (a constraint, a bad value, an outage)."""
    constraint = _constraint_issue(exc) if isinstance(exc, IntegrityError) else None
    if constraint is not None:
        status, issue = constraint
        # The database refused the change (nothing was written); the caller learns which
        # field, in the same shape as any validation failure.
        log.info(
            "change refused by a database constraint",
            extra={"path": instance, "field": issue.field, "code": issue.code},
        )
        return problem(
            status,
            "Conflict" if status == 409 else "Validation failed",
            f"{issue.field}: {issue.message}",
            type_=TYPE_BASE + issue.code,
            instance=instance,
            title_zh="冲突" if status == 409 else "数据校验未通过",
            detail_zh=f"{issue.field}：{issue.message_zh}",
            code=issue.code,
            errors=[issue.as_dict()],
        )
    if _is_bad_value(exc):
        # A value the database cannot hold (an integer past its range, a NUL byte…) that
        # input validation let through: the caller's mistake, nothing was written.
        log.warning("value refused by the database", extra={"path": instance})
        return problem(
            422,
            "Value out of range",
            "A value in the request is outside what can be stored (e.g. a number too large).",
            type_=TYPE_BASE + "value_out_of_range",
            instance=instance,
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
    return unexpected_problem(instance, exc)


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
        return unexpected_problem(request.url.path, exc)

    async def on_database_error(request: Request, exc: Exception) -> JSONResponse:
        return database_problem(request.url.path, exc)

    async def on_unavailable(request: Request, exc: Exception) -> JSONResponse:
        dependency = unavailable_dependency(exc)
        if dependency is None:
            return await on_database_error(request, exc)
        return unavailable_problem(request.url.path, dependency, exc)

    async def on_commit_unknown(request: Request, exc: Exception) -> JSONResponse:
        return commit_unknown_problem(request.url.path, exc)

    app.add_exception_handler(DomainError, on_domain_error)
    app.add_exception_handler(CommitOutcomeUnknown, on_commit_unknown)
    for error_type in (
        DBAPIError,
        DisconnectionError,
        PoolTimeout,
        asyncpg.exceptions.PostgresError,
        asyncpg.exceptions.InterfaceError,
        ConnectionError,
        TimeoutError,
        socket.gaierror,
        nats.errors.Error,
    ):
        app.add_exception_handler(error_type, on_unavailable)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    app.add_exception_handler(Exception, on_unexpected)
