"""Assessments end to end inside evaluation: labs, clusters and projects, each result as its event."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID, uuid4

import pytest
from sqlalchemy import select

from evaluation.assessments.events import (
    EVALUATION_REQUESTED,
    ClusterSnapshot,
    EvaluationRequested,
    IndicatorPromise,
    PlatformSnapshot,
)
from evaluation.experts.events import PROJECT_APPROVED, ProjectApproved
from shared.events.envelope import EventType
from shared.testing.servers import eventually

pytestmark = pytest.mark.asyncio

PLATFORM_ACCEPTED = EventType("registry.platform.accepted", PlatformSnapshot)
CLUSTER_ESTABLISHED = EventType("registry.cluster.established", ClusterSnapshot)
CLUSTER_RECTIFYING = EventType("registry.cluster.rectification_opened", ClusterSnapshot)


async def outbox(office: Any, event_type: str) -> list[dict[str, Any]]:
    t = office.svc.runtime.tables.outbox
    async with office.svc.runtime.sessionmaker() as s:
        rows = (await s.execute(select(t.c.envelope).where(t.c.event_type == event_type))).scalars().all()
    return [dict(r["data"]) for r in rows]


async def post_eventually(office: Any, path: str, body: dict[str, Any]) -> Any:
    """POST once the read model the request needs has arrived (registry's events are asynchronous)."""
    result: list[Any] = []

    async def created() -> bool:
        r = await office.client.post(path, json=body, headers=office.requester)
        result[:] = [r]
        return r.status_code == 201

    await eventually(created)
    return result[0].json()


async def score_all(office: Any, experts: list[dict[str, Any]], value: float) -> list[str]:
    """Every expert with a task accepts and submits ``value`` on every indicator; returns form names."""
    forms = []
    for e in experts:
        for t in await office.tasks(e["person_id"]):
            r = await office.score(e["person_id"], t["assignment_id"], value)
            assert r.status_code == 200, r.text
            forms.append(r.json()["form"]["name"])
    return forms


async def test_a_lab_assessment_grades_by_orientation_and_an_unqualified_lab_is_reported(office: Any) -> None:
    host = uuid4()
    lab = uuid4()
    await office.publish(
        PLATFORM_ACCEPTED,
        PlatformSnapshot(
            id=lab,
            code="ZDS-2026-001",
            name="草原生态重点实验室",
            kind="autonomous_region_key_lab",
            state="operating",
            host_unit_id=host,
            field="环境",
            sub_field="草原生态",
            region="150100",
            director_person_id=uuid4(),
            version=1,
        ),
        f"platform/{lab}",
    )
    from_host = await office.expert(unit_id=host)
    experts = [await office.expert() for _ in range(3)]
    body = {
        "period": "2021-2025",
        "labs": [
            {
                "platform_id": str(lab),
                "orientation": "goal_oriented",
                "discipline_codes": ["F0201"],
                "keywords": [],
            }
        ],
    }
    unknown = await office.client.post(
        "/assessments/labs",
        json={**body, "labs": [{**body["labs"][0], "platform_id": str(uuid4())}]},
        headers=office.requester,
    )
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "labs[0].platform_id"
    campaign = await post_eventually(office, "/assessments/labs", body)
    again = await office.client.post("/assessments/labs", json=body, headers=office.requester)
    assert again.status_code == 409
    round_id = str(campaign["round_id"])
    await office.open_for_review(round_id, k=3)
    assert await office.tasks(from_host["person_id"]) == []  # 回避: same unit as the host
    forms = await score_all(office, experts, 55)
    assert forms == ["重点实验室考核评估表（目标导向类）"] * 3

    listed = (
        await office.client.get("/assessments", params={"kind": "lab_assessment"}, headers=office.requester)
    ).json()
    item_id = listed["items"][0]["id"]
    proposal = (await office.client.get(f"/assessments/{item_id}", headers=office.results)).json()
    assert proposal["summary"]["score"] == 55.0 and proposal["summary"]["computed_result"] == "unqualified"
    assert proposal["not_ready"] == []
    no_reason = await office.client.post(
        f"/assessments/{item_id}/finalize", json={"result": "qualified"}, headers=office.results
    )
    assert no_reason.status_code == 422 and no_reason.json()["errors"][0]["field"] == "reason"
    assert (
        await office.client.post(f"/assessments/{item_id}/finalize", json={}, headers=office.requester)
    ).status_code == 403
    final = await office.client.post(
        f"/assessments/{item_id}/finalize", json={"remarks": "产出不足，限期整改"}, headers=office.results
    )
    assert final.status_code == 200, final.text
    assert final.json()["result"] == "unqualified" and final.json()["result_zh"] == "不合格"
    [event] = await outbox(office, "evaluation.lab_assessment.finalized")
    assert event["platform_id"] == str(lab) and event["period"] == "2021-2025"
    assert (
        event["grade"] == "unqualified" and event["score"] == 55.0 and event["orientation"] == "goal_oriented"
    )
    twice = await office.client.post(f"/assessments/{item_id}/finalize", json={}, headers=office.results)
    assert twice.status_code == 409
    codes = (await office.client.get("/metadata/codes", headers=office.as_person(uuid4()))).json()
    assert {"code": "unqualified", "zh": "不合格"} in codes["lab_grades"]


async def test_a_cluster_fails_two_years_running_and_each_year_is_reported(office: Any) -> None:
    cluster = uuid4()
    member_unit = uuid4()
    await office.publish(
        CLUSTER_ESTABLISHED,
        ClusterSnapshot(id=cluster, name="稀土新材料实验室群", state="established", version=1),
        f"cluster/{cluster}",
    )
    member = await office.expert(unit_id=member_unit)
    experts = [await office.expert() for _ in range(3)]
    entry = {"cluster_id": str(cluster), "discipline_codes": ["F0201"], "unit_ids": [str(member_unit)]}
    first = await post_eventually(office, "/assessments/clusters", {"year": 2026, "clusters": [entry]})
    await office.open_for_review(str(first["round_id"]), k=3)
    assert await office.tasks(member["person_id"]) == []  # 回避: a member unit
    await score_all(office, experts, 50)
    listed = (
        await office.client.get("/assessments", params={"period": "2026"}, headers=office.requester)
    ).json()
    final = await office.client.post(
        f"/assessments/{listed['items'][0]['id']}/finalize", json={}, headers=office.results
    )
    assert final.json()["result"] == "fail" and final.json()["details"]["required_measures"]

    # registry puts the cluster under rectification; the next year's assessment fails again
    await office.publish(
        CLUSTER_RECTIFYING,
        ClusterSnapshot(id=cluster, name="稀土新材料实验室群", state="under_rectification", version=2),
        f"cluster/{cluster}",
    )
    second = await post_eventually(office, "/assessments/clusters", {"year": 2027, "clusters": [entry]})
    await office.open_for_review(str(second["round_id"]), k=3, seed=8)
    await score_all(office, experts, 45)
    listed = (
        await office.client.get("/assessments", params={"period": "2027"}, headers=office.requester)
    ).json()
    measures = ["更换服务机构", "调整群主任"]
    final = await office.client.post(
        f"/assessments/{listed['items'][0]['id']}/finalize",
        json={"required_measures": measures},
        headers=office.results,
    )
    assert final.status_code == 200, final.text
    events = sorted(await outbox(office, "evaluation.cluster_assessment.finalized"), key=lambda e: e["year"])
    assert [(e["cluster_id"], e["year"], e["result"]) for e in events] == [
        (str(cluster), 2026, "fail"),
        (str(cluster), 2027, "fail"),
    ]
    assert events[1]["required_measures"] == measures and events[1]["score"] == 45.0


async def test_a_project_evaluation_judges_promised_indicators_and_records_diligence(office: Any) -> None:
    call, pi, unit = uuid4(), uuid4(), uuid4()
    application = await office.item(call, applicant=pi, unit=unit, disciplines=("F0201",))
    project, request = uuid4(), uuid4()
    await office.publish(
        PROJECT_APPROVED,
        ProjectApproved(
            project_id=project,
            application_id=application,
            pi_person_id=pi,
            unit_id=unit,
            team_person_ids=[],
            start_date=date(2026, 1, 1),
            end_date=date(2028, 12, 31),
        ),
        f"project/{project}",
    )
    await office.publish(
        EVALUATION_REQUESTED,
        EvaluationRequested(
            request_id=request,
            project_id=project,
            code="XM-2026-0001",
            kind="mid_term",
            title="草原生态修复",
            pi_person_id=pi,
            unit_id=unit,
            due_date=date(2027, 6, 30),
            indicators=[
                IndicatorPromise(id="papers", name="论文", unit="篇", promised=10, reported=4),
                IndicatorPromise(id="patents", name="专利", unit="件", promised=2, reported=2),
            ],
        ),
        f"project/{project}",
    )
    same_unit = await office.expert(unit_id=unit)
    experts = [await office.expert() for _ in range(3)]

    async def arrived() -> Any:
        r = await office.client.get(
            "/assessments", params={"kind": "project_evaluation"}, headers=office.requester
        )
        return r.json()["items"]

    await eventually(arrived)
    [listed] = await arrived()
    assert listed["id"] == str(request) and listed["evaluation_kind"] == "mid_term"
    await office.open_for_review(str(listed["round_id"]), k=3)  # disciplines came from the application
    assert await office.tasks(same_unit["person_id"]) == []
    await score_all(office, experts, 50)
    proposal = (await office.client.get(f"/assessments/{request}", headers=office.results)).json()
    assert proposal["summary"]["computed_result"] == "fail"
    assert [(v["id"], v["verdict"]) for v in proposal["proposed_verdicts"]] == [
        ("papers", "not_achieved"),
        ("patents", "achieved"),
    ]
    undecided = await office.client.post(f"/assessments/{request}/finalize", json={}, headers=office.results)
    assert undecided.status_code == 422 and undecided.json()["errors"][0]["field"] == "diligent"
    final = await office.client.post(
        f"/assessments/{request}/finalize",
        json={
            "diligent": True,
            "remarks": "外部条件变化导致论文未达预期，团队勤勉尽责",
            "indicator_verdicts": [{"id": "papers", "verdict": "partly_achieved"}],
        },
        headers=office.results,
    )
    assert final.status_code == 200, final.text
    [event] = await outbox(office, "evaluation.project_evaluation.finalized")
    assert event["request_id"] == str(request) and event["project_id"] == str(project)
    assert event["kind"] == "mid_term" and event["result"] == "fail" and event["diligent"] is True
    assert event["indicator_verdicts"] == [
        {"id": "papers", "achieved": False, "verdict": "partly_achieved"},
        {"id": "patents", "achieved": True, "verdict": "achieved"},
    ]
    assert UUID(event["request_id"]) == request
