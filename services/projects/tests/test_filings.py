"""备案 of cluster joint projects: only by the cluster's own secretariat, for member units, and
counted in 限项 only while the filing holds (clusters known from registry's events)."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

import pytest
from sqlalchemy import func, select

from projects.filings.models import Filing
from projects.registry_views.events import CLUSTER_EVENTS, ClusterSnapshot
from projects.registry_views.models import ClusterView
from shared.testing.servers import eventually

pytestmark = pytest.mark.asyncio
EVENTS = {e.name.rsplit(".", 1)[1]: e for e in CLUSTER_EVENTS}


async def cluster(
    world: Any, members: list[str], *, state: str = "established", version: int = 1, cluster_id: str = ""
) -> str:
    """A cluster as registry announces it, and wait until projects holds that version."""
    cid = UUID(cluster_id) if cluster_id else uuid4()
    verb = {"established": "established", "plan": "plan_submitted"}.get(state, "updated")
    await world.publish(
        EVENTS[verb if version == 1 else "updated"],
        ClusterSnapshot(
            id=cid,
            name="稀土新材料实验室群",
            state=state,
            version=version,
            member_unit_ids=[UUID(m) for m in members],
        ),
        f"cluster/{cid}",
    )

    async def synced() -> bool:
        async with world.svc.runtime.sessionmaker() as s:
            view = await s.get(ClusterView, cid)
            return view is not None and view.version == version

    await eventually(synced, timeout=10)
    return str(cid)


def secretariat(world: Any, *clusters: str) -> dict[str, str]:
    return dict(world.auth("cluster_secretariat", user_id=f"sec-{clusters[0][:8]}", clusters=list(clusters)))


def joint(person: str, unit: str, cluster_id: str, **overrides: Any) -> dict[str, Any]:
    return {
        "kind": "cluster_joint",
        "title": "稀土永磁电机产业集群联合攻关",
        "funder": "包头稀土高新区某电机企业",
        "pi_person_id": person,
        "unit_id": unit,
        "cluster_id": cluster_id,
        "start_date": "2027-01-01",
        "end_date": "2028-12-31",
        "external_funding_fen": 5_000_000,
    } | overrides


def fields(response: Any) -> set[tuple[str, str]]:
    problem = response.json()
    assert response.headers["content-type"].startswith("application/problem+json")
    assert problem["detail_zh"] and all(e["message_zh"] and e["message"] for e in problem["errors"])
    return {(e["field"], e["code"]) for e in problem["errors"]}


async def filings_written(world: Any) -> int:
    async with world.svc.runtime.sessionmaker() as s:
        return int((await s.execute(select(func.count()).select_from(Filing))).scalar_one())


async def test_a_secretariat_files_only_for_its_own_established_cluster_and_its_member_units(
    world: Any,
) -> None:
    member = await world.team()
    outsider = await world.team()
    mine = await cluster(world, [member["unit"]])
    other = await cluster(world, [outsider["unit"], member["unit"]])
    forming = await cluster(world, [member["unit"]], state="plan")
    never_announced = str(uuid4())
    sec = secretariat(world, mine, forming, never_announced)
    p, u = member["person"], member["unit"]

    refusals = [
        (joint(p, u, other), sec, 403, {("cluster_id", "not_your_cluster")}),
        (joint(p, u, mine) | {"kind": "national"}, sec, 403, {("kind", "secretariat_files_joint_projects")}),
        (joint(p, u, never_announced), sec, 422, {("cluster_id", "unknown")}),
        (joint(p, u, forming), sec, 422, {("cluster_id", "cluster_not_operating")}),
        (joint(p, outsider["unit"], mine), sec, 422, {("unit_id", "not_cluster_member")}),
        (joint(outsider["person"], u, mine), sec, 422, {("pi_person_id", "not_cluster_member")}),
        (joint(p, u, mine, team_person_ids=[str(uuid4())]), sec, 422, {("team_person_ids[0]", "unknown")}),
        # the unit files too, under the same cluster rules
        (joint(p, outsider["unit"], mine), world.unit_admin(outsider["unit"]), 422, None),
    ]
    for body, headers, status, expected in refusals:
        r = await world.client.post("/filings", json=body, headers=headers)
        assert r.status_code == status, (body, r.text)
        if expected is not None:
            assert fields(r) == expected, body
    assert await filings_written(world) == 0

    ok = await world.client.post("/filings", json=joint(p, u, mine), headers=sec)
    assert ok.status_code == 201, ok.text
    assert ok.json()["cluster_id"] == mine and ok.json()["state"] == "submitted"
    seen = (await world.client.get("/filings", headers=sec)).json()
    assert [f["id"] for f in seen["items"]] == [ok.json()["id"]]
    assert (await world.client.get("/filings", headers=secretariat(world, other))).json()["total"] == 0
    one = await world.client.get(f"/filings/{ok.json()['id']}", headers=sec)
    assert one.status_code == 200 and one.json() == seen["items"][0]
    assert one.json()["submitted_at"].endswith("+08:00")
    for headers, filing_id in ((secretariat(world, other), ok.json()["id"]), (sec, str(uuid4()))):
        r = await world.client.get(f"/filings/{filing_id}", headers=headers)
        assert r.status_code == 404 and r.json()["detail_zh"] == "未找到该备案"


async def test_a_joint_filing_counts_in_limits_only_once_accepted_for_a_member_unit(world: Any) -> None:
    team = await world.team()
    p, u, d = team["person"], team["unit"], team["dept"]
    cid = await cluster(world, [u])
    filed = await world.client.post("/filings", json=joint(p, u, cid), headers=secretariat(world, cid))
    assert filed.status_code == 201, filed.text
    filing_id = filed.json()["id"]

    call = await world.call(limits={"lead_running_max": 1})
    app = await world.draft(call["id"], p, u, d)
    await world.to_recommended(app, p, u, d)

    async def running() -> list[dict[str, Any]]:
        report = await world.client.post(f"/applications/{app['id']}/formal-check", headers=world.staff)
        assert report.status_code == 200, report.text
        check = next(c for c in report.json()["checks"] if c["check"] == "limits.running.lead")
        return list(check["evidence"]["running"])

    assert await running() == []  # submitted, not accepted: not a project yet

    # The unit left the cluster before staff decided: the filing no longer holds.
    await cluster(world, [], version=2, cluster_id=cid)
    refused = await world.client.post(f"/filings/{filing_id}/actions/accept", json={}, headers=world.staff)
    assert refused.status_code == 409, refused.text
    assert fields(refused) == {("unit_id", "not_cluster_member"), ("pi_person_id", "not_cluster_member")}
    assert refused.json()["current_state"] == "submitted"
    assert await running() == []
    state = (await world.client.get("/filings", headers=world.staff)).json()["items"][0]["state"]
    assert state == "submitted"

    await cluster(world, [u], version=3, cluster_id=cid)
    accepted = await world.client.post(f"/filings/{filing_id}/actions/accept", json={}, headers=world.staff)
    assert accepted.status_code == 200, accepted.text
    project = await world.get_project(accepted.json()["project_id"])
    assert await running() == [
        {"code": project["code"], "title": "稀土永磁电机产业集群联合攻关", "source": "备案"}
    ]
