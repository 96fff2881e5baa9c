"""Every state refusal answers in one shape (issue 17 §6): the kit's, never one made by hand."""

from __future__ import annotations

import ast
from pathlib import Path

from shared.errors import InvalidTransition, StateConflict
from shared.statemachine import StateMachine, Transition

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ROOT / "services"

CALL = StateMachine(
    "call",
    (
        Transition.of("publish", ["draft"], "published", "发布指南", roles=["department_staff"]),
        Transition.of("close", ["published"], "closed", "截止申报", roles=["department_staff"]),
        Transition.of("withdraw", ["published"], "draft", "撤回", roles=["applicant"]),
    ),
    {"draft": "草稿", "published": "已发布", "closed": "已截止"},
    terminal=frozenset({"closed"}),
)


def test_a_state_rule_answers_like_a_refused_step() -> None:
    step = InvalidTransition(
        current_state="published",
        action="publish",
        allowed=["close", "withdraw"],
        state_labels_zh=CALL.state_labels_zh,
        action_labels_zh=CALL.action_labels_zh,
    )
    rule = CALL.refuse("published", "the call is open", "指南「已发布」，不能修改", code="call_open")
    assert rule.status == 409 and rule.code == "call_open"
    assert (
        rule.extra
        == step.extra
        == {
            "current_state": "published",
            "current_state_zh": "已发布",
            "allowed_actions": ["close", "withdraw"],
            "allowed_actions_zh": ["截止申报", "撤回"],
        }
    )
    assert rule.detail_zh == "指南「已发布」，不能修改"


def test_what_remains_is_what_the_caller_may_do() -> None:
    refused = CALL.refuse("published", "x", "指南已发布", roles=["applicant"])
    assert refused.extra["allowed_actions"] == ["withdraw"]
    assert refused.extra["allowed_actions_zh"] == ["撤回"]


def test_an_object_without_a_machine_names_its_state_and_that_nothing_remains() -> None:
    refused = StateConflict(
        "the sheet is submitted",
        "评审表已提交，不能修改",
        current_state="submitted",
        state_labels_zh={"draft": "草稿", "submitted": "已提交"},
        extra={"sheet_id": "s-1"},
    )
    assert refused.extra == {
        "current_state": "submitted",
        "current_state_zh": "已提交",
        "allowed_actions": [],
        "allowed_actions_zh": [],
        "sheet_id": "s-1",
    }


def _calls(name: str) -> list[tuple[Path, ast.Call]]:
    found = []
    for path in sorted(SERVICES.glob("*/*/**/*.py")):
        if "tests" in path.relative_to(SERVICES).parts or "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                func = node.func
                called = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
                if called == name:
                    found.append((path, node))
    return found


def _where(path: Path, node: ast.AST) -> str:
    return f"{path.relative_to(ROOT)}:{node.lineno}"


def test_no_service_builds_the_state_members_by_hand() -> None:
    """A hand-made ``extra={"current_state": …}`` forgets the labels or what remains; the kit's
    StateConflict / machine.refuse give all four members."""
    by_hand = []
    for name in ("Conflict", "DomainError"):
        for path, call in _calls(name):
            for kw in call.keywords:
                if kw.arg == "extra" and isinstance(kw.value, ast.Dict):
                    keys = {k.value for k in kw.value.keys if isinstance(k, ast.Constant)}
                    if keys & {"current_state", "allowed_actions"}:
                        by_hand.append(_where(path, call))
    assert by_hand == []


def test_every_refused_step_in_the_services_carries_the_chinese_labels() -> None:
    """Without the labels the Chinese text can only say 当前状态不允许此操作 (or worse, a code)."""
    unlabelled = [
        _where(path, call)
        for path, call in _calls("InvalidTransition")
        if not {"state_labels_zh", "action_labels_zh"} <= {kw.arg for kw in call.keywords}
    ]
    assert unlabelled == []


STATE_ATTRIBUTES = {"state", "status", "vetting_status"}


def _han(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def test_no_chinese_text_spells_a_state_by_its_code() -> None:
    """``f"…{x.state}…"`` in a Chinese text shows people a code; the label belongs there."""
    spelled = []
    for path in sorted(SERVICES.glob("*/*/**/*.py")):
        if "tests" in path.relative_to(SERVICES).parts or "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.JoinedStr):
                continue
            literal = "".join(
                v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str)
            )
            if _han(literal) and any(
                isinstance(v, ast.FormattedValue)
                and isinstance(v.value, ast.Attribute)
                and v.value.attr in STATE_ATTRIBUTES
                for v in node.values
            ):
                spelled.append(_where(path, node))
    assert spelled == []
