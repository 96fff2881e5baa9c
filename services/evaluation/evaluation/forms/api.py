"""Review forms for the review office: list, read, and add a version."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, status
from sqlalchemy import select

from evaluation.access import Designer, Office
from evaluation.forms import service
from evaluation.forms.models import ReviewForm
from evaluation.forms.schemas import FormIn, FormOut
from shared.http.deps import SessionDep, UnitOfWorkDep

router = APIRouter(prefix="/review-forms", tags=["review forms"])


@router.get("", response_model=list[FormOut])
async def list_forms(
    session: SessionDep,
    _: Office,
    assessment_type: Annotated[str | None, Query(max_length=30)] = None,
    include_inactive: bool = False,
) -> list[FormOut]:
    q = select(ReviewForm).order_by(ReviewForm.assessment_type, ReviewForm.code, ReviewForm.version.desc())
    if assessment_type:
        q = q.where(ReviewForm.assessment_type == assessment_type)
    if not include_inactive:
        q = q.where(ReviewForm.active.is_(True))
    return [FormOut.of(f) for f in (await session.execute(q)).scalars()]


@router.post("", status_code=status.HTTP_201_CREATED, response_model=FormOut)
async def create_form(body: FormIn, uow: UnitOfWorkDep, _: Designer) -> FormOut:
    """A form (or a new version of one, by its code) with weighted indicators and policy."""
    form = await service.create(uow, body.model_dump())
    await uow.commit()
    return FormOut.of(form)


@router.get("/{form_id}", response_model=FormOut)
async def get_form(form_id: UUID, session: SessionDep, _: Office) -> FormOut:
    return FormOut.of(await service.get(session, form_id))
