"""The call and application state machines, as data (shared.statemachine)."""

from __future__ import annotations

from typing import Literal, get_args

from shared.auth import Role
from shared.statemachine import StateMachine, Transition

STAFF = (Role.department_staff, Role.administrator)

CALL_MACHINE = StateMachine(
    name="call",
    transitions=(
        Transition.of("publish", ["draft"], "published", "发布指南", STAFF),
        Transition.of("close", ["published"], "closed", "截止申报", STAFF),
        Transition.of("start_review", ["closed"], "reviewing", "进入评审", STAFF),
        Transition.of("publish_results", ["reviewing"], "results_published", "公布立项结果", STAFF),
        Transition.of("archive", ["results_published"], "archived", "归档", STAFF),
    ),
    state_labels_zh={
        "draft": "草稿",
        "published": "已发布",
        "closed": "已截止",
        "reviewing": "评审中",
        "results_published": "已公布结果",
        "archived": "已归档",
    },
    terminal=frozenset({"archived"}),
)

APPLICATION_MACHINE = StateMachine(
    name="application",
    transitions=(
        Transition.of("submit", ["draft", "returned"], "submitted", "提交申报", [Role.applicant]),
        Transition.of(
            "withdraw",
            ["submitted", "endorsed", "recommended", "returned"],
            "withdrawn",
            "撤回申报",
            [Role.applicant],
        ),
        Transition.of("endorse", ["submitted"], "endorsed", "依托单位审核通过", [Role.host_unit_admin]),
        Transition.of("return", ["submitted"], "returned", "退回修改", [Role.host_unit_admin, *STAFF]),
        Transition.of("recommend", ["endorsed"], "recommended", "主管部门推荐", [Role.competent_department]),
        Transition.of(
            "return_by_department", ["endorsed"], "returned", "主管部门退回修改", [Role.competent_department]
        ),
        Transition.of("accept_formally", ["recommended"], "formally_accepted", "形式审查通过", STAFF),
        Transition.of("return_at_formal_review", ["recommended"], "returned", "形式审查退回修改", STAFF),
        Transition.of("exclude", ["recommended"], "excluded", "形式审查不通过", STAFF),
        Transition.of("send_to_review", ["formally_accepted"], "in_review", "提交专家评审", STAFF),
        Transition.of("complete_review", ["in_review"], "reviewed", "专家评审完成", ["system"]),
        Transition.of("approve", ["reviewed"], "approved", "批准立项", STAFF),
        # 定向委托, 后补助, 一事一议: no competitive expert review; the mode's own rule applies.
        Transition.of("approve_directly", ["formally_accepted"], "approved", "直接立项（非竞争方式）", STAFF),
        Transition.of("reject", ["reviewed", "formally_accepted"], "rejected", "不予立项", STAFF),
    ),
    state_labels_zh={
        "draft": "草稿",
        "submitted": "已提交",
        "returned": "退回修改",
        "withdrawn": "已撤回",
        "endorsed": "依托单位已审核",
        "recommended": "主管部门已推荐",
        "formally_accepted": "形式审查通过",
        "excluded": "形式审查不通过",
        "in_review": "专家评审中",
        "reviewed": "专家评审完成",
        "approved": "已立项",
        "rejected": "未立项",
    },
    terminal=frozenset({"withdrawn", "excluded", "approved", "rejected"}),
)

# Past-tense event names of each action (docs/events.md: projects.application.<transition>).
APPLICATION_EVENT_NAMES = {
    "submit": "submitted",
    "withdraw": "withdrawn",
    "endorse": "endorsed",
    "return": "returned",
    "return_by_department": "returned",
    "return_at_formal_review": "returned",
    "recommend": "recommended",
    "accept_formally": "formally_accepted",
    "exclude": "excluded",
    "send_to_review": "sent_to_review",
    "complete_review": "reviewed",
    "approve": "approved",
    "approve_directly": "approved",
    "reject": "rejected",
}

# The states as types: the ``state=`` filters of the lists (422 for any other value).
CallState = Literal["draft", "published", "closed", "reviewing", "results_published", "archived"]
ApplicationState = Literal[
    "draft",
    "submitted",
    "returned",
    "endorsed",
    "recommended",
    "formally_accepted",
    "excluded",
    "in_review",
    "reviewed",
    "approved",
    "rejected",
    "withdrawn",
]
assert set(get_args(CallState)) == CALL_MACHINE.states
assert set(get_args(ApplicationState)) == APPLICATION_MACHINE.states
