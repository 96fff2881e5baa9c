"""Fixtures for registry tests: a running registry and a small builder of register entries."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from sqlalchemy import func, select
from stdnum.cn import ric, uscc


def id_number(n: int, born: date = date(1975, 3, 14), region: str = "150121") -> str:
    """A valid resident ID number, different for every n (odd sequence: male)."""
    base = f"{region}{born:%Y%m%d}{n % 1000:03d}"
    return base + ric.calc_check_digit(base + "0")


def credit_code(n: int) -> str:
    base = f"91150100{n:08d}X"[:17]
    return base + uscc.calc_check_digit(base)


@dataclass
class Register:
    """Builds organisations, people and platforms through the API as department staff."""

    svc: Any
    auth: Any

    @property
    def client(self) -> Any:
        return self.svc.client

    @property
    def staff(self) -> dict[str, str]:
        return self.auth("department_staff", user_id="staff-1")

    async def org(self, n: int, **overrides: Any) -> dict[str, Any]:
        body = {
            "name": f"测试依托单位{n:03d}",
            "credit_code": credit_code(n),
            "type": "university",
            "region": "150100",
            "address": f"呼和浩特市大学路{n}号",
        } | overrides
        response = await self.client.post("/organisations", json=body, headers=self.staff)
        assert response.status_code == 201, response.text
        return dict(response.json())

    async def person(self, n: int, born: date = date(1975, 3, 14), **overrides: Any) -> dict[str, Any]:
        body = {"name": f"测试人员{n:03d}", "id_number": id_number(n, born), "title": "professor"} | overrides
        response = await self.client.post("/people", json=body, headers=self.staff)
        assert response.status_code == 201, response.text
        return dict(response.json())

    def platform_body(self, unit_id: str, **overrides: Any) -> dict[str, Any]:
        return {
            "name": "内蒙古自治区稀土功能材料重点实验室",
            "kind": "autonomous_region_key_lab",
            "host_unit_id": unit_id,
            "lab_type": "university",
            "field": "materials",
            "sub_field": "rare_earth",
            "research_directions": ["稀土永磁材料制备", "稀土发光材料"],
            "region": "150200",
            "approved_on": "2015-06-01",
            "approval_document": "内科发〔2015〕12号",
            "initial_state": "operating",
        } | overrides

    async def platform(self, unit_id: str, **overrides: Any) -> dict[str, Any]:
        response = await self.client.post(
            "/platforms", json=self.platform_body(unit_id, **overrides), headers=self.staff
        )
        assert response.status_code == 201, response.text
        return dict(response.json())

    async def act(self, platform_id: str, action: str, **body: Any) -> Any:
        return await self.client.post(
            f"/platforms/{platform_id}/actions/{action}",
            json={"reason": "依据评估结果"} | body,
            headers=self.staff,
        )

    async def count(self, table: Any, *where: Any) -> int:
        async with self.svc.runtime.sessionmaker() as session:
            stmt = select(func.count()).select_from(table)
            for clause in where:
                stmt = stmt.where(clause)
            return int((await session.execute(stmt)).scalar_one())

    async def events(self, prefix: str = "") -> list[dict[str, Any]]:
        outbox = self.svc.runtime.tables.outbox
        async with self.svc.runtime.sessionmaker() as session:
            rows = (await session.execute(select(outbox.c.envelope).order_by(outbox.c.position))).scalars()
            return [dict(e) for e in rows if e["type"].startswith(prefix)]


@pytest.fixture
async def reg(start_service: Any, auth: Any) -> AsyncIterator[Register]:
    async with start_service("registry") as svc:
        yield Register(svc, auth)
