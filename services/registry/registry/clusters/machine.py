"""Laboratory clusters (实验室群, seed 002): the 5-step build procedure and its aftermath."""

from __future__ import annotations

from shared.statemachine import StateMachine, Transition

STAFF = ("department_staff", "administrator")
SECRETARIAT = (*STAFF, "cluster_secretariat")
LIVE = ("intent", "structure", "recruitment", "plan", "established", "under_rectification", "restructuring")

STATE_LABELS = {
    "intent": "组建意向",
    "structure": "组织架构",
    "recruitment": "成员征集",
    "plan": "组建方案",
    "established": "成立",
    "under_rectification": "整改（一年）",
    "restructuring": "连续不合格，需重组或撤销",
    "revoked": "撤销",
}

CLUSTER_MACHINE = StateMachine(
    name="cluster",
    transitions=(
        Transition.of("define_structure", ["intent"], "structure", "确定组织架构", SECRETARIAT),
        Transition.of("open_recruitment", ["structure"], "recruitment", "开展成员征集", SECRETARIAT),
        Transition.of("submit_plan", ["recruitment"], "plan", "提交组建方案", SECRETARIAT),
        Transition.of("establish", ["plan"], "established", "批准成立", STAFF),
        Transition.of(
            "open_rectification", ["established"], "under_rectification", "考核不合格，整改一年", STAFF
        ),
        Transition.of("close_rectification", ["under_rectification"], "established", "整改通过", STAFF),
        Transition.of(
            "require_restructure",
            ["under_rectification", "established"],
            "restructuring",
            "连续不合格，责令重组或撤销",
            STAFF,
        ),
        Transition.of("reorganise", ["restructuring"], "structure", "重组（重新确定组织架构）", STAFF),
        Transition.of("revoke", LIVE, "revoked", "撤销", STAFF),
    ),
    state_labels_zh=STATE_LABELS,
    terminal=frozenset({"revoked"}),
)

EVENT_VERBS = {
    "propose": "proposed",
    "define_structure": "structure_defined",
    "open_recruitment": "recruitment_opened",
    "submit_plan": "plan_submitted",
    "establish": "established",
    "open_rectification": "rectification_opened",
    "close_rectification": "rectification_closed",
    "require_restructure": "restructure_required",
    "reorganise": "reorganised",
    "revoke": "revoked",
    "assess": "assessed",
    "update": "updated",
}

# What a step needs before the cluster may take it (the artefacts of seed 002).
REQUIRED_ARTEFACTS: dict[str, dict[str, str]] = {
    "define_structure": {
        "director": "群主任",
        "secretariat.secretary_general": "秘书长",
        "lead_platform_ids": "牵头实验室",
    },
    "open_recruitment": {"expert_committee.chair": "专家委员会主任"},
    "submit_plan": {"member_units": "成员单位", "plan_document": "组建方案"},
    "establish": {"approval_document": "批复文件"},
}

MEMBER_ROLES_ZH = {
    "director": "群主任",
    "vice_director": "副主任",
    "expert_committee_chair": "专家委员会主任",
    "expert_committee_member": "专家委员会委员",
    "secretary_general": "秘书长",
    "deputy_secretary_general": "副秘书长",
    "liaison": "联络员",
    "member_unit": "成员单位",
    "service_organisation": "服务机构",
}
