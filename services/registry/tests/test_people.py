"""People: resident ID validation, masking per role, duplicates, events with the ID digest."""

from __future__ import annotations

import hashlib
from datetime import date
from typing import Any
from uuid import uuid4

import pytest
from stdnum.cn import ric

from registry.people.models import Person

pytestmark = pytest.mark.asyncio


def _id(n: int, born: date = date(1975, 3, 14)) -> str:
    base = f"150121{born:%Y%m%d}{n:03d}"
    return base + ric.calc_check_digit(base + "0")


def _shows_birth(seen: Any) -> bool:
    """Whether an answer gives the birth date (1975-03-14) away in any form."""
    return any(form in str(seen) for form in ("1975-03-14", "19750314", "1975年"))


async def test_staff_registers_a_person_and_sees_the_full_id_number(reg: Any) -> None:
    number = _id(11)
    response = await reg.client.post("/people", json={"name": "张明", "id_number": number}, headers=reg.staff)
    assert response.status_code == 201, response.text
    person = response.json()
    assert person["id_number"] == number and person["id_number_masked"] is False
    assert person["birth_date"] == "1975-03-14"  # read from the number
    assert person["gender"] == "male" and person["gender_zh"] == "男"


async def test_others_see_the_id_number_masked_and_never_with_the_birth_date(reg: Any) -> None:
    number = _id(11)
    unit = await reg.org(11)
    person = await reg.person(11, name="张明", unit_id=unit["id"], phone="13800000011")
    viewers = {
        "applicant": reg.auth("applicant"),
        "host_unit_admin (own unit)": reg.auth("host_unit_admin", unit_id=unit["id"]),
        "host_unit_admin (other unit)": reg.auth("host_unit_admin", unit_id=str(uuid4())),
        "lab_director": reg.auth("lab_director"),
        "expert": reg.auth("expert"),
    }
    for role, headers in viewers.items():
        seen = (await reg.client.get(f"/people/{person['id']}", headers=headers)).json()
        assert seen["id_number"] == f"{number[:4]}**********{number[-4:]}", role
        assert seen["id_number_masked"] is True
        # The birth date gives back 8 of the 10 hidden digits: it is never shown beside them.
        assert seen["birth_date"] is None, role
        assert not _shows_birth(seen), role
        assert {"id_number", "birth_date"} <= set(seen["withheld_fields"])
    listed = (await reg.client.get("/people", headers=reg.auth("applicant"))).json()
    assert listed["items"][0]["id_number"].count("*") == 10
    assert listed["items"][0]["birth_date"] is None and not _shows_birth(listed)


async def test_contact_details_reach_only_staff_the_person_and_their_units_admin(reg: Any) -> None:
    unit = await reg.org(12)
    person = await reg.person(12, unit_id=unit["id"], phone="13800000012", email="zhang@example.edu.cn")
    own_admin = reg.auth("host_unit_admin", unit_id=unit["id"])
    for headers in (reg.staff, own_admin):
        seen = (await reg.client.get(f"/people/{person['id']}", headers=headers)).json()
        assert (seen["phone"], seen["email"]) == ("13800000012", "zhang@example.edu.cn")
    for headers in (reg.auth("applicant"), reg.auth("host_unit_admin", unit_id=str(uuid4()))):
        seen = (await reg.client.get(f"/people/{person['id']}", headers=headers)).json()
        assert seen["phone"] is None and seen["email"] is None
        assert {"phone", "email"} <= set(seen["withheld_fields"])
        listed = (await reg.client.get("/people", headers=headers)).json()["items"]
        assert [(p["phone"], p["email"]) for p in listed] == [(None, None)]
    listed = (await reg.client.get("/people", headers=own_admin)).json()["items"]
    assert listed[0]["phone"] == "13800000012" and listed[0]["birth_date"] is None


async def test_a_person_signed_in_sees_their_own_whole_record(reg: Any) -> None:
    number = _id(13)
    person = await reg.person(13, phone="13800000013")
    me = reg.auth("applicant", person_id=person["id"])
    seen = (await reg.client.get(f"/people/{person['id']}", headers=me)).json()
    assert seen["id_number"] == number and seen["id_number_masked"] is False
    assert seen["birth_date"] == "1975-03-14" and seen["phone"] == "13800000013"
    assert seen["withheld_fields"] == []
    other = await reg.person(14)
    theirs = (await reg.client.get(f"/people/{other['id']}", headers=me)).json()
    assert theirs["id_number_masked"] is True and theirs["birth_date"] is None


async def test_sorting_people_by_birth_date_is_for_staff_only(reg: Any) -> None:
    await reg.person(15, born=date(1960, 1, 2))
    await reg.person(16, born=date(1990, 1, 2))
    staff = await reg.client.get("/people", params={"sort": "-birth_date"}, headers=reg.staff)
    assert [p["birth_date"] for p in staff.json()["items"]] == ["1990-01-02", "1960-01-02"]
    for sort in ("birth_date", "-birth_date"):
        refused = await reg.client.get("/people", params={"sort": sort}, headers=reg.auth("applicant"))
        assert refused.status_code == 403, sort
        problem = refused.json()
        assert problem["errors"][0]["field"] == "sort" and problem["errors"][0]["message_zh"]
        assert problem["detail_zh"]
    ok = await reg.client.get("/people", params={"sort": "-name"}, headers=reg.auth("applicant"))
    assert ok.status_code == 200


async def test_person_event_carries_the_digest_and_never_the_number(reg: Any) -> None:
    number = _id(12)
    await reg.person(12)
    [event] = await reg.events("registry.person.")
    assert event["type"] == "registry.person.registered"
    assert event["data"]["id_number_digest"] == hashlib.sha256(number.encode()).hexdigest()
    assert number not in str(event)


async def test_colleagues_of_one_department_share_a_department_id_in_their_events(reg: Any) -> None:
    unit, other_unit = await reg.org(40), await reg.org(41)
    chem = await reg.person(40, unit_id=unit["id"], department="化学化工学院")
    same = await reg.person(41, unit_id=unit["id"], department=" 化学化工 学院")  # spacing ignored
    physics = await reg.person(42, unit_id=unit["id"], department="物理科学与技术学院")
    elsewhere = await reg.person(43, unit_id=other_unit["id"], department="化学化工学院")
    none = await reg.person(44, unit_id=unit["id"])
    assert chem["department"] == "化学化工学院"
    ids = {e["data"]["id"]: e["data"]["department_id"] for e in await reg.events("registry.person.")}
    assert ids[chem["id"]] is not None and ids[chem["id"]] == ids[same["id"]]
    assert len({ids[chem["id"]], ids[physics["id"]], ids[elsewhere["id"]]}) == 3
    assert ids[none["id"]] is None
    moved = await reg.client.patch(
        f"/people/{physics['id']}",
        json={"department": "化学化工学院", "reason": "调入化学院"},
        headers=reg.staff,
    )
    assert moved.status_code == 200, moved.text
    [updated] = [e for e in await reg.events("registry.person.updated")]
    assert updated["data"]["department_id"] == ids[chem["id"]]
    assert updated["data"]["changed_fields"] == ["department"]


async def test_duplicate_id_number_is_409_and_nothing_is_written(reg: Any) -> None:
    first = await reg.person(13)
    again = await reg.client.post("/people", json={"name": "李四", "id_number": _id(13)}, headers=reg.staff)
    assert again.status_code == 409
    assert again.json()["existing_id"] == first["id"]
    assert await reg.count(Person) == 1
    assert len(await reg.events("registry.person.")) == 1


@pytest.mark.parametrize(
    ("number", "code"),
    [
        (_id(14)[:-1] + ("0" if _id(14)[-1] != "0" else "1"), "ric_checksum"),
        ("15012119750314", "ric_length"),
        ("15012119751314001" + ric.calc_check_digit("150121197513140010"), "ric_component"),
    ],
)
async def test_invalid_id_numbers_are_refused_by_field(reg: Any, number: str, code: str) -> None:
    response = await reg.client.post("/people", json={"name": "王五", "id_number": number}, headers=reg.staff)
    assert response.status_code == 422
    issue = response.json()["errors"][0]
    assert issue["field"] == "id_number" and issue["code"] == code and issue["message_zh"]
    assert await reg.count(Person) == 0


async def test_birth_date_that_contradicts_the_id_number_is_refused(reg: Any) -> None:
    response = await reg.client.post(
        "/people", json={"name": "赵六", "id_number": _id(15), "birth_date": "1980-01-01"}, headers=reg.staff
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "birth_date"


async def test_host_unit_admin_registers_and_edits_only_their_units_people(reg: Any) -> None:
    mine, other = await reg.org(1), await reg.org(2)
    admin = reg.auth("host_unit_admin", unit_id=mine["id"])
    ok = await reg.client.post(
        "/people", json={"name": "本单位人员", "id_number": _id(16), "unit_id": mine["id"]}, headers=admin
    )
    assert ok.status_code == 201 and ok.json()["id_number_masked"] is True
    refused = await reg.client.post(
        "/people", json={"name": "外单位人员", "id_number": _id(17), "unit_id": other["id"]}, headers=admin
    )
    assert refused.status_code == 403
    outsider = await reg.person(18, unit_id=other["id"])
    edit = await reg.client.patch(f"/people/{outsider['id']}", json={"title": "lecturer"}, headers=admin)
    assert edit.status_code == 403
    unchanged = (await reg.client.get(f"/people/{outsider['id']}", headers=reg.staff)).json()
    assert unchanged["title"] == "professor" and unchanged["version"] == 1


async def test_update_bumps_version_and_emits_updated_once(reg: Any) -> None:
    person = await reg.person(19)
    response = await reg.client.patch(
        f"/people/{person['id']}", json={"full_time": False, "reason": "转为兼职"}, headers=reg.staff
    )
    assert response.json()["version"] == 2 and response.json()["full_time"] is False
    same = await reg.client.patch(f"/people/{person['id']}", json={"full_time": False}, headers=reg.staff)
    assert same.json()["version"] == 2
    types = [e["type"] for e in await reg.events("registry.person.")]
    assert types == ["registry.person.registered", "registry.person.updated"]


async def test_only_staff_search_by_id_number(reg: Any) -> None:
    await reg.person(20)
    found = (await reg.client.get("/people", params={"id_number": _id(20)}, headers=reg.staff)).json()
    assert found["total"] == 1
    refused = await reg.client.get("/people", params={"id_number": _id(20)}, headers=reg.auth("applicant"))
    assert refused.status_code == 403


async def test_person_history_shows_who_changed_what_and_why(reg: Any) -> None:
    person = await reg.person(21)
    await reg.client.patch(
        f"/people/{person['id']}", json={"title": "researcher", "reason": "职称晋升"}, headers=reg.staff
    )
    items = (await reg.client.get(f"/people/{person['id']}/history", headers=reg.staff)).json()["items"]
    assert [i["action"] for i in items] == ["person.registered", "person.updated"]
    assert items[1]["actor_id"] == "staff-1" and items[1]["reason"] == "职称晋升"
    assert items[1]["changes"] == {"title": ["professor", "researcher"]}


async def test_person_history_applies_the_person_views_field_rules(reg: Any) -> None:
    unit = await reg.org(22)
    person = await reg.person(22, unit_id=unit["id"], phone="13800000022")
    changed = await reg.client.patch(
        f"/people/{person['id']}",
        json={"phone": "13900000022", "title": "researcher", "reason": "换号"},
        headers=reg.staff,
    )
    assert changed.status_code == 200, changed.text

    async def history(headers: dict[str, str]) -> list[dict[str, Any]]:
        response = await reg.client.get(f"/people/{person['id']}/history", headers=headers)
        assert response.status_code == 200, response.text
        return list(response.json()["items"])

    full = await history(reg.staff)
    assert full[0]["changes"]["birth_date"] == "1975-03-14"
    assert full[1]["changes"]["phone"] == ["13800000022", "13900000022"]
    assert full[1]["withheld_fields"] == []

    stranger = await history(reg.auth("applicant"))
    assert [i["action"] for i in stranger] == ["person.registered", "person.updated"]
    assert "phone" not in stranger[1]["changes"] and stranger[1]["withheld_fields"] == ["phone"]
    assert stranger[1]["changes"]["title"] == ["professor", "researcher"]
    assert "birth_date" not in stranger[0]["changes"] and "birth_date" in stranger[0]["withheld_fields"]
    assert "13900000022" not in str(stranger) and not _shows_birth(stranger)

    admin = await history(reg.auth("host_unit_admin", unit_id=unit["id"]))
    assert admin[1]["changes"]["phone"] == ["13800000022", "13900000022"]
    assert "birth_date" not in admin[0]["changes"] and not _shows_birth(admin)


async def test_id_numbers_are_ciphertext_at_rest_and_found_by_a_keyed_digest(reg: Any) -> None:
    from sqlalchemy import text

    number = _id(21)
    person = await reg.person(21)
    async with reg.svc.runtime.sessionmaker() as session:
        columns = set((await session.execute(text("SELECT * FROM people"))).keys())
        assert "id_number" not in columns and "id_number_digest" not in columns
        blob, keyed = (
            await session.execute(text("SELECT id_number_ciphertext, id_number_hmac FROM people"))
        ).one()
    assert number.encode() not in blob and number[-8:].encode() not in blob
    assert keyed != hashlib.sha256(number.encode()).hexdigest() and len(keyed) == 64
    found = await reg.client.get("/people", params={"id_number": number}, headers=reg.staff)
    assert [p["id"] for p in found.json()["items"]] == [person["id"]]
    assert found.json()["items"][0]["id_number"] == number
    # The same number typed with a lower-case check letter is still the same person.
    x_number = next(_id(n) for n in range(22, 60) if _id(n).endswith("X"))
    await reg.person(99, id_number=x_number)
    dup = await reg.client.post(
        "/people",
        json={"name": "王五", "id_number": f" {x_number.lower()} "},
        headers=reg.staff,
    )
    assert dup.status_code == 409


async def test_the_id_number_key_is_required_outside_local_and_test() -> None:
    import base64

    from registry.definition import build_definition
    from registry.people.identity import DEVELOPMENT_KEY
    from registry.settings import RegistrySettings

    base = {
        "database_url": "postgresql+asyncpg://db/registry",
        "nats_url": "nats://bus",
        "auth_jwks_url": "https://idp/jwks",
    }
    for key, why in [
        (None, "required outside local/test"),
        (DEVELOPMENT_KEY, "development key"),
        (base64.b64encode(b"short").decode(), "32 bytes"),
    ]:
        settings = RegistrySettings(environment="production", id_number_key=key, **base)
        with pytest.raises(ValueError, match=why):
            settings.id_number_keyring()
        with pytest.raises(ValueError, match=why):
            build_definition(settings)  # the service does not start
    real = base64.b64encode(bytes(range(32))).decode()
    keyring = RegistrySettings(environment="production", id_number_key=real, **base).id_number_keyring()
    assert keyring != RegistrySettings(environment="test", **base).id_number_keyring()


async def test_name_search_finds_chinese_parts_of_names_literally(reg: Any) -> None:
    for n, name in enumerate(["张明远", "李明", "王晓明", "赵100%"]):
        await reg.person(30 + n, name=name)

    async def names(q: str) -> list[str]:
        page = await reg.client.get("/people", params={"q": q, "sort": "name"}, headers=reg.staff)
        assert page.status_code == 200
        return sorted(p["name"] for p in page.json()["items"])

    assert await names("明") == ["张明远", "李明", "王晓明"]
    assert await names("晓明") == ["王晓明"]
    assert await names("明远") == ["张明远"]
    assert await names("张远") == []
    assert await names("0%") == ["赵100%"] and await names("%") == ["赵100%"]


def _candidates(seen: dict[str, Any], counties: list[str]) -> list[str]:
    """Every valid ID number that fits what a viewer sees of a person: the masked number's first
    and last four characters, the birth date when shown, and the public list of county codes."""
    masked, born = seen["id_number"], seen["birth_date"]
    if born is None:
        return []  # 8 of the 10 hidden digits unknown: tens of thousands of candidates at least
    fits = []
    for county in counties:
        if not county.startswith(masked[:4]):
            continue
        base = f"{county}{born.replace('-', '')}{masked[-4:-1]}"
        if ric.calc_check_digit(base + "0") == masked[-1]:
            fits.append(base + masked[-1])
    return fits


async def test_what_an_applicant_sees_of_the_demo_register_gives_back_no_id_number(reg: Any) -> None:
    from registry import demo

    await demo.load(reg.svc.runtime.sessionmaker)
    applicant, staff = reg.auth("applicant"), reg.staff

    async def everyone(headers: dict[str, str]) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        cursor = ""
        while cursor is not None:
            page = await reg.client.get("/people", params={"cursor": cursor, "size": 200}, headers=headers)
            assert page.status_code == 200, page.text
            items += page.json()["items"]
            cursor = page.json()["next_cursor"]
        return items

    seen = await everyone(applicant)
    whole = {p["id"]: p for p in await everyone(staff)}
    assert len(seen) == len(whole) > 500
    recovered = [p for p in seen if _candidates(p, demo.ID_REGIONS) == [whole[p["id"]]["id_number"]]]
    assert recovered == []
    # What the same list gave away while it showed the birth date beside the masked number.
    before = [
        p
        for p in seen
        if _candidates(p | {"birth_date": whole[p["id"]]["birth_date"]}, demo.ID_REGIONS)
        == [whole[p["id"]]["id_number"]]
    ]
    print(
        f"ID numbers recovered exactly from the applicant's list: {len(recovered)} of {len(seen)} "
        f"(with the birth date beside the masked number: {len(before)} of {len(seen)})"
    )
    assert len(before) > len(seen) // 3
