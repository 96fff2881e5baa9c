"""Demo register: ~200 platforms (177 key labs) across the 13 fields and 12 盟市, with people, outputs,
assessments, clusters, instruments and integrity records, and a few deliberate advisor findings.

Run ``python -m registry.demo [--if-empty]`` (reads ``REGISTRY_DATABASE_URL``). Everything is
written through the domain services in units of work, so the events go out as for any change.
Idempotent: entries are keyed by credit code, ID number and platform code, and skipped when
present; ``--if-empty`` does nothing at all on a register that already has platforms.

Deliberate findings (reviewed on 2026-11-23): three near-duplicate rare-earth magnet labs
(整合: ZDS-2010-001, ZDS-2011-002, ZDS-2012-003), directors over age (ZDS-2012-003, ZDS-2013-004,
ZDS-2014-005), over term (ZDS-2015-006 third term, ZDS-2016-007 term ended), part-time
directors (ZDS-2017-008, ZDS-2018-009), a lab with no output since 2023 (ZDS-2019-010) and a
failed assessment (ZDS-2020-011, now under 整改).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from stdnum.cn import ric, uscc

from registry.clusters import service as clusters
from registry.clusters.models import Cluster
from registry.clusters.schemas import AssessmentIn, ClusterCreate, Indicator, WorkPlanIn
from registry.db import kit
from registry.demo_catalogue import LABS, LATER_LABS, NEAR_DUPLICATES
from registry.integrity import service as integrity
from registry.integrity.models import IntegrityRecord
from registry.integrity.schemas import IntegrityCreate
from registry.organisations import repository as organisations
from registry.organisations import service as organisation_service
from registry.organisations.schemas import OrganisationCreate
from registry.people import identity
from registry.people import repository as people
from registry.people import service as people_service
from registry.people.models import Person
from registry.people.schemas import PersonCreate
from registry.platforms import service as platforms
from registry.platforms.events import LabAssessmentFinalized
from registry.platforms.models import Platform
from registry.platforms.schemas import ActionRequest, DirectorIn, MemberIn, OutputIn, PlatformCreate
from registry.reference import SUB_FIELD_PARENT
from registry.settings import RegistrySettings
from registry.sharing import service as sharing
from registry.sharing.models import Instrument
from registry.sharing.schemas import InstrumentIn, TopicIn
from shared.auth import Principal
from shared.db import create_engine, create_sessionmaker
from shared.ids import uuid7
from shared.settings import ServiceSettings
from shared.uow import UnitOfWork

REVIEW_DATE = date(2026, 11, 23)
LOADER = Principal(user_id="demo-loader", roles=frozenset({"department_staff"}))

# (name, type, region, lab type) of host units.
UNITS = [
    ("内蒙古大学", "university", "150100", "university"),
    ("内蒙古工业大学", "university", "150100", "university"),
    ("内蒙古农业大学", "university", "150100", "university"),
    ("内蒙古师范大学", "university", "150100", "university"),
    ("内蒙古医科大学", "university", "150100", "university"),
    ("内蒙古科技大学", "university", "150200", "university"),
    ("包头医学院", "university", "150200", "university"),
    ("赤峰学院", "university", "150400", "university"),
    ("内蒙古民族大学", "university", "150500", "university"),
    ("呼伦贝尔学院", "university", "150700", "university"),
    ("河套学院", "university", "150800", "university"),
    ("集宁师范学院", "university", "150900", "university"),
    ("鄂尔多斯应用技术学院", "university", "150600", "university"),
    ("内蒙古自治区农牧业科学院", "research_institute", "150100", "research_institute"),
    ("包头稀土研究院", "research_institute", "150200", "research_institute"),
    ("内蒙古自治区林业科学研究院", "research_institute", "150100", "research_institute"),
    ("内蒙古自治区水利科学研究院", "research_institute", "150100", "research_institute"),
    ("中国科学院包头稀土研发中心", "research_institute", "150200", "research_institute"),
    ("内蒙古自治区人民医院", "hospital", "150100", "research_institute"),
    ("内蒙古自治区国际蒙医医院", "hospital", "150100", "research_institute"),
    ("兴安盟人民医院", "hospital", "152200", "research_institute"),
    ("内蒙古伊利实业集团股份有限公司", "enterprise", "150100", "enterprise"),
    ("内蒙古蒙牛乳业（集团）股份有限公司", "enterprise", "150100", "enterprise"),
    ("包头钢铁（集团）有限责任公司", "enterprise", "150200", "enterprise"),
    ("内蒙古伊泰煤炭股份有限公司", "enterprise", "150600", "enterprise"),
    ("乌海化工新材料有限公司", "enterprise", "150300", "enterprise"),
    ("锡林郭勒草原畜牧科技有限公司", "enterprise", "152500", "enterprise"),
    ("阿拉善沙产业科技有限公司", "enterprise", "152900", "enterprise"),
    ("通辽玉米生物科技有限公司", "enterprise", "150500", "enterprise"),
    ("乌兰察布数据科技有限公司", "enterprise", "150900", "university_enterprise"),
    ("乌海职业技术学院", "university", "150300", "university"),
    ("锡林郭勒职业学院", "university", "152500", "university"),
    ("兴安职业技术学院", "university", "152200", "university"),
    ("阿拉善盟沙产业研究院", "research_institute", "152900", "research_institute"),
    ("巴彦淖尔市农牧业科学研究院", "research_institute", "150800", "research_institute"),
    ("呼伦贝尔市农牧科学研究所", "research_institute", "150700", "research_institute"),
]
SURNAMES = (
    "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎"
    "余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷钱汤尹黎易常武乔贺赖龚文"
)
GIVEN = [
    "巴特尔",
    "其其格",
    "明",
    "建国",
    "海军",
    "晓燕",
    "志强",
    "丽娟",
    "宝音",
    "乌云",
    "斯琴",
    "文华",
    "立新",
    "红梅",
    "卫东",
    "春花",
    "国庆",
    "玉兰",
    "志刚",
    "秀英",
    "那仁",
    "阿拉坦",
    "敖登",
    "苏和",
    "永刚",
    "丽华",
    "振华",
    "桂兰",
]
ID_REGIONS = ["150121", "150122", "150221", "150222", "152201", "152221", "152501", "152522", "152921"]


def _kind_attributes(kind: str, stem: str, n: int) -> dict[str, Any]:
    """A plausible set of the kind-specific attributes (platforms/kinds.py) for a demo platform."""
    if kind == "national_key_lab":
        return {"approving_ministry": "科技部", "national_code": f"2022QGZ{n:04d}"}
    if kind == "national_key_lab_incubator":
        return {
            "target_national_lab": f"{stem}全国重点实验室",
            "incubation_start": "2023-01-01",
            "incubation_end": "2027-12-31",
        }
    if kind == "technology_innovation_centre":
        return {"operating_model": "enterprise_led", "member_enterprises": 8 + n % 20}
    if kind == "clinical_research_centre":
        return {"disease_area": stem, "hospital_grade": "tertiary_a", "network_member_units": 20 + n % 40}
    if kind == "new_rd_institution":
        return {"legal_form": "enterprise", "filing_number": f"NMXY{2020 + n % 5}{n:03d}"}
    if kind == "academician_workstation":
        return {
            "academicians": [
                {"name": f"{SURNAMES[n % len(SURNAMES)]}院士", "academy": ("cas", "cae")[n % 2]}
            ],
            "agreement_start": "2024-01-01",
            "agreement_end": "2028-12-31",
        }
    if kind == "pilot_base":
        return {"pilot_scale": "百吨级", "services_per_year": 30 + n % 50, "open_to_outside": True}
    return {}


OTHER_KINDS = [
    (
        "national_key_lab",
        "全国重点实验室",
        [
            ("稀土资源绿色开发与综合利用", "rare_earth", "白云鄂博稀土资源综合回收; 稀土清洁冶炼"),
            ("乳业生物技术", "dairy", "乳业核心菌种创制; 乳品营养功能评价"),
            ("草原生态系统保护与利用", "grassland", "草原退化机理; 草原适应性管理"),
            ("煤炭低碳转化", "coal", "煤炭低碳转化新工艺; 煤基高端化学品"),
        ],
    ),
    (
        "national_key_lab_incubator",
        "全国重点实验室培育基地",
        [
            ("绒山羊遗传育种", "breeding", "绒山羊高产优质新品种; 羊绒性状基因"),
            ("蒙药现代化", "mongolian_medicine", "蒙药新药创制; 蒙药药理毒理"),
        ],
    ),
    (
        "technology_innovation_centre",
        "技术创新中心",
        [
            ("稀土新材料", "rare_earth", "稀土功能材料产业化"),
            ("现代煤化工", "coal", "煤制烯烃工艺升级"),
            ("风电装备", "equipment", "风电整机国产化"),
            ("氢能", "hydrogen", "绿氢装备"),
            ("乳业", "dairy", "乳制品精深加工"),
            ("光伏材料", "wind_solar", "单晶硅材料"),
            ("马铃薯产业", "crops", "马铃薯全产业链"),
            ("肉羊产业", "livestock", "肉羊高效养殖"),
            ("铝及铝后加工", "metals", "高端铝材"),
            ("石墨（烯）", "graphite", "石墨烯产业化"),
            ("储能", "storage", "新型储能集成"),
            ("智能矿山", "mining", "矿山智能化成套技术"),
        ],
    ),
    (
        "clinical_research_centre",
        "临床医学研究中心",
        [
            ("心血管疾病", "clinical", "心血管疾病多中心临床研究"),
            ("蒙医心身疾病", "mongolian_medicine", "蒙医心身疾病诊疗"),
            ("呼吸系统疾病", "clinical", "尘肺病临床研究"),
            ("肿瘤", "clinical", "肿瘤多学科诊疗"),
        ],
    ),
    (
        "new_rd_institution",
        "新型研发机构",
        [
            ("鄂尔多斯实验室", "coal", "现代能源经济"),
            ("包头稀土产业研究院", "rare_earth", "稀土应用孵化"),
            ("呼和浩特乳业研究院", "dairy", "乳业科技服务"),
            ("乌兰察布大数据研究院", "big_data", "绿色算力服务"),
        ],
    ),
    (
        "academician_workstation",
        "院士专家工作站",
        [
            ("草业院士专家工作站", "grassland", "优质牧草引育"),
            ("煤化工院士专家工作站", "coal", "煤化工催化"),
        ],
    ),
    (
        "pilot_base",
        "中试基地",
        [
            ("稀土功能材料", "rare_earth", "稀土永磁材料中试放大; 稀土抛光粉中试"),
            ("乳品新产品", "dairy", "功能乳品中试; 乳清蛋白提取中试"),
        ],
    ),
]


def _credit_code(n: int) -> str:
    base = f"9115000073650{n:04d}"
    return base + uscc.calc_check_digit(base)


def _id_number(n: int, born: date) -> str:
    base = f"{ID_REGIONS[n % len(ID_REGIONS)]}{born:%Y%m%d}{n % 1000:03d}"
    return base + ric.calc_check_digit(base + "0")


def _term_end(last_term_end: date, terms_back: int) -> date:
    """End of the five-year term ``terms_back`` terms before the last (1: the last one itself)."""
    if terms_back == 1:
        return last_term_end
    return date(last_term_end.year - 5 * (terms_back - 1) - 1, 12, 31)


@dataclass
class Summary:
    organisations: int = 0
    people: int = 0
    platforms: int = 0
    clusters: int = 0
    instruments: int = 0
    integrity_records: int = 0
    skipped: int = 0
    codes: dict[str, str] = field(default_factory=dict)


class Loader:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self.sessionmaker = sessionmaker
        self.summary = Summary()
        self.person_n = 0

    def uow(self, session: AsyncSession) -> UnitOfWork:
        return UnitOfWork(session, kit, actor=LOADER.actor(), request_id="demo-data")

    async def units(self) -> list[tuple[UUID, str, str]]:
        result = []
        async with self.sessionmaker() as session:
            uow = self.uow(session)
            for n, (name, type_, region, lab_type) in enumerate(UNITS, start=1):
                code = _credit_code(n)
                org = await organisations.find_by_credit_code(session, code)
                if org is None:
                    org = await organisation_service.register(
                        uow,
                        OrganisationCreate(
                            name=name, credit_code=code, type=type_, region=region, address=f"{name}本部"
                        ),
                    )
                    self.summary.organisations += 1
                result.append((org.id, region, lab_type))
            await uow.commit()
        return result

    async def person(self, uow: UnitOfWork, unit_id: UUID, born: date, *, title: str = "professor") -> UUID:
        self.person_n += 1
        number = _id_number(self.person_n, born)
        existing = await people.find_by_hmac(uow.session, identity.lookup_digest(number))
        if existing is not None:
            return existing.id
        name = SURNAMES[self.person_n * 7 % len(SURNAMES)] + GIVEN[self.person_n * 11 % len(GIVEN)]
        p = await people_service.register(
            uow,
            LOADER,
            PersonCreate(name=name, id_number=number, unit_id=unit_id, title=title),
        )
        self.summary.people += 1
        return p.id

    async def platform(
        self,
        units: list[tuple[UUID, str, str]],
        index: int,
        kind: str,
        code: str,
        name: str,
        sub_field: str,
        directions: list[str],
        *,
        director_born: date,
        terms: int = 1,
        term_end: date = date(2027, 12, 31),
        full_time: bool = True,
        outputs: dict[int, int] | None = None,
        grade: str = "good",
        kind_attributes: dict[str, Any] | None = None,
        topic_years: tuple[int, ...] = (2024, 2025),
    ) -> None:
        async with self.sessionmaker() as session:
            uow = self.uow(session)
            if (await session.execute(select(Platform.id).where(Platform.code == code))).first() is not None:
                self.summary.skipped += 1
                return
            unit_id, region, lab_type = units[index % len(units)]
            director = await self.person(uow, unit_id, director_born)
            members = [
                await self.person(
                    uow, unit_id, date(1980 + (index + k) % 12, 1 + k, 8), title="associate_professor"
                )
                for k in range(2)
            ]
            approved = date(int(code.split("-")[1]), 6, 1)
            p = await platforms.register(
                uow,
                LOADER,
                PlatformCreate(
                    code=code,
                    name=name,
                    kind=kind,
                    host_unit_id=unit_id,
                    lab_type=lab_type,
                    field=SUB_FIELD_PARENT[sub_field],
                    sub_field=sub_field,
                    research_directions=directions,
                    region=region,
                    approved_on=approved,
                    approval_document=f"内科发〔{approved.year}〕{index + 10}号",
                    # A director in their n-th term was appointed n terms back and reappointed since.
                    director=DirectorIn(
                        person_id=director,
                        term_start=date(term_end.year - 5 * terms, 1, 1),
                        term_end=term_end
                        if terms == 1
                        else date(term_end.year - 5 * (terms - 1) - 1, 12, 31),
                        full_time=full_time,
                    ),
                    staff_count=20 + index % 40,
                    annual_funding_fen=(300 + index * 7 % 900) * 10_000_00,
                    initial_state="operating",
                    kind_attributes=kind_attributes or {},
                ),
            )
            for term in range(terms - 1, 0, -1):
                await platforms.act(
                    uow,
                    LOADER,
                    p,
                    "adjust",
                    ActionRequest(
                        reason="主任连任",
                        director=DirectorIn(
                            person_id=director,
                            term_start=date(term_end.year - 5 * term, 1, 1),
                            term_end=term_end
                            if term == 1
                            else date(term_end.year - 5 * (term - 1) - 1, 12, 31),
                            full_time=full_time,
                        ),
                    ),
                )
            for person_id in members:
                await platforms.add_member(uow, LOADER, p, MemberIn(person_id=person_id))
            by_year = {}
            for year in range(2021, 2026):
                total = (outputs or {}).get(year, 4 + (index * 3 + year) % 17)
                by_year[year] = OutputIn(
                    papers=total // 2,
                    patents=total - total // 2,
                    standards=1 if total > 10 else 0,
                )
            await platforms.report_outputs(uow, LOADER, p, by_year)
            if kind in ("autonomous_region_key_lab", "national_key_lab", "national_key_lab_incubator"):
                for topic_year in topic_years:
                    await sharing.open_topic(
                        uow,
                        LOADER,
                        TopicIn(
                            platform_id=p.id,
                            year=topic_year,
                            title=f"{directions[0]}开放课题（{topic_year}）",
                            funding_fen=50_000_00,
                        ),
                    )
                await platforms.record_assessment(
                    uow,
                    LabAssessmentFinalized(
                        assessment_id=uuid7(),
                        platform_id=p.id,
                        period="2021-2025",
                        grade=grade,
                        score=55.0 if grade == "unqualified" else 82.0,
                        finalized_at=datetime(2026, 6, 30, tzinfo=UTC),
                    ),
                )
            await uow.commit()
            self.summary.platforms += 1
            self.summary.codes[name] = code

    async def all_platforms(self, units: list[tuple[UUID, str, str]]) -> None:
        specials: dict[int, dict[str, Any]] = {
            3: {"director_born": date(1961, 5, 2)},
            4: {"director_born": date(1963, 9, 18)},
            5: {"director_born": date(1964, 12, 1)},
            6: {"terms": 3},
            7: {"term_end": date(2025, 12, 31)},
            8: {"full_time": False},
            9: {"full_time": False},
            10: {"outputs": {2021: 3, 2022: 1, 2023: 0, 2024: 0, 2025: 0}, "topic_years": ()},
            11: {"grade": "unqualified"},
        }
        entries: list[tuple[str, str, list[str]]] = [
            (f"内蒙古自治区{stem}重点实验室", "rare_earth", [d.strip() for d in dirs.split(";")])
            for stem, dirs in NEAR_DUPLICATES
        ]
        for sub_field, labs in [*LABS.items(), *LATER_LABS.items()]:
            for lab in labs:
                stem, dirs = lab.split(":", 1)
                entries.append(
                    (f"内蒙古自治区{stem}重点实验室", sub_field, [d.strip() for d in dirs.split(";")])
                )
        # The lab at position n (from 3 on) gets the nth special; codes carry the approval year.
        for n, (name, sub_field, directions) in enumerate(entries, start=1):
            year = 2009 + n if n <= 11 else 2009 + n % 12
            extra = {"director_born": date(1968 + n % 16, 1 + n % 12, 1 + n % 27)} | specials.get(n, {})
            await self.platform(
                units,
                n,
                "autonomous_region_key_lab",
                f"ZDS-{year}-{n:03d}",
                name,
                sub_field,
                directions,
                **extra,
            )
        n = 500
        for kind, suffix, items in OTHER_KINDS:
            for stem, sub_field, dirs in items:
                n += 1
                prefix = {
                    "national_key_lab": "QGZ",
                    "national_key_lab_incubator": "PYJ",
                    "technology_innovation_centre": "JSZ",
                    "clinical_research_centre": "LCZ",
                    "new_rd_institution": "XYJ",
                    "academician_workstation": "YSZ",
                    "pilot_base": "ZSJ",
                }[kind]
                name = (
                    stem
                    if kind == "new_rd_institution"
                    else (
                        f"内蒙古自治区{stem}{suffix}"
                        if kind != "national_key_lab"
                        else f"{stem}全国重点实验室"
                    )
                )
                await self.platform(
                    units,
                    n,
                    kind,
                    f"{prefix}-{2018 + n % 6}-{n - 500:03d}",
                    name,
                    sub_field,
                    [d.strip() for d in dirs.split(";")],
                    director_born=date(1970 + n % 12, 3, 3),
                    kind_attributes=_kind_attributes(kind, stem, n),
                )

    async def clusters(self) -> None:
        specs = [
            ("稀土新材料实验室群", "materials", "稀土功能材料与应用", "establish", ["pass", "pass"]),
            ("乳业实验室群", "agriculture", "乳业全产业链科技创新", "establish", ["pass", "fail"]),
            ("现代煤化工实验室群", "energy", "煤炭清洁高效转化", "establish", ["fail", "fail"]),
            ("蒙医药实验室群", "medicine", "蒙医药传承创新", "submit_plan", []),
            ("草原生态实验室群", "environment", "草原生态保护与修复", None, []),
        ]
        steps = ["define_structure", "select_service_organisations", "submit_plan", "establish"]
        for name, field_code, direction, last_step, outcomes in specs:
            async with self.sessionmaker() as session:
                if (
                    await session.execute(select(Cluster.id).where(Cluster.name == name))
                ).first() is not None:
                    continue
                uow = self.uow(session)
                holder = {"name": "巴特尔", "unit": "内蒙古大学"}
                c = await clusters.propose(
                    uow,
                    ClusterCreate(
                        name=name,
                        field=field_code,
                        direction=direction,
                        director=holder,
                        secretariat={
                            "secretary_general": {"name": "乌云", "unit": "内蒙古大学"},
                            "deputies": [{"name": "张处长", "unit": "自治区科技厅"}],
                            "liaisons": [{"name": "李联络", "unit": "呼和浩特市科技局"}],
                        },
                        lead_platform_ids=[uuid7()],
                        expert_committee={
                            "chair": {"name": "陈院士", "unit": "中国科学院", "province": "北京"},
                            "members": [{"name": "王教授", "unit": "内蒙古科技大学"}],
                        },
                        member_units=[{"name": "内蒙古大学"}, {"name": "清华大学", "province": "北京"}],
                        service_organisations=[
                            {
                                "name": "内蒙古科技服务中心",
                                "duties": ["资源数据采集整理", "组织供需对接活动", "成员沟通协调"],
                            }
                        ],
                        work_plan=f"{name}：明确组织架构、选择服务机构、编制组建方案后批准成立",
                        plan_document="组建方案（2025版）",
                        approval_document="内科发〔2025〕30号",
                    ),
                )
                if last_step is not None:
                    for step in steps[: steps.index(last_step) + 1]:
                        await clusters.act(uow, LOADER, c, step, "按程序推进")
                for k, result in enumerate(outcomes):
                    await clusters.record_work_plan(
                        uow,
                        LOADER,
                        c,
                        2024 + k,
                        WorkPlanIn(
                            tasks=["凝练省重大专项指南建议", "组织供需对接会"],
                            indicators=[
                                Indicator(code="joint_projects", name="联合攻关项目数", target=5, unit="项"),
                                Indicator(
                                    code="enterprise_needs", name="解决企业技术需求数", target=20, unit="项"
                                ),
                            ],
                        ),
                    )
                    await clusters.assess(
                        uow,
                        c,
                        AssessmentIn(
                            year=2024 + k,
                            result=result,
                            required_measures=["更换服务机构"] if result == "fail" else [],
                            achieved=(
                                {"joint_projects": 6, "enterprise_needs": 24}
                                if result == "pass"
                                else {"joint_projects": 2, "enterprise_needs": 9}
                            ),
                        ),
                        finalized_at=datetime(2025 + k, 3, 1, tzinfo=UTC),
                        source="demo",
                    )
                await uow.commit()
                self.summary.clusters += 1

    async def instruments_and_integrity(self) -> None:
        async with self.sessionmaker() as session:
            if (await session.execute(select(func.count()).select_from(Instrument))).scalar_one() == 0:
                labs = (
                    (await session.execute(select(Platform).order_by(Platform.code).limit(30)))
                    .scalars()
                    .all()
                )
                names = [
                    "场发射扫描电子显微镜",
                    "X射线衍射仪",
                    "电感耦合等离子体质谱仪",
                    "核磁共振波谱仪",
                    "高分辨透射电镜",
                    "气相色谱-质谱联用仪",
                ]
                uow = self.uow(session)
                for k, lab in enumerate(labs):
                    await sharing.register_instrument(
                        uow,
                        LOADER,
                        InstrumentIn(
                            platform_id=lab.id,
                            owner_unit_id=lab.host_unit_id,
                            name=names[k % len(names)],
                            category="analytical",
                            model=f"DEMO-{k:03d}",
                            value_fen=(200 + k * 37) * 10_000_00,
                            location="实验楼",
                            open_for_sharing=k % 5 != 0,
                            booking_contact="0471-0000000",
                            annual_service_hours=400 + k * 13,
                        ),
                    )
                    self.summary.instruments += 1
                await uow.commit()
            if (await session.execute(select(func.count()).select_from(IntegrityRecord))).scalar_one() == 0:
                uow = self.uow(session)
                some_people = (
                    (await session.execute(select(Person.id).order_by(Person.id).limit(4))).scalars().all()
                )
                kinds = ["plagiarism", "fabrication", "funds_misuse", "duplicate_application"]
                for k, pid in enumerate(some_people):
                    await integrity.record(
                        uow,
                        IntegrityCreate(
                            subject_type="person",
                            person_id=pid,
                            misconduct_type=kinds[k],
                            decision_document=f"内科诚〔2025〕{k + 1}号",
                            decided_on=date(2025, 3, 1 + k),
                            barred_from=date(2025, 3, 1 + k),
                            barred_until=date(2028, 2, 28) if k != 3 else None,
                            scope=["applying"] if k % 2 else ["all"],
                        ),
                    )
                    self.summary.integrity_records += 1
                await uow.commit()


async def load(sessionmaker: async_sessionmaker[AsyncSession], *, if_empty: bool = False) -> Summary:
    loader = Loader(sessionmaker)
    if if_empty:
        async with sessionmaker() as session:
            if (await session.execute(select(func.count()).select_from(Platform))).scalar_one():
                return loader.summary
    units = await loader.units()
    await loader.all_platforms(units)
    await loader.clusters()
    await loader.instruments_and_integrity()
    return loader.summary


async def load_for_settings(settings: ServiceSettings, if_empty: bool) -> str:
    """The kit's ``demo-data`` command (``python -m registry demo-data [--if-empty]``)."""
    if isinstance(settings, RegistrySettings):
        identity.configure(settings.id_number_keyring())
    engine = create_engine(settings)
    try:
        summary = await load(create_sessionmaker(engine), if_empty=if_empty)
    finally:
        await engine.dispose()
    return (
        f"{summary.organisations} units, {summary.people} people, {summary.platforms} platforms, "
        f"{summary.clusters} clusters, {summary.instruments} instruments, "
        f"{summary.integrity_records} integrity records ({summary.skipped} platforms already present)"
    )


async def _main(if_empty: bool) -> None:
    # Only the database and the ID-number key are needed here, not NATS or auth settings.
    key = os.environ.get("REGISTRY_ID_NUMBER_KEY")
    if key is None and os.environ.get("REGISTRY_ENVIRONMENT", "local") not in ("local", "test"):
        raise SystemExit("REGISTRY_ID_NUMBER_KEY is required outside local/test")
    identity.configure(
        identity.Keyring.from_master(identity.parse_master_key(key or identity.DEVELOPMENT_KEY))
    )
    engine = create_async_engine(os.environ["REGISTRY_DATABASE_URL"])
    try:
        summary = await load(create_sessionmaker(engine), if_empty=if_empty)
    finally:
        await engine.dispose()
    sys.stdout.write(f"registry demo: {summary.platforms} platforms, {summary.people} people loaded\n")


def main() -> None:
    parser = argparse.ArgumentParser(description="Load the registry's demo data set.")
    parser.add_argument(
        "--if-empty", action="store_true", help="do nothing when the register already has platforms"
    )
    args = parser.parse_args()
    asyncio.run(_main(args.if_empty))


if __name__ == "__main__":
    main()
