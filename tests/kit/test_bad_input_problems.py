"""Bad input is a 4xx naming the field, never a 500 and never a row that breaks later reads."""

from __future__ import annotations

import asyncio
from typing import Any
from uuid import uuid4

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from shared.http.problems import install_problem_handlers
from shared.migrations import upgrade
from tests.helpers import org_body

pytestmark = pytest.mark.asyncio

CLUSTER = {
    "name": "稀土新材料实验室群",
    "field": "materials",
    "direction": "稀土功能材料与应用",
    "lead_platform_ids": ["01a20000-0000-7000-8000-000000000009"],
    "director": {"name": "巴特尔", "unit": "内蒙古大学"},
    "expert_committee": {"chair": {"name": "陈院士", "unit": "中国科学院"}},
    "service_organisations": [{"name": "包头稀土科技服务中心", "duties": ["资源数据采集整理"]}],
    "work_plan": "年内明确组织架构、选择服务机构并编制组建方案",
}


def _fields(response: Any) -> list[str]:
    return [e["field"] for e in response.json()["errors"]]


async def test_a_cluster_document_set_to_null_is_refused_and_the_register_stays_readable(
    start_service: Any, auth: Any
) -> None:
    staff = auth("department_staff")
    async with start_service("registry") as registry:
        created = await registry.client.post("/clusters", json=CLUSTER, headers=staff)
        assert created.status_code == 201, created.text
        cluster_id = created.json()["id"]
        for field in ("expert_committee", "secretariat", "member_units", "vice_directors"):
            response = await registry.client.patch(
                f"/clusters/{cluster_id}", json={field: None}, headers=staff
            )
            assert response.status_code == 422, response.text
            assert field in _fields(response)[0]
        nulls = {**CLUSTER, "name": "草原生态实验室群", "expert_committee": None, "member_units": None}
        assert (await registry.client.post("/clusters", json=nulls, headers=staff)).status_code == 422
        assert (await registry.client.get(f"/clusters/{cluster_id}", headers=staff)).status_code == 200
        listed = await registry.client.get("/clusters", headers=staff)
        assert listed.status_code == 200 and listed.json()["total"] == 1
        emptied = await registry.client.patch(
            f"/clusters/{cluster_id}", json={"member_units": [], "expert_committee": {}}, headers=staff
        )
        assert emptied.status_code == 200, emptied.text
        assert emptied.json()["member_units"] == []


async def test_the_repair_migration_mends_cluster_rows_saved_with_nulls(
    start_service: Any, auth: Any, infra: Any
) -> None:
    from registry.definition import MIGRATIONS_DIR

    name = f"t_registry_repair_{uuid4().hex[:8]}"
    url = await infra.create_database(name)
    await asyncio.to_thread(upgrade, MIGRATIONS_DIR, url, "e6b8d0f2a465")
    conn = await asyncpg.connect(infra.libpq_url(name))
    try:
        await conn.execute(
            "INSERT INTO clusters (id, name, field, direction, state, lead_platform_ids, director,"
            " vice_directors, expert_committee, member_units, secretariat, service_organisations,"
            " required_measures, version, created_at, updated_at) VALUES ($1, '稀土新材料实验室群',"
            " 'materials', '稀土功能材料与应用', 'intent', 'null', 'null', 'null', 'null',"
            " '[null, {\"name\": \"内蒙古大学\"}]', 'null', 'null', 'null', 1, now(), now())",
            uuid4(),
        )
    finally:
        await conn.close()
    await asyncio.to_thread(upgrade, MIGRATIONS_DIR, url)
    async with start_service("registry", database=name) as registry:
        listed = await registry.client.get("/clusters", headers=auth("department_staff"))
        assert listed.status_code == 200, listed.text
        (cluster,) = listed.json()["items"]
        assert cluster["expert_committee"] == {} and cluster["member_units"] == [{"name": "内蒙古大学"}]
        assert cluster["director"] is None and cluster["vice_directors"] == []


async def test_an_unknown_reference_is_a_422_naming_the_field(start_service: Any, auth: Any) -> None:
    staff = auth("department_staff")
    async with start_service("registry") as registry:
        unit = await registry.client.post("/organisations", json=org_body(1), headers=staff)
        assert unit.status_code == 201, unit.text
        person = await registry.client.post(
            "/people",
            json={"name": "张三", "id_number": "11010519491231002X", "unit_id": unit.json()["id"]},
            headers=staff,
        )
        assert person.status_code == 201, person.text
        moved = await registry.client.patch(
            f"/people/{person.json()['id']}", json={"unit_id": str(uuid4())}, headers=staff
        )
        assert moved.status_code == 422, moved.text
        assert moved.headers["content-type"].startswith("application/problem+json")
        assert moved.json()["errors"][0] | {"message": ""} == {
            "field": "unit_id",
            "code": "unknown_reference",
            "message": "",
            "message_zh": "引用的记录不存在",
        }
        instrument = await registry.client.post(
            "/instruments",
            json={
                "owner_unit_id": str(uuid4()),
                "name": "场发射电镜",
                "category": "analytical",
                "value_fen": 1,
            },
            headers=staff,
        )
        assert instrument.status_code == 422, instrument.text
        assert _fields(instrument) == ["owner_unit_id"]
        unchanged = await registry.client.get(f"/people/{person.json()['id']}", headers=staff)
        assert unchanged.json()["unit_id"] == unit.json()["id"]


async def test_every_kind_of_violated_constraint_is_a_4xx_naming_its_field(infra: Any) -> None:
    """The kit's mapping, on a table of its own: foreign key, unique, check, not null."""
    name = f"t_kit_constraints_{uuid4().hex[:8]}"
    url = await infra.create_database(name)
    engine = create_async_engine(url)
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE units (id int CONSTRAINT pk_units PRIMARY KEY)"))
        await conn.execute(
            text(
                "CREATE TABLE labs (id int PRIMARY KEY, code text NOT NULL CONSTRAINT uq_labs_code UNIQUE,"
                " staff int CONSTRAINT ck_labs_staff_not_negative CHECK (staff >= 0),"
                " unit_id int CONSTRAINT fk_labs_unit_id_units REFERENCES units (id))"
            )
        )
        await conn.execute(text("INSERT INTO units VALUES (1)"))
        await conn.execute(text("INSERT INTO labs VALUES (1, 'L1', 0, 1)"))
    app = FastAPI()
    install_problem_handlers(app)

    @app.post("/sql")
    async def run(statement: str) -> dict[str, str]:
        async with engine.begin() as conn:
            await conn.execute(text(statement))
        return {}

    cases = {
        "INSERT INTO labs VALUES (2, 'L2', 0, 99)": (422, "unit_id", "unknown_reference"),
        "INSERT INTO labs VALUES (2, 'L1', 0, 1)": (409, "code", "duplicate"),
        "UPDATE labs SET staff = -1": (422, "staff_not_negative", "check_violation"),
        "UPDATE labs SET code = NULL": (422, "code", "missing"),
        "DELETE FROM units": (409, "id", "still_referenced"),
    }
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            for statement, (status, field, code) in cases.items():
                response = await client.post("/sql", params={"statement": statement})
                assert response.status_code == status, (statement, response.text)
                assert response.json()["errors"][0]["field"] == field, statement
                assert response.json()["code"] == code
                assert response.json()["errors"][0]["message_zh"]
    finally:
        await engine.dispose()


async def test_the_kit_session_refuses_a_json_null_where_the_column_is_not_nullable(
    start_service: Any, auth: Any
) -> None:
    """Whatever endpoint lets a null through, it never reaches a NOT NULL JSON column."""
    from registry.clusters.models import Cluster
    from shared.errors import ValidationFailed

    async with start_service("registry") as registry:
        created = await registry.client.post("/clusters", json=CLUSTER, headers=auth("department_staff"))
        assert created.status_code == 201, created.text
        async with registry.runtime.sessionmaker() as session:
            cluster = await session.get(Cluster, created.json()["id"])
            assert cluster is not None
            cluster.director = None  # nullable: fine
            cluster.industry_cluster = "稀土"
            await session.flush()
            cluster.secretariat = None  # type: ignore[assignment]
            with pytest.raises(ValidationFailed) as refused:
                await session.flush()
            assert [i.field for i in refused.value.issues] == ["secretariat"]
            await session.rollback()
            session.add(
                Cluster(
                    name="草原生态实验室群",
                    field="environment",
                    direction="草原生态保护",
                    state="intent",
                    member_units=None,
                )
            )  # type: ignore[arg-type]
            with pytest.raises(ValidationFailed) as refused:
                await session.flush()
            assert "member_units" in [i.field for i in refused.value.issues]
