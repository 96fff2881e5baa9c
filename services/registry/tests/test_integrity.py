"""Integrity records: the barred-on-a-date check at its boundaries, lifting, events, consumer."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

import pytest

from registry.integrity.events import MISCONDUCT_FOUND, MisconductFoundPayload
from registry.integrity.models import IntegrityRecord
from shared.testing.events import publish_as_producer
from shared.testing.servers import eventually

pytestmark = pytest.mark.asyncio


async def bar(reg: Any, person_id: str, **overrides: Any) -> dict[str, Any]:
    body = {
        "subject_type": "person",
        "person_id": person_id,
        "misconduct_type": "plagiarism",
        "decision_document": "内科诚〔2024〕3号",
        "barred_from": "2024-03-01",
        "barred_until": "2027-02-28",
        "scope": ["applying"],
    } | overrides
    response = await reg.client.post("/integrity", json=body, headers=reg.staff)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def check(reg: Any, person_id: str, on: str, **params: Any) -> dict[str, Any]:
    response = await reg.client.get(
        "/integrity/check", params={"person": person_id, "on": on, **params}, headers=reg.auth("applicant")
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


@pytest.mark.parametrize(
    ("on", "barred"),
    [
        ("2024-02-29", False),
        ("2024-03-01", True),
        ("2025-07-01", True),
        ("2027-02-28", True),
        ("2027-03-01", False),
    ],
)
async def test_check_is_inclusive_at_both_ends(reg: Any, on: str, barred: bool) -> None:
    person = await reg.person(1)
    record = await bar(reg, person["id"])
    answer = await check(reg, person["id"], on)
    assert answer["barred"] is barred
    if barred:
        assert answer["reasons"][0]["record_id"] == record["id"]
        assert answer["reasons"][0]["misconduct_type_zh"] == "抄袭剽窃"
        assert answer["reasons"][0]["decision_document"] == "内科诚〔2024〕3号"


async def test_scope_limits_what_the_bar_covers(reg: Any) -> None:
    person = await reg.person(1)
    await bar(reg, person["id"], scope=["applying"])
    assert (await check(reg, person["id"], "2025-01-01", scope="applying"))["barred"] is True
    assert (await check(reg, person["id"], "2025-01-01", scope="reviewing"))["barred"] is False


async def test_open_ended_bar_and_lifting(reg: Any) -> None:
    person = await reg.person(1)
    record = await bar(reg, person["id"], barred_until=None, scope=["all"])
    assert (await check(reg, person["id"], "2099-01-01"))["barred"] is True
    lifted = await reg.client.post(
        f"/integrity/{record['id']}/lift", json={"reason": "复核撤销处理决定"}, headers=reg.staff
    )
    assert lifted.status_code == 200 and lifted.json()["lifted_at"]
    assert (await check(reg, person["id"], "2099-01-01"))["barred"] is False
    assert (await check(reg, person["id"], "2024-06-01"))["barred"] is True  # the past stays as it was
    again = await reg.client.post(
        f"/integrity/{record['id']}/lift", json={"reason": "重复"}, headers=reg.staff
    )
    assert again.status_code == 409
    types = [e["type"] for e in await reg.events("registry.integrity.")]
    assert types == ["registry.integrity.recorded", "registry.integrity.lifted"]


async def test_period_ending_before_it_starts_is_refused(reg: Any) -> None:
    person = await reg.person(1)
    response = await reg.client.post(
        "/integrity",
        json={
            "subject_type": "person",
            "person_id": person["id"],
            "misconduct_type": "fabrication",
            "decision_document": "x号文件",
            "barred_from": "2025-01-01",
            "barred_until": "2024-01-01",
            "scope": ["all"],
        },
        headers=reg.staff,
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "barred_until"
    assert await reg.count(IntegrityRecord) == 0


async def test_only_staff_record_integrity_decisions(reg: Any) -> None:
    person = await reg.person(1)
    response = await reg.client.post(
        "/integrity",
        json={
            "subject_type": "person",
            "person_id": person["id"],
            "misconduct_type": "fabrication",
            "decision_document": "x号文件",
            "barred_from": "2025-01-01",
            "scope": ["all"],
        },
        headers=reg.auth("host_unit_admin", unit_id="u"),
    )
    assert response.status_code == 403


async def test_misconduct_found_in_a_project_records_one_entry_per_person_once(reg: Any) -> None:
    person = await reg.person(1)
    org = await reg.org(1)
    payload = MisconductFoundPayload(
        project_id=UUID("01a20000-0000-7000-8000-000000000001"),
        person_ids=[UUID(person["id"])],
        organisation_id=UUID(org["id"]),
        misconduct_type="funds_misuse",
        description="挪用项目经费",
        decision_document="内科监〔2026〕5号",
        decided_on=date(2026, 5, 10),
    )
    bus = reg.svc.runtime.bus
    envelope = await publish_as_producer(bus, MISCONDUCT_FOUND, payload, subject="project/1", sequence=1)

    async def recorded(n: int) -> bool:
        return bool(await reg.count(IntegrityRecord) == n)

    await eventually(lambda: recorded(2))
    answer = await check(reg, person["id"], "2029-05-09", scope="applying")
    assert answer["barred"] is True  # default bar: 3 years (policy integrity_default_bar_years)
    assert (await check(reg, person["id"], "2029-05-10"))["barred"] is False
    # The same event delivered again changes nothing; a later event shows the consumer moved on.
    await bus.js.publish(
        bus.subject_for(MISCONDUCT_FOUND.name), envelope.model_dump_json(exclude_none=True).encode()
    )
    later = payload.model_copy(update={"organisation_id": None, "decision_document": "内科监〔2026〕6号"})
    await publish_as_producer(bus, MISCONDUCT_FOUND, later, subject="project/2", sequence=2)
    await eventually(lambda: recorded(3))
    assert len(await reg.events("registry.integrity.recorded")) == 3
