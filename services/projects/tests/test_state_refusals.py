"""Refusals because of a call's or an application's state: its Chinese label and what the caller may do."""

from __future__ import annotations

from typing import Any

import pytest

from shared.testing.refusals import assert_state_refusal

from .conftest import ABSTRACT, distinct_text

pytestmark = pytest.mark.asyncio


async def test_an_unpublished_call_takes_no_application_and_leaves_the_applicant_nothing(
    world: Any, people: Any
) -> None:
    call = await world.call(publish=False)
    title = "稀土永磁材料晶界扩散关键技术研究"
    body = {
        "call_id": call["id"],
        "unit_id": people["unit"],
        "competent_department_id": people["dept"],
        "title": title,
        "abstract": ABSTRACT + distinct_text(title + "a", 40),
        "content": distinct_text(title),
        "team": [
            {"person_id": people["person"], "name": "负责人", "role": "lead", "unit_id": people["unit"]}
        ],
        "budget": [{"category": "equipment", "amount_fen": 300_000}],
        "plan": "第一年完成制备，第二年完成验证。",
        "milestones": [{"due": "2027-12-31", "deliverable": "样品"}],
    }
    refused = await world.client.post("/applications", json=body, headers=world.applicant(people["person"]))
    problem = assert_state_refusal(refused, state="draft", state_zh="草稿", allowed=[], allowed_zh=[])
    assert problem["code"] == "call_not_open" and problem["detail_zh"] == "该指南当前为「草稿」，不接受申报"


async def test_a_closed_call_no_longer_changes_and_staff_are_told_the_next_step(world: Any) -> None:
    call = await world.call()
    closed = await world.client.post(f"/calls/{call['id']}/actions/close", json={}, headers=world.staff)
    assert closed.status_code == 200, closed.text
    refused = await world.client.patch(f"/calls/{call['id']}", json={"title": "改名"}, headers=world.staff)
    problem = assert_state_refusal(
        refused, state="closed", state_zh="已截止", allowed=["start_review"], allowed_zh=["进入评审"]
    )
    assert problem["code"] == "call_closed"


async def test_a_submitted_application_is_not_edited_and_the_applicant_may_only_withdraw(
    world: Any, people: Any
) -> None:
    call = await world.call()
    app = await world.draft(call["id"], people["person"], people["unit"], people["dept"])
    applicant = world.applicant(people["person"])
    assert (await world.act(app["id"], "submit", applicant, pledge_accepted=True)).status_code == 200
    refused = await world.client.patch(f"/applications/{app['id']}", json={"plan": "改"}, headers=applicant)
    problem = assert_state_refusal(
        refused, state="submitted", state_zh="已提交", allowed=["withdraw"], allowed_zh=["撤回申报"]
    )
    assert problem["code"] == "not_editable"


async def test_a_project_waiting_for_its_task_book_refuses_in_its_own_words(world: Any) -> None:
    call = await world.call()
    team = await world.team()
    lead = world.applicant(team["person"])
    project = await world.approved(call, team, approve={"funding_fen": 500_000})
    pid = project["id"]
    report = {"year": 2028, "summary": "完成晶界扩散工艺优化。", "spent_fen": 1, "progress": []}
    early = await world.client.post(f"/projects/{pid}/annual-reports", json=report, headers=lead)
    problem = assert_state_refusal(
        early, state="approved", state_zh="已立项（待签任务书）", allowed=[], allowed_zh=[]
    )
    assert problem["code"] == "not_running"
    unsigned = await world.project_act(pid, "sign_task_book", world.staff)
    problem = assert_state_refusal(
        unsigned,
        state="draft",
        state_zh="编制中",
        allowed=["edit", "submit"],
        allowed_zh=["修改任务书", "提交任务书"],
    )
    assert problem["code"] == "task_book_not_submitted"
