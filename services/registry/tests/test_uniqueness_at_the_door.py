"""Uniqueness at the door (seed 000 唯一性): duplicate directions are flagged before 批准建设."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.asyncio


async def test_a_proposed_lab_duplicating_one_of_its_sub_field_is_flagged_with_the_passages(reg: Any) -> None:
    org = await reg.org(1)
    operating = await reg.platform(org["id"], research_directions=["稀土永磁材料制备", "稀土发光材料"])
    other_field = await reg.platform(
        org["id"],
        name="内蒙古自治区乳品重点实验室",
        field="agriculture",
        sub_field="dairy",
        research_directions=["稀土永磁材料制备", "稀土发光材料"],
    )
    proposed = await reg.platform(
        org["id"],
        name="内蒙古自治区稀土永磁重点实验室",
        initial_state="proposed",
        research_directions=["稀土永磁材料制备工艺", "稀土发光材料研究"],
    )
    response = await reg.client.get(f"/platforms/{proposed['id']}/duplicates", headers=reg.staff)
    assert response.status_code == 200
    [match] = response.json()["matches"]
    assert match["code"] == operating["code"] and match["state_zh"] == "运行"
    assert match["score"] >= response.json()["threshold"]
    assert "稀土永磁材料制备" in match["matching_phrases"] and "稀土发光材料" in match["matching_phrases"]
    assert other_field["code"] not in {m["code"] for m in response.json()["matches"]}

    refused = await reg.act(proposed["id"], "start_construction")
    assert refused.status_code == 409
    problem = refused.json()
    assert problem["current_state"] == "proposed" and "start_construction" in problem["allowed_actions"]
    assert [d["code"] for d in problem["duplicates"]] == [operating["code"]]
    assert operating["code"] in problem["detail_zh"] and "唯一性" in problem["detail_zh"]
    assert (await reg.client.get(f"/platforms/{proposed['id']}", headers=reg.staff)).json()[
        "state"
    ] == "proposed"

    approved = await reg.act(proposed["id"], "start_construction", duplicates_reviewed=True)
    assert approved.status_code == 200 and approved.json()["state"] == "under_construction"
    history = (await reg.client.get(f"/platforms/{proposed['id']}/history", headers=reg.staff)).json()[
        "items"
    ]
    [reviewed] = history[-1]["details"]["duplicates_reviewed"]
    assert reviewed["code"] == operating["code"] and reviewed["matching_phrases"]


async def test_two_proposals_with_the_same_directions_flag_each_other(reg: Any) -> None:
    org = await reg.org(1)
    first = await reg.platform(org["id"], initial_state="proposed", research_directions=["稀土催化材料制备"])
    second = await reg.platform(
        org["id"],
        name="内蒙古自治区稀土催化重点实验室",
        initial_state="proposed",
        research_directions=["稀土催化材料制备技术"],
    )
    matches = (await reg.client.get(f"/platforms/{first['id']}/duplicates", headers=reg.staff)).json()[
        "matches"
    ]
    assert [m["code"] for m in matches] == [second["code"]] and matches[0]["state"] == "proposed"
    assert (await reg.act(second["id"], "start_construction")).status_code == 409


async def test_a_distinct_proposal_starts_construction_without_a_flag(reg: Any) -> None:
    org = await reg.org(1)
    await reg.platform(org["id"], research_directions=["稀土永磁材料制备"])
    proposed = await reg.platform(
        org["id"],
        name="内蒙古自治区稀土冶炼分离重点实验室",
        initial_state="proposed",
        research_directions=["冶炼分离萃取工艺"],
    )
    assert (await reg.client.get(f"/platforms/{proposed['id']}/duplicates", headers=reg.staff)).json()[
        "matches"
    ] == []
    assert (await reg.act(proposed["id"], "start_construction")).status_code == 200


async def test_a_lab_under_construction_is_a_duplicate_too_and_a_revoked_one_is_not(reg: Any) -> None:
    org = await reg.org(1)
    building = await reg.platform(
        org["id"], initial_state="proposed", research_directions=["稀土储氢材料制备"]
    )
    assert (await reg.act(building["id"], "start_construction")).status_code == 200
    revoked = await reg.platform(
        org["id"], name="内蒙古自治区储氢材料重点实验室", research_directions=["稀土储氢材料制备"]
    )
    assert (await reg.act(revoked["id"], "revoke", document_number="内科发〔2026〕2号")).status_code == 200
    proposed = await reg.platform(
        org["id"],
        name="内蒙古自治区稀土储氢重点实验室",
        initial_state="proposed",
        research_directions=["稀土储氢材料制备技术"],
    )
    matches = (await reg.client.get(f"/platforms/{proposed['id']}/duplicates", headers=reg.staff)).json()[
        "matches"
    ]
    assert [(m["code"], m["state_zh"]) for m in matches] == [(building["code"], "培育/建设期")]
    refused = await reg.act(proposed["id"], "start_construction")
    assert refused.status_code == 409 and [d["code"] for d in refused.json()["duplicates"]] == [
        building["code"]
    ]
