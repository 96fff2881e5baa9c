"""Journey: a host unit's admin (registered, approved by the department) fills the platform
import template downloaded through the gateway and imports the unit's proposed labs with their
director; a row for another unit is refused row by row, the same file again changes nothing,
and each lab's history names the admin and the import."""

from __future__ import annotations

import io
from typing import Any

import pytest
from openpyxl import load_workbook

from .conftest import World, id_number, serial

pytestmark = pytest.mark.asyncio

XLSX = {"content-type": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def filled(template: bytes, rows: list[dict[str, Any]]) -> bytes:
    """The template with its example row replaced by ``rows`` (keyed by the Chinese headers)."""
    workbook = load_workbook(io.BytesIO(template))
    sheet = workbook.worksheets[0]
    headers = [cell.value for cell in sheet[1]]
    sheet.delete_rows(2, sheet.max_row)
    for row in rows:
        sheet.append([row.get(str(h)) for h in headers])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


async def test_a_unit_admin_imports_the_units_labs_through_the_gateway(world: World) -> None:
    unit = await world.unit()
    other = await world.unit()
    director_number = id_number(serial())
    director = await world.registrar.post(
        "/api/registry/people",
        {"name": "导入主任", "id_number": director_number, "title": "professor", "unit_id": unit["id"]},
    )
    assert director.status_code == 201, director.text
    admin = await world.unit_admin(unit["id"])

    template = await admin.get("/api/registry/platforms/import/template")
    assert template.status_code == 200, template.text
    name = f"内蒙古自治区导入旅程重点实验室{serial()}"
    lab = {
        "平台名称": name,
        "平台类别": "自治区重点实验室",
        "依托单位统一社会信用代码": unit["credit_code"],
        "实验室类型": "高校",
        "领域": "材料",
        "细分领域": "稀土新材料",
        "研究方向": "稀土永磁；稀土催化",
        "所在盟市": "包头市",
        "主任身份证号码": director_number,
        "主任任期开始": "2026-01-01",
        "主任任期结束": "2030-12-31",
        "状态": "拟建",
    }
    elsewhere = lab | {"平台名称": f"{name}（他单位）", "依托单位统一社会信用代码": other["credit_code"]}
    content = filled(template.content, [lab, elsewhere])

    async def upload() -> dict[str, Any]:
        r = await admin.client.post(
            "/api/registry/platforms/import",
            content=content,
            params={"mode": "valid_rows_only"},
            headers=admin.headers | XLSX,
        )
        assert r.status_code == 200, r.text
        return dict(r.json())

    report = await upload()
    assert (report["rows"], report["created"], report["rejected_rows"]) == (2, 1, [3])
    assert [(i["row"], i["column"], i["message_zh"]) for i in report["issues"]] == [
        (3, "依托单位统一社会信用代码", "无权为该单位登记平台")
    ]

    found = await admin.get("/api/registry/platforms", params={"q": name})
    assert found.status_code == 200, found.text
    [item] = [p for p in found.json()["items"] if p["name"] == name]
    detail = (await admin.get(f"/api/registry/platforms/{item['id']}")).json()
    assert (detail["state"], detail["host_unit_id"], detail["region"]) == ("proposed", unit["id"], "150200")
    assert detail["director_person_id"] == director.json()["id"]

    history = (await admin.get(f"/api/registry/platforms/{item['id']}/history")).json()
    [entry] = history["items"]
    assert (entry["action"], entry["reason"], entry["actor_id"]) == ("propose", "Excel导入", admin.account_id)

    again = await upload()
    assert (again["created"], again["unchanged"], again["rejected_rows"]) == (0, 1, [3])
