"""Code lists with their Chinese labels, so no front end has to hard-code them."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import TypeVar

E = TypeVar("E", bound=StrEnum)


class Region(StrEnum):
    """The 12 盟市 of Inner Mongolia, by administrative division code."""

    hohhot = "150100"
    baotou = "150200"
    wuhai = "150300"
    chifeng = "150400"
    tongliao = "150500"
    ordos = "150600"
    hulunbuir = "150700"
    bayannur = "150800"
    ulanqab = "150900"
    hinggan = "152200"
    xilingol = "152500"
    alxa = "152900"


REGION_LABELS = {
    Region.hohhot: "呼和浩特市",
    Region.baotou: "包头市",
    Region.wuhai: "乌海市",
    Region.chifeng: "赤峰市",
    Region.tongliao: "通辽市",
    Region.ordos: "鄂尔多斯市",
    Region.hulunbuir: "呼伦贝尔市",
    Region.bayannur: "巴彦淖尔市",
    Region.ulanqab: "乌兰察布市",
    Region.hinggan: "兴安盟",
    Region.xilingol: "锡林郭勒盟",
    Region.alxa: "阿拉善盟",
}


class OrganisationType(StrEnum):
    university = "university"
    research_institute = "research_institute"
    enterprise = "enterprise"
    hospital = "hospital"
    other = "other"


ORGANISATION_TYPE_LABELS = {
    OrganisationType.university: "高等院校",
    OrganisationType.research_institute: "科研院所",
    OrganisationType.enterprise: "企业",
    OrganisationType.hospital: "医疗卫生机构",
    OrganisationType.other: "其他",
}


def code_list(labels: Mapping[E, str]) -> list[dict[str, str]]:
    return [{"code": code.value, "name": code.name, "zh": zh} for code, zh in labels.items()]
