"""A review round's states and the office's actions in each: a refusal names what remains.

collecting (items arrive) → requested (experts asked for) → drawn (sealed list) → open
(experts review) → finalized. Each action is done by one duty (access.py).
"""

from __future__ import annotations

from evaluation.codes import ROUND_STATUSES
from evaluation.rounds.models import ReviewRound
from shared.errors import InvalidTransition, StateConflict

ROUND_ACTIONS: dict[str, tuple[str, ...]] = {
    "collecting": ("request", "configure", "edit_item"),
    "requested": ("request", "run", "configure", "edit_item"),
    "drawn": ("run", "open", "configure"),
    "open": ("panel", "finalize", "configure"),
    "finalized": (),
}
ROUND_ACTION_LABELS = {
    "request": "申请专家",
    "configure": "调整评审设置",
    "edit_item": "修改评审对象",
    "run": "抽取专家",
    "open": "开始评审",
    "panel": "会议评审决定",
    "finalize": "定稿",
}


def allowed_actions(rnd: ReviewRound) -> list[str]:
    return list(ROUND_ACTIONS.get(rnd.status, ()))


def require(rnd: ReviewRound, action: str) -> None:
    """Refuse ``action`` with a 409 naming the round's state and the actions that remain."""
    if action not in ROUND_ACTIONS.get(rnd.status, ()):
        raise InvalidTransition(
            current_state=rnd.status,
            action=action,
            allowed=allowed_actions(rnd),
            state_labels_zh=ROUND_STATUSES,
            action_labels_zh=ROUND_ACTION_LABELS,
        )


def item_finalized(detail: str, detail_zh: str) -> StateConflict:
    """A 409 for an item whose result is settled (定稿): nothing remains to do with it."""
    return StateConflict(
        detail, detail_zh, current_state="finalized", state_labels_zh=ROUND_STATUSES, code="already_finalized"
    )


def refuse(rnd: ReviewRound, detail: str, detail_zh: str, *, code: str | None = None) -> StateConflict:
    """A 409 for a rule of the round's state that is not one of its actions, named the same way."""
    return StateConflict(
        detail,
        detail_zh,
        current_state=rnd.status,
        state_labels_zh=ROUND_STATUSES,
        allowed=allowed_actions(rnd),
        action_labels_zh=ROUND_ACTION_LABELS,
        code=code,
    )
