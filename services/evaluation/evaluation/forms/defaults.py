"""The forms and aggregation policy a review uses until the department configures its own.

Weights follow the seeds: applications on innovation, feasibility, team, budget and expected
outcomes; key labs on output, team, openness and management, with free-exploration labs
judged on originality and academic contribution and goal-oriented labs on how well they
solve major problems (seed 001, 分类评价); clusters on collaboration, service to industry,
sharing and management (seed 002); projects on promised targets (seed 003/004). The other
platforms the seeds assess (seed 004) each have their own form, built from what the seed asks
of that kind; the seed names the criteria but never their weights, so the weights are ours
(the largest on the purpose the seed gives the kind) until the department sets its own.
"""

from __future__ import annotations

from typing import Any

DEFAULT_POLICY: dict[str, Any] = {
    "trim_from": 5,  # drop the highest and the lowest total from 5 reviewers on
    "dispersion_std": 12.0,  # sample std of totals above this → panel discussion
    "dispersion_spread": 30.0,  # or highest − lowest above this
    "minority_share": 0.4,  # the smaller of for/against at least this share → non-consensus
    "min_reviewers": 3,  # submitted sheets an item needs before it can be finalised
    "score_basis": "trimmed_mean",  # or "normalised" (z-scores per expert)
    "z_min_items": 3,  # an expert needs this many sheets in the round to be normalised
    "grade_bands": [],
}

LAB_BANDS = [[90, "excellent"], [80, "good"], [60, "qualified"], [0, "unqualified"]]
CLUSTER_BANDS = [[60, "pass"], [0, "fail"]]
PROJECT_BANDS = [[90, "excellent"], [60, "pass"], [0, "fail"]]


def _ind(code: str, name_zh: str, weight: float, max_score: float, comment: bool = False) -> dict[str, Any]:
    return {
        "code": code,
        "name_zh": name_zh,
        "weight": weight,
        "min_score": 0,
        "max_score": max_score,
        "comment_required": comment,
    }


APPLICATION = [
    _ind("innovation", "创新性", 0.30, 10),
    _ind("feasibility", "研究方案可行性", 0.25, 10),
    _ind("team", "研究团队与基础条件", 0.15, 10),
    _ind("budget", "经费预算合理性", 0.10, 10, comment=True),
    _ind("outcomes", "预期成果与效益", 0.20, 10),
]
LAB_FREE_EXPLORATION = [
    _ind("output", "研究水平与贡献（原创性、学术贡献）", 0.40, 100),
    _ind("team", "队伍建设与人才培养", 0.25, 100),
    _ind("openness", "开放交流与运行共享", 0.15, 100),
    _ind("management", "运行管理", 0.20, 100),
]
LAB_GOAL_ORIENTED = [
    _ind("output", "目标任务完成与解决重大科学问题的效能", 0.45, 100),
    _ind("team", "队伍建设与人才培养", 0.20, 100),
    _ind("openness", "开放交流与运行共享", 0.15, 100),
    _ind("management", "运行管理", 0.20, 100),
]
CLUSTER = [
    _ind("collaboration", "协同创新与重大任务", 0.35, 100),
    _ind("industry", "服务产业集群成效", 0.25, 100),
    _ind("sharing", "资源开放共享", 0.20, 100),
    _ind("management", "运行管理与服务机构", 0.20, 100),
]
PROJECT = [
    _ind("targets", "目标任务与考核指标完成情况", 0.40, 100),
    _ind("outcomes", "成果质量与效益", 0.25, 100),
    _ind("funds", "经费使用规范性", 0.20, 100),
    _ind("management", "组织管理", 0.15, 100),
]

# 技术创新中心 (seed 004 三(二)): from science to technology, 产学研协同, 成果转移转化和产业化,
# technology supply to the region, services to 科技型中小企业.
TECHNOLOGY_INNOVATION_CENTRE = [
    _ind("technology_supply", "关键核心技术突破与技术供给", 0.30, 100),
    _ind("transfer", "科技成果转移转化与产业化成效", 0.30, 100),
    _ind("collaboration", "产学研协同创新与组织模式", 0.15, 100),
    _ind("incubation", "科技型中小企业孵化培育与创新服务", 0.15, 100),
    _ind("management", "运行管理", 0.10, 100),
]
# 临床医学研究中心: multi-centre standardised clinical research, sample and data resources,
# 协同创新 and the spread of medical results.
CLINICAL_RESEARCH_CENTRE = [
    _ind("clinical_research", "多中心、规范化临床研究", 0.35, 100),
    _ind("resources", "疾病领域样本与数据资源管理利用", 0.20, 100),
    _ind("network", "协同创新网络建设", 0.15, 100),
    _ind("transfer", "医学科技成果转化推广", 0.20, 100),
    _ind("management", "运行管理", 0.10, 100),
]
# 新型研发机构: market mechanisms, 委托研发/技术许可/技术入股, 产学研用, 体制机制创新, 激励约束.
NEW_RD_INSTITUTION = [
    _ind("rd_output", "研发投入与产出", 0.30, 100),
    _ind("transfer", "成果转化与产业化（委托研发、技术许可、技术入股）", 0.30, 100),
    _ind("mechanism", "体制机制创新与市场化运行", 0.20, 100),
    _ind("collaboration", "产学研用协同与人才集聚", 0.20, 100),
]
# 院士专家工作站 (考核激励、动态管理): the academicians' teams really working with the host,
# 技术需求发布与成果推介, shared resources.
ACADEMICIAN_WORKSTATION = [
    _ind("cooperation", "院士团队务实合作（进站工作、合作项目）", 0.35, 100),
    _ind("matching", "技术需求对接与成果推介", 0.25, 100),
    _ind("talent", "人才培养与团队建设", 0.20, 100),
    _ind("sharing", "资源互联互通与协同共享", 0.10, 100),
    _ind("management", "运行管理与条件保障", 0.10, 100),
]
# 中试基地 (加强评估评价): pilot-scale services, 技术转移和产业化服务体系, 开放共享,
# 市场化的中试利益分配机制.
PILOT_BASE = [
    _ind("pilot_services", "中试熟化服务能力与成效", 0.35, 100),
    _ind("transfer", "技术转移和产业化服务", 0.25, 100),
    _ind("sharing", "开放共享", 0.25, 100),
    _ind("mechanism", "市场化运行与利益分配机制", 0.15, 100),
]

# (assessment type, variant) -> (name, indicators, recommendation required, grade bands)
DEFAULT_FORMS: dict[tuple[str, str | None], tuple[str, list[dict[str, Any]], bool, list[list[Any]]]] = {
    ("application_review", None): ("项目申报评审表", APPLICATION, True, []),
    ("lab_assessment", "free_exploration"): (
        "重点实验室考核评估表（自由探索类）",
        LAB_FREE_EXPLORATION,
        False,
        LAB_BANDS,
    ),
    ("lab_assessment", "goal_oriented"): (
        "重点实验室考核评估表（目标导向类）",
        LAB_GOAL_ORIENTED,
        False,
        LAB_BANDS,
    ),
    ("platform_assessment", "technology_innovation_centre"): (
        "技术创新中心考核评估表",
        TECHNOLOGY_INNOVATION_CENTRE,
        False,
        LAB_BANDS,
    ),
    ("platform_assessment", "clinical_research_centre"): (
        "临床医学研究中心考核评估表",
        CLINICAL_RESEARCH_CENTRE,
        False,
        LAB_BANDS,
    ),
    ("platform_assessment", "new_rd_institution"): (
        "新型研发机构考核评估表",
        NEW_RD_INSTITUTION,
        False,
        LAB_BANDS,
    ),
    ("platform_assessment", "academician_workstation"): (
        "院士专家工作站考核评估表",
        ACADEMICIAN_WORKSTATION,
        False,
        LAB_BANDS,
    ),
    ("platform_assessment", "pilot_base"): ("中试基地考核评估表", PILOT_BASE, False, LAB_BANDS),
    ("cluster_assessment", None): ("实验室群年度考核表", CLUSTER, False, CLUSTER_BANDS),
    ("mid_term", None): ("项目中期评估表", PROJECT, False, PROJECT_BANDS),
    ("acceptance", None): ("项目结题验收表", PROJECT, False, PROJECT_BANDS),
    ("performance", None): ("项目综合绩效评价表", PROJECT, False, PROJECT_BANDS),
    ("milestone", None): ("赛马制里程碑评估表", PROJECT, False, PROJECT_BANDS),
}
