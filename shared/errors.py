"""Domain errors. Domain code raises these; each service's HTTP layer maps them to RFC 9457.

They carry everything a person needs to understand a refusal: a stable code, an English and a
Chinese message, and for state-machine refusals the current state and the allowed next steps.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class FieldIssue:
    """One problem with one input field, shown to people in both languages."""

    field: str
    code: str
    message: str
    message_zh: str

    def as_dict(self) -> dict[str, str]:
        return {
            "field": self.field,
            "code": self.code,
            "message": self.message,
            "message_zh": self.message_zh,
        }


class DomainError(Exception):
    """Base of every refusal a service gives on purpose (never a 500)."""

    status: int = 400
    code: str = "bad_request"
    title: str = "Bad request"
    title_zh: str = "请求有误"

    def __init__(
        self,
        detail: str,
        detail_zh: str | None = None,
        *,
        code: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.detail_zh = detail_zh or self.title_zh
        if code is not None:
            self.code = code
        self.extra: dict[str, Any] = extra or {}


class NotFound(DomainError):
    status = 404
    code = "not_found"
    title = "Not found"
    title_zh = "未找到"


class Conflict(DomainError):
    status = 409
    code = "conflict"
    title = "Conflict"
    title_zh = "冲突"


class InvalidTransition(Conflict):
    """A state machine refused a step: says where the object is and where it may go."""

    code = "invalid_transition"
    title = "Action not allowed in the current state"
    title_zh = "当前状态不允许此操作"

    def __init__(
        self,
        *,
        current_state: str,
        action: str,
        allowed: Sequence[str],
        state_labels_zh: Mapping[str, str] | None = None,
        action_labels_zh: Mapping[str, str] | None = None,
    ) -> None:
        """The labels are the machine's Chinese names of its states and actions: the Chinese text
        names them, never their codes; a code without a label is left out of it."""
        allowed_list = list(allowed)
        states, actions = state_labels_zh or {}, action_labels_zh or {}
        state_zh, action_zh = states.get(current_state), actions.get(action)
        allowed_zh = [actions.get(a, "") for a in allowed_list]
        subject = f"当前状态「{state_zh}」" if state_zh else "当前状态"
        verb = f"不允许执行「{action_zh}」" if action_zh else "不允许此操作"
        if not allowed_list:
            remaining = "，且没有可执行的操作"
        elif all(allowed_zh):
            remaining = "，可执行：" + "、".join(f"「{a}」" for a in allowed_zh)
        else:
            remaining = ""
        super().__init__(
            f"'{action}' is not allowed while the state is '{current_state}'; "
            f"allowed: {', '.join(allowed_list) or 'none'}",
            subject + verb + remaining,
            extra=state_extra(current_state, allowed_list, states, actions),
        )


def state_extra(
    current_state: str,
    allowed: Sequence[str],
    state_labels_zh: Mapping[str, str],
    action_labels_zh: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The members every state refusal carries: where the object is and what remains, labelled."""
    actions = action_labels_zh or {}
    return {
        "current_state": current_state,
        "current_state_zh": state_labels_zh.get(current_state, current_state),
        "allowed_actions": list(allowed),
        "allowed_actions_zh": [actions.get(a) or a for a in allowed],
    }


class StateConflict(Conflict):
    """A refusal because of the state an object is in, outside a machine step (已定稿, 已截止 …).

    It answers like ``InvalidTransition``: ``current_state`` with its Chinese label and the actions
    that remain. The Chinese detail is the caller's and names the state by its label, not its code.
    """

    def __init__(
        self,
        detail: str,
        detail_zh: str,
        *,
        current_state: str,
        state_labels_zh: Mapping[str, str],
        allowed: Sequence[str] = (),
        action_labels_zh: Mapping[str, str] | None = None,
        code: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(
            detail,
            detail_zh,
            code=code,
            extra=state_extra(current_state, allowed, state_labels_zh, action_labels_zh) | (extra or {}),
        )


class Forbidden(DomainError):
    status = 403
    code = "forbidden"
    title = "Forbidden"
    title_zh = "无权操作"


class Unauthenticated(DomainError):
    status = 401
    code = "unauthenticated"
    title = "Authentication required"
    title_zh = "需要登录"


class ValidationFailed(DomainError):
    """Input that parsed but breaks a rule the domain checks, listed field by field."""

    status = 422
    code = "validation_failed"
    title = "Validation failed"
    title_zh = "数据校验未通过"

    def __init__(self, issues: Sequence[FieldIssue]) -> None:
        self.issues = list(issues)
        super().__init__(
            "; ".join(f"{i.field}: {i.message}" for i in self.issues) or self.title,
            "；".join(f"{i.field}：{i.message_zh}" for i in self.issues) or self.title_zh,
        )


class DuplicateValue(Conflict):
    """A value that must be unique is taken (e.g. a credit code already registered)."""

    code = "duplicate"
    title = "Already exists"
    title_zh = "已存在"

    def __init__(self, field_name: str, value: str, *, existing_id: str | None = None) -> None:
        self.issues = [
            FieldIssue(field_name, "duplicate", f"'{value}' is already registered", f"「{value}」已被登记")
        ]
        extra: dict[str, Any] = {"errors": [i.as_dict() for i in self.issues]}
        if existing_id is not None:
            extra["existing_id"] = existing_id
        super().__init__(
            f"{field_name} '{value}' is already registered",
            f"{field_name}「{value}」已被登记",
            extra=extra,
        )
