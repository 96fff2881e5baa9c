"""A review round's states and the office's actions in each: a refusal names what remains.

collecting (items arrive) → requested (experts asked for) → drawn (sealed list) → open
(experts review) → finalized. Each action is done by one duty (access.py).
"""

from __future__ import annotations

from evaluation.rounds.models import ReviewRound
from shared.errors import InvalidTransition

ROUND_ACTIONS: dict[str, tuple[str, ...]] = {
    "collecting": ("request", "configure", "edit_item"),
    "requested": ("request", "run", "configure", "edit_item"),
    "drawn": ("run", "open", "configure"),
    "open": ("panel", "finalize", "configure"),
    "finalized": (),
}


def allowed_actions(rnd: ReviewRound) -> list[str]:
    return list(ROUND_ACTIONS.get(rnd.status, ()))


def require(rnd: ReviewRound, action: str) -> None:
    """Refuse ``action`` with a 409 naming the round's state and the actions that remain."""
    if action not in ROUND_ACTIONS.get(rnd.status, ()):
        raise InvalidTransition(current_state=rnd.status, action=action, allowed=allowed_actions(rnd))
