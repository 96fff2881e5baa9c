"""The platform's services side by side for cross-service flows: registry, evaluation and
(where a flow needs it) projects, each on its own database, sharing one NATS namespace."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from stdnum.cn import ric

from shared.testing.servers import eventually
from tests.helpers import count_rows, org_body

# seed 002: after 提出组建意向, the four steps to 批准成立
CLUSTER_STEPS = ("define_structure", "select_service_organisations", "submit_plan", "establish")


def id_number(n: int) -> str:
    base = f"150121{date(1972, 5, 20):%Y%m%d}{n % 1000:03d}"
    return base + ric.calc_check_digit(base + "0")


@dataclass
class Platform:
    """Registry and evaluation together, driven as the department's offices and the experts."""

    registry: Any
    evaluation: Any
    auth: Any
    projects: Any = None

    @property
    def staff(self) -> dict[str, str]:
        return self.auth("department_staff", user_id="staff-1")

    def duty(self, *duties: str) -> dict[str, str]:
        return self.auth("department_staff", user_id=f"staff-{'-'.join(duties)}", duties=list(duties))

    def expert_token(self, person_id: str) -> dict[str, str]:
        return self.auth("expert", user_id=f"p-{person_id}", person_id=person_id)

    async def org(self, n: int, **overrides: Any) -> str:
        r = await self.registry.client.post(
            "/organisations", json=org_body(n, **overrides), headers=self.staff
        )
        assert r.status_code == 201, r.text
        return str(r.json()["id"])

    async def person(self, n: int, unit_id: str) -> str:
        body = {"name": f"专家{n:03d}", "id_number": id_number(n), "title": "professor", "unit_id": unit_id}
        r = await self.registry.client.post("/people", json=body, headers=self.staff)
        assert r.status_code == 201, r.text
        return str(r.json()["id"])

    async def established_cluster(self, member_units: list[dict[str, Any]] | None = None) -> str:
        """A lab cluster taken through the five build steps of seed 002 (成立)."""
        r = await self.registry.client.post(
            "/clusters",
            json={
                "name": "稀土新材料实验室群",
                "field": "materials",
                "direction": "稀土功能材料与应用",
                "director": {"name": "巴特尔", "unit": "内蒙古大学"},
                "secretariat": {
                    "secretary_general": {"name": "乌云", "unit": "内蒙古大学"},
                    "deputies": [{"name": "张处长", "unit": "自治区科技厅"}],
                    "liaisons": [{"name": "李联络", "unit": "包头市科技局"}],
                },
                "lead_platform_ids": ["01a20000-0000-7000-8000-000000000009"],
                "expert_committee": {
                    "chair": {"name": "陈院士", "unit": "中国科学院", "province": "北京"},
                    "members": [{"name": "王教授", "unit": "内蒙古科技大学"}],
                },
                "member_units": member_units or [{"name": "内蒙古大学"}],
                "service_organisations": [{"name": "包头稀土科技服务中心", "duties": ["资源数据采集整理"]}],
                "work_plan": "年内明确组织架构、选择服务机构并编制组建方案",
                "plan_document": "组建方案",
                "approval_document": "内科发〔2026〕9号",
            },
            headers=self.staff,
        )
        assert r.status_code == 201, r.text
        cluster_id = str(r.json()["id"])
        for action in CLUSTER_STEPS:
            r = await self.registry.client.post(
                f"/clusters/{cluster_id}/actions/{action}", json={"reason": "按程序推进"}, headers=self.staff
            )
            assert r.status_code == 200, r.text
        return cluster_id

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
        await self.draw_and_open(round_id)
        return round_id

    async def draw_and_open(self, round_id: str, seed: int = 7) -> None:
        """Request three experts per item, run a seeded draw to its end, open the review."""
        r = await self.evaluation.client.post(
            f"/rounds/{round_id}/request", json={"k": 3, "max_load": 10}, headers=self.duty("request")
        )
        assert r.status_code == 200, r.text
        queued = await self.evaluation.client.post(
            f"/rounds/{round_id}/runs",
            json={"mode": "draw", "seed": seed, "commit": True},
            headers=self.duty("draw"),
        )
        assert queued.status_code == 202, queued.text
        run: dict[str, Any] = {}

        async def ended() -> bool:
            r = await self.evaluation.client.get(f"/runs/{queued.json()['id']}", headers=self.duty("draw"))
            run.update(r.json())
            return run["status"] in ("done", "failed", "cancelled")

        await eventually(ended, timeout=15)
        assert run["status"] == "done" and not run["shortfalls"], run
        r = await self.evaluation.client.post(f"/rounds/{round_id}/open", headers=self.duty("draw"))
        assert r.status_code == 200, r.text

    async def score_everything(
        self, person_ids: list[str], percent: float, recommendation: str | None = None
    ) -> int:
        """Each expert accepts every task and scores ``percent`` of every indicator's range."""
        sheets = 0
        for person_id in person_ids:
            who = self.expert_token(person_id)
            mine = await self.evaluation.client.get("/reviews/mine", params={"size": 200}, headers=who)
            tasks = mine.json()["items"]
            for round_id in sorted({t["round_id"] for t in tasks if not t["pledge_signed"]}):
                r = await self.evaluation.client.post(
                    f"/rounds/{round_id}/pledge", json={"accepted": True}, headers=who
                )
                assert r.status_code == 201, r.text  # 诚信和保密承诺, before any sheet opens
            for task in tasks:
                assignment = task["assignment_id"]
                r = await self.evaluation.client.post(
                    f"/assignments/{assignment}/respond", json={"accept": True}, headers=who
                )
                assert r.status_code == 200, r.text
                sheet = await self.evaluation.client.get(f"/assignments/{assignment}/sheet", headers=who)
                indicators = sheet.json()["form"]["indicators"]
                body: dict[str, Any] = {
                    "scores": {
                        i["code"]: i["min_score"] + (i["max_score"] - i["min_score"]) * percent / 100
                        for i in indicators
                    },
                    "indicator_comments": {
                        i["code"]: "依据充分" for i in indicators if i["comment_required"]
                    },
                    "comment": "材料齐全，论证充分，结论依据专家组逐项核查意见形成。",
                }
                if recommendation is not None:
                    body["recommendation"] = recommendation
                r = await self.evaluation.client.post(
                    f"/assignments/{assignment}/sheet/submit", json=body, headers=who
                )
                assert r.status_code == 200, r.text
                sheets += 1
        return sheets

    async def finalize(self, period: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        listed = await self.evaluation.client.get(
            "/assessments", params={"period": period}, headers=self.duty("request")
        )
        assert listed.status_code == 200, listed.text
        [item] = listed.json()["items"]
        r = await self.evaluation.client.post(
            f"/assessments/{item['id']}/finalize", json=body or {}, headers=self.duty("results")
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

    async def applied(self, svc: Any, event_type: str) -> int:
        """How many events of a type the service's inbox consumer applied."""
        inbox = svc.runtime.tables.inbox
        return await count_rows(svc, inbox, inbox.c.event_type == event_type)


@pytest.fixture
async def platform(start_service: Any, auth: Any) -> AsyncIterator[Platform]:
    """Registry and evaluation."""
    async with start_service("registry") as registry, start_service("evaluation") as evaluation:
        yield Platform(registry, evaluation, auth)


@pytest.fixture
async def whole_platform(start_service: Any, auth: Any) -> AsyncIterator[Platform]:
    """Registry, projects and evaluation."""
    async with (
        start_service("registry") as registry,
        start_service("projects") as projects,
        start_service("evaluation") as evaluation,
    ):
        yield Platform(registry, evaluation, auth, projects)
