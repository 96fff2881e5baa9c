"""Assessments across the real services: evaluation grades, registry acts on the grade.

Registry and evaluation run side by side on their own databases and one NATS namespace; the
people, units, labs and clusters are made in registry and reach evaluation only as events,
experts score through their own API, and the finalized result travels back as an event that
registry applies exactly once, even when evaluation publishes it again.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from sqlalchemy import select
from stdnum.cn import ric

from shared.testing.servers import eventually
from tests.helpers import count_rows, org_body

pytestmark = pytest.mark.asyncio


def id_number(n: int) -> str:
    base = f"150121{date(1972, 5, 20):%Y%m%d}{n % 1000:03d}"
    return base + ric.calc_check_digit(base + "0")


@dataclass
class Platform:
    """Registry and evaluation together, driven as the department's offices and the experts."""

    registry: Any
    evaluation: Any
    auth: Any

    @property
    def staff(self) -> dict[str, str]:
        return self.auth("department_staff", user_id="staff-1")

    def duty(self, *duties: str) -> dict[str, str]:
        return self.auth("department_staff", user_id=f"staff-{'-'.join(duties)}", duties=list(duties))

    def expert_token(self, person_id: str) -> dict[str, str]:
        return self.auth("expert", user_id=f"p-{person_id}", person_id=person_id)

    async def org(self, n: int) -> str:
        r = await self.registry.client.post("/organisations", json=org_body(n), headers=self.staff)
        assert r.status_code == 201, r.text
        return str(r.json()["id"])

    async def person(self, n: int, unit_id: str) -> str:
        body = {"name": f"专家{n:03d}", "id_number": id_number(n), "title": "professor", "unit_id": unit_id}
        r = await self.registry.client.post("/people", json=body, headers=self.staff)
        assert r.status_code == 201, r.text
        return str(r.json()["id"])

    async def experts(self, count: int, first: int = 100) -> list[str]:
        """People registered in registry, enrolled and approved in evaluation's expert database."""
        person_ids = []
        for n in range(first, first + count):
            person_id = await self.person(n, await self.org(n))
            body = {
                "person_id": person_id,
                "region": "150100",
                "title": "教授",
                "disciplines": ["F0201"],
                "keywords": ["材料"],
                "max_load": 20,
            }
            created: list[Any] = []

            async def enrolled(body: dict[str, Any] = body, created: list[Any] = created) -> bool:
                # the person reaches evaluation by event
                r = await self.evaluation.client.post("/experts", json=body, headers=self.duty("expert_db"))
                created[:] = [r]
                return r.status_code == 201

            await eventually(enrolled)
            expert_id = created[0].json()["id"]
            r = await self.evaluation.client.post(
                f"/experts/{expert_id}/approve", json={}, headers=self.duty("expert_db")
            )
            assert r.status_code == 200, r.text
            person_ids.append(person_id)
        return person_ids

    async def start_assessment(self, path: str, body: dict[str, Any]) -> str:
        """Start a campaign once evaluation knows the lab or cluster; draw and open its round."""
        started: list[Any] = []

        async def known() -> bool:
            r = await self.evaluation.client.post(path, json=body, headers=self.duty("request"))
            started[:] = [r]
            return r.status_code == 201

        await eventually(known)
        round_id = str(started[0].json()["round_id"])
        r = await self.evaluation.client.post(
            f"/rounds/{round_id}/request", json={"k": 3, "max_load": 10}, headers=self.duty("request")
        )
        assert r.status_code == 200, r.text
        r = await self.evaluation.client.post(
            f"/rounds/{round_id}/runs",
            json={"mode": "draw", "seed": 7, "commit": True},
            headers=self.duty("draw"),
        )
        assert r.status_code == 200 and not r.json()["shortfalls"], r.text
        r = await self.evaluation.client.post(f"/rounds/{round_id}/open", headers=self.duty("draw"))
        assert r.status_code == 200, r.text
        return round_id

    async def score_everything(self, person_ids: list[str], value: float) -> int:
        """Each expert accepts every task and submits ``value`` on every indicator."""
        sheets = 0
        for person_id in person_ids:
            who = self.expert_token(person_id)
            tasks = (await self.evaluation.client.get("/reviews/mine", headers=who)).json()
            for task in tasks:
                assignment = task["assignment_id"]
                r = await self.evaluation.client.post(
                    f"/assignments/{assignment}/respond", json={"accept": True}, headers=who
                )
                assert r.status_code == 200, r.text
                form = (
                    await self.evaluation.client.get(f"/assignments/{assignment}/sheet", headers=who)
                ).json()
                indicators = form["form"]["indicators"]
                r = await self.evaluation.client.post(
                    f"/assignments/{assignment}/sheet/submit",
                    json={
                        "scores": {i["code"]: value for i in indicators},
                        "indicator_comments": {
                            i["code"]: "依据充分" for i in indicators if i["comment_required"]
                        },
                        "comment": "考核材料齐全，产出与任务目标相比明显不足，需限期整改。",
                    },
                    headers=who,
                )
                assert r.status_code == 200, r.text
                sheets += 1
        return sheets

    async def finalise(self, period: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        listed = await self.evaluation.client.get(
            "/assessments", params={"period": period}, headers=self.duty("request")
        )
        assert listed.status_code == 200, listed.text
        [item] = listed.json()["items"]
        r = await self.evaluation.client.post(
            f"/assessments/{item['id']}/finalise", json=body or {}, headers=self.duty("results")
        )
        assert r.status_code == 200, r.text
        return dict(r.json())

    async def republish_all(self, event_type: str) -> int:
        """Evaluation publishes every event of a type again (an operator healing a consumer)."""
        r = await self.evaluation.client.post(
            "/admin/events/outbox/republish",
            json={"event_type": event_type, "from_sequence": 1, "to_sequence": 1000},
            headers=self.auth("administrator"),
        )
        assert r.status_code == 200, r.text
        return int(r.json()["republished"])

    async def registry_applied(self, event_type: str) -> int:
        inbox = self.registry.runtime.tables.inbox
        return await count_rows(self.registry, inbox, inbox.c.event_type == event_type)


@pytest.fixture
async def platform(start_service: Any, auth: Any) -> AsyncIterator[Platform]:
    async with start_service("registry") as registry, start_service("evaluation") as evaluation:
        yield Platform(registry, evaluation, auth)


async def test_a_lab_graded_unqualified_enters_rectification_in_registry_once(platform: Platform) -> None:
    host = await platform.org(1)
    lab = await platform.registry.client.post(
        "/platforms",
        json={
            "name": "内蒙古自治区稀土功能材料重点实验室",
            "kind": "autonomous_region_key_lab",
            "host_unit_id": host,
            "lab_type": "university",
            "field": "materials",
            "sub_field": "rare_earth",
            "research_directions": ["稀土永磁材料制备"],
            "region": "150200",
            "approved_on": "2015-06-01",
            "approval_document": "内科发〔2015〕12号",
            "initial_state": "operating",
        },
        headers=platform.staff,
    )
    assert lab.status_code == 201, lab.text
    lab_id = lab.json()["id"]
    experts = await platform.experts(3)
    await platform.start_assessment(
        "/assessments/labs",
        {
            "period": "2021-2025",
            "labs": [{"platform_id": lab_id, "orientation": "goal_oriented", "discipline_codes": ["F0201"]}],
        },
    )
    assert await platform.score_everything(experts, 52) == 3
    final = await platform.finalise("2021-2025", {"remarks": "产出不足，限期整改"})
    assert final["result"] == "unqualified"

    async def lab_state() -> str:
        r = await platform.registry.client.get(f"/platforms/{lab_id}", headers=platform.staff)
        return str(r.json()["state"])

    async def rectifying() -> bool:
        return await lab_state() == "under_rectification"

    await eventually(rectifying)
    event_type = "evaluation.lab_assessment.finalized"
    assert await platform.republish_all(event_type) == 1
    history = await platform.registry.client.get(f"/platforms/{lab_id}/history", headers=platform.staff)
    assert history.status_code == 200, history.text

    async def republished_and_seen() -> bool:
        # the second delivery reaches registry's consumer and is recognised, not applied
        consumer = platform.registry.runtime.consumer
        return bool(consumer is not None and consumer.duplicates_total >= 1)

    await eventually(republished_and_seen)
    assert await platform.registry_applied(event_type) == 1
    history_after = await platform.registry.client.get(f"/platforms/{lab_id}/history", headers=platform.staff)
    assert history_after.json() == history.json()
    assert await lab_state() == "under_rectification"
    actions = [h["action"] for h in history_after.json()["items"]]
    assert actions.count("open_rectification") == 1, actions


async def test_a_cluster_failing_two_years_running_becomes_a_restructuring_case(platform: Platform) -> None:
    lead = "01a20000-0000-7000-8000-000000000009"
    cluster = await platform.registry.client.post(
        "/clusters",
        json={
            "name": "稀土新材料实验室群",
            "field": "materials",
            "direction": "稀土功能材料与应用",
            "director": {"name": "巴特尔", "unit": "内蒙古大学"},
            "secretariat": {"secretary_general": {"name": "乌云", "unit": "内蒙古大学"}},
            "lead_platform_ids": [lead],
            "expert_committee": {"chair": {"name": "陈院士", "unit": "中国科学院", "province": "北京"}},
            "member_units": [{"name": "内蒙古大学"}],
            "plan_document": "组建方案",
            "approval_document": "内科发〔2026〕9号",
        },
        headers=platform.staff,
    )
    assert cluster.status_code == 201, cluster.text
    cluster_id = cluster.json()["id"]
    for action in ("define_structure", "open_recruitment", "submit_plan", "establish"):
        r = await platform.registry.client.post(
            f"/clusters/{cluster_id}/actions/{action}", json={"reason": "按程序推进"}, headers=platform.staff
        )
        assert r.status_code == 200, r.text
    experts = await platform.experts(3)

    async def cluster_state(expected: str) -> bool:
        r = await platform.registry.client.get(f"/clusters/{cluster_id}", headers=platform.staff)
        return bool(r.json()["state"] == expected)

    entry = {"cluster_id": cluster_id, "discipline_codes": ["F0201"]}
    await platform.start_assessment("/assessments/clusters", {"year": 2026, "clusters": [entry]})
    await platform.score_everything(experts, 50)
    assert (await platform.finalise("2026"))["result"] == "fail"
    await eventually(lambda: cluster_state("under_rectification"))

    # the next year: evaluation learns of the rectification from registry's event, assesses again
    await platform.start_assessment("/assessments/clusters", {"year": 2027, "clusters": [entry]})
    await platform.score_everything(experts, 45)
    assert (await platform.finalise("2027", {"required_measures": ["更换服务机构"]}))["result"] == "fail"
    await eventually(lambda: cluster_state("restructuring"))
    r = await platform.registry.client.get(f"/clusters/{cluster_id}", headers=platform.staff)
    assert set(r.json()["allowed_actions"]) == {"reorganise", "revoke"}
    assert await platform.registry_applied("evaluation.cluster_assessment.finalized") == 2
    outbox = platform.registry.runtime.tables.outbox
    async with platform.registry.runtime.sessionmaker() as session:
        published = (
            (
                await session.execute(
                    select(outbox.c.event_type).where(outbox.c.event_type.like("registry.cluster.%"))
                )
            )
            .scalars()
            .all()
        )
    assert published.count("registry.cluster.restructure_required") == 1
