"""Director terms (连任届数) derived from the appointment history and ``director_term_years``."""

from __future__ import annotations

import io
from datetime import date
from typing import Any

import pytest
from openpyxl import Workbook

from registry.imports.service import PLATFORM_COLUMNS
from registry.platforms.tenure import terms_served

ON = {"on": "2026-11-23"}


def director(person_id: str, start: str, end: str) -> dict[str, Any]:
    return {"person_id": person_id, "term_start": start, "term_end": end}


async def over_term(reg: Any, code: str) -> dict[str, Any] | None:
    advice = (await reg.client.get("/reorganisation/advice", params=ON, headers=reg.staff)).json()
    for lab in advice["labs"]:
        if lab["code"] == code:
            return next((f for f in lab["findings"] if f["rule"] == "director_over_term"), None)
    return None


async def platform(reg: Any, platform_id: str) -> dict[str, Any]:
    return dict((await reg.client.get(f"/platforms/{platform_id}", headers=reg.staff)).json())


def served_today(since: str, term_years: int) -> int | None:
    return terms_served(date.fromisoformat(since), date.today(), term_years)


@pytest.mark.asyncio
async def test_reappointments_add_terms_and_a_new_director_starts_again(reg: Any) -> None:
    org = await reg.org(1)
    first = await reg.person(1)
    lab = await reg.platform(org["id"], director=director(first["id"], "2016-01-01", "2020-12-31"))
    assert lab["director_since"] == "2016-01-01"
    for start, end in (("2021-01-01", "2025-12-31"), ("2026-01-01", "2030-12-31")):
        response = await reg.act(
            lab["id"], "adjust", reason="主任连任", director=director(first["id"], start, end)
        )
        assert response.status_code == 200, response.text
    current = await platform(reg, lab["id"])
    assert current["director_since"] == "2016-01-01"
    assert current["director_terms_served"] == served_today("2016-01-01", 5)

    finding = await over_term(reg, lab["code"])
    assert finding is not None
    assert finding["evidence"]["terms_served"] == 3 and finding["evidence"]["term_expired"] is False
    assert finding["evidence"]["director_since"] == "2016-01-01" and finding["evidence"]["term_years"] == 5

    # Six-year terms: the same tenure is in its second term, within the limit of two.
    changed = await reg.client.put(
        "/policy/director_term_years", json={"value": 6, "reason": "任期调整为六年"}, headers=reg.staff
    )
    assert changed.status_code == 200, changed.text
    assert await over_term(reg, lab["code"]) is None
    assert (await reg.client.get(f"/platforms/{lab['id']}", headers=reg.staff)).json()[
        "director_terms_served"
    ] == 2

    second = await reg.person(2)
    await reg.act(
        lab["id"], "adjust", reason="主任换届", director=director(second["id"], "2026-06-01", "2031-05-31")
    )
    after = (await reg.client.get(f"/platforms/{lab['id']}", headers=reg.staff)).json()
    assert after["director_person_id"] == second["id"]
    assert after["director_since"] == "2026-06-01" and after["director_terms_served"] == 1
    history = (
        await reg.client.get(f"/platforms/{lab['id']}/director-appointments", headers=reg.staff)
    ).json()
    assert [(a["person_id"], a["started_on"], a["ended_on"]) for a in history["items"]] == [
        (first["id"], "2016-01-01", "2026-06-01"),
        (second["id"], "2026-06-01", None),
    ]
    assert history["items"][0]["terms_served"] == 2 and history["term_years"] == 6


@pytest.mark.asyncio
async def test_terms_served_is_not_typed_in(reg: Any) -> None:
    org = await reg.org(1)
    person = await reg.person(1)
    body = reg.platform_body(
        org["id"], director=director(person["id"], "2016-01-01", "2020-12-31") | {"terms_served": 1}
    )
    response = await reg.client.post("/platforms", json=body, headers=reg.staff)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"].endswith("terms_served")


def test_a_term_begins_every_term_years_from_the_start_of_the_tenure() -> None:
    assert terms_served(date(2016, 1, 1), date(2020, 12, 31), 5) == 1
    assert terms_served(date(2016, 1, 1), date(2021, 1, 1), 5) == 2
    assert terms_served(date(2016, 1, 1), date(2015, 1, 1), 5) == 1
    assert terms_served(None, date(2021, 1, 1), 5) is None


@pytest.mark.asyncio
async def test_an_imported_platform_with_a_director_starts_its_appointment_history(reg: Any) -> None:
    org = await reg.org(1)
    person = await reg.person(1)
    row = {
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
        "director_id_number": person["id_number"],
        "director_term_start": "2024-01-01",
        "director_term_end": "2028-12-31",
        "director_full_time": "是",
    }
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append([c.header_zh for c in PLATFORM_COLUMNS])
    ws.append([row.get(c.key) for c in PLATFORM_COLUMNS])
    buffer = io.BytesIO()
    wb.save(buffer)
    report = await reg.client.post(
        "/platforms/import",
        params={"mode": "valid_rows_only"},
        content=buffer.getvalue(),
        headers=reg.staff
        | {"content-type": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
    )
    assert report.status_code == 200, report.text
    assert report.json()["created"] == 1, report.json()
    [p] = (await reg.client.get("/platforms", headers=reg.staff)).json()["items"]
    assert p["director_person_id"] == person["id"] and p["director_since"] == "2024-01-01"
    history = (await reg.client.get(f"/platforms/{p['id']}/director-appointments", headers=reg.staff)).json()
    assert [(a["person_id"], a["started_on"], a["ended_on"]) for a in history["items"]] == [
        (person["id"], "2024-01-01", None)
    ]
