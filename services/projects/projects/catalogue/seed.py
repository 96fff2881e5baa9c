"""The plan catalogue of seed 003 (《内蒙古自治区科技计划体系优化改革方案》, 内科资字〔2024〕75号).

Five plan categories and their special programmes. Each programme states the organisation modes
it allows, where its money comes from, how it pays and which office manages it. Staff edit the
rows later (GET/PATCH /catalogue/programmes); these are the first values only.
"""

from __future__ import annotations

from typing import Any

PLAN_CATEGORIES: dict[str, str] = {
    "major_special": "科技重大专项计划",
    "key_rd_transfer": "重点研发和成果转化计划",
    "platform": "创新平台建设计划",
    "capacity": "创新能力提升计划",
    "basic_research": "基础研究计划",
}

ORGANISATION_MODES: dict[str, str] = {
    "open_competition": "竞争立项（自由申报）",
    "unveiling": "揭榜挂帅",
    "horse_race": "赛马制",
    "directed": "定向委托",
    "central_local": "部区会商（央地协同）",
    "post_subsidy": "后补助",
    "stable_support": "稳定支持",
    "case_by_case": "一事一议",
}

FUNDING_TYPES: dict[str, str] = {
    "pre_funding": "前资助",
    "post_subsidy": "后补助",
    "reward_subsidy": "奖励补助",
    "non_repayable": "无偿",
    "repayable": "有偿",
    "competitive": "竞争性",
    "stable": "稳定性",
}

FUND_SOURCE = "自治区科技创新发展专项资金"
NSF_SOURCE = "自治区自然科学基金"

PROGRAMMES: list[dict[str, Any]] = [
    # 科技重大专项计划
    {
        "code": "major.breakthrough",
        "name": "科技突围专项",
        "plan_category": "major_special",
        "organisation_modes": ["unveiling", "horse_race", "directed", "open_competition"],
        "funding_source": FUND_SOURCE,
        "funding_types": ["pre_funding", "non_repayable", "competitive"],
        "managing_office": "重大专项处",
    },
    {
        "code": "major.central_local",
        "name": "央地协同专项",
        "plan_category": "major_special",
        "organisation_modes": ["central_local", "directed", "open_competition"],
        "funding_source": FUND_SOURCE,
        "funding_types": ["pre_funding", "non_repayable", "competitive"],
        "managing_office": "重大专项处",
    },
    {
        "code": "major.demonstration",
        "name": "科技创新重大示范专项",
        "plan_category": "major_special",
        "organisation_modes": ["directed", "unveiling", "open_competition"],
        "funding_source": FUND_SOURCE,
        "funding_types": ["pre_funding", "post_subsidy", "non_repayable"],
        "managing_office": "重大专项处",
    },
    # 重点研发和成果转化计划
    {
        "code": "rd.key_rd_transfer",
        "name": "重点研发和成果转化专项",
        "plan_category": "key_rd_transfer",
        "organisation_modes": ["open_competition", "unveiling", "post_subsidy"],
        "funding_source": FUND_SOURCE,
        "funding_types": ["pre_funding", "post_subsidy", "non_repayable", "repayable", "competitive"],
        "managing_office": "高新技术处",
    },
    {
        "code": "rd.industrial_chain",
        "name": "重点产业链专项",
        "plan_category": "key_rd_transfer",
        "organisation_modes": ["unveiling", "horse_race", "open_competition"],
        "funding_source": FUND_SOURCE,
        "funding_types": ["pre_funding", "non_repayable", "competitive"],
        "managing_office": "高新技术处",
    },
    # 创新平台建设计划
    {
        "code": "platform.national_cultivation",
        "name": "国家级平台培育建设专项",
        "plan_category": "platform",
        "organisation_modes": ["directed", "stable_support"],
        "funding_source": FUND_SOURCE,
        "funding_types": ["pre_funding", "non_repayable", "stable"],
        "managing_office": "基础研究处",
    },
    {
        "code": "platform.regional_capacity",
        "name": "自治区级平台能力提升专项",
        "plan_category": "platform",
        "organisation_modes": ["post_subsidy", "stable_support", "open_competition"],
        "funding_source": FUND_SOURCE,
        "funding_types": ["post_subsidy", "reward_subsidy", "stable"],
        "managing_office": "基础研究处",
    },
    # 创新能力提升计划
    {
        "code": "capacity.strategy",
        "name": "科技战略研究专项",
        "plan_category": "capacity",
        "organisation_modes": ["open_competition", "directed"],
        "funding_source": FUND_SOURCE,
        "funding_types": ["pre_funding", "non_repayable", "competitive"],
        "managing_office": "政策法规处",
    },
    {
        "code": "capacity.talent",
        "name": "科技人才培育专项",
        "plan_category": "capacity",
        "organisation_modes": ["open_competition", "stable_support"],
        "funding_source": FUND_SOURCE,
        "funding_types": ["pre_funding", "non_repayable", "competitive"],
        "managing_office": "人才处",
    },
    {
        "code": "capacity.cooperation",
        "name": "科技合作交流专项",
        "plan_category": "capacity",
        "organisation_modes": ["open_competition", "central_local", "directed"],
        "funding_source": FUND_SOURCE,
        "funding_types": ["pre_funding", "non_repayable", "competitive"],
        "managing_office": "合作交流处",
    },
    {
        "code": "capacity.policy_guidance",
        "name": "政策引导类专项",
        "plan_category": "capacity",
        "organisation_modes": ["post_subsidy"],
        "funding_source": FUND_SOURCE,
        "funding_types": ["post_subsidy", "reward_subsidy", "non_repayable"],
        "managing_office": "成果转化处",
    },
    # 基础研究计划
    {
        "code": "basic.nsf",
        "name": "自然科学基金项目",
        "plan_category": "basic_research",
        "organisation_modes": ["open_competition"],
        "funding_source": NSF_SOURCE,
        "funding_types": ["pre_funding", "non_repayable", "competitive"],
        "managing_office": "基础研究处",
    },
    {
        "code": "basic.joint_fund",
        "name": "区域创新发展联合基金项目",
        "plan_category": "basic_research",
        "organisation_modes": ["open_competition"],
        "funding_source": NSF_SOURCE,
        "funding_types": ["pre_funding", "non_repayable", "competitive"],
        "managing_office": "基础研究处",
    },
    {
        "code": "basic.research_conditions",
        "name": "科研条件建设专项",
        "plan_category": "basic_research",
        "organisation_modes": ["open_competition", "directed", "post_subsidy"],
        "funding_source": FUND_SOURCE,
        "funding_types": ["pre_funding", "post_subsidy", "non_repayable"],
        "managing_office": "条件财务处",
    },
]
