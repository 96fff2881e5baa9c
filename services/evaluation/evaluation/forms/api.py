"""Review forms for the review office: list, read, and add a version."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, status
from sqlalchemy import func, select

from evaluation.access import Designer, Office
from evaluation.forms import service
from evaluation.forms.models import ReviewForm
from evaluation.forms.schemas import AssessmentType, FormIn, FormOut
from shared.http.deps import PageDep, SessionDep, UnitOfWorkDep
from shared.http.filters import only_filters
from shared.http.schemas import Page

router = APIRouter(prefix="/review-forms", tags=["review forms"])


@router.get(
    "",
    response_model=Page[FormOut],
    dependencies=[only_filters("assessment_type", "include_inactive")],
)
async def list_forms(
    session: SessionDep,
    _: Office,
    page: PageDep,
    assessment_type: AssessmentType | None = None,
    include_inactive: bool = False,
) -> Page[FormOut]:
    """Forms by assessment type and code, the newest version first; active ones unless asked."""
    q = select(ReviewForm)
    if assessment_type:
        q = q.where(ReviewForm.assessment_type == assessment_type)
    if not include_inactive:
        q = q.where(ReviewForm.active.is_(True))
    total = (await session.execute(select(func.count()).select_from(q.subquery()))).scalar_one()
    order = (ReviewForm.assessment_type, ReviewForm.code, ReviewForm.version.desc(), ReviewForm.id)
    rows = (await session.execute(q.order_by(*order).offset(page.offset).limit(page.size))).scalars()
    return Page(items=[FormOut.of(f) for f in rows], total=total, page=page.page, size=page.size)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=FormOut)
async def create_form(body: FormIn, uow: UnitOfWorkDep, _: Designer) -> FormOut:
    """A form (or a new version of one, by its code) with weighted indicators and policy."""
    form = await service.create(uow, body.model_dump())
    await uow.commit()
    return FormOut.of(form)


@router.get("/{form_id}", response_model=FormOut)
async def get_form(form_id: UUID, session: SessionDep, _: Office) -> FormOut:
    return FormOut.of(await service.get(session, form_id))
