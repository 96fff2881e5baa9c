"""What evaluation does with registry's and projects' events."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from evaluation.experts import service as expert_db
from evaluation.experts.events import (
    APPLICATION_READY,
    CALL_PUBLISHED,
    INTEGRITY_LIFTED,
    INTEGRITY_RECORDED,
    PERSON_REGISTERED,
    PERSON_UPDATED,
    PROJECT_APPROVED,
    ApplicationReady,
    CallPublished,
    IntegritySnapshot,
    PersonSnapshot,
    ProjectApproved,
)
from evaluation.experts.models import Collaboration, Expert, IntegrityView, PersonView
from evaluation.forms.service import form_for
from evaluation.organisations.handlers import handlers
from evaluation.rounds import service
from evaluation.rounds.models import CallView, RoundItem
from shared.events.consumer import ReceivedEvent
from shared.readmodel import upsert_versioned
from shared.uow import UnitOfWork


@handlers.on(PERSON_REGISTERED)
@handlers.on(PERSON_UPDATED)
async def keep_person(uow: UnitOfWork, event: ReceivedEvent[PersonSnapshot]) -> None:
    """A person's unit or department may change: their expert record follows and is rechecked."""
    p = event.payload
    expert = (
        await uow.session.execute(select(Expert).where(Expert.person_id == p.id).with_for_update())
    ).scalar_one_or_none()
    before = await uow.session.get(PersonView, p.id)
    old = (before.unit_id, before.department_id) if before is not None else None
    written = await upsert_versioned(uow.session, PersonView.__table__, p.model_dump())  # type: ignore[arg-type]
    if not written or expert is None or old is None or old == (p.unit_id, p.department_id):
        return
    if p.unit_id is not None and expert.unit_id != p.unit_id:
        expert.unit_id = p.unit_id
        expert.version += 1
        await uow.record(
            "expert_unit_changed",
            entity_type="expert",
            entity_id=expert.id,
            changes={"unit_id": str(p.unit_id)},
            reason="registry person updated",
        )
    await uow.session.flush()
    await expert_db.recheck_expert(uow, expert.id, "unit or department changed", "专家单位或部门变更")


@handlers.on(INTEGRITY_RECORDED)
@handlers.on(INTEGRITY_LIFTED)
async def keep_integrity(uow: UnitOfWork, event: ReceivedEvent[IntegritySnapshot]) -> None:
    p = event.payload
    row = {
        "id": p.id,
        "person_id": p.person_id,
        "organisation_id": p.organisation_id,
        "scope": p.scope,
        "barred_from": p.barred_from,
        "barred_until": p.barred_until,
        "lifted": p.lifted_at is not None,
        "version": p.version,
    }
    await upsert_versioned(uow.session, IntegrityView.__table__, row)  # type: ignore[arg-type]
    if p.person_id is not None and p.lifted_at is None:
        expert_id = (
            await uow.session.execute(select(Expert.id).where(Expert.person_id == p.person_id))
        ).scalar()
        if expert_id is not None:
            await expert_db.recheck_expert(uow, expert_id, "integrity record", "科研诚信记录")


@handlers.on(PROJECT_APPROVED)
async def keep_collaboration(uow: UnitOfWork, event: ReceivedEvent[ProjectApproved]) -> None:
    p = event.payload
    people = list(dict.fromkeys([p.pi_person_id, *p.team_person_ids]))
    stmt = insert(Collaboration).values(
        project_id=p.project_id,
        application_id=p.application_id,
        person_ids=people,
        start_date=p.start_date,
        end_date=p.end_date,
    )
    # the experts among these people: locked (ordered against assignments being written), rechecked
    experts = (
        (
            await uow.session.execute(
                select(Expert.id).where(Expert.person_id.in_(people)).order_by(Expert.id).with_for_update()
            )
        )
        .scalars()
        .all()
    )
    await uow.session.execute(stmt.on_conflict_do_nothing())
    for expert_id in experts:
        await expert_db.recheck_expert(uow, expert_id, "collaboration on an approved project", "近年合作关系")


@handlers.on(APPLICATION_READY)
async def take_item(uow: UnitOfWork, event: ReceivedEvent[ApplicationReady]) -> None:
    p = event.payload
    rnd = await service.round_for_call(uow, p.call_id)
    stmt = insert(RoundItem).values(
        id=p.application_id,
        round_id=rnd.id,
        code=p.code,
        title=p.title,
        keywords=p.keywords,
        discipline_codes=p.discipline_codes,
        applicant_person_id=p.applicant_person_id,
        applicant_unit_id=p.applicant_unit_id,
        team_person_ids=p.team_person_ids,
        team_unit_ids=p.team_unit_ids,
        competent_department_id=p.competent_department_id,
        avoid_person_ids=p.avoid_person_ids,
        review_due=p.review_due,
        programme_code=p.programme_code,
        requested_funding_fen=p.requested_funding_fen,
        form_id=(await form_for(uow, "application_review", programme_code=p.programme_code)).id,
        details={},
    )
    await uow.session.execute(stmt.on_conflict_do_nothing())
    await uow.record(
        "item_received",
        entity_type="round_item",
        entity_id=p.application_id,
        changes={"round_id": str(rnd.id), "code": p.code},
    )


@handlers.on(CALL_PUBLISHED)
async def keep_call(uow: UnitOfWork, event: ReceivedEvent[CallPublished]) -> None:
    """The call's budget draws its review's funding line."""
    row = event.payload.model_dump(include={"id", "programme_code", "year", "title", "budget_fen", "version"})
    await upsert_versioned(uow.session, CallView.__table__, row)  # type: ignore[arg-type]
