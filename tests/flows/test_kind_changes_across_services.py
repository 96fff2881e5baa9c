"""能进能出 across the real services: a 培育基地 promoted in registry keeps its id, and projects
and evaluation see it under its new kind and code without a new record; its revocation reaches
them too."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import pytest

from evaluation.assessments.models import PlatformView
from shared.testing.servers import eventually

pytestmark = pytest.mark.asyncio


async def test_a_promoted_incubator_reaches_projects_and_evaluation_under_its_new_code(
    whole_platform: Any,
) -> None:
    p = whole_platform
    host = await p.org(1)
    r = await p.registry.client.post(
        "/platforms",
        json={
            "name": "省部共建稀土资源综合利用全国重点实验室培育基地",
            "kind": "national_key_lab_incubator",
            "kind_attributes": {"target_national_lab": "稀土资源综合利用"},
            "host_unit_id": host,
            "lab_type": "university",
            "field": "materials",
            "sub_field": "rare_earth",
            "research_directions": ["稀土永磁材料制备", "稀土发光材料"],
            "region": "150200",
            "approved_on": "2015-06-01",
            "approval_document": "内科发〔2015〕12号",
            "initial_state": "operating",
        },
        headers=p.staff,
    )
    assert r.status_code == 201, r.text
    lab_id, old_code = r.json()["id"], r.json()["code"]

    async def code_in_projects() -> str | None:
        r = await p.projects.client.get(f"/platforms/{lab_id}/funding", headers=p.staff)
        return str(r.json()["platform"]["code"]) if r.status_code == 200 else None

    async def kind_in_evaluation() -> tuple[str, str] | None:
        async with p.evaluation.runtime.sessionmaker() as session:
            view = await session.get(PlatformView, UUID(lab_id))
            return (view.kind, view.code) if view is not None else None

    await eventually(lambda: _is(code_in_projects, old_code))
    await eventually(lambda: _is(kind_in_evaluation, ("national_key_lab_incubator", old_code)))

    r = await p.registry.client.post(
        f"/platforms/{lab_id}/actions/promote",
        json={
            "kind": "national_key_lab",
            "document_number": "国科发基〔2026〕8号",
            "approved_on": "2026-03-01",
            "kind_attributes": {"approving_ministry": "科技部"},
            "reason": "科技部批准建设全国重点实验室",
        },
        headers=p.staff,
    )
    assert r.status_code == 200, r.text
    new_code = r.json()["code"]
    assert new_code != old_code and r.json()["id"] == lab_id

    await eventually(lambda: _is(code_in_projects, new_code))
    await eventually(lambda: _is(kind_in_evaluation, ("national_key_lab", new_code)))
    assert await p.applied(p.projects, "registry.platform.reclassified") == 1
    assert await p.applied(p.evaluation, "registry.platform.reclassified") == 1

    # 能出: the revocation reaches both as well; projects then lets no application name the lab
    r = await p.registry.client.post(
        f"/platforms/{lab_id}/actions/revoke",
        json={"reason": "连续两次评估不合格", "document_number": "内科发〔2027〕3号"},
        headers=p.staff,
    )
    assert r.status_code == 200 and r.json()["state"] == "revoked", r.text

    async def state_in_projects() -> str | None:
        r = await p.projects.client.get(f"/platforms/{lab_id}/funding", headers=p.staff)
        return str(r.json()["platform"]["state"]) if r.status_code == 200 else None

    async def state_in_evaluation() -> str | None:
        async with p.evaluation.runtime.sessionmaker() as session:
            view = await session.get(PlatformView, UUID(lab_id))
            return view.state if view is not None else None

    await eventually(lambda: _is(state_in_projects, "revoked"))
    await eventually(lambda: _is(state_in_evaluation, "revoked"))


async def _is(read: Any, expected: object) -> bool:
    return bool(await read() == expected)
