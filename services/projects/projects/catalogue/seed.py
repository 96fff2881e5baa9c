"""The plan catalogue of seed 003 (《内蒙古自治区科技计划体系优化改革方案》, 内科资字〔2024〕75号).

Five plan categories and their special programmes. Each programme states the organisation modes
it allows, where its money comes from, how it pays and which office manages it. Staff edit the
rows later (GET/PATCH /catalogue/programmes); these are the first values only.

A programme's organisation modes are not chosen here: they are read from the seed, one
``ModeBasis`` per sentence, quoted verbatim (the seed is written in traditional characters).
Where the programme's own sentence names no mode, the sentence of its plan category applies.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, get_args

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

# The same codes as types, for filters the document lists and FastAPI validates (422 naming the
# parameter when a caller sends another).
PlanCategory = Literal["major_special", "key_rd_transfer", "platform", "capacity", "basic_research"]
OrganisationMode = Literal[
    "open_competition",
    "unveiling",
    "horse_race",
    "directed",
    "central_local",
    "post_subsidy",
    "stable_support",
    "case_by_case",
]
assert list(get_args(PlanCategory)) == list(PLAN_CATEGORIES)
assert list(get_args(OrganisationMode)) == list(ORGANISATION_MODES)

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


@dataclass(frozen=True)
class ModeBasis:
    """One sentence of seed 003 and the organisation modes it gives one programme."""

    programme: str
    modes: tuple[str, ...]
    quote: str  # verbatim from the seed
    where: str  # the seed's section and heading
    # Empty when the quote names the modes in so many words (SEED_MODE_WORDS); otherwise how the
    # catalogue reads a sentence that names no mode (the platform programmes).
    reading: str = ""


# The seed's words for the modes (traditional characters, as the seed writes them).
SEED_MODE_WORDS: dict[str, str] = {
    "揭榜掛帥": "unveiling",
    "賽馬制": "horse_race",
    "定向委托": "directed",
    "競爭立項": "open_competition",
    "自由申報": "open_competition",
    "組織申報": "open_competition",
    "一事一議": "case_by_case",
    "后補助": "post_subsidy",
    "穩定支持": "stable_support",
    "誰推薦、誰承諾、誰籌措匹配資金": "central_local",
}

MODE_BASIS: tuple[ModeBasis, ...] = (
    ModeBasis(
        "major.breakthrough",
        ("unveiling", "horse_race", "directed"),
        "通過揭榜掛帥、賽馬制、定向委托等方式,重點支持區內創新主體承擔重大科技創新任務。",
        "二(一)3 科技重大專項計劃·組織形式",
    ),
    ModeBasis(
        "major.breakthrough",
        ("case_by_case",),
        "對于科技突圍項目,按照“一事一議”原則,統籌現有科技資金優先予以保障。",
        "四(一) 強化科技計劃項目與財政科技資源統籌配置",
    ),
    ModeBasis(
        "major.central_local",
        ("central_local",),
        "行業、產業、科技部門按照“誰推薦、誰承諾、誰籌措匹配資金”的原則推薦申報",
        "二(一)3 央地協同專項",
    ),
    ModeBasis(
        "major.demonstration",
        ("unveiling", "horse_race", "directed"),
        "科技部門通過揭榜掛帥、賽馬制、定向委托等方式,重點支持區內企業、高校、科研院所牽頭開展重大科研攻關",
        "二(一)3 科技創新重大示范專項",
    ),
    ModeBasis(
        "rd.key_rd_transfer",
        ("open_competition", "unveiling", "horse_race", "directed"),
        "科技部門通過競爭立項、揭榜掛帥、賽馬制、定向委托等方式,重點支持區內企業、高校、科研院所牽頭開展關鍵技術攻關和科技成果轉化。",
        "二(二)3 重點研發和成果轉化專項",
    ),
    ModeBasis(
        "rd.industrial_chain",
        ("unveiling", "directed"),
        "科技部門組織企業牽頭組建重點產業鏈創新聯合體,系統布局全鏈條攻關,通過揭榜掛帥、定向委托等方式,"
        "支持重點產業鏈創新聯合體開展關鍵技術攻關和科技成果轉化。",
        "二(二)3 重點產業鏈專項",
    ),
    ModeBasis(
        "platform.national_cultivation",
        ("directed", "stable_support"),
        "“成熟一個培育一個,批復一個建設一個”,培育和建設國家級創新平臺。",
        "二(三)3 國家級平臺培育建設專項",
        "one platform at a time, designated by the department (定向委托) and supported while it is "
        "built (稳定支持)",
    ),
    ModeBasis(
        "platform.regional_capacity",
        ("stable_support", "post_subsidy"),
        "科學評估、動態管理、能進能出。",
        "二(三)3 自治區級平臺能力提升專項",
        "support follows the assessment: stable support for platforms that stay (稳定支持), "
        "after-the-fact subsidy on assessed results (后补助)",
    ),
    ModeBasis(
        "capacity.strategy",
        ("directed",),
        "以定向委托方式,支持自治區科技咨詢委員會開展相關專題研究,支持開展科技規劃研究。",
        "二(四)3 科技戰略研究專項",
    ),
    ModeBasis(
        "capacity.strategy",
        ("open_competition",),
        "通過組織申報、兌現政策和專業化機構遴選等方式,予以支持。",
        "二(四)3 創新能力提升計劃·組織形式",
    ),
    ModeBasis(
        "capacity.talent",
        ("stable_support",),
        "穩定支持、梯次培養、目標考核、動態管理。",
        "二(四)3 科技人才培育專項",
    ),
    ModeBasis(
        "capacity.talent",
        ("open_competition",),
        "通過組織申報、兌現政策和專業化機構遴選等方式,予以支持。",
        "二(四)3 創新能力提升計劃·組織形式",
    ),
    ModeBasis(
        "capacity.cooperation",
        ("open_competition",),
        "以競爭立項方式支持區內外科技創新合作交流。",
        "二(四)3 科技合作交流專項",
    ),
    ModeBasis(
        "capacity.cooperation",
        ("case_by_case",),
        "對重大合作事項采取“一事一議”方式支持。",
        "二(四)3 科技合作交流專項",
    ),
    ModeBasis(
        "capacity.policy_guidance",
        ("post_subsidy",),
        "以后補助、獎勵補助等方式,激勵科技創新和成果轉化",
        "二(四)3 政策引導類專項",
    ),
    ModeBasis(
        "basic.nsf",
        ("open_competition",),
        "以自由申報、專家評審、擇優資助等方式,支持開展基礎和應用基礎研究。",
        "二(五)3 自然科學基金項目",
    ),
    ModeBasis(
        "basic.joint_fund",
        ("open_competition",),
        "通過組織申報、專家評審、擇優資助和后補助等方式,予以支持。",
        "二(五)3 基礎研究計劃·組織形式",
    ),
    ModeBasis(
        "basic.research_conditions",
        ("open_competition",),
        "通過組織申報、專家評審、擇優資助和后補助等方式,予以支持。",
        "二(五)3 基礎研究計劃·組織形式",
    ),
    ModeBasis(
        "basic.research_conditions",
        ("post_subsidy",),
        "按照前資助和后補助等方式,對科研基礎條件建設給予支持",
        "二(五)3 科研條件建設專項",
    ),
)


def modes_of(programme: str) -> list[str]:
    """The programme's organisation modes as the seed writes them, in the seed's order."""
    out: list[str] = []
    for basis in MODE_BASIS:
        if basis.programme == programme:
            out += [m for m in basis.modes if m not in out]
    return out


def basis_of(programme: str) -> list[ModeBasis]:
    return [b for b in MODE_BASIS if b.programme == programme]


# 长周期 (seed 004): "圍繞…優勢特色領域的關鍵共性科學問題,開展為期5—10年長周期穩定支持試點" — basic research.
LONG_CYCLE_PROGRAMMES: frozenset[str] = frozenset({"basic.nsf", "basic.joint_fund"})

APPLICANT_FORMS: dict[str, str] = {
    "any": "不限（符合指南条件的单位）",
    "enterprise_led_consortium": "企业牵头组建的创新联合体",
}
# 重点产业链专项: "科技部門組織企業牽頭組建重點產業鏈創新聯合體 … 支持重點產業鏈創新聯合體開展關鍵技術攻關"
APPLICANT_FORM_OF: dict[str, str] = {"rd.industrial_chain": "enterprise_led_consortium"}

PROGRAMMES: list[dict[str, Any]] = [
    # 科技重大专项计划
    {
        "code": "major.breakthrough",
        "name": "科技突围专项",
        "plan_category": "major_special",
        "organisation_modes": modes_of("major.breakthrough"),
        "funding_source": FUND_SOURCE,
        "funding_types": ["pre_funding", "non_repayable", "competitive"],
        "managing_office": "重大专项处",
    },
    {
        "code": "major.central_local",
        "name": "央地协同专项",
        "plan_category": "major_special",
        "organisation_modes": modes_of("major.central_local"),
        "funding_source": FUND_SOURCE,
        "funding_types": ["pre_funding", "non_repayable", "competitive"],
        "managing_office": "重大专项处",
    },
    {
        "code": "major.demonstration",
        "name": "科技创新重大示范专项",
        "plan_category": "major_special",
        "organisation_modes": modes_of("major.demonstration"),
        "funding_source": FUND_SOURCE,
        "funding_types": ["pre_funding", "post_subsidy", "non_repayable"],
        "managing_office": "重大专项处",
    },
    # 重点研发和成果转化计划
    {
        "code": "rd.key_rd_transfer",
        "name": "重点研发和成果转化专项",
        "plan_category": "key_rd_transfer",
        "organisation_modes": modes_of("rd.key_rd_transfer"),
        "funding_source": FUND_SOURCE,
        "funding_types": ["pre_funding", "post_subsidy", "non_repayable", "repayable", "competitive"],
        "managing_office": "高新技术处",
    },
    {
        "code": "rd.industrial_chain",
        "name": "重点产业链专项",
        "plan_category": "key_rd_transfer",
        "organisation_modes": modes_of("rd.industrial_chain"),
        "funding_source": FUND_SOURCE,
        "funding_types": ["pre_funding", "non_repayable", "competitive"],
        "managing_office": "高新技术处",
    },
    # 创新平台建设计划
    {
        "code": "platform.national_cultivation",
        "name": "国家级平台培育建设专项",
        "plan_category": "platform",
        "organisation_modes": modes_of("platform.national_cultivation"),
        "funding_source": FUND_SOURCE,
        "funding_types": ["pre_funding", "non_repayable", "stable"],
        "managing_office": "基础研究处",
    },
    {
        "code": "platform.regional_capacity",
        "name": "自治区级平台能力提升专项",
        "plan_category": "platform",
        "organisation_modes": modes_of("platform.regional_capacity"),
        "funding_source": FUND_SOURCE,
        "funding_types": ["post_subsidy", "reward_subsidy", "stable"],
        "managing_office": "基础研究处",
    },
    # 创新能力提升计划
    {
        "code": "capacity.strategy",
        "name": "科技战略研究专项",
        "plan_category": "capacity",
        "organisation_modes": modes_of("capacity.strategy"),
        "funding_source": FUND_SOURCE,
        "funding_types": ["pre_funding", "non_repayable", "competitive"],
        "managing_office": "政策法规处",
    },
    {
        "code": "capacity.talent",
        "name": "科技人才培育专项",
        "plan_category": "capacity",
        "organisation_modes": modes_of("capacity.talent"),
        "funding_source": FUND_SOURCE,
        "funding_types": ["pre_funding", "non_repayable", "competitive"],
        "managing_office": "人才处",
    },
    {
        "code": "capacity.cooperation",
        "name": "科技合作交流专项",
        "plan_category": "capacity",
        "organisation_modes": modes_of("capacity.cooperation"),
        "funding_source": FUND_SOURCE,
        "funding_types": ["pre_funding", "non_repayable", "competitive"],
        "managing_office": "合作交流处",
    },
    {
        "code": "capacity.policy_guidance",
        "name": "政策引导类专项",
        "plan_category": "capacity",
        "organisation_modes": modes_of("capacity.policy_guidance"),
        "funding_source": FUND_SOURCE,
        "funding_types": ["post_subsidy", "reward_subsidy", "non_repayable"],
        "managing_office": "成果转化处",
    },
    # 基础研究计划
    {
        "code": "basic.nsf",
        "name": "自然科学基金项目",
        "plan_category": "basic_research",
        "organisation_modes": modes_of("basic.nsf"),
        "funding_source": NSF_SOURCE,
        "funding_types": ["pre_funding", "non_repayable", "competitive"],
        "managing_office": "基础研究处",
    },
    {
        "code": "basic.joint_fund",
        "name": "区域创新发展联合基金项目",
        "plan_category": "basic_research",
        "organisation_modes": modes_of("basic.joint_fund"),
        "funding_source": NSF_SOURCE,
        "funding_types": ["pre_funding", "non_repayable", "competitive"],
        "managing_office": "基础研究处",
    },
    {
        "code": "basic.research_conditions",
        "name": "科研条件建设专项",
        "plan_category": "basic_research",
        "organisation_modes": modes_of("basic.research_conditions"),
        "funding_source": FUND_SOURCE,
        "funding_types": ["pre_funding", "post_subsidy", "non_repayable"],
        "managing_office": "条件财务处",
    },
]
