"""Small helpers the cross-service tests share."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from stdnum.cn import uscc

REGIONS = ["150100", "150200", "150300", "150400", "150500", "150600"]


def credit_code(n: int) -> str:
    """A valid unified social credit code, different for every n."""
    base = f"91150100{n:08d}X"[:17]
    return base + uscc.calc_check_digit(base)


def org_body(n: int, **overrides: Any) -> dict[str, Any]:
    body = {
        "name": f"测试单位{n:04d}",
        "credit_code": credit_code(n),
        "type": "enterprise",
        "region": REGIONS[n % len(REGIONS)],
        "address": f"呼和浩特市测试路{n}号",
    }
    body.update(overrides)
    return body


async def count_rows(svc: Any, table: Any, *where: Any) -> int:
    async with svc.runtime.sessionmaker() as session:
        stmt = select(func.count()).select_from(table)
        for clause in where:
            stmt = stmt.where(clause)
        return int((await session.execute(stmt)).scalar_one())


async def ids_of(svc: Any, column: Any, *where: Any) -> set[Any]:
    async with svc.runtime.sessionmaker() as session:
        stmt = select(column)
        for clause in where:
            stmt = stmt.where(clause)
        return set((await session.execute(stmt)).scalars())
