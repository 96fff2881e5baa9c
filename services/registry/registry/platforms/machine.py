"""The platform lifecycle and the four reorganisation actions of seed 000, as data."""

from __future__ import annotations

from collections.abc import Iterable

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


def _in_place(action: str, states: Iterable[str], label_zh: str) -> list[Transition]:
    """An action that leaves the state as it is, allowed from each of ``states``."""
    return [Transition.of(action, [s], s, label_zh, STAFF) for s in states]


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
        # A change of kind keeps the record and its state (能进能出): see ``service.reclassify``.
        *_in_place("promote", ["under_construction", "operating"], "晋升"),
        *_in_place("demote", ["operating", "under_rectification"], "降级"),
        *_in_place("reclassify", LIVE, "变更类别"),
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
    "promote": "reclassified",
    "demote": "reclassified",
    "reclassify": "reclassified",
    "list_for_support": "support_listed",
    "open_revocation_case": "revocation_case_opened",
    "dismiss_revocation_case": "revocation_case_dismissed",
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
    "promote": "晋升",
    "demote": "降级",
    "reclassify": "变更类别",
    "list_for_support": "列入支持候选",
    "open_revocation_case": "启动撤销（取消资格）程序",
    "dismiss_revocation_case": "撤销程序终止（保留资格）",
}
# Rank of the laboratory kinds: a change upwards is a promotion, downwards a demotion.
KIND_RANK = {"autonomous_region_key_lab": 1, "national_key_lab_incubator": 2, "national_key_lab": 3}
