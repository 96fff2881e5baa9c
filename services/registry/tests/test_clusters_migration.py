"""The migration to seed 002's steps: a cluster standing at the old step 3 (成员征集) is at the
same place of the procedure afterwards, now 选择服务机构, and its next step is the plan."""

from __future__ import annotations

import asyncio
from typing import Any
from uuid import uuid4

import asyncpg
import pytest

from shared.migrations import upgrade

pytestmark = pytest.mark.asyncio
BEFORE = "5e2a9c1d7b40"


async def test_clusters_in_the_old_recruitment_step_move_to_service_selection(
    start_service: Any, auth: Any, infra: Any
) -> None:
    from registry.definition import MIGRATIONS_DIR

    name = f"t_registry_steps_{uuid4().hex[:8]}"
    url = await infra.create_database(name)
    await asyncio.to_thread(upgrade, MIGRATIONS_DIR, url, BEFORE)
    conn = await asyncpg.connect(infra.libpq_url(name))
    try:
        for cluster_name, state in (("稀土新材料实验室群", "recruitment"), ("乳业实验室群", "established")):
            await conn.execute(
                "INSERT INTO clusters (id, name, field, direction, state, lead_platform_ids, director,"
                " vice_directors, expert_committee, member_units, secretariat, service_organisations,"
                " plan_document, required_measures, version, created_at, updated_at) VALUES ($1, $2,"
                " 'materials', '稀土功能材料与应用', $3, '[]', '{\"name\": \"巴特尔\"}', '[]', '{}',"
                " '[{\"name\": \"内蒙古大学\"}]', '{}', '[{\"name\": \"某服务机构\"}]', '组建方案',"
                " '[]', 3, now(), now())",
                uuid4(),
                cluster_name,
                state,
            )
    finally:
        await conn.close()
    await asyncio.to_thread(upgrade, MIGRATIONS_DIR, url)
    async with start_service("registry", database=name) as registry:
        staff = auth("department_staff")
        listed = await registry.client.get("/clusters", headers=staff)
        assert listed.status_code == 200, listed.text
        by_name = {c["name"]: c for c in listed.json()["items"]}
        moved = by_name["稀土新材料实验室群"]
        assert moved["state"] == "service_organisations" and moved["state_zh"] == "服务机构"
        assert moved["allowed_actions"] == ["submit_plan", "revoke"]
        assert moved["member_units"] == [{"name": "内蒙古大学"}] and moved["work_plan"] is None
        assert by_name["乳业实验室群"]["state"] == "established"
        planned = await registry.client.post(
            f"/clusters/{moved['id']}/actions/submit_plan", json={"reason": "按程序推进"}, headers=staff
        )
        assert planned.status_code == 200, planned.text
        assert planned.json()["state"] == "plan"
