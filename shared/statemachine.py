"""State machines as data: a table of allowed actions per state, one place that checks them.

Each aggregate declares its transitions once (action, from-states, to-state, who may, label);
the domain service asks ``machine.apply(current, action, roles)`` for the next state and
records the step itself (who, when, why, documents) and emits its event. A refusal is an
``InvalidTransition`` (409) naming the current state and what is allowed from there.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from shared.errors import Forbidden, InvalidTransition, StateConflict


@dataclass(frozen=True)
class Transition:
    action: str
    sources: frozenset[str]
    target: str
    label_zh: str = ""
    roles: frozenset[str] | None = None  # None: any caller the endpoint already admitted

    @classmethod
    def of(
        cls,
        action: str,
        sources: Iterable[str],
        target: str,
        label_zh: str = "",
        roles: Iterable[str] | None = None,
    ) -> Transition:
        return cls(action, frozenset(sources), target, label_zh, frozenset(roles) if roles else None)


@dataclass(frozen=True)
class StateMachine:
    name: str
    transitions: tuple[Transition, ...]
    state_labels_zh: Mapping[str, str] = field(default_factory=dict)
    terminal: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        seen: set[tuple[str, str]] = set()
        for t in self.transitions:
            for source in t.sources:
                if (source, t.action) in seen:
                    raise ValueError(f"{self.name}: '{t.action}' from '{source}' declared twice")
                seen.add((source, t.action))

    @property
    def states(self) -> set[str]:
        states = set(self.state_labels_zh)
        for t in self.transitions:
            states |= t.sources | {t.target}
        return states

    @property
    def action_labels_zh(self) -> dict[str, str]:
        return {t.action: t.label_zh for t in self.transitions if t.label_zh}

    def allowed_actions(self, state: str, roles: Iterable[str] | None = None) -> list[str]:
        role_set = set(roles) if roles is not None else None
        return [
            t.action
            for t in self.transitions
            if state in t.sources and (role_set is None or t.roles is None or t.roles & role_set)
        ]

    def transition_for(self, state: str, action: str) -> Transition | None:
        for t in self.transitions:
            if t.action == action and state in t.sources:
                return t
        return None

    def apply(self, state: str, action: str, roles: Iterable[str] | None = None) -> Transition:
        """The transition ``action`` takes from ``state``, or a 409/403 saying why not."""
        transition = self.transition_for(state, action)
        if transition is None:
            raise InvalidTransition(
                current_state=state,
                action=action,
                allowed=self.allowed_actions(state, roles),
                state_labels_zh=self.state_labels_zh,
                action_labels_zh=self.action_labels_zh,
            )
        if roles is not None and transition.roles is not None and not transition.roles & set(roles):
            raise Forbidden(
                f"'{action}' needs one of the roles {sorted(transition.roles)}",
                f"「{transition.label_zh or action}」需要相应角色",
                extra={"required_roles": sorted(transition.roles)},
            )
        return transition

    def refuse(
        self,
        state: str,
        detail: str,
        detail_zh: str,
        *,
        roles: Iterable[str] | None = None,
        code: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> StateConflict:
        """A 409 for a rule that depends on ``state`` but is not one of the machine's steps:
        it names the state and the actions that remain from it, as a refused step does."""
        return StateConflict(
            detail,
            detail_zh,
            current_state=state,
            state_labels_zh=self.state_labels_zh,
            allowed=self.allowed_actions(state, roles),
            action_labels_zh=self.action_labels_zh,
            code=code,
            extra=extra,
        )

    def describe(self) -> dict[str, object]:
        """The whole machine for SPAs and documentation, with Chinese labels."""
        return {
            "name": self.name,
            "states": [
                {"code": s, "zh": self.state_labels_zh.get(s, s), "terminal": s in self.terminal}
                for s in sorted(self.states)
            ],
            "transitions": [
                {
                    "action": t.action,
                    "zh": t.label_zh,
                    "from": sorted(t.sources),
                    "to": t.target,
                    "roles": sorted(t.roles) if t.roles else None,
                }
                for t in self.transitions
            ],
        }
