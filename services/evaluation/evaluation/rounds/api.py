"""REST for the review office (three separated duties) and for experts."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import func, select

from evaluation.assignment import jobs
from evaluation.disciplines.schemas import DisciplineCode
from evaluation.experts import service as experts_service
from evaluation.experts.models import Expert
from evaluation.rounds import service
from evaluation.rounds.models import Assignment, AssignmentRun, ReviewRound, RoundItem
from evaluation.settings import EvaluationSettings
from shared.auth import Principal, Role
from shared.errors import Forbidden, NotFound
from shared.excel import XLSX_MEDIA_TYPE, Column, export_xlsx
from shared.http.auth import PrincipalDep
from shared.http.deps import PageDep, SessionDep, UnitOfWorkDep
from shared.http.schemas import Page

router = APIRouter(tags=["experts and assignment"])

# Separation of duties: department staff carry one duty each in the token's scopes ("duties").
DUTY_ZH = {"expert_db": "专家库管理", "request": "专家需求申请", "draw": "专家抽取"}


def duty(name: str) -> Any:
    async def dependency(principal: PrincipalDep) -> Principal:
        if not (principal.has_role(Role.department_staff) and name in principal.scope("duties")):
            raise Forbidden(f"requires the duty '{name}'", f"需要“{DUTY_ZH[name]}”职责")
        return principal

    return Depends(dependency)


ExpertDb = Annotated[Principal, duty("expert_db")]
Requester = Annotated[Principal, duty("request")]
Drawer = Annotated[Principal, duty("draw")]


class AvailabilityWindow(BaseModel):
    """A period the expert can review in; an expert with windows is drawn only inside one."""

    model_config = ConfigDict(populate_by_name=True, extra="forbid")
    from_: date = Field(alias="from")
    to: date

    @model_validator(mode="after")
    def _ordered(self) -> AvailabilityWindow:
        if self.to < self.from_:
            raise ValueError("'to' is before 'from' / 结束日期早于开始日期")
        return self


Disciplines = list[DisciplineCode]
Keywords = list[Annotated[str, Field(min_length=1, max_length=50)]]


class ExpertSelfEdit(BaseModel):
    """What an expert may change on their own profile (title, region, unit: the staff's)."""

    model_config = ConfigDict(extra="forbid")
    disciplines: Disciplines | None = Field(default=None, min_length=1, max_length=10)
    keywords: Keywords | None = Field(default=None, max_length=20)
    directions: str | None = Field(default=None, max_length=2000)
    availability: list[AvailabilityWindow] | None = Field(default=None, max_length=20)
    max_load: int | None = Field(default=None, ge=1, le=200)
    reason: str | None = Field(default=None, max_length=500)

    def changes(self) -> dict[str, Any]:
        data = self.model_dump(exclude_unset=True, exclude={"reason"}, by_alias=True, mode="json")
        return {k: v for k, v in data.items() if v is not None}


class ExpertStaffEdit(ExpertSelfEdit):
    region: str | None = Field(default=None, min_length=2, max_length=6)
    title: str | None = Field(default=None, min_length=1, max_length=50)
    unit_credit_code: str | None = Field(default=None, pattern=r"^[0-9A-HJ-NPQRTUWXY]{18}$")


class AvoidanceItem(BaseModel):
    model_config = ConfigDict(extra="forbid")
    person_id: UUID | None = None
    unit_id: UUID | None = None
    reason: str = Field(min_length=2, max_length=500)


class AvoidanceIn(BaseModel):
    requests: list[AvoidanceItem] = Field(min_length=1, max_length=10)


class ExpertIn(BaseModel):
    region: str = Field(min_length=2, max_length=6, description="盟市 code, or 'out' (区外)")
    title: str = Field(min_length=1, max_length=50)
    disciplines: list[DisciplineCode] = Field(min_length=1, max_length=10)
    keywords: list[Annotated[str, Field(min_length=1, max_length=50)]] = Field(default=[], max_length=20)
    directions: str = Field(default="", max_length=2000)
    availability: list[AvailabilityWindow] = Field(default=[], max_length=20)
    max_load: int = Field(default=20, ge=1, le=200)

    def data(self) -> dict[str, Any]:
        return self.model_dump(by_alias=True, mode="json", exclude={"person_id"})


class Nomination(ExpertIn):
    person_id: UUID


class ExpertOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: UUID
    person_id: UUID
    name: str
    unit_id: UUID | None
    region: str
    title: str
    disciplines: list[str]
    keywords: list[str]
    directions: str
    max_load: int
    status: str
    status_zh: str = ""
    origin: str
    credit_score: int
    confirmed_until: date | None
    reconfirm_requested_at: datetime | None = None
    availability: list[dict[str, Any]] = []
    unit_credit_code: str | None = None
    version: int

    @classmethod
    def of(cls, e: Expert) -> ExpertOut:
        out = cls.model_validate(e)
        out.status_zh = service.EXPERT_STATUS_ZH.get(e.status, e.status)
        return out


class Transition(BaseModel):
    reason: str | None = Field(default=None, max_length=500)


class DeclarationIn(BaseModel):
    person_id: UUID | None = None
    unit_id: UUID | None = None
    reason: str = Field(min_length=1, max_length=500)


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
    heartbeat_at: datetime | None
    lease_until: datetime | None
    objective: float | None
    assigned: int | None
    shortfalls: list[dict[str, Any]]
    error: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
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
    version: int


class Respond(BaseModel):
    accept: bool
    reason: str | None = Field(default=None, max_length=500)


async def _expert(session: SessionDep, expert_id: UUID) -> Expert:
    e = await session.get(Expert, expert_id)
    if e is None:
        raise NotFound(f"expert {expert_id} not found", "未找到该专家")
    return e


def _own_or_staff(principal: Principal, e: Expert) -> None:
    if principal.person_id == str(e.person_id):
        return
    if principal.has_role(Role.department_staff) and principal.scope("duties") & {
        "expert_db",
        "request",
        "draw",
    }:
        return
    raise NotFound(f"expert {e.id} not found", "未找到该专家")  # no hint that it exists


@router.post("/experts/apply", status_code=status.HTTP_201_CREATED, response_model=ExpertOut)
async def apply(body: ExpertIn, uow: UnitOfWorkDep, principal: PrincipalDep) -> ExpertOut:
    """Self-application (自荐): the caller's verified registry identity is the expert."""
    if principal.person_id is None:
        raise Forbidden("only a verified registry person can apply", "需要实名核验的登记人员")
    e = await service.enrol(uow, person_id=UUID(principal.person_id), origin="self", data=body.data())
    await uow.commit()
    return ExpertOut.of(e)


@router.post("/experts", status_code=status.HTTP_201_CREATED, response_model=ExpertOut)
async def nominate(body: Nomination, uow: UnitOfWorkDep, _: ExpertDb) -> ExpertOut:
    """Nomination (推荐) by the expert-database staff."""
    e = await service.enrol(uow, person_id=body.person_id, origin="nominated", data=body.data())
    await uow.commit()
    return ExpertOut.of(e)


@router.post("/experts/import", status_code=status.HTTP_201_CREATED, response_model=list[ExpertOut])
async def import_experts(request: Request, uow: UnitOfWorkDep, _: ExpertDb) -> list[ExpertOut]:
    """Nominate experts from an .xlsx body (Chinese headers as in the export); all or nothing."""
    experts = await service.import_experts(uow, await request.body())
    await uow.commit()
    return [ExpertOut.of(e) for e in experts]


@router.post("/experts/{expert_id}/declarations", status_code=status.HTTP_201_CREATED)
async def declare(
    expert_id: UUID, body: DeclarationIn, uow: UnitOfWorkDep, principal: PrincipalDep
) -> dict[str, Any]:
    """An expert declares a conflict (or staff record one the applicant side declared)."""
    e = await _expert(uow.session, expert_id)
    own = principal.person_id == str(e.person_id)
    if not own and "expert_db" not in principal.scope("duties"):
        raise NotFound(f"expert {expert_id} not found", "未找到该专家")
    d = await service.declare(
        uow,
        e,
        person_id=body.person_id,
        unit_id=body.unit_id,
        declared_by="expert" if own else "staff",
        reason=body.reason,
    )
    await uow.commit()
    return {"id": str(d.id), "expert_id": str(e.id)}


def _settings(request: Request) -> EvaluationSettings:
    settings = request.app.state.runtime.settings
    assert isinstance(settings, EvaluationSettings)
    return settings


async def _mine(session: Any, principal: Principal) -> Expert:
    e: Expert | None = None
    if principal.person_id:
        q = select(Expert).where(Expert.person_id == principal.person_id)
        e = (await session.execute(q)).scalar_one_or_none()
    if e is None:
        raise NotFound("you are not in the expert database", "您不在专家库中")
    return e


@router.patch("/experts/me", response_model=ExpertOut)
async def edit_my_profile(body: ExpertSelfEdit, uow: UnitOfWorkDep, principal: PrincipalDep) -> ExpertOut:
    """The expert edits their disciplines, keywords, directions, availability windows and load."""
    e = await _mine(uow.session, principal)
    await experts_service.edit_profile(
        uow, e, body.changes(), allowed=experts_service.SELF_EDITABLE, reason=body.reason
    )
    await uow.commit()
    return ExpertOut.of(e)


@router.post("/experts/me/reconfirm", response_model=ExpertOut)
async def reconfirm_mine(request: Request, uow: UnitOfWorkDep, principal: PrincipalDep) -> ExpertOut:
    """The expert confirms their details are current (定期确认)."""
    e = await _mine(uow.session, principal)
    await experts_service.reconfirm(uow, e, months=_settings(request).expert_confirm_months, by_expert=True)
    await uow.commit()
    return ExpertOut.of(e)


@router.post("/experts/reconfirmation-sweep")
async def reconfirmation_sweep(request: Request, uow: UnitOfWorkDep, _: ExpertDb) -> dict[str, Any]:
    """Ask the experts whose confirmation lapses soon; list those already lapsed (not drawn)."""
    result = await experts_service.reconfirmation_sweep(
        uow, notice_days=_settings(request).reconfirm_notice_days
    )
    await uow.commit()
    return result


@router.patch("/experts/{expert_id}", response_model=ExpertOut)
async def edit_profile(expert_id: UUID, body: ExpertStaffEdit, uow: UnitOfWorkDep, _: ExpertDb) -> ExpertOut:
    e = await _expert(uow.session, expert_id)
    await experts_service.edit_profile(
        uow, e, body.changes(), allowed=experts_service.STAFF_EDITABLE, reason=body.reason
    )
    await uow.commit()
    return ExpertOut.of(e)


@router.post("/reviews/applications/{application_id}/avoidance", status_code=status.HTTP_201_CREATED)
async def request_avoidance(
    application_id: UUID, body: AvoidanceIn, uow: UnitOfWorkDep, principal: PrincipalDep
) -> dict[str, Any]:
    """申请回避: the applicant names experts or units that should not review the application."""
    item = await uow.session.get(RoundItem, application_id)
    if item is None or principal.person_id is None or str(item.applicant_person_id) != principal.person_id:
        raise NotFound(f"application {application_id} not found", "未找到该申请")
    rows = await experts_service.request_avoidance(
        uow, item, requests=[r.model_dump() for r in body.requests], requested_by=principal.user_id
    )
    await uow.commit()
    return {
        "application_id": str(item.id),
        "avoid_person_ids": [str(p) for p in item.avoid_person_ids],
        "avoid_unit_ids": [str(u) for u in item.avoid_unit_ids],
        "requests": [str(r.id) for r in rows],
    }


@router.post("/experts/{expert_id}/{action}", response_model=ExpertOut)
async def change_status(
    expert_id: UUID,
    action: Literal["approve", "reject", "suspend", "reinstate", "retire", "reconfirm"],
    body: Transition,
    request: Request,
    uow: UnitOfWorkDep,
    _: ExpertDb,
) -> ExpertOut:
    e = await _expert(uow.session, expert_id)
    await service.transition(
        uow, e, action, body.reason, confirm_months=_settings(request).expert_confirm_months
    )
    await uow.commit()
    return ExpertOut.of(e)


@router.get("/experts/me", response_model=ExpertOut)
async def my_profile(session: SessionDep, principal: PrincipalDep) -> ExpertOut:
    e = (
        (
            await session.execute(select(Expert).where(Expert.person_id == principal.person_id))
        ).scalar_one_or_none()
        if principal.person_id
        else None
    )
    if e is None:
        raise NotFound("you are not in the expert database", "您不在专家库中")
    return ExpertOut.of(e)


@router.get("/experts/{expert_id}", response_model=ExpertOut)
async def get_expert(expert_id: UUID, session: SessionDep, principal: PrincipalDep) -> ExpertOut:
    e = await _expert(session, expert_id)
    _own_or_staff(principal, e)
    return ExpertOut.of(e)


async def _search(
    session: SessionDep,
    discipline: str | None,
    keyword: str | None,
    region: str | None,
    title: str | None,
    status_: str | None,
) -> Any:
    q = select(Expert)
    if discipline:
        q = q.where(func.array_to_string(Expert.disciplines, ",").op("~")(f"(^|,){discipline}"))
    if keyword:
        q = q.where(Expert.keywords.contains([keyword]) | Expert.directions.contains(keyword))
    if region:
        q = q.where(Expert.region == region)
    if title:
        q = q.where(Expert.title == title)
    if status_:
        q = q.where(Expert.status == status_)
    return q


@router.get("/experts", response_model=Page[ExpertOut])
async def search_experts(
    session: SessionDep,
    principal: PrincipalDep,
    page: PageDep,
    discipline: Annotated[
        str | None, Query(max_length=20, pattern=r"^[A-Za-z0-9.]+$", description="code or parent code")
    ] = None,
    keyword: Annotated[str | None, Query(max_length=50)] = None,
    region: Annotated[str | None, Query(max_length=6)] = None,
    title: Annotated[str | None, Query(max_length=50)] = None,
    status_: Annotated[str | None, Query(alias="status", max_length=20)] = None,
    sort: Literal["name", "-credit_score", "created_at"] = "name",
) -> Page[ExpertOut]:
    if not (
        principal.has_role(Role.department_staff) and principal.scope("duties") & {"expert_db", "request"}
    ):
        raise Forbidden("requires the duty 'expert_db' or 'request'", "需要专家库管理或专家需求申请职责")
    q = await _search(session, discipline, keyword, region, title, status_)
    total = (await session.execute(select(func.count()).select_from(q.subquery()))).scalar_one()
    order: Any = {
        "name": Expert.name,
        "-credit_score": Expert.credit_score.desc(),
        "created_at": Expert.created_at,
    }[sort]
    rows: list[Expert] = list(
        (await session.execute(q.order_by(order, Expert.id).offset(page.offset).limit(page.size))).scalars()
    )
    return Page(items=[ExpertOut.of(e) for e in rows], total=total, page=page.page, size=page.size)


EXPORT_COLUMNS = [
    Column("name", "姓名"),
    Column("title", "职称"),
    Column("region", "地区"),
    Column("disciplines", "学科代码"),
    Column("keywords", "关键词"),
    Column("status", "状态"),
    Column("credit_score", "评审信用分"),
]


@router.get("/experts.xlsx", response_class=Response)
async def export_experts(session: SessionDep, _: ExpertDb) -> Response:
    rows = (await session.execute(select(Expert).order_by(Expert.name))).scalars()
    data = [
        {
            "name": e.name,
            "title": e.title,
            "region": e.region,
            "disciplines": ",".join(e.disciplines),
            "keywords": ",".join(e.keywords),
            "status": service.EXPERT_STATUS_ZH.get(e.status, e.status),
            "credit_score": e.credit_score,
        }
        for e in rows
    ]
    return Response(export_xlsx(EXPORT_COLUMNS, data), media_type=XLSX_MEDIA_TYPE)


async def _round(session: Any, round_id: UUID) -> ReviewRound:
    r: ReviewRound | None = await session.get(ReviewRound, round_id)
    if r is None:
        raise NotFound(f"round {round_id} not found", "未找到该评审轮次")
    return r


@router.get("/rounds", response_model=Page[RoundOut])
async def list_rounds(
    session: SessionDep,
    page: PageDep,
    principal: PrincipalDep,
    kind: Literal["application_review", "lab_assessment", "cluster_assessment", "project_evaluation"]
    | None = None,
) -> Page[RoundOut]:
    """Rounds for whoever requests experts or finalizes results."""
    if not (principal.has_role(Role.department_staff) and principal.scope("duties") & {"request", "results"}):
        raise Forbidden("requires the duty 'request' or 'results'", "需要专家需求申请或评审结果核定职责")
    q = select(ReviewRound) if kind is None else select(ReviewRound).where(ReviewRound.kind == kind)
    total = (await session.execute(select(func.count()).select_from(q.subquery()))).scalar_one()
    rows = (
        await session.execute(q.order_by(ReviewRound.created_at.desc()).offset(page.offset).limit(page.size))
    ).scalars()
    return Page(items=[RoundOut.model_validate(r) for r in rows], total=total, page=page.page, size=page.size)


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
    return RoundOut.model_validate(r)


def _run_out(run: AssignmentRun, assignments: list[Any] | None = None) -> RunOut:
    return RunOut(**jobs.as_dict(run), assignments=assignments)


async def _run(session: Any, run_id: UUID) -> AssignmentRun:
    run: AssignmentRun | None = await session.get(AssignmentRun, run_id)
    if run is None:
        raise NotFound(f"assignment run {run_id} not found", "未找到该分配任务")
    return run


@router.post("/rounds/{round_id}/runs", status_code=status.HTTP_202_ACCEPTED, response_model=RunOut)
async def run(round_id: UUID, body: RunIn, request: Request, uow: UnitOfWorkDep, _: Drawer) -> RunOut:
    """Queue a draw or an optimal assignment, as a preview (commit=false) or for real.

    Answers at once with the run (202); follow it at ``GET /runs/{id}`` (status, stage, progress,
    then the outcome) and stop it with ``POST /runs/{id}/cancel``.
    """
    r = await _round(uow.session, round_id)
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
        workers.notify()
    return _run_out(job)


@router.get("/rounds/{round_id}/runs", response_model=list[RunOut])
async def list_runs(round_id: UUID, session: SessionDep, _: Drawer) -> list[RunOut]:
    await _round(session, round_id)
    q = select(AssignmentRun).where(AssignmentRun.round_id == round_id).order_by(AssignmentRun.created_at)
    return [_run_out(x) for x in (await session.execute(q)).scalars()]


@router.get("/runs/{run_id}", response_model=RunOut)
async def get_run(run_id: UUID, session: SessionDep, _: Drawer) -> RunOut:
    """A run's status and progress; once done, the assignments it proposed or wrote (sealed: draw duty)."""
    job = await _run(session, run_id)
    rows: list[Any] | None = None
    if job.status == "done" and job.commit:
        q = select(Assignment).where(Assignment.run_id == job.id).order_by(Assignment.item_id, Assignment.id)
        rows = [AssignmentOut.model_validate(a) for a in (await session.execute(q)).scalars()]
    elif job.status == "done":
        rows = [AssignmentOut(**row) for row in job.preview or []]
    return _run_out(job, rows)


@router.post("/runs/{run_id}/cancel", response_model=RunOut)
async def cancel_run(run_id: UUID, body: Transition, uow: UnitOfWorkDep, _: Drawer) -> RunOut:
    """Cancel a queued run at once, or a running one at its next stage (it then writes nothing)."""
    job = await _run(uow.session, run_id)
    await jobs.cancel(uow, job, body.reason)
    await uow.commit()
    return _run_out(job)


@router.post("/rounds/{round_id}/open", response_model=RoundOut)
async def open_round(round_id: UUID, uow: UnitOfWorkDep, _: Drawer) -> RoundOut:
    r = await _round(uow.session, round_id)
    await service.open_round(uow, r)
    await uow.commit()
    return RoundOut.model_validate(r)


@router.get("/rounds/{round_id}/assignments", response_model=list[AssignmentOut])
async def round_assignments(
    round_id: UUID, session: SessionDep, principal: PrincipalDep
) -> list[AssignmentOut]:
    """Sealed until the review opens: only the draw duty sees the list before that."""
    r = await _round(session, round_id)
    duties = principal.scope("duties") if principal.has_role(Role.department_staff) else frozenset()
    if "draw" not in duties and not (r.status == "open" and "request" in duties):
        raise Forbidden("the drawn list is sealed until the review opens", "抽取名单在评审开始前密封")
    rows = (
        await session.execute(
            select(Assignment)
            .where(Assignment.round_id == r.id)
            .order_by(Assignment.item_id, Assignment.created_at)
        )
    ).scalars()
    return [AssignmentOut.model_validate(a) for a in rows]


@router.get("/assignments/mine", response_model=list[AssignmentOut])
async def my_assignments(session: SessionDep, principal: PrincipalDep) -> list[AssignmentOut]:
    if principal.person_id is None:
        return []
    q = (
        select(Assignment)
        .join(Expert, Expert.id == Assignment.expert_id)
        .where(Expert.person_id == principal.person_id, Assignment.status != "reserve")
        .order_by(Assignment.created_at)
    )
    return [AssignmentOut.model_validate(a) for a in (await session.execute(q)).scalars()]


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
