"""Formal review: automatic checks, each with its rule, value and evidence; long jobs over a call."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Any
from uuid import UUID, uuid4

import pytest
from sqlalchemy import select

from projects.applications import dedup_index
from projects.applications.models import DedupSignature
from projects.applications.service import get as get_application
from projects.registry_views.events import INTEGRITY_RECORDED, IntegritySnapshot
from projects.registry_views.models import IntegrityView
from shared.testing.servers import eventually

from .conftest import distinct_text

pytestmark = pytest.mark.asyncio

PROPOSAL = (
    "本项目针对内蒙古包头地区稀土资源综合利用率不高的问题，研究低重稀土高矫顽力钕铁硼磁体的晶界扩散工艺。"
    "重点突破扩散源设计、热处理制度优化和微观组织调控三项关键技术，建立中试生产线并开展应用验证。"
    "项目预期形成发明专利五项，培养研究生八名，实现磁体矫顽力提高百分之二十以上，重稀土用量降低百分之三十。"
    "项目组长期从事稀土永磁材料研究，具备完善的制备与表征条件，与本地龙头企业建立了稳定的合作关系。"
)


def check_of(report: dict[str, Any], name: str) -> dict[str, Any]:
    return next(c for c in report["checks"] if c["check"] == name)


async def _formal(world: Any, app_id: str) -> dict[str, Any]:
    r = await world.client.post(f"/applications/{app_id}/formal-check", headers=world.staff)
    assert r.status_code == 200, r.text
    return dict(r.json())


async def test_eligibility_refusals_name_the_rule_value_and_evidence(world: Any, people: Any) -> None:
    call = await world.call(
        eligibility={
            "unit_types": ["university", "research_institute"],
            "max_applicant_age": 40,
            "applicant_titles": ["professor", "associate_professor"],
        }
    )
    enterprise = await world.org(type="enterprise")
    old = await world.person(born=date(1960, 1, 1), unit_id=enterprise, title="engineer")
    await world.synced(old)
    app = await world.draft(call["id"], old, enterprise, people["dept"])
    await world.to_recommended(app, old, enterprise, people["dept"])
    report = await _formal(world, app["id"])
    assert report["passed"] is False
    unit_type = check_of(report, "eligibility.unit_type")
    assert unit_type["passed"] is False and unit_type["value"] == ["university", "research_institute"]
    assert unit_type["evidence"] == {"unit_type": "enterprise"} and unit_type["rule_zh"] == "依托单位类型"
    age = check_of(report, "eligibility.age")
    assert age["passed"] is False and age["value"] == 40 and age["evidence"]["birth_date"] == "1960-01-01"
    assert check_of(report, "eligibility.title")["evidence"] == {"title": "engineer"}
    # Excluding says why; accepting despite the failures needs a reason too.
    r = await world.act(app["id"], "accept_formally", world.staff)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "reason"
    r = await world.act(app["id"], "exclude", world.staff, reason="依托单位类型、年龄、职称不符合指南要求")
    assert r.status_code == 200 and r.json()["state"] == "excluded"
    excluded = (await world.events("projects.application.excluded"))[0]["data"]
    assert excluded["reason"].startswith("依托单位类型")


async def test_a_barred_team_member_fails_integrity_with_the_decision_as_evidence(
    world: Any, people: Any
) -> None:
    call = await world.call()
    p, u, d = people["person"], people["unit"], people["dept"]
    member = await world.person(unit_id=u)
    record_id = uuid4()
    await world.publish(
        INTEGRITY_RECORDED,
        IntegritySnapshot(
            id=record_id,
            subject_type="person",
            person_id=UUID(member),
            misconduct_type="plagiarism",
            decision_document="内科监〔2026〕3号",
            barred_from=date(2026, 1, 1),
            barred_until=date(2029, 1, 1),
            scope=["applying"],
            version=1,
        ),
        f"integrity/{record_id}",
    )

    async def recorded() -> bool:
        async with world.svc.runtime.sessionmaker() as s:
            return (await s.execute(select(IntegrityView.id))).first() is not None

    await eventually(recorded, timeout=10)
    team = [
        {"person_id": p, "name": "负责人", "role": "lead"},
        {"person_id": member, "name": "骨干", "role": "core"},
    ]
    app = await world.draft(call["id"], p, u, d, team=team)
    await world.to_recommended(app, p, u, d)
    integrity = check_of(await _formal(world, app["id"]), "integrity")
    assert integrity["passed"] is False
    assert integrity["evidence"][0]["decision_document"] == "内科监〔2026〕3号"
    assert integrity["evidence"][0]["person_id"] == member


async def test_limits_count_running_projects_by_role_including_declared_external_ones(
    world: Any, people: Any
) -> None:
    call = await world.call(limits={"lead_running_max": 1, "lead_applications_per_year": 1})
    p, u, d = people["person"], people["unit"], people["dept"]
    declared = [{"title": "国家重点研发计划课题", "source": "national", "role": "lead", "running": True}]
    app = await world.draft(call["id"], p, u, d, declared_projects=declared)
    await world.to_recommended(app, p, u, d)
    second = await world.draft(call["id"], p, u, d, title="草原退化机理与生态修复技术集成示范")
    await world.act(second["id"], "submit", world.applicant(p), pledge_accepted=True)
    report = await _formal(world, app["id"])
    running = check_of(report, "limits.running.lead")
    assert running["passed"] is False and running["value"] == 1
    assert running["evidence"]["running"][0] == {
        "code": None,
        "title": "国家重点研发计划课题",
        "source": "national",
    }
    per_year = check_of(report, "limits.applications.lead")
    assert per_year["passed"] is False and per_year["evidence"]["count"] == 2
    assert per_year["evidence"]["other_applications"][0]["code"] == second["code"]


async def test_dedup_finds_a_recycled_old_proposal_with_edits_and_a_same_year_double_submission(
    world: Any, people: Any
) -> None:
    p, u, d = people["person"], people["unit"], people["dept"]
    old_call = await world.call(year=2025, programme_code="rd.key_rd_transfer", title="2025年度重点研发指南")
    old = await world.draft(old_call["id"], p, u, d, title="低重稀土钕铁硼磁体晶界扩散技术", content=PROPOSAL)
    await world.act(old["id"], "submit", world.applicant(p), pledge_accepted=True)

    async def indexed_in_the_background() -> bool:  # submit only queued it; no check has run
        async with world.svc.runtime.sessionmaker() as s:
            return await s.get(DedupSignature, UUID(old["id"])) is not None

    await eventually(indexed_in_the_background, timeout=10)
    call = await world.call()
    colleague = await world.person(unit_id=u)
    await world.synced(colleague)
    edited = PROPOSAL.replace("五项", "六项").replace("八名", "十名").replace("中试生产线", "示范生产线")
    recycled = await world.draft(
        call["id"], colleague, u, d, title="低重稀土钕铁硼磁体晶界扩散技术研究", content=edited
    )
    await world.to_recommended(recycled, colleague, u, d)
    report = await _formal(world, recycled["id"])
    dup = check_of(report, "duplicates")
    assert dup["passed"] is False and dup["value"] == 0.6
    assert [m["code"] for m in dup["evidence"]] == [old["code"]]
    match = dup["evidence"][0]
    assert match["year"] == 2025 and match["similarity"] >= 0.6 and match["same_applicant"] is False
    assert any("示范生产线" in x["text"] and "中试生产线" in x["similar_text"] for x in match["passages"])

    twin = await world.draft(call["id"], colleague, u, d, title="另起题目：磁体晶界扩散", content=edited)
    await world.act(twin["id"], "submit", world.applicant(colleague), pledge_accepted=True)
    dup = check_of(await _formal(world, recycled["id"]), "duplicates")
    assert {m["code"] for m in dup["evidence"]} == {old["code"], twin["code"]}
    assert next(m for m in dup["evidence"] if m["code"] == twin["code"])["same_applicant"] is True
    # An unrelated proposal passes.
    clean = await world.draft(call["id"], p, u, d, title="沙化土地植被恢复")
    await world.act(clean["id"], "submit", world.applicant(p), pledge_accepted=True)
    assert check_of(await _formal(world, clean["id"]), "duplicates")["passed"] is True


async def test_one_indexer_at_a_time_and_a_check_waits_for_the_batch_in_flight(
    world: Any, people: Any
) -> None:
    p, u, d = people["person"], people["unit"], people["dept"]
    call = await world.call()
    app = await world.draft(call["id"], p, u, d, title="草原生态修复", content=distinct_text("轮次"))
    sessions = world.svc.runtime.sessionmaker
    async with sessions() as batch_in_flight:
        # An indexer (another instance's loop) has its turn and has not committed yet.
        assert await dedup_index.take_turn(batch_in_flight, wait=True) is True
        await world.act(app["id"], "submit", world.applicant(p), pledge_accepted=True)
        async with sessions() as another_loop:
            assert await dedup_index.take_turn(another_loop, wait=False) is False  # lets its turn pass
        async with sessions() as check:
            caught_up = asyncio.create_task(dedup_index.catch_up(check))
            await asyncio.sleep(0.3)
            assert not caught_up.done()  # the check waits rather than draining beside it
            await batch_in_flight.commit()
            assert await asyncio.wait_for(caught_up, 10) == 0
            assert await check.get(DedupSignature, UUID(app["id"])) is not None


async def test_the_indexer_can_sign_an_application_a_check_holds(world: Any, people: Any) -> None:
    p, u, d = people["person"], people["unit"], people["dept"]
    call = await world.call()
    app = await world.draft(call["id"], p, u, d, title="草原生态修复", content=distinct_text("签名"))
    sessions = world.svc.runtime.sessionmaker
    async with sessions() as indexer, sessions() as check:
        assert await dedup_index.take_turn(indexer, wait=True) is True
        await world.act(app["id"], "submit", world.applicant(p), pledge_accepted=True)
        await get_application(check, UUID(app["id"]), for_update=True)  # an action under way on it
        # The indexer signs it meanwhile (a foreign key to the locked row), then lets the check on.
        assert await asyncio.wait_for(dedup_index.drain(indexer), 5) == 1
        await indexer.commit()
        assert await asyncio.wait_for(dedup_index.catch_up(check), 5) == 0
        assert await check.get(DedupSignature, UUID(app["id"])) is not None


async def test_dedup_sweep_over_a_call_runs_in_the_background_with_progress(world: Any, people: Any) -> None:
    call = await world.call()
    p, u, d = people["person"], people["unit"], people["dept"]
    a = await world.draft(call["id"], p, u, d, content=PROPOSAL)
    b = await world.draft(call["id"], p, u, d, title="另一题目", content=PROPOSAL + "补充一句。")
    for app in (a, b):
        await world.act(app["id"], "submit", world.applicant(p), pledge_accepted=True)
    r = await world.client.post(
        f"/calls/{call['id']}/jobs", params={"kind": "dedup_sweep"}, headers=world.staff
    )
    assert r.status_code == 202 and r.json()["state"] == "running" and r.json()["total"] == 2
    job_url = f"/calls/{call['id']}/jobs/{r.json()['id']}"

    async def finished() -> bool:
        return (await world.client.get(job_url, headers=world.staff)).json()["state"] == "succeeded"

    await eventually(finished, timeout=15)
    job = (await world.client.get(job_url, headers=world.staff)).json()
    assert job["progress"] == 1.0 and job["state_zh"] == "已完成"
    assert {f["code"] for f in job["result"]["flagged"]} == {a["code"], b["code"]}
    bad = await world.client.post(
        f"/calls/{call['id']}/jobs", params={"kind": "nonsense"}, headers=world.staff
    )
    assert bad.status_code == 422
    forbidden = await world.client.post(
        f"/calls/{call['id']}/jobs", params={"kind": "dedup_sweep"}, headers=world.applicant(p)
    )
    assert forbidden.status_code == 403


async def test_a_job_whose_worker_died_is_shown_failed_not_running_forever(world: Any, people: Any) -> None:
    from datetime import timedelta

    from projects.applications.models import Job
    from shared.clock import utcnow

    call = await world.call()
    job_id = uuid4()
    async with world.svc.runtime.sessionmaker() as s:
        s.add(
            Job(
                id=job_id,
                kind="formal_review",
                call_id=UUID(call["id"]),
                state="running",
                total=10,
                done=3,
                result={},
                cancel_requested=False,
                heartbeat_at=utcnow() - timedelta(minutes=5),
                lease_until=utcnow() - timedelta(minutes=4),
                created_by="staff-1",
            )
        )
        await s.commit()
    job = (await world.client.get(f"/calls/{call['id']}/jobs/{job_id}", headers=world.staff)).json()
    assert job["state"] == "failed" and "lease expired" in job["error"] and job["done"] == 3
    again = await world.client.post(
        f"/calls/{call['id']}/jobs", params={"kind": "formal_review"}, headers=world.staff
    )
    assert again.status_code == 202
    cancel = await world.client.post(
        f"/calls/{call['id']}/jobs/{again.json()['id']}/cancel", headers=world.staff
    )
    assert cancel.status_code == 200

    async def ended() -> bool:
        state = await world.client.get(f"/calls/{call['id']}/jobs/{again.json()['id']}", headers=world.staff)
        return state.json()["state"] in {"cancelled", "succeeded"}

    await eventually(ended, timeout=10)
