"""The platform lifecycle and the four reorganisation actions of seed 000, as data."""

from __future__ import annotations

from shared.statemachine import StateMachine, Transition

STAFF = ("department_staff", "administrator")

STATE_LABELS = {
    "proposed": "拟建",
    "under_construction": "培育/建设期",
    "operating": "运行",
    "under_rectification": "整改",
    "revoked": "撤销",
    "merged": "已整合",
}
LIVE = ("under_construction", "operating", "under_rectification")

PLATFORM_MACHINE = StateMachine(
    name="platform",
    transitions=(
        Transition.of("start_construction", ["proposed"], "under_construction", "批准建设", STAFF),
        Transition.of("accept", ["under_construction"], "operating", "验收通过", STAFF),
        Transition.of("open_rectification", ["operating"], "under_rectification", "限期整改", STAFF),
        Transition.of("close_rectification", ["under_rectification"], "operating", "整改通过", STAFF),
        Transition.of("revoke", ["proposed", *LIVE], "revoked", "撤销", STAFF),
        Transition.of("merge", LIVE, "merged", "整合", STAFF),
        Transition.of("strengthen", ["operating"], "operating", "充实", STAFF),
        Transition.of("strengthen", ["under_rectification"], "under_rectification", "充实", STAFF),
        Transition.of("adjust", ["operating"], "operating", "调整", STAFF),
        Transition.of("adjust", ["under_rectification"], "under_rectification", "调整", STAFF),
    ),
    state_labels_zh=STATE_LABELS,
    terminal=frozenset({"revoked", "merged"}),
)

# action → past-tense verb of its event, registry.platform.<verb>
EVENT_VERBS = {
    "propose": "proposed",
    "start_construction": "construction_started",
    "accept": "accepted",
    "open_rectification": "rectification_opened",
    "close_rectification": "rectification_closed",
    "revoke": "revoked",
    "merge": "merged",
    "absorb": "absorbed",
    "strengthen": "strengthened",
    "adjust": "adjusted",
    "update": "updated",
}
ACTION_LABELS = {
    "propose": "登记",
    "start_construction": "批准建设",
    "accept": "验收通过",
    "open_rectification": "限期整改",
    "close_rectification": "整改通过",
    "revoke": "撤销",
    "merge": "整合（被整合）",
    "absorb": "整合（保留）",
    "strengthen": "充实",
    "adjust": "调整",
    "update": "信息变更",
}
