"""Laboratory clusters (实验室群, seed 002): the 5-step build procedure and its aftermath."""

from __future__ import annotations

from shared.statemachine import StateMachine, Transition

STAFF = ("department_staff", "administrator")
SECRETARIAT = (*STAFF, "cluster_secretariat")
LIVE = (
    "intent",
    "structure",
    "service_organisations",
    "plan",
    "established",
    "under_rectification",
    "restructuring",
)

STATE_LABELS = {
    "intent": "组建意向",
    "structure": "组织架构",
    "service_organisations": "服务机构",
    "plan": "组建方案",
    "established": "成立",
    "under_rectification": "整改（一年）",
    "restructuring": "连续不合格，需重组或撤销",
    "revoked": "撤销",
}

CLUSTER_MACHINE = StateMachine(
    name="cluster",
    transitions=(
        Transition.of("define_structure", ["intent"], "structure", "明确组织架构", SECRETARIAT),
        Transition.of(
            "select_service_organisations",
            ["structure"],
            "service_organisations",
            "选择服务机构",
            SECRETARIAT,
        ),
        Transition.of("submit_plan", ["service_organisations"], "plan", "制定建设方案", SECRETARIAT),
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
    "select_service_organisations": "service_organisations_selected",
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

ACTION_LABELS = {
    "propose": "提出组建意向",
    **{t.action: t.label_zh for t in CLUSTER_MACHINE.transitions},
    "assess": "年度考核",
    "update": "修改",
    "guideline_suggested": "提出指南建议",
    "work_plan_recorded": "制定年度工作计划",
}

# What each step needs before the cluster may take it (the artefacts of seed 002, 四(一)).
# ``propose`` is step 1 (提出组建意向): the intent names all of these or is not recorded.
REQUIRED_ARTEFACTS: dict[str, dict[str, str]] = {
    "propose": {
        "name": "实验室群名称",
        "field": "领域方向",
        "direction": "研究方向",
        "lead_platform_ids": "牵头平台",
        "director": "群主任",
        "expert_committee.chair": "专家委员会主任",
        "service_organisations": "参与服务机构",
        "work_plan": "组建工作计划",
    },
    # 2 明确组织架构: lead, director and chair confirmed; first member and committee lists;
    # the secretariat's (deputy) secretaries-general and liaisons of both sides.
    "define_structure": {
        "lead_platform_ids": "牵头平台",
        "director": "群主任",
        "expert_committee.chair": "专家委员会主任",
        "member_units": "成员单位名单",
        "expert_committee.members": "专家委员会成员名单",
        "secretariat.secretary_general": "秘书长",
        "secretariat.deputies": "副秘书长",
        "secretariat.liaisons": "联络员",
    },
    # 3 选择服务机构: at least one, each with its duties (checked per organisation as well).
    "select_service_organisations": {"service_organisations": "服务机构"},
    "submit_plan": {"plan_document": "组建方案"},
    "establish": {"service_organisations": "服务机构", "approval_document": "批复文件"},
}
# Steps after which every service organisation must say what it does (职责).
NEEDS_SERVICE_DUTIES = frozenset({"select_service_organisations", "establish"})

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

# 专家委员会把关 of a guideline suggestion (seed 002 三(三))
VETTING_LABELS = {
    "pending_vetting": "待专家委员会把关",
    "passed": "通过",
    "passed_with_changes": "修改后通过",
    "rejected": "不通过",
}
