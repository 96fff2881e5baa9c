"""Kind-specific attributes (类别特有属性): one schema per platform kind.

The eight kinds share the common register (name, host unit, field, director, outputs …); what
only one kind has lives in ``kind_attributes`` and is checked against that kind's schema. An
attribute another kind has, or a value of the wrong shape, is refused field by field in both
languages, so a national key lab cannot carry a clinical centre's disease area by mistake.
Every attribute is optional: a platform is registered first and completed later.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, model_validator
from pydantic_core import PydanticCustomError

from registry.reference import PLATFORM_KINDS
from shared.errors import FieldIssue, ValidationFailed

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Count = Annotated[int, Field(ge=0, le=1_000_000)]
Fen = Annotated[int, Field(ge=0, le=10**14)]


class _Attributes(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AutonomousRegionKeyLab(_Attributes):
    """自治区重点实验室."""

    kind: Literal["autonomous_region_key_lab"] = "autonomous_region_key_lab"
    category: Literal["discipline", "enterprise", "jointly_built"] | None = Field(
        default=None, description="实验室类别：学科类 / 企业类 / 厅市（校企）共建"
    )
    lab_area_sqm: Count | None = Field(default=None, description="实验室面积（平方米）")
    open_fund_annual_fen: Fen | None = Field(default=None, description="开放基金年度额度（分）")


class NationalKeyLab(_Attributes):
    """全国重点实验室."""

    kind: Literal["national_key_lab"] = "national_key_lab"
    approving_ministry: Text | None = Field(default=None, description="批准部门（如科技部）")
    national_code: Text | None = Field(default=None, description="国家编号")
    restructured_from: Text | None = Field(default=None, description="重组前名称")
    partner_labs: list[Text] = Field(default_factory=list, max_length=20, description="参与共建的实验室")


class NationalKeyLabIncubator(_Attributes):
    """全国重点实验室培育基地."""

    kind: Literal["national_key_lab_incubator"] = "national_key_lab_incubator"
    target_national_lab: Text | None = Field(default=None, description="拟申建全国重点实验室方向")
    incubation_start: date | None = Field(default=None, description="培育期开始")
    incubation_end: date | None = Field(default=None, description="培育期结束")

    @model_validator(mode="after")
    def _period_order(self) -> Self:
        if self.incubation_start and self.incubation_end and self.incubation_end <= self.incubation_start:
            raise PydanticCustomError(
                "period_order",
                "incubation_end must be after incubation_start",
                {"message_zh": "培育期结束日期应晚于开始日期", "field": "incubation_end"},
            )
        return self


class TechnologyInnovationCentre(_Attributes):
    """技术创新中心."""

    kind: Literal["technology_innovation_centre"] = "technology_innovation_centre"
    level: Literal["national", "regional"] | None = Field(
        default=None, description="级别：国家技术创新中心 / 自治区技术创新中心（未填：自治区）"
    )
    operating_model: Literal["enterprise_led", "institute_led", "alliance"] | None = Field(
        default=None, description="运行模式：企业主导 / 院所主导 / 产学研联盟"
    )
    independent_legal_entity: bool | None = Field(default=None, description="是否独立法人")
    member_enterprises: Count | None = Field(default=None, description="成员企业数")
    incubated_enterprises: Count | None = Field(default=None, description="孵化企业数")


class ClinicalResearchCentre(_Attributes):
    """临床医学研究中心."""

    kind: Literal["clinical_research_centre"] = "clinical_research_centre"
    level: Literal["regional", "national_sub_centre"] | None = Field(
        default=None, description="级别：自治区临床医学研究中心 / 国家临床医学研究中心分中心（未填：自治区）"
    )
    disease_area: Text | None = Field(default=None, description="疾病领域")
    hospital_grade: Literal["tertiary_a", "tertiary", "secondary"] | None = Field(
        default=None, description="依托医院等级：三级甲等 / 三级 / 二级"
    )
    network_member_units: Count | None = Field(default=None, description="协同网络成员单位数")
    clinical_trials_per_year: Count | None = Field(default=None, description="年度临床试验数")


class NewRdInstitution(_Attributes):
    """新型研发机构."""

    kind: Literal["new_rd_institution"] = "new_rd_institution"
    legal_form: Literal["public_institution", "enterprise", "social_organisation"] | None = Field(
        default=None, description="法人类型：事业单位 / 企业 / 社会服务机构"
    )
    filing_number: Text | None = Field(default=None, description="备案编号")
    registered_capital_fen: Fen | None = Field(default=None, description="注册资本（分）")
    rd_spending_share: float | None = Field(default=None, ge=0, le=1, description="研发经费占收入比例")
    incubated_enterprises: Count | None = Field(default=None, description="孵化企业数")


class Academician(_Attributes):
    name: Text = Field(description="院士姓名")
    academy: Literal["cas", "cae", "foreign"] = Field(description="中国科学院 / 中国工程院 / 外籍院士")
    institution: Text | None = Field(default=None, description="所在单位")


class AcademicianWorkstation(_Attributes):
    """院士专家工作站."""

    kind: Literal["academician_workstation"] = "academician_workstation"
    academicians: list[Academician] = Field(default_factory=list, max_length=20, description="进站院士")
    agreement_start: date | None = Field(default=None, description="合作协议开始")
    agreement_end: date | None = Field(default=None, description="合作协议结束")
    resident_days_per_year: Count | None = Field(default=None, description="年度在站工作天数")


class PilotBase(_Attributes):
    """中试基地."""

    kind: Literal["pilot_base"] = "pilot_base"
    pilot_scale: Text | None = Field(default=None, description="中试规模（如：百吨级）")
    equipment_value_fen: Fen | None = Field(default=None, description="中试设备原值（分）")
    services_per_year: Count | None = Field(default=None, description="年度中试服务次数")
    open_to_outside: bool | None = Field(default=None, description="是否面向社会开放")


KIND_SCHEMAS: dict[str, type[_Attributes]] = {
    "autonomous_region_key_lab": AutonomousRegionKeyLab,
    "national_key_lab": NationalKeyLab,
    "national_key_lab_incubator": NationalKeyLabIncubator,
    "technology_innovation_centre": TechnologyInnovationCentre,
    "clinical_research_centre": ClinicalResearchCentre,
    "new_rd_institution": NewRdInstitution,
    "academician_workstation": AcademicianWorkstation,
    "pilot_base": PilotBase,
}
assert set(KIND_SCHEMAS) == set(PLATFORM_KINDS)

_ZH = {
    "missing": "必填项缺失",
    "string_type": "应为文本",
    "string_too_short": "内容过短",
    "string_too_long": "内容过长",
    "int_type": "应为整数",
    "int_parsing": "应为整数",
    "int_from_float": "应为整数",
    "float_type": "应为数字",
    "float_parsing": "应为数字",
    "bool_type": "应为是/否",
    "bool_parsing": "应为是/否",
    "literal_error": "取值不在允许范围内",
    "date_type": "应为日期",
    "date_parsing": "应为日期（YYYY-MM-DD）",
    "date_from_datetime_parsing": "应为日期（YYYY-MM-DD）",
    "greater_than_equal": "数值过小",
    "less_than_equal": "数值过大",
    "too_long": "条目过多",
    "list_type": "应为列表",
    "model_type": "应为对象",
    "dict_type": "应为对象",
}


# Chinese labels of the coded attribute values, for forms and exports.
VALUE_LABELS: dict[str, dict[str, str]] = {
    "category": {"discipline": "学科类", "enterprise": "企业类", "jointly_built": "共建类"},
    "level": {"national": "国家级", "regional": "自治区级", "national_sub_centre": "国家分中心"},
    "operating_model": {"enterprise_led": "企业主导", "institute_led": "院所主导", "alliance": "产学研联盟"},
    "hospital_grade": {"tertiary_a": "三级甲等", "tertiary": "三级", "secondary": "二级"},
    "legal_form": {
        "public_institution": "事业单位",
        "enterprise": "企业",
        "social_organisation": "社会服务机构",
    },
    "academy": {"cas": "中国科学院", "cae": "中国工程院", "foreign": "外籍院士"},
}


def attribute_names(kind: str) -> list[str]:
    return [n for n in KIND_SCHEMAS[kind].model_fields if n != "kind"]


def describe() -> dict[str, list[dict[str, Any]]]:
    """Each kind's attributes with their Chinese descriptions (for ``/metadata/codes``)."""
    return {
        kind: [
            {"name": name, "zh": f.description or name, "values": VALUE_LABELS.get(name)}
            for name, f in schema.model_fields.items()
            if name != "kind"
        ]
        for kind, schema in KIND_SCHEMAS.items()
    }


def validate(kind: str, raw: dict[str, Any], *, prefix: str = "kind_attributes") -> dict[str, Any]:
    """The attributes checked against ``kind``'s schema, as stored (JSON, unset ones left out)."""
    schema = KIND_SCHEMAS[kind]
    given = {k: v for k, v in raw.items() if k != "kind" or v != kind}
    try:
        model = schema.model_validate(given)
    except ValidationError as exc:
        raise ValidationFailed(_issues(kind, exc, prefix)) from None
    return model.model_dump(mode="json", exclude_unset=True, exclude={"kind"})


def _issues(kind: str, exc: ValidationError, prefix: str) -> list[FieldIssue]:
    kind_zh = PLATFORM_KINDS[kind]
    allowed = attribute_names(kind)
    issues = []
    for error in exc.errors():
        loc = [str(p) for p in error["loc"]]
        ctx = error.get("ctx") or {}
        if ctx.get("field"):
            loc = [*loc, str(ctx["field"])]
        field = ".".join([prefix, *loc])
        code = error["type"]
        if code == "extra_forbidden":
            issues.append(
                FieldIssue(
                    field,
                    "not_an_attribute_of_kind",
                    f"'{loc[-1]}' is not an attribute of {kind}; it has: {', '.join(allowed)}",
                    f"「{loc[-1]}」不是{kind_zh}的属性，可填写：{'、'.join(allowed)}",
                )
            )
        else:
            issues.append(
                FieldIssue(field, code, error["msg"], str(ctx.get("message_zh") or _ZH.get(code, "取值无效")))
            )
    return issues
