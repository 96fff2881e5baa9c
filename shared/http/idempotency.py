"""``Idempotency-Key`` on writes (IETF httpapi draft "The Idempotency-Key HTTP Header Field").

A caller that may have to repeat a write (a timeout, a 503 "outcome unknown") sends a key of
its own choosing with it. The first request with a key is carried out as usual and its answer
(status, headers, body) is stored, with the request's fingerprint, **in the same commit as the
change**: either both are in the database or neither. A repeat with the same key then

- gets the stored answer again, marked ``Idempotent-Replayed: true``, and nothing is written
  twice — however the first answer was lost (a crash during COMMIT, a dropped connection);
- is a 422 when its method, path or body differ from the first request's;
- is a 409 while the first request is still being carried out (retry after it).

If the first request stored nothing (it failed, or it was refused), a repeat is carried out
afresh. Keys belong to the caller (the token's subject): two callers may use the same key.
They are kept 24 hours, and purged after that.

How: ``IdempotencyMiddleware`` notes a keyed write and keeps a copy of its body; the guard,
the first dependency of every route, takes a transaction-level advisory lock on the key (held
until the commit: that is the "in progress" state, and it goes away by itself with a crashed
request) and looks the key up; the request's unit of work then uses the guard's session and
does not commit on its own: the middleware commits, once the answer is complete, with the
answer's row in that same transaction, and only then sends the answer.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from fastapi import FastAPI, Request
from fastapi.params import Depends
from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.auth import Principal
from shared.clock import utcnow
from shared.errors import Conflict, DomainError, FieldIssue, ValidationFailed
from shared.http.problems import PROBLEM_JSON, database_problem, domain_problem, problem
from shared.uow import UnitOfWork

log = logging.getLogger(__name__)

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
KEY_LIFETIME = timedelta(hours=24)
PURGE_EVERY_SECONDS = 3600.0
SCOPE_KEY = "kit.idempotency"
# The advisory locks of keys live in a lock space of their own (the two-integer form).
LOCK_CLASS = 0x1DE4
_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")
# Answer headers not stored: the replay gets its own date, server and request id.
_NOT_STORED = {b"date", b"server", b"x-request-id"}
_BOUNDARY = re.compile(rb"boundary=\"?([^\";,\s]+)")

OPENAPI_PARAMETER: dict[str, Any] = {
    "name": HEADER,
    "in": "header",
    "required": False,
    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[\\x21-\\x7e]+$"},
    "description": (
        "A key of the caller's choosing (e.g. a UUID) that makes this write safe to repeat: a "
        "repeat with the same key and the same request returns the first answer (header "
        "`Idempotent-Replayed: true`) instead of writing again; the same key with a different "
        "request is a 422, a repeat while the first is in progress a 409. Kept 24 h per caller. "
        "幂等键：使用相同的键重复提交同一请求，将返回首次的结果而不会重复写入。"
    ),
}


class KeyInUse(Conflict):
    code = "idempotency_key_in_use"
    title = "A request with this Idempotency-Key is in progress"
    title_zh = "使用该幂等键的请求正在处理中"


class KeyReused(ValidationFailed):
    code = "idempotency_key_reused"
    title = "Idempotency-Key already used for a different request"
    title_zh = "该幂等键已用于另一个请求"


@dataclass(frozen=True)
class StoredAnswer:
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes


class Replay(Exception):
    """Raised by the guard to answer with the stored answer of the first request."""

    def __init__(self, answer: StoredAnswer) -> None:
        super().__init__("replay")
        self.answer = answer


@dataclass
class KeyedWrite:
    """A write that came with an ``Idempotency-Key``, for the time of its request."""

    key: str
    method: str
    path: str
    query: bytes
    content_type: bytes
    body: list[bytes] = field(default_factory=list)
    body_complete: bool = False
    principal: str | None = None
    session: AsyncSession | None = None
    uow: UnitOfWork | None = None
    answer_start: Message | None = None
    answer_body: list[bytes] = field(default_factory=list)

    @property
    def armed(self) -> bool:
        """The guard found no stored answer and holds the key: the answer is to be stored."""
        return self.session is not None

    def fingerprint(self) -> str:
        """The request as the key stands for it: method, path, query and body (a multipart
        body with its boundary replaced, which each upload of the same file draws anew)."""
        content = b"".join(self.body)
        boundary = _BOUNDARY.search(self.content_type)
        if boundary:
            content = content.replace(boundary.group(1), b"boundary")
        digest = hashlib.sha256()
        for part in (self.method.encode(), self.path.encode(), self.query, content):
            digest.update(len(part).to_bytes(8, "big"))
            digest.update(part)
        return digest.hexdigest()


def keyed_write(request: Request) -> KeyedWrite | None:
    write = request.scope.get(SCOPE_KEY)
    return write if isinstance(write, KeyedWrite) else None


def _key_of(scope: Scope) -> str | None:
    for name, value in scope.get("headers", []):
        if name == b"idempotency-key":
            text: str = value.decode("latin-1").strip()
            # The draft writes the key as a structured-field string ("..."); a bare token is taken too.
            if len(text) >= 2 and text[0] == text[-1] == '"':
                text = text[1:-1]
            return text
    return None


class IdempotencyMiddleware:
    """Pure ASGI: a keyed write's body is copied as it is read, and its answer held back until
    the change and the answer are committed together. Other requests pass untouched."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in WRITE_METHODS:
            await self.app(scope, receive, send)
            return
        key = _key_of(scope)
        if key is None:
            await self.app(scope, receive, send)
            return
        if not _KEY.match(key):
            issue = FieldIssue(
                HEADER,
                "idempotency_key_invalid",
                "1 to 255 visible ASCII characters (e.g. a UUID)",
                "幂等键应为1至255个可见ASCII字符（例如UUID）",
            )
            response = problem(
                400,
                "Invalid Idempotency-Key",
                f"{HEADER}: {issue.message}",
                type_="https://errors.sci-platform.example/idempotency_key_invalid",
                instance=scope["path"],
                title_zh="幂等键无效",
                detail_zh=f"{HEADER}：{issue.message_zh}",
                code=issue.code,
                errors=[issue.as_dict() | {"in": "header"}],
            )
            await response(scope, receive, send)
            return
        content_type = next((v for n, v in scope.get("headers", []) if n == b"content-type"), b"")
        write = KeyedWrite(key, scope["method"], scope["path"], scope.get("query_string", b""), content_type)
        scope[SCOPE_KEY] = write

        async def receive_copying() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                write.body.append(message.get("body", b""))
                write.body_complete = not message.get("more_body", False)
            return message

        async def send_after_commit(message: Message) -> None:
            if message["type"] == "http.response.start":
                if write.uow is not None and write.uow.commit_pending:
                    write.answer_start = message
                    return
            elif message["type"] == "http.response.body" and write.answer_start is not None:
                write.answer_body.append(message.get("body", b""))
                if message.get("more_body", False):
                    return
                await _commit_with_answer(write, scope, receive, send)
                return
            await send(message)

        await self.app(scope, receive_copying, send_after_commit)


async def _commit_with_answer(write: KeyedWrite, scope: Scope, receive: Receive, send: Send) -> None:
    """Store the answer in the request's transaction, commit, and only then send the answer;
    a commit that fails is answered as such (not saved, or outcome unknown)."""
    assert write.answer_start is not None and write.uow is not None and write.principal is not None
    start = write.answer_start
    body = b"".join(write.answer_body)
    uow = write.uow
    tables = scope["app"].state.runtime.tables
    try:
        headers = [
            [name.decode("latin-1"), value.decode("latin-1")]
            for name, value in start.get("headers", [])
            if name.lower() not in _NOT_STORED
        ]
        await uow.session.execute(
            insert(tables.idempotency_key)
            .values(
                principal=write.principal,
                key=write.key,
                fingerprint=write.fingerprint(),
                method=write.method,
                path=write.path,
                status=start["status"],
                headers=headers,
                body=body,
                expires_at=utcnow() + KEY_LIFETIME,
            )
            # an expired row of the same key, not purged yet, makes room
            .on_conflict_do_update(
                index_elements=["principal", "key"],
                set_={
                    "fingerprint": write.fingerprint(),
                    "method": write.method,
                    "path": write.path,
                    "status": start["status"],
                    "headers": headers,
                    "body": body,
                    "created_at": func.now(),
                    "expires_at": utcnow() + KEY_LIFETIME,
                },
                where=tables.idempotency_key.c.expires_at <= func.now(),
            )
        )
        await uow.commit_now()
    except Exception as exc:  # noqa: BLE001 - the answer becomes the failure: not saved, or maybe
        failure = exc
    else:
        await send(start)
        await send({"type": "http.response.body", "body": body})
        return
    try:
        await uow.session.rollback()
    except Exception:
        log.debug("rollback after a failed commit failed", exc_info=True)
    response = (
        domain_problem(failure, scope["path"])
        if isinstance(failure, DomainError)
        else database_problem(scope["path"], failure)
    )
    await response(scope, receive, send)


async def _principal_of(request: Request) -> Principal | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        return None
    try:
        principal: Principal = await request.app.state.runtime.verifier.verify(token.strip())
    except DomainError:
        return None  # the route's own authentication answers
    return principal


_last_purge = {"at": float("-inf")}
_purges: set[asyncio.Task[None]] = set()


async def purge_expired(runtime: Any) -> int:
    """Delete the stored answers of expired keys; returns how many."""
    table = runtime.tables.idempotency_key
    async with runtime.engine.begin() as conn:
        result = await conn.execute(delete(table).where(table.c.expires_at <= func.now()))
    return int(result.rowcount or 0)


def _purge_now_and_then(runtime: Any) -> None:
    now = time.monotonic()
    if now - _last_purge["at"] < PURGE_EVERY_SECONDS:
        return
    _last_purge["at"] = now

    async def purge() -> None:
        try:
            purged = await purge_expired(runtime)
        except Exception as exc:  # noqa: BLE001 - retried the next hour
            log.warning("idempotency key purge failed", extra={"error": repr(exc)})
            return
        if purged:
            log.info("expired idempotency keys purged", extra={"count": purged})

    task = asyncio.create_task(purge())
    _purges.add(task)
    task.add_done_callback(_purges.discard)


async def idempotency_guard(request: Request) -> AsyncIterator[None]:
    """First dependency of every route: a keyed write is answered from its stored answer, or
    refused (409 in progress, 422 other request), or carried out holding its key."""
    write = keyed_write(request)
    if write is None:
        yield
        return
    principal = await _principal_of(request)
    if principal is None:
        yield  # no caller to keep the key for: the route's authentication refuses or admits
        return
    write.principal = principal.user_id
    if not write.body_complete:
        await request.body()  # a route that reads no body: the copy is completed here
    runtime = request.app.state.runtime
    _purge_now_and_then(runtime)
    table = runtime.tables.idempotency_key
    session: AsyncSession = runtime.sessionmaker()
    try:
        lock_id = func.hashtext(f"{write.principal}\x1f{write.key}")
        if not await session.scalar(select(func.pg_try_advisory_xact_lock(LOCK_CLASS, lock_id))):
            raise KeyInUse(
                "a request with this Idempotency-Key is still being carried out; retry after it",
                "使用该幂等键的请求仍在处理中，请稍后重试",
                extra={"retry_after": 1},
            )
        stored = (
            await session.execute(
                select(table.c.fingerprint, table.c.status, table.c.headers, table.c.body).where(
                    table.c.principal == write.principal,
                    table.c.key == write.key,
                    table.c.expires_at > func.now(),
                )
            )
        ).first()
        if stored is not None:
            if stored.fingerprint != write.fingerprint():
                raise KeyReused(
                    [
                        FieldIssue(
                            HEADER,
                            "idempotency_key_reused",
                            "this key was used for a different request (method, path or body)",
                            "该幂等键已用于另一个请求（方法、路径或内容不同）",
                        )
                    ]
                )
            raise Replay(
                StoredAnswer(
                    stored.status,
                    [(n.encode("latin-1"), v.encode("latin-1")) for n, v in stored.headers],
                    bytes(stored.body),
                )
            )
        write.session = session
        try:
            yield
        except BaseException:
            # The route failed after its unit of work had committed (as far as it knew): that
            # change is committed as it would have been without a key, with no answer stored.
            if write.uow is not None and write.uow.commit_pending:
                await write.uow.commit_now()
            raise
    finally:
        try:
            await session.close()
        except Exception as exc:  # noqa: BLE001 - the connection went away; the answer is out
            log.warning("database connection lost while closing a session", extra={"error": repr(exc)})


def _replay_answer(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Replay)
    answer = exc.answer
    response = Response(answer.body, status_code=answer.status)
    response.raw_headers = [
        *[(n, v) for n, v in answer.headers if n.lower() != b"content-length"],
        (b"content-length", str(len(answer.body)).encode()),
        (REPLAYED_HEADER.lower().encode(), b"true"),
    ]
    return response


def _document_header(app: FastAPI) -> None:
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        document = generate()
        for operations in document.get("paths", {}).values():
            for method, operation in operations.items():
                if method.upper() not in WRITE_METHODS or not isinstance(operation, dict):
                    continue
                parameters = operation.setdefault("parameters", [])
                if not any(p.get("name") == HEADER for p in parameters):
                    parameters.append(dict(OPENAPI_PARAMETER))
                responses = operation.setdefault("responses", {})
                responses.setdefault(
                    "409",
                    {
                        "description": "Conflict, or a request with the same Idempotency-Key in progress "
                        "(problem+json)",
                        "content": {PROBLEM_JSON: {}},
                    },
                )
        app.openapi_schema = document
        return document

    app.openapi = openapi  # type: ignore[method-assign]


def install_idempotency(app: FastAPI) -> None:
    """Idempotency-Key on every write of ``app``: call before its routers are included."""
    app.router.dependencies.insert(0, Depends(idempotency_guard))
    app.add_exception_handler(Replay, _replay_answer)
    app.add_middleware(IdempotencyMiddleware)
    _document_header(app)
