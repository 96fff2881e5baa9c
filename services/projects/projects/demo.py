"""Demo data for ``make run``: next year's calls, open for applications, in three organisation modes.

Loaded through the same service functions staff use (so each publication is audited and
announced as ``projects.call.published``: evaluation learns the budgets, the gateway's open data
lists the calls). People and units come from registry's events, so applications are left to
whoever tries the platform.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from projects.calls import service as calls
from projects.calls.models import Call
from projects.calls.schemas import CallCreate
from projects.db import kit
from shared.auth import Principal, Role
from shared.clock import utcnow
from shared.db import create_engine, create_sessionmaker
from shared.settings import ServiceSettings
from shared.uow import Actor, UnitOfWork

WAN = 1_000_000  # 万元 in fen


def _calls(year: int) -> list[dict[str, Any]]:
    return [
        {
            "programme_code": "basic.nsf",
            "title": f"{year}年度自治区自然科学基金项目申报指南",
            "guideline": "支持稀土功能材料、草原生态、现代能源、生物育种等领域的基础研究和应用基础研究。",
            "directions": ["稀土功能材料", "草原生态保护与修复", "新能源材料", "生物育种"],
            "organisation_mode": "open_competition",
            "budget_fen": 3000 * WAN,
            "min_funding_fen": 10 * WAN,
            "max_funding_fen": 50 * WAN,
            "projects_to_fund": 100,
        },
        {
            "programme_code": "major.breakthrough",
            "title": f"{year}年度科技突围专项“揭榜挂帅”榜单",
            "guideline": "面向稀土、新能源产业链关键核心技术，张榜招贤，以成果交付论英雄。",
            "directions": ["高丰度稀土永磁", "大功率风电主轴轴承"],
            "organisation_mode": "unveiling",
            "budget_fen": 6000 * WAN,
            "min_funding_fen": 500 * WAN,
            "max_funding_fen": 3000 * WAN,
            "projects_to_fund": 2,
            "challenges": [
                {
                    "id": "RE-01",
                    "title": "高丰度稀土永磁材料低成本制备",
                    "goals": [
                        {"name": "最大磁能积", "unit": "MGOe", "target": 45},
                        {"name": "成本较现有工艺降低", "unit": "%", "target": 20, "category": "economic"},
                    ],
                    "reward_fen": 2000 * WAN,
                },
                {
                    "id": "WP-01",
                    "title": "10兆瓦级风电主轴轴承国产化",
                    "goals": [{"name": "台架试验寿命", "unit": "年", "target": 25}],
                    "reward_fen": 3000 * WAN,
                },
            ],
        },
        {
            "programme_code": "major.breakthrough",
            "title": f"{year}年度科技突围专项“赛马制”任务",
            "guideline": "同一任务并行支持多个团队，按里程碑评估择优滚动支持。",
            "directions": ["绿氢制储运一体化"],
            "organisation_mode": "horse_race",
            "budget_fen": 3000 * WAN,
            "min_funding_fen": 300 * WAN,
            "max_funding_fen": 1000 * WAN,
            "projects_to_fund": 3,
            "challenges": [
                {
                    "id": "H2-01",
                    "title": "兆瓦级碱性电解水制氢系统",
                    "goals": [{"name": "直流电耗", "unit": "kWh/Nm³", "target": 4.2}],
                    "teams": 3,
                }
            ],
        },
    ]


async def load(sessionmaker: Any, *, if_empty: bool) -> int:
    """Create and publish the demo calls; returns how many were published."""
    async with sessionmaker() as session:
        existing = (await session.execute(select(func.count()).select_from(Call))).scalar_one()
        if if_empty and existing:
            return 0
        uow = UnitOfWork(session, kit, actor=Actor("demo-data", ("department_staff",)))
        staff = Principal(user_id="demo-data", roles=frozenset({Role.department_staff.value}))
        now = utcnow()
        year = now.year + 1
        published = 0
        for body in _calls(year):
            data = CallCreate(
                year=year,
                opens_at=now - timedelta(days=1),
                closes_at=now + timedelta(days=45),
                **body,
            )
            call = await calls.create(uow, data)
            await calls.act(uow, staff, call, "publish", "演示数据")
            published += 1
        await uow.commit()
    return published


async def load_for_settings(settings: ServiceSettings, if_empty: bool) -> str:
    """The kit's ``demo-data`` command (``python -m projects demo-data [--if-empty]``)."""
    engine = create_engine(settings)
    try:
        published = await load(create_sessionmaker(engine), if_empty=if_empty)
    finally:
        await engine.dispose()
    return f"{published} calls published"
