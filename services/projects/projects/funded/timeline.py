"""One project's whole history, from its application (or filing) to the verdict, in time order."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from projects.applications.machines import APPLICATION_MACHINE
from projects.applications.models import ApplicationStep
from projects.filings.models import Filing
from projects.funded.models import Project, ProjectStep


async def timeline(session: Any, project: Project) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []
    if project.application_id is not None:
        steps = (
            await session.execute(
                select(ApplicationStep)
                .where(ApplicationStep.application_id == project.application_id)
                .order_by(ApplicationStep.at, ApplicationStep.id)
            )
        ).scalars()
        for s in steps:
            t = APPLICATION_MACHINE.transition_for(s.from_state, s.action)
            entries.append(
                {
                    "at": s.at,
                    "phase": "application",
                    "action": s.action,
                    "label_zh": t.label_zh if t else {"verify": "后补助成果核验"}.get(s.action, s.action),
                    "actor_id": s.actor_id,
                    "actor_roles": s.actor_roles,
                    "reason": s.reason,
                    "from_state": s.from_state,
                    "to_state": s.to_state,
                    "details": {"comments": s.comments} if s.comments else {},
                }
            )
    else:
        filing = (
            await session.execute(select(Filing).where(Filing.project_id == project.id))
        ).scalar_one_or_none()
        if filing is not None:
            entries.append(
                {
                    "at": filing.submitted_at,
                    "phase": "filing",
                    "action": "file",
                    "label_zh": "提交备案",
                    "actor_id": filing.submitted_by,
                    "actor_roles": [],
                    "reason": None,
                    "from_state": None,
                    "to_state": "submitted",
                    "details": {"kind": filing.kind, "funder": filing.funder},
                }
            )
    steps = (
        await session.execute(
            select(ProjectStep)
            .where(ProjectStep.project_id == project.id)
            .order_by(ProjectStep.at, ProjectStep.id)
        )
    ).scalars()
    entries += [
        {
            "at": s.at,
            "phase": "project",
            "action": s.action,
            "label_zh": s.label_zh,
            "actor_id": s.actor_id,
            "actor_roles": s.actor_roles,
            "reason": s.reason,
            "from_state": s.from_state,
            "to_state": s.to_state,
            "details": s.details,
        }
        for s in steps
    ]
    # Stable: entries of the same instant keep the order they were written in.
    return sorted(entries, key=lambda e: e["at"])
