"""Evaluation's code lists with their Chinese labels, so no front end has to hard-code them."""

from __future__ import annotations

from collections.abc import Mapping

# What a round reviews (评审类型); project evaluations carry the kind projects asked for.
ROUND_KINDS = {
    "application_review": "项目申报评审",
    "lab_assessment": "重点实验室考核评估",
    "platform_assessment": "创新平台考核评估",
    "cluster_assessment": "实验室群年度考核",
    "project_evaluation": "项目评估",
}
ASSESSMENT_TYPES = {
    "application_review": "项目申报评审",
    "lab_assessment": "重点实验室考核评估",
    "platform_assessment": "创新平台考核评估",
    "cluster_assessment": "实验室群年度考核",
    "mid_term": "中期评估",
    "acceptance": "结题验收",
    "performance": "综合绩效评价",
    "milestone": "赛马制里程碑评估",
}
PROJECT_EVALUATION_KINDS = {
    k: ASSESSMENT_TYPES[k] for k in ("mid_term", "acceptance", "performance", "milestone")
}
ROUND_STATUSES = {
    "collecting": "收集项目",
    "requested": "已申请专家",
    "drawn": "已抽取（密封）",
    "open": "评审中",
    "finalized": "已定稿",
}
ASSIGNMENT_STATUSES = {
    "assigned": "待确认",
    "accepted": "已接受",
    "declined": "已拒绝",
    "voided": "已作废",
    "reserve": "候补",
}
SHEET_STATUSES = {
    "not_started": "未开始",
    "draft": "草稿",
    "submitted": "已提交",
    "recused": "已回避",
}
RECOMMENDATIONS = {
    "fund": "建议资助",
    "fund_with_changes": "修改后资助",
    "do_not_fund": "不予资助",
}
LAB_ORIENTATIONS = {  # 分类评价 (seed 001)
    "free_exploration": "自由探索类",
    "goal_oriented": "目标导向类",
}
# Platforms other than key labs that the seeds assess (seed 004), each with its own default form.
ASSESSED_PLATFORM_KINDS = {
    "technology_innovation_centre": "技术创新中心",
    "clinical_research_centre": "临床医学研究中心",
    "new_rd_institution": "新型研发机构",
    "academician_workstation": "院士专家工作站",
    "pilot_base": "中试基地",
}
LAB_GRADES = {
    "excellent": "优秀",
    "good": "良好",
    "qualified": "合格",
    "unqualified": "不合格",
}
CLUSTER_RESULTS = {"pass": "合格", "fail": "不合格"}
PROJECT_RESULTS = {
    "excellent": "优秀",
    "pass": "通过",
    "fail": "不通过",
    "terminated": "终止",
}
INDICATOR_VERDICTS = {
    "achieved": "已完成",
    "partly_achieved": "部分完成",
    "not_achieved": "未完成",
}
SCORE_BASES = {
    "trimmed_mean": "去掉最高最低分后的平均分",
    "normalised": "按专家标准化（z 分数）后的得分",
}
EXPERT_STATUSES = {
    "applied": "待审核",
    "active": "在库",
    "rejected": "未通过",
    "suspended": "暂停",
    "retired": "退出",
}
DUTIES = {
    "expert_db": "专家库管理",
    "request": "专家需求申请",
    "draw": "专家抽取",
    "results": "评审结果核定",
    "supervision": "监督",
}
RESULT_CODES_BY_KIND: dict[str, Mapping[str, str]] = {
    "lab_assessment": LAB_GRADES,
    "platform_assessment": LAB_GRADES,
    "cluster_assessment": CLUSTER_RESULTS,
    "project_evaluation": PROJECT_RESULTS,
}


def labelled(labels: Mapping[str, str]) -> list[dict[str, str]]:
    return [{"code": code, "zh": zh} for code, zh in labels.items()]
