"""REST of rounds and their requests: the office's duties (request, draw), experts' answers,
applicants' avoidance requests."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Query, Request, status
from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import func, select

from evaluation.access import Drawer, Requester, duties_of, duty
from evaluation.assignment import jobs
from evaluation.codes import DUTIES, ROUND_STATUSES
from evaluation.experts.models import Expert
from evaluation.experts.schemas import Transition
from evaluation.organisations.models import OrganisationView
from evaluation.rounds import duties, machine, service
from evaluation.rounds.models import Assignment, AssignmentRun, ReviewRound, RoundItem
from shared.auth import Principal
from shared.errors import Forbidden, NotFound
from shared.http.auth import PrincipalDep
from shared.http.deps import PageDep, SessionDep, UnitOfWorkDep
from shared.http.filters import only_filters
from shared.http.schemas import Page
from shared.timestamps import Timestamp

router = APIRouter(tags=["rounds"])
AssignmentStatus = Literal["assigned", "accepted", "declined", "voided", "reserve"]

# who may see a round: the duties that work on it
RoundReader = duty("request", "draw", "results", "supervision")


class AvoidanceItem(BaseModel):
    model_config = ConfigDict(extra="forbid")
    person_id: UUID | None = None
    unit_id: UUID | None = None
    reason: str = Field(min_length=2, max_length=500)


class AvoidanceIn(BaseModel):
    requests: list[AvoidanceItem] = Field(min_length=1, max_length=10)


class RequestIn(BaseModel):
    k: int = Field(default=5, ge=1, le=15)
    max_load: int = Field(default=20, ge=1, le=200)
    reserve: int = Field(default=3, ge=0, le=10)
    rules: dict[str, dict[str, Any]] = {}
    review_starts: date | None = Field(
        default=None, description="first review day: availability is checked from it"
    )
    candidates_per_item: int | None = Field(
        default=None,
        ge=10,
        le=1000,
        description="candidates kept per item (best by discipline, keywords); 100",
    )


class RunIn(BaseModel):
    mode: Literal["draw", "optimal"] = "draw"
    seed: int | None = Field(default=None, ge=0, lt=2**31)
    commit: bool = False
    out_of_province: bool = False
    one_per_unit: bool = False
    min_load: int = Field(default=0, ge=0, le=50)
    accept_partial: bool = Field(
        default=False,
        description="commit even though some items lack qualified experts (needs partial_reason); "
        "otherwise an infeasible round writes nothing",
    )
    partial_reason: str | None = Field(default=None, min_length=4, max_length=500)

    @model_validator(mode="after")
    def _reason_for_partial(self) -> RunIn:
        if self.accept_partial and not self.partial_reason:
            raise ValueError("accepting a partial assignment needs partial_reason / 接受部分分配须填写理由")
        return self


class AssignmentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: UUID | None = None
    item_id: UUID
    expert_id: UUID
    status: str
    affinity: float
    discipline_score: float
    keyword_score: float
    candidate_rank: int | None
    rules_checked: list[str]
    reserve_rank: int | None
    reason: str | None = None
    replaces_id: UUID | None = None
    expert_name: str | None = Field(default=None, description="for the duties allowed to see the list")
    expert_unit_id: UUID | None = None
    expert_unit_name: str | None = None


class RunOut(BaseModel):
    id: UUID
    round_id: UUID
    mode: str
    seed: int | None
    commit: bool
    params: dict[str, Any]
    status: str = Field(description="queued, running, done, infeasible (nothing written), failed, cancelled")
    status_zh: str
    stage: str | None
    stage_zh: str | None
    progress: int = Field(description="percent")
    cancel_requested: bool
    attempts: int
    heartbeat_at: Timestamp | None
    lease_until: Timestamp | None
    objective: float | None
    assigned: int | None
    shortfalls: list[dict[str, Any]]
    error: str | None
    created_at: Timestamp
    started_at: Timestamp | None
    finished_at: Timestamp | None
    assignments: list[AssignmentOut] | None = None


class RoundOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: UUID
    call_id: UUID | None
    kind: str
    period: str | None
    name: str
    status: str
    review_starts: date | None = None
    review_deadline: date | None
    budget_fen: int | None
    k: int
    max_load: int
    reserve: int
    candidates_per_item: int = 100
    rules: dict[str, Any]
    requested_by: str | None = None
    version: int
    status_zh: str = ""
    allowed_actions: list[str] = Field(default=[], description="what the office may do next")

    @classmethod
    def of(cls, r: ReviewRound) -> RoundOut:
        out = cls.model_validate(r)
        out.status_zh = ROUND_STATUSES.get(r.status, r.status)
        out.allowed_actions = machine.allowed_actions(r)
        return out


class DutyHeld(BaseModel):
    """Who first acted in a duty for the round, with what, and when (职责分离)."""

    duty: str
    duty_zh: str
    actor_id: str
    first_action: str
    acted_at: Timestamp


class RoundDetail(RoundOut):
    items: int = Field(description="items in the round")
    duties: list[DutyHeld] = Field(default=[], description="who took which duty for the round, and when")


class AvoidanceOut(BaseModel):
    """The application's avoidance list after the request (申请回避)."""

    application_id: UUID
    avoid_person_ids: list[UUID]
    avoid_unit_ids: list[UUID]
    requests: list[UUID] = Field(description="the avoidance requests recorded now")


class ItemOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: UUID
    round_id: UUID
    subject_id: UUID | None
    code: str
    title: str
    discipline_codes: list[str]
    keywords: list[str]
    programme_code: str | None
    requested_funding_fen: int | None = Field(description="fen")
    review_due: date | None
    orientation: str | None


class Respond(BaseModel):
    accept: bool
    reason: str | None = Field(default=None, max_length=500)


@router.post(
    "/reviews/applications/{application_id}/avoidance",
    status_code=status.HTTP_201_CREATED,
    response_model=AvoidanceOut,
)
async def request_avoidance(
    application_id: UUID, body: AvoidanceIn, uow: UnitOfWorkDep, principal: PrincipalDep
) -> AvoidanceOut:
    """申请回避: the applicant names experts or units that should not review the application."""
    item = await uow.session.get(RoundItem, application_id)
    if item is None or principal.person_id is None or str(item.applicant_person_id) != principal.person_id:
        raise NotFound(f"application {application_id} not found", "未找到该申请")
    rows = await service.request_avoidance(
        uow, item, requests=[r.model_dump() for r in body.requests], requested_by=principal.user_id
    )
    await uow.commit()
    return AvoidanceOut(
        application_id=item.id,
        avoid_person_ids=list(item.avoid_person_ids),
        avoid_unit_ids=list(item.avoid_unit_ids),
        requests=[r.id for r in rows],
    )


async def _round(session: Any, round_id: UUID) -> ReviewRound:
    r: ReviewRound | None = await session.get(ReviewRound, round_id)
    if r is None:
        raise NotFound(f"round {round_id} not found", "未找到该评审轮次")
    return r


@router.get(
    "/rounds",
    response_model=Page[RoundOut],
    dependencies=[RoundReader, only_filters("call_id", "kind", "status")],
)
async def list_rounds(
    session: SessionDep,
    page: PageDep,
    call_id: UUID | None = None,
    kind: Literal[
        "application_review",
        "lab_assessment",
        "platform_assessment",
        "cluster_assessment",
        "project_evaluation",
    ]
    | None = None,
    status_: Literal["collecting", "requested", "drawn", "open", "finalized"] | None = Query(
        default=None, alias="status"
    ),
) -> Page[RoundOut]:
    """Rounds for the office's duties, newest first; filters by call, kind and status."""
    q = select(ReviewRound)
    if call_id is not None:
        q = q.where(ReviewRound.call_id == call_id)
    if kind is not None:
        q = q.where(ReviewRound.kind == kind)
    if status_ is not None:
        q = q.where(ReviewRound.status == status_)
    total = (await session.execute(select(func.count()).select_from(q.subquery()))).scalar_one()
    rows = (
        await session.execute(
            q.order_by(ReviewRound.created_at.desc(), ReviewRound.id).offset(page.offset).limit(page.size)
        )
    ).scalars()
    return Page(items=[RoundOut.of(r) for r in rows], total=total, page=page.page, size=page.size)


@router.get("/rounds/{round_id}", response_model=RoundDetail, dependencies=[RoundReader])
async def get_round(round_id: UUID, uow: UnitOfWorkDep) -> RoundDetail:
    """A round with its settings, what may be done next, and who took which duty for it."""
    r = await _round(uow.session, round_id)
    count = (await uow.session.execute(select(func.count()).where(RoundItem.round_id == r.id))).scalar_one()
    held = [
        DutyHeld(
            duty=d.duty,
            duty_zh=DUTIES.get(d.duty, d.duty),
            actor_id=d.actor_id,
            first_action=d.first_action,
            acted_at=d.acted_at,
        )
        for d in await duties.holders(uow, r.id)
    ]
    return RoundDetail(**RoundOut.of(r).model_dump(), items=count, duties=held)


@router.get(
    "/rounds/{round_id}/items",
    response_model=Page[ItemOut],
    dependencies=[duty("request", "draw"), only_filters()],
)
async def round_items(round_id: UUID, session: SessionDep, page: PageDep) -> Page[ItemOut]:
    """What the round reviews, for the request and draw duties (before the draw too)."""
    r = await _round(session, round_id)
    q = select(RoundItem).where(RoundItem.round_id == r.id)
    total = (await session.execute(select(func.count()).select_from(q.subquery()))).scalar_one()
    rows = (
        await session.execute(q.order_by(RoundItem.code, RoundItem.id).offset(page.offset).limit(page.size))
    ).scalars()
    return Page(items=[ItemOut.model_validate(i) for i in rows], total=total, page=page.page, size=page.size)


@router.get(
    "/rounds/{round_id}/items/{item_id}", response_model=ItemOut, dependencies=[duty("request", "draw")]
)
async def round_item(round_id: UUID, item_id: UUID, session: SessionDep) -> ItemOut:
    item = await session.get(RoundItem, item_id)
    if item is None or item.round_id != round_id:
        raise NotFound(f"item {item_id} not found in round {round_id}", "该评审轮次中未找到该评审对象")
    return ItemOut.model_validate(item)


@router.post("/rounds/{round_id}/request", response_model=RoundOut)
async def request_experts(
    round_id: UUID, body: RequestIn, uow: UnitOfWorkDep, principal: Requester
) -> RoundOut:
    r = await _round(uow.session, round_id)
    await service.request_experts(
        uow,
        r,
        k=body.k,
        max_load=body.max_load,
        reserve=body.reserve,
        rules=body.rules,
        requested_by=principal.user_id,
        review_starts=body.review_starts,
        candidates_per_item=body.candidates_per_item,
    )
    await uow.commit()
    return RoundOut.of(r)


def _run_out(run: AssignmentRun, assignments: list[Any] | None = None) -> RunOut:
    return RunOut(**jobs.as_dict(run), assignments=assignments)


async def _run(session: Any, run_id: UUID) -> AssignmentRun:
    run: AssignmentRun | None = await session.get(AssignmentRun, run_id)
    if run is None:
        raise NotFound(f"assignment run {run_id} not found", "未找到该分配任务")
    return run


async def _named(session: Any, q: Any) -> list[AssignmentOut]:
    """Assignments with their expert's name and unit (for the duties that may see the list)."""
    rows = (
        await session.execute(
            q.add_columns(Expert.name, Expert.unit_id, OrganisationView.name)
            .join(Expert, Expert.id == Assignment.expert_id)
            .outerjoin(OrganisationView, OrganisationView.id == Expert.unit_id)
        )
    ).all()
    out = []
    for a, name, unit_id, unit_name in rows:
        row = AssignmentOut.model_validate(a)
        row.expert_name, row.expert_unit_id, row.expert_unit_name = name, unit_id, unit_name
        out.append(row)
    return out


@router.post("/rounds/{round_id}/runs", status_code=status.HTTP_202_ACCEPTED, response_model=RunOut)
async def run(round_id: UUID, body: RunIn, request: Request, uow: UnitOfWorkDep, _: Drawer) -> RunOut:
    """Queue a draw or an optimal assignment, as a preview (commit=false) or for real.

    Answers at once with the run (202); follow it at ``GET /runs/{id}`` (status, stage, progress,
    then the outcome) and stop it with ``POST /runs/{id}/cancel``.
    """
    r = await _round(uow.session, round_id)
    machine.require(r, "run")
    await duties.claim(uow, r.id, "draw", "run")
    job = await jobs.enqueue(
        uow,
        r,
        mode=body.mode,
        seed=body.seed,
        commit=body.commit,
        params=body.model_dump(
            include={"out_of_province", "one_per_unit", "min_load", "accept_partial", "partial_reason"}
        ),
    )
    await uow.commit()
    workers = request.app.state.runtime.extras.get("run_workers")
    if workers is not None:
        uow.after_commit(workers.notify)
    return _run_out(job)


@router.get("/rounds/{round_id}/runs", response_model=Page[RunOut])
async def list_runs(round_id: UUID, session: SessionDep, _: Drawer) -> Page[RunOut]:
    """The round's draws and optimal assignments, oldest first (a handful: one page)."""
    await _round(session, round_id)
    q = select(AssignmentRun).where(AssignmentRun.round_id == round_id).order_by(AssignmentRun.created_at)
    return Page.whole([_run_out(x) for x in (await session.execute(q)).scalars()])


@router.get("/runs/{run_id}", response_model=RunOut)
async def get_run(run_id: UUID, uow: UnitOfWorkDep, _: Drawer) -> RunOut:
    """A run's status and progress; once done, the assignments it proposed or wrote (sealed: draw duty)."""
    job = await _run(uow.session, run_id)
    await duties.claim(uow, job.round_id, "draw", "read_run")
    rows: list[Any] | None = None
    if job.status == "done" and job.commit:
        q = select(Assignment).where(Assignment.run_id == job.id).order_by(Assignment.item_id, Assignment.id)
        rows = await _named(uow.session, q)
    elif job.status == "done":
        rows = [AssignmentOut(**row) for row in job.preview or []]
    out = _run_out(job, rows)
    await uow.commit()
    return out


@router.post("/runs/{run_id}/cancel", response_model=RunOut)
async def cancel_run(run_id: UUID, body: Transition, uow: UnitOfWorkDep, _: Drawer) -> RunOut:
    """Cancel a queued run at once, or a running one at its next stage (it then writes nothing)."""
    job = await _run(uow.session, run_id)
    await duties.claim(uow, job.round_id, "draw", "cancel_run")
    await jobs.cancel(uow, job, body.reason)
    await uow.commit()
    return _run_out(job)


@router.post("/rounds/{round_id}/open", response_model=RoundOut)
async def open_round(round_id: UUID, uow: UnitOfWorkDep, _: Drawer) -> RoundOut:
    r = await _round(uow.session, round_id)
    await service.open_round(uow, r)
    await uow.commit()
    return RoundOut.of(r)


def _read_duty(principal: Principal, r: ReviewRound) -> str:
    """The duty that may read a round's drawn list: sealed until the review opens, only the draw
    duty sees it before that."""
    held = duties_of(principal)
    if "draw" in held:
        return "draw"
    if r.status in ("open", "finalized") and "request" in held:
        return "request"
    raise Forbidden("the drawn list is sealed until the review opens", "抽取名单在评审开始前密封")


@router.get(
    "/rounds/{round_id}/assignments",
    response_model=Page[AssignmentOut],
    dependencies=[only_filters("status")],
)
async def round_assignments(
    round_id: UUID,
    uow: UnitOfWorkDep,
    principal: PrincipalDep,
    page: PageDep,
    status_: Annotated[AssignmentStatus | None, Query(alias="status")] = None,
) -> Page[AssignmentOut]:
    """The drawn list with the experts' names, by item (sealed until the review opens)."""
    r = await _round(uow.session, round_id)
    await duties.claim(uow, r.id, _read_duty(principal, r), "read_assignments")
    q = select(Assignment).where(Assignment.round_id == r.id)
    if status_ is not None:
        q = q.where(Assignment.status == status_)
    total = (await uow.session.execute(select(func.count()).select_from(q.subquery()))).scalar_one()
    ordered = q.order_by(Assignment.item_id, Assignment.created_at, Assignment.id)
    out = await _named(uow.session, ordered.offset(page.offset).limit(page.size))
    await uow.commit()
    return Page(items=out, total=total, page=page.page, size=page.size)


@router.get("/assignments/mine", response_model=Page[AssignmentOut], dependencies=[only_filters()])
async def my_assignments(session: SessionDep, principal: PrincipalDep, page: PageDep) -> Page[AssignmentOut]:
    """My review assignments (not the reserve list), oldest first."""
    if principal.person_id is None:
        return Page(items=[], total=0, page=page.page, size=page.size)
    q = (
        select(Assignment)
        .join(Expert, Expert.id == Assignment.expert_id)
        .where(Expert.person_id == principal.person_id, Assignment.status != "reserve")
    )
    total = (await session.execute(select(func.count()).select_from(q.subquery()))).scalar_one()
    rows = await session.execute(
        q.order_by(Assignment.created_at, Assignment.id).offset(page.offset).limit(page.size)
    )
    items = [AssignmentOut.model_validate(a) for a in rows.scalars()]
    return Page(items=items, total=total, page=page.page, size=page.size)


@router.get("/assignments/{assignment_id}", response_model=AssignmentOut)
async def get_assignment(assignment_id: UUID, uow: UnitOfWorkDep, principal: PrincipalDep) -> AssignmentOut:
    """One assignment: the expert's own, or (with the expert's name) for the duty that may read
    the round's drawn list."""
    a = await uow.session.get(Assignment, assignment_id)
    e = await uow.session.get(Expert, a.expert_id) if a else None
    if a is None or e is None:
        raise NotFound(f"assignment {assignment_id} not found", "未找到该评审任务")
    if principal.person_id is not None and principal.person_id == str(e.person_id):
        return AssignmentOut.model_validate(a)
    r = await _round(uow.session, a.round_id)
    try:
        duty_ = _read_duty(principal, r)
    except Forbidden:
        raise NotFound(f"assignment {assignment_id} not found", "未找到该评审任务") from None
    await duties.claim(uow, r.id, duty_, "read_assignments")
    [out] = await _named(uow.session, select(Assignment).where(Assignment.id == a.id))
    await uow.commit()
    return out


@router.post("/assignments/{assignment_id}/respond", response_model=AssignmentOut)
async def respond(
    assignment_id: UUID, body: Respond, uow: UnitOfWorkDep, principal: PrincipalDep
) -> AssignmentOut:
    a = await uow.session.get(Assignment, assignment_id)
    e = await uow.session.get(Expert, a.expert_id) if a else None
    if a is None or e is None or principal.person_id != str(e.person_id):
        raise NotFound(f"assignment {assignment_id} not found", "未找到该评审任务")
    await service.respond(uow, a, accept=body.accept, reason=body.reason)
    await uow.commit()
    return AssignmentOut.model_validate(a)
