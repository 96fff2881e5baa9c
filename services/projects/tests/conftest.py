"""Fixtures for projects tests: a running projects service and a builder of calls and applications."""

from __future__ import annotations

import itertools
import random
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest
from sqlalchemy import select

from projects.applications.events import REVIEW_COMPLETED, ReviewCompleted
from projects.funded.events import (
    PROJECT_EVALUATION_FINALIZED,
    IndicatorVerdict,
    ProjectEvaluationFinalized,
)
from projects.organisations.events import ORGANISATION_REGISTERED, OrganisationSnapshot
from projects.registry_views.events import (
    INTEGRITY_RECORDED,
    PERSON_REGISTERED,
    IntegritySnapshot,
    PersonSnapshot,
)
from projects.registry_views.models import IntegrityView, PersonView
from shared.clock import utcnow
from shared.testing.events import publish_as_producer
from shared.testing.servers import eventually

ABSTRACT = "本项目面向稀土永磁材料的高性能化需求，研究晶界扩散工艺与微观结构调控方法，形成可推广的制备技术。"


def distinct_text(seed: str, length: int = 120) -> str:
    """Chinese text of its own for every seed, so unrelated applications do not look alike to 查重."""
    rng = random.Random(seed)
    chars = [chr(0x4E00 + rng.randrange(0x5000)) for _ in range(length)]
    return "。".join("".join(chars[i : i + 20]) for i in range(0, length, 20)) + "。"


@dataclass
class World:
    svc: Any
    auth: Any
    seq: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    @property
    def client(self) -> Any:
        return self.svc.client

    @property
    def staff(self) -> dict[str, str]:
        return self.auth("department_staff", user_id="staff-1")

    async def publish(self, event_type: Any, payload: Any, subject: str) -> Any:
        return await publish_as_producer(
            self.svc.runtime.bus, event_type, payload, subject=subject, sequence=next(self.seq)
        )

    async def org(self, *, type: str = "university", region: str = "150100") -> str:
        org_id = uuid4()
        await self.publish(
            ORGANISATION_REGISTERED,
            OrganisationSnapshot(
                id=org_id,
                name=f"单位{str(org_id)[:4]}",
                credit_code="91150100MA0N0G2A1C",
                type=type,
                region=region,
                address="呼和浩特市",
                version=1,
            ),
            f"organisation/{org_id}",
        )
        return str(org_id)

    async def person(
        self, *, born: date = date(1980, 5, 1), unit_id: str | None = None, title: str = "professor"
    ) -> str:
        pid = uuid4()
        await self.publish(
            PERSON_REGISTERED,
            PersonSnapshot(
                id=pid,
                name=f"人员{str(pid)[:4]}",
                birth_date=born,
                unit_id=UUID(unit_id) if unit_id else None,
                title=title,
                version=1,
            ),
            f"person/{pid}",
        )
        return str(pid)

    async def bar(self, *, person: str | None = None, unit: str | None = None) -> str:
        """registry.integrity.recorded for a person or a unit, barred from applying; waits for it."""
        record_id = uuid4()
        await self.publish(
            INTEGRITY_RECORDED,
            IntegritySnapshot(
                id=record_id,
                subject_type="person" if person else "organisation",
                person_id=UUID(person) if person else None,
                organisation_id=UUID(unit) if unit else None,
                misconduct_type="fabrication",
                decision_document="内科监〔2027〕9号",
                barred_from=date(2026, 1, 1),
                barred_until=date(2031, 1, 1),
                scope=["applying"],
                version=1,
            ),
            f"integrity/{record_id}",
        )

        async def there() -> bool:
            async with self.svc.runtime.sessionmaker() as s:
                return await s.get(IntegrityView, record_id) is not None

        await eventually(there, timeout=10)
        return str(record_id)

    async def synced(self, person_id: str) -> None:
        async def there() -> bool:
            async with self.svc.runtime.sessionmaker() as s:
                return await s.get(PersonView, UUID(person_id)) is not None

        await eventually(there, timeout=10)

    async def org_synced(self, org_id: str) -> None:
        async def there() -> bool:
            r = await self.client.get(f"/organisations/{org_id}", headers=self.staff)
            return bool(r.status_code == 200)

        await eventually(there, timeout=10)

    def call_body(self, **overrides: Any) -> dict[str, Any]:
        now = utcnow()
        return {
            "programme_code": "basic.nsf",
            "year": 2027,
            "title": "2027年度自治区自然科学基金项目申报指南",
            "guideline": "支持稀土、新能源、生态等领域的基础研究。",
            "directions": ["稀土功能材料", "草原生态"],
            "opens_at": (now - timedelta(days=1)).isoformat(),
            "closes_at": (now + timedelta(days=10)).isoformat(),
            "budget_fen": 100_000_000,
            "min_funding_fen": 100_000,
            "max_funding_fen": 20_000_000,
            "projects_to_fund": 2,
        } | overrides

    async def call(self, publish: bool = True, **overrides: Any) -> dict[str, Any]:
        r = await self.client.post("/calls", json=self.call_body(**overrides), headers=self.staff)
        assert r.status_code == 201, r.text
        call = dict(r.json())
        if publish:
            r = await self.client.post(f"/calls/{call['id']}/actions/publish", json={}, headers=self.staff)
            assert r.status_code == 200, r.text
            call = dict(r.json())
        return call

    def applicant(self, person_id: str, user_id: str | None = None) -> dict[str, str]:
        return self.auth("applicant", user_id=user_id or f"u-{person_id[:8]}", person_id=person_id)

    def unit_admin(self, unit_id: str) -> dict[str, str]:
        return self.auth("host_unit_admin", user_id=f"ua-{unit_id[:6]}", unit_id=unit_id, units=[unit_id])

    def department(self, dept_id: str) -> dict[str, str]:
        return self.auth(
            "competent_department", user_id=f"cd-{dept_id[:6]}", unit_id=dept_id, units=[dept_id]
        )

    async def draft(
        self,
        call_id: str,
        person_id: str,
        unit_id: str,
        dept_id: str,
        *,
        title: str = "稀土永磁材料晶界扩散关键技术研究",
        content: str = "",
        team: list[dict[str, Any]] | None = None,
        **fields: Any,
    ) -> dict[str, Any]:
        body = {
            "call_id": call_id,
            "unit_id": unit_id,
            "competent_department_id": dept_id,
            "title": title,
            "abstract": ABSTRACT + distinct_text(title + "a", 40),
            "content": content or distinct_text(title),
            "team": team or [{"person_id": person_id, "name": "负责人", "role": "lead", "unit_id": unit_id}],
            "budget": [
                {"category": "equipment", "amount_fen": 300_000},
                {"category": "business", "amount_fen": 200_000},
            ],
            "plan": "第一年完成制备，第二年完成验证。",
            "milestones": [{"due": "2027-12-31", "deliverable": "样品"}],
        } | fields
        r = await self.client.post("/applications", json=body, headers=self.applicant(person_id))
        assert r.status_code == 201, r.text
        return dict(r.json())

    async def act(self, app_id: str, action: str, headers: dict[str, str], **body: Any) -> Any:
        return await self.client.post(f"/applications/{app_id}/actions/{action}", json=body, headers=headers)

    async def to_recommended(self, app: dict[str, Any], person_id: str, unit_id: str, dept_id: str) -> None:
        r = await self.act(app["id"], "submit", self.applicant(person_id), pledge_accepted=True)
        assert r.status_code == 200, r.text
        r = await self.act(app["id"], "endorse", self.unit_admin(unit_id), comments="材料齐全")
        assert r.status_code == 200, r.text
        r = await self.act(
            app["id"],
            "recommend",
            self.department(dept_id),
            matching_fund_fen=100_000,
            commitment="本单位承诺按期足额落实匹配资金",
        )
        assert r.status_code == 200, r.text

    async def team(self, unit: str | None = None) -> dict[str, str]:
        """A fresh lead with a unit and a recommending department, synced from registry events."""
        unit = unit or await self.org()
        dept = await self.org(type="government")
        person = await self.person(unit_id=unit)
        await self.synced(person)
        return {"unit": unit, "dept": dept, "person": person}

    async def reviewed(
        self,
        app: dict[str, Any],
        *,
        score: float = 85.0,
        recommendation: str = "fund",
        non_consensus: bool = False,
        reviewer_count: int = 5,
    ) -> None:
        """From recommended through formal review and expert review (evaluation's event)."""
        r = await self.act(app["id"], "accept_formally", self.staff, reason="形式审查通过")
        assert r.status_code == 200, r.text
        r = await self.act(app["id"], "send_to_review", self.staff)
        assert r.status_code == 200, r.text
        await self.review_result(
            app,
            score=score,
            recommendation=recommendation,
            non_consensus=non_consensus,
            reviewer_count=reviewer_count,
        )

    async def review_result(
        self,
        app: dict[str, Any],
        *,
        score: float,
        recommendation: str,
        non_consensus: bool,
        reviewer_count: int,
    ) -> None:
        """evaluation.review.completed for an application in review; waits until it is applied."""
        await self.publish(
            REVIEW_COMPLETED,
            ReviewCompleted(
                application_id=UUID(app["id"]),
                call_id=UUID(app["call_id"]),
                round_id=uuid4(),
                score=score,
                recommendation=recommendation,
                non_consensus=non_consensus,
                reviewer_count=reviewer_count,
            ),
            f"application/{app['id']}",
        )

        await self.until_application(app["id"], "reviewed")

    async def until_application(self, app_id: str, state: str) -> None:
        async def there() -> bool:
            r = await self.client.get(f"/applications/{app_id}", headers=self.staff)
            return bool(r.json()["state"] == state)

        await eventually(there, timeout=10)

    async def project_of(self, app_id: str) -> dict[str, Any]:
        r = await self.client.get("/projects", params={"size": 200}, headers=self.staff)
        return next(p for p in r.json()["items"] if p["application_id"] == app_id)

    async def approved(
        self,
        call: dict[str, Any],
        team: dict[str, str],
        *,
        approve: dict[str, Any] | None = None,
        **fields: Any,
    ) -> dict[str, Any]:
        """An application of ``team`` through review to approval; returns the project."""
        p, u, d = team["person"], team["unit"], team["dept"]
        app = await self.draft(
            call["id"], p, u, d, title=fields.pop("title", f"项目{next(self.seq)}"), **fields
        )
        await self.to_recommended(app, p, u, d)
        await self.reviewed(app)
        r = await self.act(app["id"], "approve", self.staff, reason="评审通过", **(approve or {}))
        assert r.status_code == 200, r.text
        return await self.project_of(app["id"])

    async def running(self, project: dict[str, Any], lead: str) -> None:
        """The lead submits the task book, staff sign it: the project is in progress."""
        r = await self.project_act(project["id"], "submit_task_book", self.applicant(lead))
        assert r.status_code == 200, r.text
        r = await self.project_act(project["id"], "sign_task_book", self.staff)
        assert r.status_code == 200 and r.json()["state"] == "in_progress", r.text

    async def project_act(self, project_id: str, action: str, headers: dict[str, str], **body: Any) -> Any:
        return await self.client.post(f"/projects/{project_id}/actions/{action}", json=body, headers=headers)

    async def get_project(self, project_id: str) -> dict[str, Any]:
        return dict((await self.client.get(f"/projects/{project_id}", headers=self.staff)).json())

    async def st_report(self, project_id: str) -> Any:
        """The lead submits the project's S&T report (科技报告), which acceptance needs."""
        lead = (await self.get_project(project_id))["pi_person_id"]
        body = {"title": "项目科技报告", "number": f"KJBG-{project_id[:8]}", "sha256": "a" * 64}
        return await self.client.put(
            f"/projects/{project_id}/st-report", json=body, headers=self.applicant(lead)
        )

    async def request_evaluation(self, project_id: str, kind: str) -> str:
        if kind == "acceptance" and (await self.get_project(project_id))["st_report"] is None:
            assert (await self.st_report(project_id)).status_code == 200
        r = await self.client.post(
            f"/projects/{project_id}/evaluations",
            json={"kind": kind, "due_date": "2029-06-30"},
            headers=self.staff,
        )
        assert r.status_code == 201, r.text
        return str(r.json()["request_id"])

    async def finalize(
        self,
        request_id: str,
        project_id: str,
        kind: str,
        result: str,
        *,
        score: float = 80.0,
        diligent: bool = False,
        verdicts: Sequence[tuple[str, float | bool, str]] = (),
        remarks: str = "专家组意见",
    ) -> Any:
        """evaluation.project_evaluation.finalized, as evaluation publishes it."""
        return await self.publish(
            PROJECT_EVALUATION_FINALIZED,
            ProjectEvaluationFinalized(
                request_id=UUID(request_id),
                project_id=UUID(project_id),
                kind=kind,
                result=result,
                score=score,
                diligent=diligent,
                finalized_at=utcnow(),
                remarks=remarks,
                indicator_verdicts=[
                    IndicatorVerdict(id=UUID(i), achieved=v, verdict=w) for i, v, w in verdicts
                ],
            ),
            f"project/{project_id}",
        )

    async def until_state(self, project_id: str, state: str) -> dict[str, Any]:
        async def there() -> bool:
            return (await self.get_project(project_id))["state"] == state

        await eventually(there, timeout=10)
        return await self.get_project(project_id)

    async def disbursements(self, project_id: str) -> list[dict[str, Any]]:
        r = await self.client.get(f"/projects/{project_id}/disbursements", headers=self.staff)
        return list(r.json()["items"])

    async def events(self, prefix: str = "") -> list[dict[str, Any]]:
        outbox = self.svc.runtime.tables.outbox
        async with self.svc.runtime.sessionmaker() as session:
            rows = (await session.execute(select(outbox.c.envelope).order_by(outbox.c.position))).scalars()
            return [dict(e) for e in rows if e["type"].startswith(prefix)]


@pytest.fixture
async def world(start_service: Any, auth: Any) -> AsyncIterator[World]:
    async with start_service("projects") as svc:
        yield World(svc, auth)


@pytest.fixture
async def people(world: World) -> dict[str, str]:
    """A host unit, a competent department and an eligible applicant, synced from registry events."""
    unit = await world.org()
    dept = await world.org(type="government")
    person = await world.person(unit_id=unit)
    await world.synced(person)
    return {"unit": unit, "dept": dept, "person": person}
