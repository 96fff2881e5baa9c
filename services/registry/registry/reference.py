"""Reference data shipped with the registry: the code lists of seeds 000, 001, 002 and 004.

Every list is (code, Chinese label); SPAs read them from ``GET /metadata/codes`` so nothing is
hard-coded in a front end. Codes are stable English slugs; labels are the policy's own words.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated

from pydantic import AfterValidator
from pydantic_core import PydanticCustomError

# The 13 fields of seed 000 (数理、化学、天文与空间 … 能源), each with the sub-fields the
# department uses to apply "每个细分领域保留一家".
FIELDS: dict[str, tuple[str, dict[str, str]]] = {
    "math_physics": ("数理", {"mathematics": "数学", "physics": "物理学", "mechanics": "力学"}),
    "chemistry": (
        "化学",
        {"chemical_engineering": "化学工程", "catalysis": "催化化学", "analytical": "分析化学"},
    ),
    "astronomy_space": ("天文与空间", {"astronomy": "天文学", "space_science": "空间科学"}),
    "earth_science": (
        "地球科学",
        {"geology": "地质学", "mineral_resources": "矿产资源", "hydrology": "水文水资源"},
    ),
    "environment": (
        "环境",
        {"ecology": "生态保护与修复", "pollution_control": "污染防治", "desertification": "荒漠化防治"},
    ),
    "biology": ("生物", {"breeding": "生物育种", "microbiology": "微生物学", "biotechnology": "生物技术"}),
    "medicine": (
        "医药",
        {
            "mongolian_medicine": "蒙医药",
            "clinical": "临床医学",
            "pharmaceutics": "药物研发",
            "public_health": "公共卫生",
        },
    ),
    "agriculture": (
        "农牧业",
        {
            "dairy": "乳业",
            "livestock": "畜牧",
            "grassland": "草原草业",
            "crops": "作物栽培",
            "veterinary": "兽医",
        },
    ),
    "information": (
        "信息",
        {"ai": "人工智能", "big_data": "大数据与云计算", "cyber_security": "网络空间安全"},
    ),
    "materials": ("材料", {"rare_earth": "稀土新材料", "metals": "金属材料", "graphite": "石墨（烯）材料"}),
    "manufacturing": ("制造", {"intelligent_manufacturing": "智能制造", "equipment": "高端装备"}),
    "engineering": ("工程", {"civil": "土木与水利工程", "mining": "采矿工程", "safety": "安全应急"}),
    "energy": (
        "能源",
        {
            "coal": "煤炭清洁高效利用",
            "wind_solar": "风光新能源",
            "hydrogen": "氢能",
            "storage": "大规模储能",
            "carbon": "碳达峰碳中和",
        },
    ),
}

FIELD_LABELS: dict[str, str] = {code: zh for code, (zh, _) in FIELDS.items()}
SUB_FIELD_LABELS: dict[str, str] = {sub: zh for _, (_, subs) in FIELDS.items() for sub, zh in subs.items()}
SUB_FIELD_PARENT: dict[str, str] = {sub: field for field, (_, subs) in FIELDS.items() for sub in subs}

PLATFORM_KINDS: dict[str, str] = {
    "autonomous_region_key_lab": "自治区重点实验室",
    "national_key_lab": "全国重点实验室",
    "national_key_lab_incubator": "全国重点实验室培育基地",
    "technology_innovation_centre": "技术创新中心",
    "clinical_research_centre": "临床医学研究中心",
    "new_rd_institution": "新型研发机构",
    "academician_workstation": "院士专家工作站",
    "pilot_base": "中试基地",
}
# Prefix of the readable code, e.g. ZDS-2026-001 for an autonomous-region key lab.
KIND_CODE_PREFIX: dict[str, str] = {
    "autonomous_region_key_lab": "ZDS",
    "national_key_lab": "QGZ",
    "national_key_lab_incubator": "PYJ",
    "technology_innovation_centre": "JSZ",
    "clinical_research_centre": "LCZ",
    "new_rd_institution": "XYJ",
    "academician_workstation": "YSZ",
    "pilot_base": "ZSJ",
}
# Kinds the reorganisation advisor reviews (seed 000 is about key laboratories).
LAB_KINDS = frozenset({"autonomous_region_key_lab", "national_key_lab", "national_key_lab_incubator"})

LAB_TYPES: dict[str, str] = {
    "university": "高校",
    "research_institute": "科研院所",
    "enterprise": "企业",
    "university_enterprise": "校企联合",
}

INDUSTRY_CHAINS: dict[str, str] = {
    "rare_earth": "稀土产业链",
    "dairy": "乳业产业链",
    "modern_coal_chemical": "现代煤化工产业链",
    "wind_power_equipment": "风电装备产业链",
    "photovoltaic": "光伏产业链",
    "hydrogen": "氢能产业链",
    "new_energy_storage": "新型储能产业链",
    "biomedicine": "生物医药产业链",
    "mongolian_medicine": "蒙中医药产业链",
    "beef_mutton": "肉羊肉牛产业链",
    "cashmere": "羊绒产业链",
    "silicon_materials": "硅材料产业链",
    "aluminium": "铝及铝后加工产业链",
    "digital_economy": "数字经济产业链",
}

MISCONDUCT_TYPES: dict[str, str] = {
    "plagiarism": "抄袭剽窃",
    "fabrication": "伪造数据",
    "falsification": "篡改数据",
    "ghostwriting": "代写代投",
    "false_information": "提供虚假信息",
    "funds_misuse": "违规使用科研经费",
    "review_misconduct": "评审违规",
    "duplicate_application": "重复申报",
}

INTEGRITY_SCOPES: dict[str, str] = {
    "applying": "限制申报",
    "reviewing": "限制参与评审",
    "all": "全部科技活动",
}

GENDERS: dict[str, str] = {"male": "男", "female": "女"}

TITLES: dict[str, str] = {
    "professor": "教授",
    "associate_professor": "副教授",
    "researcher": "研究员",
    "associate_researcher": "副研究员",
    "senior_engineer": "高级工程师",
    "professor_senior_engineer": "正高级工程师",
    "chief_physician": "主任医师",
    "lecturer": "讲师",
    "engineer": "工程师",
    "other": "其他",
}

EMPLOYMENT: dict[str, str] = {"full_time": "全职", "part_time": "兼职"}

MEMBER_ROLES: dict[str, str] = {
    "academic_leader": "学术带头人",
    "core_member": "骨干成员",
    "fixed_staff": "固定人员",
    "visiting": "流动人员",
}

ASSESSMENT_GRADES: dict[str, str] = {
    "excellent": "优秀",
    "good": "良好",
    "qualified": "合格",
    "unqualified": "不合格",
}

INSTRUMENT_CATEGORIES: dict[str, str] = {
    "analytical": "分析仪器",
    "physical_property": "物理性能测试仪器",
    "computing": "计算机及其配套设备",
    "electronic_measurement": "电子测量仪器",
    "earth_exploration": "地球探测仪器",
    "medical": "医学科研仪器",
    "special_testing": "特种检测仪器",
    "other": "其他",
}


def labelled(labels: Mapping[str, str]) -> list[dict[str, str]]:
    return [{"code": code, "zh": zh} for code, zh in labels.items()]


def fields_with_sub_fields() -> list[dict[str, object]]:
    return [{"code": code, "zh": zh, "sub_fields": labelled(subs)} for code, (zh, subs) in FIELDS.items()]


def one_of(labels: Mapping[str, str], what: str) -> AfterValidator:
    """A validator admitting only the codes of one code list (422 naming the field otherwise)."""

    def check(value: str) -> str:
        if value not in labels:
            raise PydanticCustomError(
                "code_unknown",
                f"not a {what} code; see GET /metadata/codes",
                {"message_zh": "代码无效，请参见代码表"},
            )
        return value

    return AfterValidator(check)


KindCode = Annotated[str, one_of(PLATFORM_KINDS, "platform kind")]
FieldCode = Annotated[str, one_of(FIELD_LABELS, "field")]
SubFieldCode = Annotated[str, one_of(SUB_FIELD_LABELS, "sub-field")]
LabTypeCode = Annotated[str, one_of(LAB_TYPES, "lab type")]
IndustryChainCode = Annotated[str, one_of(INDUSTRY_CHAINS, "industry chain")]
MemberRoleCode = Annotated[str, one_of(MEMBER_ROLES, "member role")]
TitleCode = Annotated[str, one_of(TITLES, "title")]
MisconductCode = Annotated[str, one_of(MISCONDUCT_TYPES, "misconduct type")]
InstrumentCategoryCode = Annotated[str, one_of(INSTRUMENT_CATEGORIES, "instrument category")]
