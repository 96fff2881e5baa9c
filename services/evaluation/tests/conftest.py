"""Fixtures for evaluation tests: a running service and a builder of people, experts and items."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from uuid import UUID, uuid4

import pytest
from sqlalchemy import func, select

from evaluation.experts.events import (
    APPLICATION_READY,
    PERSON_REGISTERED,
    ApplicationReady,
    PersonSnapshot,
)
from evaluation.rounds.models import Assignment, ReviewRound, RoundItem
from shared.testing.events import publish_as_producer
from shared.testing.servers import eventually


@dataclass
class Office:
    """Publishes registry/projects events and drives the API with the three separated duties."""

    svc: Any
    auth: Any
    seqs: dict[str, Any] = field(default_factory=dict)

    @property
    def client(self) -> Any:
        return self.svc.client

    @property
    def db_staff(self) -> dict[str, str]:
        return self.auth("department_staff", user_id="db-1", duties=["expert_db"])

    @property
    def requester(self) -> dict[str, str]:
        return self.auth("department_staff", user_id="req-1", duties=["request"])

    @property
    def drawer(self) -> dict[str, str]:
        return self.auth("department_staff", user_id="draw-1", duties=["draw"])

    @property
    def results(self) -> dict[str, str]:
        return self.auth("department_staff", user_id="res-1", duties=["results"])

    async def open_for_review(self, round_id: str, *, k: int, reserve: int = 0, seed: int = 7) -> None:
        """Request k experts per item, commit a seeded draw and open the review."""
        body = {"k": k, "max_load": 10, "reserve": reserve}
        r = await self.client.post(f"/rounds/{round_id}/request", json=body, headers=self.requester)
        assert r.status_code == 200, r.text
        run = await self.run(round_id, {"mode": "draw", "seed": seed, "commit": True})
        assert run["status"] == "done" and not run["shortfalls"], run
        opened = await self.client.post(f"/rounds/{round_id}/open", headers=self.drawer)
        assert opened.status_code == 200, opened.text

    async def run(self, round_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """Queue an assignment run (202) and follow it until it ends; the run with its assignments."""
        queued = await self.client.post(f"/rounds/{round_id}/runs", json=body, headers=self.drawer)
        assert queued.status_code == 202, queued.text
        assert queued.json()["status"] == "queued"
        return await self.finished(queued.json()["id"])

    async def finished(self, run_id: str) -> dict[str, Any]:
        final: dict[str, Any] = {}

        async def ended() -> bool:
            r = await self.client.get(f"/runs/{run_id}", headers=self.drawer)
            final.update(r.json())
            return final["status"] in ("done", "infeasible", "failed", "cancelled")

        await eventually(ended, timeout=15)
        return final

    async def requested_round(self, items: int, k: int = 2, **kw: Any) -> tuple[str, list[UUID], UUID]:
        """A round of ``items`` applications with k experts per item requested."""
        call = uuid4()
        ids = [await self.item(call, **kw) for _ in range(items)]
        round_id = await self.round_with(call, items)
        body = {"k": k, "max_load": 5, "reserve": 2}
        r = await self.client.post(f"/rounds/{round_id}/request", json=body, headers=self.requester)
        assert r.status_code == 200, r.text
        return round_id, ids, call

    async def live(self, round_id: str) -> list[Assignment]:
        async with self.svc.runtime.sessionmaker() as s:
            q = select(Assignment).where(
                Assignment.round_id == UUID(round_id), Assignment.status.in_(("assigned", "accepted"))
            )
            return list((await s.execute(q)).scalars())

    async def tasks(self, person_id: Any) -> list[dict[str, Any]]:
        r = await self.client.get("/reviews/mine", params={"size": 200}, headers=self.as_person(person_id))
        assert r.status_code == 200, r.text
        return list(r.json()["items"])

    async def score(
        self,
        person_id: Any,
        assignment_id: str,
        value: float,
        *,
        recommendation: str | None = None,
        comment: str = "研究思路清晰，技术路线基本可行，建议进一步细化实施方案。",
        accept: bool = True,
    ) -> Any:
        """Sign the round's pledge, accept (if asked) and submit a sheet giving every indicator
        ``value``."""
        who = self.as_person(person_id)
        await self.pledge(person_id, assignment_id)
        if accept:
            r = await self.client.post(
                f"/assignments/{assignment_id}/respond", json={"accept": True}, headers=who
            )
            assert r.status_code == 200, r.text
        sheet = (await self.client.get(f"/assignments/{assignment_id}/sheet", headers=who)).json()
        body: dict[str, Any] = {
            "scores": {i["code"]: value for i in sheet["form"]["indicators"]},
            "indicator_comments": {
                i["code"]: "依据充分" for i in sheet["form"]["indicators"] if i["comment_required"]
            },
            "comment": comment,
        }
        if recommendation:
            body["recommendation"] = recommendation
        return await self.client.post(f"/assignments/{assignment_id}/sheet/submit", json=body, headers=who)

    async def pledge(self, person_id: Any, assignment_id: str) -> None:
        """The expert signs the pledge (诚信和保密承诺) of the assignment's round, if not yet."""
        task = next(t for t in await self.tasks(person_id) if t["assignment_id"] == assignment_id)
        if not task["pledge_signed"]:
            r = await self.client.post(
                f"/rounds/{task['round_id']}/pledge",
                json={"accepted": True},
                headers=self.as_person(person_id),
            )
            assert r.status_code == 201, r.text

    def as_person(self, person_id: UUID | str) -> dict[str, str]:
        return self.auth("expert", user_id=f"p-{person_id}", person_id=str(person_id))

    async def publish(self, event_type: Any, payload: Any, subject: str) -> None:
        seq = self.seqs.setdefault(event_type.source, itertools.count(1))
        await publish_as_producer(
            self.svc.runtime.bus, event_type, payload, subject=subject, sequence=next(seq)
        )

    async def person(self, unit_id: UUID | None = None, name: str = "专家") -> UUID:
        pid = uuid4()
        snap = PersonSnapshot(
            id=pid,
            name=name,
            id_number_digest=pid.hex * 2,
            unit_id=unit_id or uuid4(),
            title="教授",
            discipline="F02",
            version=1,
        )
        await self.publish(PERSON_REGISTERED, snap, f"person/{pid}")
        return pid

    async def expert(
        self,
        *,
        unit_id: UUID | None = None,
        disciplines: tuple[str, ...] = ("F0201",),
        keywords: tuple[str, ...] = ("草原", "生态"),
        region: str = "150100",
        max_load: int = 20,
    ) -> dict[str, Any]:
        pid = await self.person(unit_id)
        body = {
            "person_id": str(pid),
            "region": region,
            "title": "教授",
            "disciplines": list(disciplines),
            "keywords": list(keywords),
            "max_load": max_load,
        }
        response = None

        async def known() -> bool:
            nonlocal response
            response = await self.client.post("/experts", json=body, headers=self.db_staff)
            return response.status_code == 201

        await eventually(known)
        assert response is not None
        expert = response.json()
        approved = await self.client.post(f"/experts/{expert['id']}/approve", json={}, headers=self.db_staff)
        assert approved.status_code == 200, approved.text
        return approved.json()

    async def item(
        self,
        call_id: UUID,
        *,
        applicant: UUID | None = None,
        unit: UUID | None = None,
        team: tuple[UUID, ...] = (),
        avoid: tuple[UUID, ...] = (),
        disciplines: tuple[str, ...] = ("F0201",),
        keywords: tuple[str, ...] = ("草原",),
        funding_fen: int | None = None,
    ) -> UUID:
        app_id = uuid4()
        payload = ApplicationReady(
            application_id=app_id,
            code=f"2026-{app_id.hex[:6]}",
            call_id=call_id,
            title="草原生态修复",
            keywords=list(keywords),
            discipline_codes=list(disciplines),
            applicant_person_id=applicant or uuid4(),
            applicant_unit_id=unit or uuid4(),
            team_person_ids=list(team),
            team_unit_ids=[],
            avoid_person_ids=list(avoid),
            review_due=date(2027, 1, 15),
            requested_funding_fen=funding_fen,
        )
        await self.publish(APPLICATION_READY, payload, f"application/{app_id}")
        return app_id

    async def round_with(self, call_id: UUID, items: int) -> str:
        async def arrived() -> bool:
            async with self.svc.runtime.sessionmaker() as s:
                n = (
                    await s.execute(
                        select(func.count())
                        .select_from(RoundItem)
                        .join(ReviewRound)
                        .where(ReviewRound.call_id == call_id)
                    )
                ).scalar_one()
                return bool(n == items)

        await eventually(arrived)
        async with self.svc.runtime.sessionmaker() as s:
            rnd = (await s.execute(select(ReviewRound).where(ReviewRound.call_id == call_id))).scalar_one()
            return str(rnd.id)


@pytest.fixture
async def evaluation(start_service: Any) -> AsyncIterator[Any]:
    async with start_service("evaluation") as svc:
        yield svc


@pytest.fixture
def office(evaluation: Any, auth: Any) -> Office:
    return Office(evaluation, auth)


@pytest.fixture
def office_for(auth: Any) -> Any:
    """An Office for a service the test started itself (e.g. with other settings)."""
    return lambda svc: Office(svc, auth)
