"""Excel import and export: template headers, row report, both modes, idempotent re-import."""

from __future__ import annotations

import io
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook

from registry.imports.service import PEOPLE_COLUMNS, PLATFORM_COLUMNS
from registry.people.models import Person
from registry.platforms.models import Platform

pytestmark = pytest.mark.asyncio
XLSX = {"content-type": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def sheet(columns: Any, rows: list[dict[str, Any]]) -> bytes:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append([c.header_zh for c in columns])
    for row in rows:
        ws.append([row.get(c.key) for c in columns])
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def person_rows(reg_id: Any) -> list[dict[str, Any]]:
    return [
        {"name": "张明", "id_number": reg_id(1), "title": "教授", "full_time": "全职"},
        {"name": "李华", "id_number": reg_id(2), "title": "研究员", "full_time": "兼职"},
        {"name": "王五", "id_number": "150121197503140000", "title": "教授"},  # wrong check digit
        {"name": "赵六", "id_number": reg_id(3), "title": "宇航员"},  # unknown title
        {"name": "钱七", "id_number": reg_id(1)},  # same person as row 2
    ]


def _id(n: int) -> str:
    from stdnum.cn import ric

    base = f"15012119750314{n:03d}"
    return base + ric.calc_check_digit(base + "0")


async def upload(reg: Any, path: str, content: bytes, mode: str, status: int = 200) -> dict[str, Any]:
    """The import's report: 200 when rows were imported, 422 (problem+json) when none were."""
    response = await reg.client.post(path, params={"mode": mode}, content=content, headers=reg.staff | XLSX)
    assert response.status_code == status, response.text
    if status == 422:
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["code"] == "import_refused" and response.json()["detail_zh"]
    return dict(response.json())


async def test_bad_rows_are_reported_row_by_row_and_all_or_nothing_writes_nothing(reg: Any) -> None:
    report = await upload(
        reg, "/people/import", sheet(PEOPLE_COLUMNS, person_rows(_id)), "all_or_nothing", status=422
    )
    assert report["committed"] is False and report["created"] == 0
    assert report["rejected_rows"] == [4, 5, 6]
    issues = {(i["row"], i["column"]): i for i in report["issues"]}
    assert issues[(4, "身份证号码")]["message_zh"] == "身份证号码校验位错误"
    assert (5, "职称") in issues
    assert issues[(6, "身份证号码")]["message_zh"] == "与第2行身份证号码重复"
    assert await reg.count(Person) == 0
    assert await reg.events() == []


async def test_valid_rows_only_writes_the_good_rows_and_a_reimport_changes_nothing(reg: Any) -> None:
    content = sheet(PEOPLE_COLUMNS, person_rows(_id))
    first = await upload(reg, "/people/import", content, "valid_rows_only")
    assert first["committed"] is True and first["created"] == 2 and first["rejected"] == 3
    assert await reg.count(Person) == 2
    events = len(await reg.events())
    again = await upload(reg, "/people/import", content, "valid_rows_only")
    assert again["created"] == 0 and again["unchanged"] == 2
    assert await reg.count(Person) == 2 and len(await reg.events()) == events


async def test_platform_export_reimports_unchanged_and_carries_chinese_headers(reg: Any) -> None:
    org = await reg.org(1)
    director = await reg.person(1)
    await reg.platform(
        org["id"],
        director={"person_id": director["id"], "term_start": "2022-01-01", "term_end": "2026-12-31"},
    )
    await reg.platform(
        org["id"],
        name="内蒙古自治区乳品质量安全重点实验室",
        field="agriculture",
        sub_field="dairy",
        research_directions=["乳品质量安全检测"],
        region="150100",
    )
    exported = await reg.client.get("/platforms/export", params={"field": "materials"}, headers=reg.staff)
    assert exported.status_code == 200
    wb = load_workbook(io.BytesIO(exported.content))
    ws = wb.worksheets[0]
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][:3] == ("平台编号", "平台名称", "平台类别")
    assert len(rows) == 2 and rows[1][2] == "自治区重点实验室" and rows[1][8] == "包头市"
    events = len(await reg.events())
    report = await upload(reg, "/platforms/import", exported.content, "all_or_nothing")
    assert report["committed"] is True and report["unchanged"] == 1 and report["created"] == 0
    assert len(await reg.events()) == events


async def test_platform_import_creates_by_labels_and_reports_unknown_units(reg: Any) -> None:
    org = await reg.org(1)
    good = {
        "name": "内蒙古自治区草原生态重点实验室",
        "kind": "自治区重点实验室",
        "host_unit_credit_code": org["credit_code"],
        "lab_type": "高校",
        "field": "农牧业",
        "sub_field": "草原草业",
        "research_directions": "草原生态修复；草地监测",
        "region": "锡林郭勒盟",
        "approved_on": "2020-05-01",
        "initial_state": "运行",
    }
    bad_unit = good | {"name": "内蒙古自治区另一个重点实验室", "host_unit_credit_code": "91150100MA0N0G2A1C"}
    bad_sub_field = good | {"name": "内蒙古自治区第三个重点实验室", "sub_field": "稀土新材料"}
    content = sheet(PLATFORM_COLUMNS, [good, bad_unit, bad_sub_field])
    report = await upload(reg, "/platforms/import", content, "valid_rows_only")
    assert report["created"] == 1 and report["rejected_rows"] == [3, 4]
    columns = {(i["row"], i["column"]) for i in report["issues"]}
    assert (3, "依托单位统一社会信用代码") in columns and (4, "细分领域") in columns
    [p] = (await reg.client.get("/platforms", headers=reg.staff)).json()["items"]
    assert p["region"] == "152500" and p["research_directions"] == ["草原生态修复", "草地监测"]
    assert p["code"].startswith("ZDS-2020-")
    assert await reg.count(Platform) == 1


async def test_a_file_that_is_not_the_template_is_refused_without_writing(reg: Any) -> None:
    report = await upload(reg, "/people/import", b"not a workbook", "valid_rows_only", status=422)
    assert report["committed"] is False and report["issues"][0]["message_zh"]
    template = await reg.client.get("/people/import/template", headers=reg.staff)
    headers = next(load_workbook(io.BytesIO(template.content)).worksheets[0].iter_rows(values_only=True))
    assert headers[:2] == ("姓名", "身份证号码")


async def test_an_empty_sheet_or_a_sheet_of_bad_rows_imports_nothing_and_says_so(reg: Any) -> None:
    empty = await upload(reg, "/people/import", sheet(PEOPLE_COLUMNS, []), "valid_rows_only", status=422)
    assert empty["rows"] == 0 and empty["committed"] is False
    assert empty["issues"][0]["message_zh"] == "工作表中没有数据行"
    bad = [{"name": "王五", "id_number": "150121197503140000"}]
    refused = await upload(
        reg, "/platforms/import", sheet(PLATFORM_COLUMNS, bad), "valid_rows_only", status=422
    )
    assert refused["created"] == 0 and refused["rejected"] == 1 and refused["committed"] is False
    assert await reg.count(Person) == 0 and await reg.count(Platform) == 0


async def test_the_import_routes_document_their_report_and_the_templates_a_spreadsheet(reg: Any) -> None:
    document = (await reg.client.get("/openapi.json")).json()
    for kind in ("people", "platforms"):
        answers = document["paths"][f"/{kind}/import"]["post"]["responses"]
        assert answers["200"]["content"]["application/json"]["schema"]["$ref"].endswith("/ImportReport")
        assert "application/problem+json" in answers["422"]["content"]
        template = document["paths"][f"/{kind}/import/template"]["get"]["responses"]["200"]["content"]
        assert list(template) == [XLSX["content-type"]]


async def test_people_export_masks_id_numbers_for_non_staff(reg: Any) -> None:
    unit = await reg.org(1)
    await reg.person(1, name="张明", unit_id=unit["id"])
    admin = reg.auth("host_unit_admin", unit_id=unit["id"])
    for headers, masked in ((reg.staff, False), (admin, True)):
        exported = await reg.client.get("/people/export", headers=headers)
        assert exported.status_code == 200
        rows = list(load_workbook(io.BytesIO(exported.content)).worksheets[0].iter_rows(values_only=True))
        assert rows[0][:2] == ("姓名", "身份证号码")
        assert rows[1][0] == "张明" and ("*" in rows[1][1]) is masked
        assert ("出生日期" in rows[0]) is not masked  # never beside a masked number


async def test_a_unit_admins_export_holds_only_its_own_units_people(reg: Any) -> None:
    mine, other, second = await reg.org(1), await reg.org(2), await reg.org(3)
    await reg.person(1, name="本单位甲", unit_id=mine["id"], phone="13800000001")
    await reg.person(2, name="第二单位乙", unit_id=second["id"])
    await reg.person(3, name="外单位丙", unit_id=other["id"])
    await reg.person(4, name="无单位丁")

    async def names(headers: dict[str, str], **params: Any) -> list[Any]:
        exported = await reg.client.get("/people/export", params=params, headers=headers)
        assert exported.status_code == 200, exported.text
        rows = list(load_workbook(io.BytesIO(exported.content)).worksheets[0].iter_rows(values_only=True))
        return sorted(r[0] for r in rows[1:])

    admin = reg.auth("host_unit_admin", unit_id=mine["id"])
    assert await names(admin) == ["本单位甲"]
    both = reg.auth("host_unit_admin", unit_id=mine["id"], units=[second["id"], "not-a-uuid"])
    assert await names(both) == ["本单位甲", "第二单位乙"]
    assert await names(reg.staff) == ["外单位丙", "无单位丁", "本单位甲", "第二单位乙"]
    # The export is the list of people the caller manages: never wider than what it could list.
    listed = (await reg.client.get("/people", params={"unit_id": mine["id"]}, headers=admin)).json()
    assert [p["name"] for p in listed["items"]] == await names(admin)
    refused = await reg.client.get("/people/export", params={"unit_id": other["id"]}, headers=admin)
    assert refused.status_code == 403 and refused.json()["errors"][0]["field"] == "unit_id"
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert await names(reg.auth("host_unit_admin")) == []  # acting for no unit yet
    for role in ("applicant", "expert", "lab_director"):
        assert (await reg.client.get("/people/export", headers=reg.auth(role))).status_code == 403
    by_birth = await reg.client.get("/people/export", params={"sort": "birth_date"}, headers=admin)
    assert by_birth.status_code == 403 and by_birth.json()["errors"][0]["field"] == "sort"
