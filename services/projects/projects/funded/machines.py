"""The project machine after approval, and the kinds of change and evaluation, as data."""

from __future__ import annotations

from typing import Literal, get_args

from shared.auth import Role
from shared.statemachine import StateMachine, Transition

STAFF = (Role.department_staff, Role.administrator)
SYSTEM = ("system",)

PROJECT_MACHINE = StateMachine(
    name="project",
    transitions=(
        Transition.of("sign_task_book", ["approved"], "in_progress", "签订任务书", STAFF),
        Transition.of("request_acceptance", ["in_progress"], "accepting", "申请结题验收", STAFF),
        Transition.of("pass_acceptance", ["accepting"], "accepted", "通过结题验收", SYSTEM),
        Transition.of("fail_acceptance", ["accepting"], "failed", "未通过结题验收", SYSTEM),
        Transition.of("request_performance", ["accepted"], "evaluating", "开展综合绩效评价", STAFF),
        Transition.of("conclude", ["evaluating"], "closed", "综合绩效评价完成，结题", SYSTEM),
        Transition.of("fail_performance", ["evaluating"], "failed", "综合绩效评价不合格", SYSTEM),
        Transition.of("eliminate", ["in_progress"], "eliminated", "赛马淘汰", SYSTEM),
        Transition.of(
            "terminate",
            ["approved", "in_progress", "accepting", "accepted", "evaluating"],
            "terminated",
            "项目终止",
            (*STAFF, *SYSTEM),
        ),
        Transition.of("close_filed", ["in_progress"], "closed", "备案项目结题", STAFF),
    ),
    state_labels_zh={
        "approved": "已立项（待签任务书）",
        "in_progress": "执行中",
        "accepting": "结题验收中",
        "accepted": "已通过验收",
        "evaluating": "综合绩效评价中",
        "closed": "已结题",
        "failed": "未通过",
        "terminated": "已终止",
        "eliminated": "赛马淘汰",
    },
    terminal=frozenset({"closed", "failed", "terminated", "eliminated"}),
)

# The project's states as a type: the ``state=`` filter of the lists (422 for any other value).
ProjectState = Literal[
    "approved",
    "in_progress",
    "accepting",
    "accepted",
    "evaluating",
    "closed",
    "failed",
    "terminated",
    "eliminated",
]
assert set(get_args(ProjectState)) == PROJECT_MACHINE.states

RESULTS_ZH = {"excellent": "优秀", "pass": "通过", "fail": "不通过", "terminated": "终止"}

EVALUATION_KINDS_ZH = {
    "mid_term": "中期检查",
    "milestone": "里程碑评估",
    "acceptance": "结题验收",
    "performance": "综合绩效评价",
}
# Kinds that move the project itself when requested.
EVALUATION_TRANSITIONS = {"acceptance": "request_acceptance", "performance": "request_performance"}

CHANGE_KINDS_ZH = {
    "pi_change": "变更项目负责人",
    "unit_change": "变更承担单位",
    "extension": "项目延期",
    "budget_adjustment": "预算调剂",
    "termination": "项目终止",
}
# 预算调剂权下放承担单位 (seed 004): the host unit's approval is final for budget adjustments.
DECIDED_BY_UNIT = frozenset({"budget_adjustment"})
# The extension limit and the 限项 bar after a failure are policy values (projects/policy).

# Running projects count toward 限项 (applications/checks.py reads these states).
RUNNING_STATES = ("approved", "in_progress", "accepting", "accepted", "evaluating")
