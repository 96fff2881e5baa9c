"""The development targets of seed 004 (“十四五”规划, 力争到2025年), each with what it counts.

A target counts platforms of one kind (and, for technology innovation centres and clinical
research centres, one level of that kind: 国家 or 自治区), or laboratory clusters. Values are
the defaults; the department changes them through ``PUT /targets/{key}`` with a reason.
"""

from __future__ import annotations

from dataclasses import dataclass

TARGET_YEAR = 2025
PLAN_START = 2021  # 十四五 2021-2025: yearly monitoring, mid-term (2023) and final (2025) review


@dataclass(frozen=True)
class TargetDefinition:
    key: str
    label_zh: str
    default: int | None  # None: the seed sets no number (若干)
    kind: str | None  # platform kind counted; None: laboratory clusters
    level: str | None = None  # kind_attributes.level counted (unset counts as "regional")
    source_zh: str = ""


DEFINITIONS: dict[str, TargetDefinition] = {
    d.key: d
    for d in [
        TargetDefinition(
            "national_key_lab", "全国重点实验室", 4, "national_key_lab", source_zh="建设国家重点实验室4家"
        ),
        TargetDefinition(
            "autonomous_region_key_lab",
            "自治区重点实验室",
            165,
            "autonomous_region_key_lab",
            source_zh="自治区重点实验室165家",
        ),
        TargetDefinition(
            "national_technology_innovation_centre",
            "国家技术创新中心",
            2,
            "technology_innovation_centre",
            "national",
            "布局建设国家技术创新中心2家",
        ),
        TargetDefinition(
            "regional_technology_innovation_centre",
            "自治区技术创新中心",
            20,
            "technology_innovation_centre",
            "regional",
            "自治区技术创新中心20家",
        ),
        TargetDefinition(
            "regional_clinical_research_centre",
            "自治区临床医学研究中心",
            10,
            "clinical_research_centre",
            "regional",
            "建成自治区临床医学研究中心10家",
        ),
        TargetDefinition(
            "national_clinical_research_sub_centre",
            "国家临床医学研究中心分中心",
            15,
            "clinical_research_centre",
            "national_sub_centre",
            "国家临床医学研究中心分中心15家",
        ),
        TargetDefinition(
            "new_rd_institution", "新型研发机构", 100, "new_rd_institution", source_zh="新型研发机构"
        ),
        TargetDefinition(
            "pilot_base", "中试基地（中试公共服务平台）", 2, "pilot_base", source_zh="中试公共服务平台2—3个"
        ),
        TargetDefinition("laboratory_cluster", "实验室群", None, None, source_zh="组建若干实验室群"),
    ]
}
LEVELLED_KINDS = frozenset(d.kind for d in DEFINITIONS.values() if d.level is not None)
