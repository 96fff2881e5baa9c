"""Registering and changing organisations through the registry's API."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from registry.organisations.models import Organisation

pytestmark = pytest.mark.asyncio

# Real unified social credit codes have a check digit; these are valid ones.
VALID_CODES = ["91150100MA0N0G2A1C", "12150000460000307L", "911501007013669452"]


def org_body(code: str = VALID_CODES[0], **overrides: Any) -> dict[str, Any]:
    body = {
        "name": "内蒙古大学",
        "credit_code": code,
        "type": "university",
        "region": "150100",
        "address": "呼和浩特市赛罕区大学西街235号",
    }
    body.update(overrides)
    return body


async def counts(svc: Any) -> tuple[int, int]:
    async with svc.runtime.sessionmaker() as session:
        orgs = (await session.execute(select(func.count()).select_from(Organisation))).scalar_one()
        events = (
            await session.execute(select(func.count()).select_from(svc.runtime.tables.outbox))
        ).scalar_one()
    return orgs, events


@pytest.fixture
async def registry(start_service: Any) -> Any:
    async with start_service("registry") as svc:
        yield svc


async def test_staff_registers_an_organisation_and_an_event_is_written(registry: Any, auth: Any) -> None:
    response = await registry.client.post("/organisations", json=org_body(), headers=auth("department_staff"))
    assert response.status_code == 201, response.text
    org = response.json()
    assert org["credit_code"] == VALID_CODES[0]
    assert org["region_zh"] == "呼和浩特市"
    assert org["type_zh"] == "高等院校"
    assert org["version"] == 1
    async with registry.runtime.sessionmaker() as session:
        outbox = registry.runtime.tables.outbox
        row = (await session.execute(select(outbox))).one()
    assert row.event_type == "registry.organisation.registered"
    assert row.envelope["data"]["id"] == org["id"]
    assert row.envelope["specversion"] == "1.0"
    assert row.envelope["subject"] == f"organisation/{org['id']}"


async def test_credit_code_is_normalised_to_upper_case(registry: Any, auth: Any) -> None:
    response = await registry.client.post(
        "/organisations", json=org_body(VALID_CODES[0].lower()), headers=auth("department_staff")
    )
    assert response.status_code == 201
    assert response.json()["credit_code"] == VALID_CODES[0]


async def test_duplicate_credit_code_is_refused_with_409(registry: Any, auth: Any) -> None:
    staff = auth("department_staff")
    first = await registry.client.post("/organisations", json=org_body(), headers=staff)
    again = await registry.client.post("/organisations", json=org_body(name="另一个名字"), headers=staff)
    assert again.status_code == 409
    problem = again.json()
    assert again.headers["content-type"].startswith("application/problem+json")
    assert problem["existing_id"] == first.json()["id"]
    assert problem["errors"][0]["field"] == "credit_code"
    assert problem["errors"][0]["message_zh"]
    assert await counts(registry) == (1, 1)


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        (org_body("91150100MA0N0G2A1B"), "credit_code", "uscc_checksum"),
        (org_body("9115010"), "credit_code", "uscc_length"),
        ({k: v for k, v in org_body().items() if k != "name"}, "name", "missing"),
        (org_body(type="bank"), "type", "enum"),
        (org_body(region="110000"), "region", "enum"),
        (org_body(name=42), "name", "string_type"),
        (org_body(id="00000000-0000-0000-0000-000000000000"), "id", "extra_forbidden"),
    ],
)
async def test_bad_input_is_refused_field_by_field_and_nothing_is_written(
    registry: Any, auth: Any, body: dict[str, Any], field: str, code: str
) -> None:
    response = await registry.client.post("/organisations", json=body, headers=auth("department_staff"))
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["status"] == 422
    issue = next(e for e in problem["errors"] if e["field"] == field)
    assert issue["code"] == code
    assert issue["message"] and issue["message_zh"]
    assert "Traceback" not in response.text
    assert await counts(registry) == (0, 0)


async def test_malformed_json_is_a_422_problem(registry: Any, auth: Any) -> None:
    headers = {**auth("department_staff"), "content-type": "application/json"}
    response = await registry.client.post("/organisations", content=b"{not json", headers=headers)
    assert response.status_code == 422
    assert response.json()["errors"][0]["code"] == "json_invalid"


async def test_applicants_may_not_register_organisations(registry: Any, auth: Any) -> None:
    response = await registry.client.post("/organisations", json=org_body(), headers=auth("applicant"))
    assert response.status_code == 403
    assert response.json()["required_roles"] == ["department_staff", "administrator"]
    assert await counts(registry) == (0, 0)


async def test_list_filters_sorts_and_pages(registry: Any, auth: Any) -> None:
    staff = auth("department_staff")
    await registry.client.post(
        "/organisations", json=org_body(VALID_CODES[0], name="内蒙古大学"), headers=staff
    )
    await registry.client.post(
        "/organisations",
        json=org_body(VALID_CODES[1], name="包头钢铁研究院", type="research_institute", region="150200"),
        headers=staff,
    )
    await registry.client.post(
        "/organisations", json=org_body(VALID_CODES[2], name="内蒙古工业大学"), headers=staff
    )
    reader = auth("applicant")
    page = (await registry.client.get("/organisations", params={"size": 2}, headers=reader)).json()
    assert page["total"] == 3 and len(page["items"]) == 2
    by_region = (
        await registry.client.get("/organisations", params={"region": "150200"}, headers=reader)
    ).json()
    assert [o["name"] for o in by_region["items"]] == ["包头钢铁研究院"]
    by_name = (
        await registry.client.get("/organisations", params={"q": "内蒙古", "sort": "-name"}, headers=reader)
    ).json()
    assert [o["name"] for o in by_name["items"]] == sorted(["内蒙古大学", "内蒙古工业大学"], reverse=True)
    too_big = await registry.client.get("/organisations", params={"size": 5000}, headers=reader)
    assert too_big.status_code == 422


async def test_patch_changes_fields_bumps_version_and_keeps_history(registry: Any, auth: Any) -> None:
    staff = auth("department_staff", user_id="staff-7")
    org = (await registry.client.post("/organisations", json=org_body(), headers=staff)).json()
    response = await registry.client.patch(
        f"/organisations/{org['id']}",
        json={"address": "呼和浩特市新城区", "reason": "单位搬迁"},
        headers=staff,
    )
    assert response.status_code == 200
    assert response.json()["version"] == 2
    history = (await registry.client.get(f"/organisations/{org['id']}/history", headers=staff)).json()
    assert [h["action"] for h in history["items"]] == ["organisation.registered", "organisation.updated"]
    change = history["items"][1]
    assert change["actor_id"] == "staff-7"
    assert change["reason"] == "单位搬迁"
    assert change["changes"] == {"address": ["呼和浩特市赛罕区大学西街235号", "呼和浩特市新城区"]}
    assert await counts(registry) == (1, 2)


async def test_patch_without_changes_writes_nothing(registry: Any, auth: Any) -> None:
    staff = auth("department_staff")
    org = (await registry.client.post("/organisations", json=org_body(), headers=staff)).json()
    response = await registry.client.patch(
        f"/organisations/{org['id']}", json={"name": org["name"]}, headers=staff
    )
    assert response.json()["version"] == 1
    assert await counts(registry) == (1, 1)


async def test_patch_cannot_set_version_or_id(registry: Any, auth: Any) -> None:
    staff = auth("department_staff")
    org = (await registry.client.post("/organisations", json=org_body(), headers=staff)).json()
    response = await registry.client.patch(f"/organisations/{org['id']}", json={"version": 99}, headers=staff)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "version"


async def test_host_unit_admin_edits_only_their_own_unit(registry: Any, auth: Any) -> None:
    staff = auth("department_staff")
    mine = (await registry.client.post("/organisations", json=org_body(VALID_CODES[0]), headers=staff)).json()
    other = (
        await registry.client.post(
            "/organisations", json=org_body(VALID_CODES[1], name="另一单位"), headers=staff
        )
    ).json()
    admin = auth("host_unit_admin", unit_id=mine["id"])
    ok = await registry.client.patch(
        f"/organisations/{mine['id']}", json={"name": "内蒙古大学（本部）"}, headers=admin
    )
    assert ok.status_code == 200
    refused = await registry.client.patch(
        f"/organisations/{other['id']}", json={"name": "被篡改"}, headers=admin
    )
    assert refused.status_code == 403
    unchanged = (await registry.client.get(f"/organisations/{other['id']}", headers=admin)).json()
    assert unchanged["name"] == "另一单位" and unchanged["version"] == 1


async def test_changing_to_a_taken_credit_code_is_refused(registry: Any, auth: Any) -> None:
    staff = auth("department_staff")
    await registry.client.post("/organisations", json=org_body(VALID_CODES[0]), headers=staff)
    other = (
        await registry.client.post(
            "/organisations", json=org_body(VALID_CODES[1], name="乙单位"), headers=staff
        )
    ).json()
    response = await registry.client.patch(
        f"/organisations/{other['id']}", json={"credit_code": VALID_CODES[0]}, headers=staff
    )
    assert response.status_code == 409


async def test_unknown_organisation_is_a_404_problem(registry: Any, auth: Any) -> None:
    response = await registry.client.get(
        "/organisations/0190c0de-0000-7000-8000-000000000000", headers=auth("applicant")
    )
    assert response.status_code == 404
    assert response.json()["title_zh"] == "未找到"


async def test_code_lists_carry_chinese_labels(registry: Any, auth: Any) -> None:
    codes = (await registry.client.get("/metadata/codes", headers=auth("applicant"))).json()
    assert len(codes["regions"]) == 12
    assert {"code": "152900", "name": "alxa", "zh": "阿拉善盟"} in codes["regions"]
