"""The plan catalogue: programmes staff maintain (seeded from seed 003)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from projects.catalogue.models import Programme
from projects.catalogue.seed import (
    APPLICANT_FORM_OF,
    APPLICANT_FORMS,
    FUNDING_TYPES,
    LONG_CYCLE_PROGRAMMES,
    ORGANISATION_MODES,
    PLAN_CATEGORIES,
    PROGRAMMES,
)
from shared.clock import utcnow
from shared.errors import FieldIssue, NotFound, ValidationFailed
from shared.uow import UnitOfWork

EDITABLE = (
    "name",
    "organisation_modes",
    "funding_source",
    "funding_types",
    "managing_office",
    "applicant_form",
    "long_cycle_allowed",
    "active",
)


async def ensure_seeded(session: AsyncSession) -> int:
    """Insert the seed programmes that are missing (never overwrites staff edits)."""
    existing = set((await session.execute(select(Programme.code))).scalars())
    added = 0
    for row in PROGRAMMES:
        if row["code"] not in existing:
            applicant_form = APPLICANT_FORM_OF.get(row["code"], "any")
            session.add(
                Programme(
                    **row,
                    applicant_form=applicant_form,
                    long_cycle_allowed=row["code"] in LONG_CYCLE_PROGRAMMES,
                    active=True,
                    version=1,
                )
            )
            added += 1
    return added


async def get(session: AsyncSession, code: str, *, for_update: bool = False) -> Programme:
    stmt = select(Programme).where(Programme.code == code)
    if for_update:
        stmt = stmt.with_for_update()
    programme = (await session.execute(stmt)).scalar_one_or_none()
    if programme is None:
        raise NotFound(f"programme {code} not in the catalogue", "计划目录中没有该专项")
    return programme


def _check_codes(field: str, values: list[str], allowed: dict[str, str], zh: str) -> None:
    bad = [v for v in values if v not in allowed]
    if bad or not values:
        raise ValidationFailed(
            [
                FieldIssue(
                    field,
                    "unknown_code",
                    f"{field} must be a non-empty list of {sorted(allowed)}; not {bad}",
                    f"{zh}取值无效：{'、'.join(bad) or '不能为空'}",
                )
            ]
        )


async def update(uow: UnitOfWork, code: str, patch: dict[str, Any], reason: str | None) -> Programme:
    programme = await get(uow.session, code, for_update=True)
    if "organisation_modes" in patch:
        _check_codes("organisation_modes", patch["organisation_modes"], ORGANISATION_MODES, "组织方式")
    if "funding_types" in patch:
        _check_codes("funding_types", patch["funding_types"], FUNDING_TYPES, "资助方式")
    changes = {
        k: [getattr(programme, k), v]
        for k, v in patch.items()
        if k in EDITABLE and getattr(programme, k) != v
    }
    if not changes:
        return programme
    for k, (_, v) in changes.items():
        setattr(programme, k, v)
    programme.version += 1
    programme.updated_at = utcnow()
    await uow.record(
        "programme.updated", entity_type="programme", entity_id=code, changes=changes, reason=reason
    )
    return programme


def code_lists() -> dict[str, list[dict[str, str]]]:
    return {
        "plan_categories": [{"code": k, "zh": v} for k, v in PLAN_CATEGORIES.items()],
        "organisation_modes": [{"code": k, "zh": v} for k, v in ORGANISATION_MODES.items()],
        "funding_types": [{"code": k, "zh": v} for k, v in FUNDING_TYPES.items()],
        "applicant_forms": [{"code": k, "zh": v} for k, v in APPLICANT_FORMS.items()],
    }
