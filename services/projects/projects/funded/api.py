from __future__ import annotations

from typing import Annotated, Any, Literal, TypeVar
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Response, status
from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from projects import names
from projects.calls import service as calls
from projects.catalogue.seed import ORGANISATION_MODES, OrganisationMode
from projects.contract import MachineOut
from projects.funded import (
    changes,
    evaluation_requests,
    evaluations,
    funding,
    races,
    reports,
    service,
    task_books,
)
from projects.funded.machines import CHANGE_KINDS_ZH, PROJECT_MACHINE, RESULTS_ZH, STAFF, ProjectState
from projects.funded.models import (
    AnnualReport,
    Disbursement,
    Project,
    ProjectChange,
    ProjectEvaluation,
    RaceRound,
)
from projects.funded.schemas import (
    AnnualReportCreate,
    AnnualReportOut,
    AnnualReportReview,
    ChangeAction,
    ChangeCreate,
    ChangeOut,
    DisbursementOut,
    EvaluationCreate,
    EvaluationOut,
    EvaluationRequested,
    FaultAssessmentIn,
    IndicatorsOut,
    PaymentIn,
    PaymentOut,
    ProjectAction,
    ProjectOut,
    RaceRoundCreate,
    RaceRoundOpened,
    RaceRoundOut,
    StatisticsOut,
    STReportIn,
    TaskBookOut,
    TaskBookUpdate,
    TimelineOut,
)
from projects.funded.timeline import timeline
from projects.organisations.models import OrganisationView
from projects.registry_views.models import PersonView
from shared.auth import Principal
from shared.clock import utcnow
from shared.errors import FieldIssue, NotFound, ValidationFailed
from shared.excel import XLSX_MEDIA_TYPE, Column, export_xlsx
from shared.http.auth import PrincipalDep, require_roles
from shared.http.deps import PageDep, SessionDep, UnitOfWorkDep
from shared.http.schemas import Page

router = APIRouter(prefix="/projects", tags=["projects"])
races_router = APIRouter(tags=["projects"])
StaffDep = Annotated[Principal, Depends(require_roles(*STAFF))]
MODE_LABELS = ORGANISATION_MODES | {"filing": "备案"}
ProjectMode = Literal[OrganisationMode, "filing"]  # the catalogue's modes, and 备案 (filed projects)


class XlsxResponse(Response):
    media_type = XLSX_MEDIA_TYPE


def out(project: Project, principal: Principal) -> ProjectOut:
    o = ProjectOut.model_validate(project)
    o.state_zh = PROJECT_MACHINE.state_labels_zh.get(project.state, project.state)
    o.organisation_mode_zh = MODE_LABELS.get(project.organisation_mode, project.organisation_mode)
    o.result_zh = RESULTS_ZH.get(project.result) if project.result else None
    o.allowed_actions = PROJECT_MACHINE.allowed_actions(project.state, principal.roles)
    return o


T = TypeVar("T")


async def _of_project(
    session: AsyncSession,
    model: type[T],
    child_id: UUID,
    project: Project,
    detail: str,
    detail_zh: str,
    *,
    for_update: bool = False,
) -> T:
    """One of the project's own records (report, evaluation, tranche, change): 404 when it is
    unknown or belongs to another project."""
    child = await session.get(model, child_id, with_for_update=for_update)
    if child is None or getattr(child, "project_id", None) != project.id:
        raise NotFound(detail, detail_zh)
    return child


@router.get("/machine", response_model=MachineOut, summary="The project state machine with Chinese labels")
async def machine(_: PrincipalDep) -> dict[str, object]:
    return PROJECT_MACHINE.describe()


ProjectFilters = tuple[str | None, str | None, UUID | None, UUID | None, UUID | None]


def _filtered(principal: Principal, filters: ProjectFilters) -> Select[Any]:
    state, organisation_mode, call_id, unit_id, pi_person_id = filters
    stmt = service.visible_to(select(Project), principal)
    for column, value in (
        (Project.state, state),
        (Project.organisation_mode, organisation_mode),
        (Project.call_id, call_id),
        (Project.unit_id, unit_id),
        (Project.pi_person_id, pi_person_id),
    ):
        if value is not None:
            stmt = stmt.where(column == value)
    return stmt


def _filters(
    state: Annotated[ProjectState | None, Query(description="one state of the project machine")] = None,
    organisation_mode: Annotated[
        ProjectMode | None,
        Query(description="an organisation mode of the catalogue, or filing (备案项目)"),
    ] = None,
    call_id: UUID | None = None,
    unit_id: UUID | None = None,
    pi_person_id: UUID | None = None,
) -> ProjectFilters:
    return state, organisation_mode, call_id, unit_id, pi_person_id


FiltersDep = Annotated[ProjectFilters, Depends(_filters)]


@router.get("", response_model=Page[ProjectOut], summary="Projects the caller may see")
async def list_projects(
    session: SessionDep, principal: PrincipalDep, page: PageDep, filters: FiltersDep
) -> Page[ProjectOut]:
    stmt = _filtered(principal, filters)
    total = (await session.execute(select(func.count()).select_from(stmt.subquery()))).scalar_one()
    rows = (await session.execute(stmt.order_by(Project.code).offset(page.offset).limit(page.size))).scalars()
    return Page(items=[out(p, principal) for p in rows], total=total, page=page.page, size=page.size)


EXPORT_COLUMNS = [
    Column("code", "项目编号"),
    Column("title", "项目名称", 40),
    Column("organisation_mode_zh", "组织方式", 12),
    Column("unit_name", "承担单位", 30),
    Column("pi_name", "项目负责人", 12),
    Column("start_date", "开始日期", 12),
    Column("end_date", "结束日期", 12),
    Column("funding_yuan", "财政经费（元）"),
    Column("external_funding_yuan", "自筹/外部经费（元）"),
    Column("state_zh", "状态", 12),
    Column("result_zh", "结论", 10),
    Column("diligent_exempt_zh", "尽职免责", 10),
]


@router.get(
    "/export.xlsx",
    response_class=XlsxResponse,
    summary="The filtered list as an Excel file (Chinese headers, names not ids)",
)
async def export_projects(session: SessionDep, principal: PrincipalDep, filters: FiltersDep) -> Response:
    listed = _filtered(principal, filters).subquery()
    stmt = (
        select(aliased(Project, listed), OrganisationView.name, PersonView.name)
        .outerjoin(OrganisationView, OrganisationView.id == listed.c.unit_id)
        .outerjoin(PersonView, PersonView.id == listed.c.pi_person_id)
        .order_by(listed.c.code)
        .limit(100_000)
    )
    rows = [
        {
            "code": p.code,
            "title": p.title,
            "organisation_mode_zh": MODE_LABELS.get(p.organisation_mode, p.organisation_mode),
            "unit_name": unit_name or names.unknown(p.unit_id),
            "pi_name": pi_name or names.unknown(p.pi_person_id),
            "start_date": p.start_date,
            "end_date": p.end_date,
            "funding_yuan": p.funding_fen / 100,
            "external_funding_yuan": p.external_funding_fen / 100,
            "state_zh": PROJECT_MACHINE.state_labels_zh.get(p.state, p.state),
            "result_zh": RESULTS_ZH.get(p.result) if p.result else None,
            "diligent_exempt_zh": "是" if p.diligent_exempt else None,
        }
        for p, unit_name, pi_name in (await session.execute(stmt)).all()
    ]
    return Response(
        export_xlsx(EXPORT_COLUMNS, rows, sheet="项目"),
        media_type=XLSX_MEDIA_TYPE,
        headers={"Content-Disposition": 'attachment; filename="projects.xlsx"'},
    )


@router.get(
    "/statistics",
    response_model=StatisticsOut,
    summary="Counts and money by organisation mode and state (filed projects included)",
)
async def statistics(
    session: SessionDep, _: StaffDep, year: Annotated[int | None, Query(ge=2000, le=2100)] = None
) -> dict[str, Any]:
    stmt = select(
        Project.organisation_mode,
        Project.state,
        func.count(),
        func.sum(Project.funding_fen),
        func.sum(Project.external_funding_fen),
    ).group_by(Project.organisation_mode, Project.state)
    if year is not None:
        stmt = stmt.where(func.extract("year", Project.start_date) == year)
    rows = [
        {
            "organisation_mode": mode,
            "organisation_mode_zh": MODE_LABELS.get(mode, mode),
            "state": state,
            "state_zh": PROJECT_MACHINE.state_labels_zh.get(state, state),
            "projects": count,
            "funding_fen": int(fen or 0),
            "external_funding_fen": int(ext or 0),
        }
        for mode, state, count, fen, ext in (await session.execute(stmt))
    ]
    return {
        "rows": rows,
        "projects": sum(r["projects"] for r in rows),
        "funding_fen": sum(r["funding_fen"] for r in rows),
    }


@router.get("/{project_id}", response_model=ProjectOut)
async def get_project(project_id: UUID, session: SessionDep, principal: PrincipalDep) -> ProjectOut:
    return out(await service.load(session, project_id, principal), principal)


@router.get(
    "/{project_id}/timeline",
    response_model=TimelineOut,
    summary="The project's whole history, application to verdict",
)
async def get_timeline(project_id: UUID, session: SessionDep, principal: PrincipalDep) -> dict[str, Any]:
    project = await service.load(session, project_id, principal)
    return {"project_id": str(project.id), "code": project.code, "items": await timeline(session, project)}


# -- task book ------------------------------------------------------------------------------------


async def _task_book_out(session: Any, project: Project) -> dict[str, Any]:
    book = await task_books.get(session, project)
    indicators = await task_books.indicators_of(session, project)
    chiefs = [UUID(p) for p in project.chief_expert_person_ids]
    chief_names = {
        p.id: p.name
        for p in (await session.execute(select(PersonView).where(PersonView.id.in_(chiefs)))).scalars()
    }
    return {
        "project_id": str(project.id),
        "state": book.state,
        "state_zh": task_books.TASK_BOOK_STATES_ZH[book.state],
        "objectives": book.objectives,
        "milestones": book.milestones,
        "budget": book.budget,
        "payment_plan": book.payment_plan,
        "chief_experts": [{"person_id": str(p), "name": chief_names.get(p)} for p in chiefs],  # 首席专家
        "return_reason": book.return_reason,
        "signed_at": book.signed_at,
        "signed_by": book.signed_by,
        "signed_by_name": (book.signed_by_name or names.unknown(book.signed_by)) if book.signed_by else None,
        "version": book.version,
        "indicators": [
            {
                "id": i.id,
                "seq": i.seq,
                "name": i.name,
                "category": i.category,
                "unit": i.unit,
                "promised": i.promised,
                "target": i.target,
                "source": i.source,
            }
            for i in indicators
        ],
    }


@router.get(
    "/{project_id}/task-book", response_model=TaskBookOut, summary="任务书 with its assessment indicators"
)
async def get_task_book(project_id: UUID, session: SessionDep, principal: PrincipalDep) -> dict[str, Any]:
    return await _task_book_out(session, await service.load(session, project_id, principal))


@router.patch(
    "/{project_id}/task-book",
    response_model=TaskBookOut,
    summary="The lead edits the task book (draft or returned)",
)
async def edit_task_book(
    project_id: UUID, body: TaskBookUpdate, uow: UnitOfWorkDep, principal: PrincipalDep
) -> dict[str, Any]:
    project = await service.load(uow.session, project_id, principal, for_update=True)
    service.require_pi(principal, project)
    await task_books.edit(uow, project, body)
    await uow.commit()
    return await _task_book_out(uow.session, project)


@router.post(
    "/{project_id}/actions/{action}", response_model=ProjectOut, summary="Take a step of the project"
)
async def act(
    project_id: UUID,
    action: Literal["submit_task_book", "return_task_book", "sign_task_book", "close_filed"],
    body: ProjectAction,
    uow: UnitOfWorkDep,
    principal: PrincipalDep,
) -> ProjectOut:
    project = await service.load(uow.session, project_id, principal, for_update=True)
    if action == "submit_task_book":
        service.require_pi(principal, project)
        await task_books.submit(uow, project)
    else:
        service.require_staff(principal)
        if action == "return_task_book":
            if not (body.reason and body.reason.strip()):
                raise ValidationFailed(
                    [FieldIssue("reason", "required", "a return states why", "请填写退回理由")]
                )
            await task_books.return_(uow, project, body.reason)
        elif action == "sign_task_book":
            await task_books.sign(
                uow,
                project,
                body.reason,
                body.integrity_override_reason,
                signer_name=await names.actor_name(uow.session, principal),
            )
        else:
            if project.source != "filing" or body.result is None:
                raise ValidationFailed(
                    [
                        FieldIssue(
                            "result",
                            "required",
                            "a filed project closes with its funder's verdict",
                            "请填写备案项目结题结论",
                        )
                    ]
                )
            await service.transition(uow, project, "close_filed", reason=body.reason, result=body.result)
    await uow.commit()
    return out(project, principal)


# -- indicators, reports, evaluations ----------------------------------------------------------------


@router.get(
    "/{project_id}/indicators",
    response_model=IndicatorsOut,
    summary="Each indicator from promise to verdict, with deviation",
)
async def indicators(project_id: UUID, session: SessionDep, principal: PrincipalDep) -> dict[str, Any]:
    project = await service.load(session, project_id, principal)
    return {"project_id": str(project.id), "items": await reports.indicator_paths(session, project)}


@router.post(
    "/{project_id}/annual-reports",
    status_code=status.HTTP_201_CREATED,
    response_model=AnnualReportOut,
    summary="年度进展报告 (lead)",
)
async def annual_report(
    project_id: UUID, body: AnnualReportCreate, uow: UnitOfWorkDep, principal: PrincipalDep
) -> dict[str, Any]:
    project = await service.load(uow.session, project_id, principal, for_update=True)
    service.require_pi(principal, project)
    report = await reports.submit_annual(uow, project, body)
    await uow.commit()
    return _report_out(report)


REPORT_STATES_ZH = reports.REPORT_STATES_ZH


def _report_out(r: AnnualReport) -> dict[str, Any]:
    return {
        "id": str(r.id),
        "year": r.year,
        "summary": r.summary,
        "spent_fen": r.spent_fen,
        "progress": r.progress,
        "submitted_at": r.submitted_at,
        "state": r.state,
        "state_zh": REPORT_STATES_ZH.get(r.state, r.state),
        "reviewed_at": r.reviewed_at,
        "review_comments": r.review_comments,
    }


@router.post(
    "/{project_id}/annual-reports/{report_id}/actions/{action}",
    response_model=AnnualReportOut,
    summary="Staff accept an annual report or return it for the lead to submit again",
)
async def review_annual_report(
    project_id: UUID,
    report_id: UUID,
    action: Literal["accept", "return"],
    body: AnnualReportReview,
    uow: UnitOfWorkDep,
    principal: StaffDep,
) -> dict[str, Any]:
    project = await service.load(uow.session, project_id, principal, for_update=True)
    report = await _of_project(
        uow.session,
        AnnualReport,
        report_id,
        project,
        "no such annual report of this project",
        "该项目无此年度报告",
        for_update=True,
    )
    await reports.review_annual(uow, project, report, action, body.comments)
    await uow.commit()
    return _report_out(report)


@router.get("/{project_id}/annual-reports", response_model=Page[AnnualReportOut])
async def annual_reports(project_id: UUID, session: SessionDep, principal: PrincipalDep) -> Page[Any]:
    await service.load(session, project_id, principal)
    rows = (
        await session.execute(
            select(AnnualReport).where(AnnualReport.project_id == project_id).order_by(AnnualReport.year)
        )
    ).scalars()
    return Page.whole([_report_out(r) for r in rows])


@router.get(
    "/{project_id}/annual-reports/{report_id}",
    response_model=AnnualReportOut,
    summary="One annual report and its review",
)
async def get_annual_report(
    project_id: UUID, report_id: UUID, session: SessionDep, principal: PrincipalDep
) -> dict[str, Any]:
    project = await service.load(session, project_id, principal)
    report = await _of_project(
        session,
        AnnualReport,
        report_id,
        project,
        "no such annual report of this project",
        "该项目无此年度报告",
    )
    return _report_out(report)


@router.post(
    "/{project_id}/evaluations",
    status_code=status.HTTP_201_CREATED,
    response_model=EvaluationRequested,
    summary="Request an evaluation (staff)",
)
async def request_evaluation(
    project_id: UUID, body: EvaluationCreate, uow: UnitOfWorkDep, principal: StaffDep
) -> dict[str, Any]:
    project = await service.load(uow.session, project_id, principal, for_update=True)
    evaluation = await evaluation_requests.request(uow, project, body.kind, body.due_date, body.reason)
    await uow.commit()
    return {
        "request_id": str(evaluation.id),
        "kind": evaluation.kind,
        "state": evaluation.state,
        "project_state": project.state,
    }


@router.get("/{project_id}/evaluations", response_model=Page[EvaluationOut])
async def list_evaluations(project_id: UUID, session: SessionDep, principal: PrincipalDep) -> Page[Any]:
    await service.load(session, project_id, principal)
    rows = (
        await session.execute(
            select(ProjectEvaluation)
            .where(ProjectEvaluation.project_id == project_id)
            .order_by(ProjectEvaluation.requested_at)
        )
    ).scalars()
    return Page.whole([_evaluation_out(e) for e in rows])


def _evaluation_out(e: ProjectEvaluation) -> dict[str, Any]:
    return {
        "request_id": str(e.id),
        "kind": e.kind,
        "state": e.state,
        "due_date": e.due_date,
        "result": e.result,
        "score": e.score,
        "diligent": e.diligent,
        "remarks": e.remarks,
        "indicator_verdicts": e.indicator_verdicts,
        "requested_at": e.requested_at,
        "finalized_at": e.finalized_at,
    }


@router.get(
    "/{project_id}/evaluations/{request_id}",
    response_model=EvaluationOut,
    summary="One evaluation of the project and its verdict",
)
async def get_evaluation(
    project_id: UUID, request_id: UUID, session: SessionDep, principal: PrincipalDep
) -> dict[str, Any]:
    project = await service.load(session, project_id, principal)
    evaluation = await _of_project(
        session,
        ProjectEvaluation,
        request_id,
        project,
        "no such evaluation of this project",
        "该项目无此评价",
    )
    return _evaluation_out(evaluation)


@router.post(
    "/{project_id}/fault-assessment", response_model=ProjectOut, summary="容错认定 of a failed project"
)
async def fault_assessment(
    project_id: UUID, body: FaultAssessmentIn, uow: UnitOfWorkDep, principal: StaffDep
) -> ProjectOut:
    project = await service.load(uow.session, project_id, principal, for_update=True)
    await evaluations.assess_fault(uow, project, body)
    await uow.commit()
    return out(project, principal)


# -- money --------------------------------------------------------------------------------------------


@router.put(
    "/{project_id}/st-report",
    response_model=ProjectOut,
    summary="The lead submits the S&T report (科技报告), a deliverable of acceptance",
)
async def submit_st_report(
    project_id: UUID, body: STReportIn, uow: UnitOfWorkDep, principal: PrincipalDep
) -> ProjectOut:
    project = await service.load(uow.session, project_id, principal, for_update=True)
    service.require_pi(principal, project)
    if project.state != "in_progress":
        raise PROJECT_MACHINE.refuse(
            project.state,
            "the S&T report is submitted while the project runs, before acceptance",
            f"项目当前为「{PROJECT_MACHINE.state_labels_zh[project.state]}」，"
            "科技报告须在项目执行期内、申请结题验收前提交",
            roles=principal.roles,
            code="not_running",
        )
    report = body.model_dump(mode="json") | {
        "submitted_by": uow.actor.id,
        "submitted_at": utcnow().isoformat(),
    }
    replaced = project.st_report is not None
    project.st_report = report
    await service.touched(uow, project, "st_report_submitted", None)
    await service.record_step(
        uow,
        project,
        "submit_st_report",
        "更新科技报告" if replaced else "提交科技报告",
        details={"number": body.number, "sha256": body.sha256, "access": body.access},
    )
    await uow.commit()
    return out(project, principal)


@router.get("/{project_id}/disbursements", response_model=Page[DisbursementOut])
async def disbursements(project_id: UUID, session: SessionDep, principal: PrincipalDep) -> Page[Any]:
    await service.load(session, project_id, principal)
    return Page.whole([_disbursement_out(d) for d in await funding.of(session, project_id)])


def _disbursement_out(d: Disbursement) -> dict[str, Any]:
    return {
        "id": str(d.id),
        "seq": d.seq,
        "amount_fen": d.amount_fen,
        "condition": d.condition,
        "condition_zh": funding.CONDITIONS_ZH.get(d.condition, d.condition),
        "state": d.state,
        "due_since": d.due_since,
        "paid_at": d.paid_at,
        "voucher": d.voucher,
        "cancelled_reason": d.cancelled_reason,
    }


@router.get(
    "/{project_id}/disbursements/{disbursement_id}",
    response_model=DisbursementOut,
    summary="One tranche of the grant",
)
async def get_disbursement(
    project_id: UUID, disbursement_id: UUID, session: SessionDep, principal: PrincipalDep
) -> dict[str, Any]:
    project = await service.load(session, project_id, principal)
    disbursement = await _of_project(
        session, Disbursement, disbursement_id, project, "no such tranche of this project", "该项目无此笔拨款"
    )
    return _disbursement_out(disbursement)


@router.post(
    "/{project_id}/disbursements/{disbursement_id}/pay",
    response_model=PaymentOut,
    summary="Record a payment (staff)",
)
async def pay(
    project_id: UUID, disbursement_id: UUID, body: PaymentIn, uow: UnitOfWorkDep, principal: StaffDep
) -> dict[str, Any]:
    project = await service.load(uow.session, project_id, principal, for_update=True)
    d = await funding.pay(uow, project, disbursement_id, body.voucher, body.integrity_override_reason)
    await uow.commit()
    return {"id": str(d.id), "state": d.state, "amount_fen": d.amount_fen, "voucher": d.voucher}


# -- changes -----------------------------------------------------------------------------------------


def change_out(change: ProjectChange) -> ChangeOut:
    o = ChangeOut.model_validate(change)
    o.kind_zh = CHANGE_KINDS_ZH[change.kind]
    return o


@router.post("/{project_id}/changes", status_code=status.HTTP_201_CREATED, response_model=ChangeOut)
async def request_change(
    project_id: UUID, body: ChangeCreate, uow: UnitOfWorkDep, principal: PrincipalDep
) -> ChangeOut:
    project = await service.load(uow.session, project_id, principal, for_update=True)
    change = await changes.request(uow, principal, project, body)
    await uow.commit()
    return change_out(change)


@router.get("/{project_id}/changes", response_model=Page[ChangeOut])
async def list_changes(project_id: UUID, session: SessionDep, principal: PrincipalDep) -> Page[Any]:
    await service.load(session, project_id, principal)
    rows = (
        await session.execute(
            select(ProjectChange)
            .where(ProjectChange.project_id == project_id)
            .order_by(ProjectChange.requested_at)
        )
    ).scalars()
    return Page.whole([change_out(c) for c in rows])


@router.get("/{project_id}/changes/{change_id}", response_model=ChangeOut, summary="One change request")
async def get_change(
    project_id: UUID, change_id: UUID, session: SessionDep, principal: PrincipalDep
) -> ChangeOut:
    project = await service.load(session, project_id, principal)
    change = await _of_project(
        session,
        ProjectChange,
        change_id,
        project,
        "no such change request of this project",
        "该项目无此变更申请",
    )
    return change_out(change)


@router.post("/{project_id}/changes/{change_id}/actions/{action}", response_model=ChangeOut)
async def act_on_change(
    project_id: UUID,
    change_id: UUID,
    action: Literal["endorse", "approve", "reject", "withdraw"],
    body: ChangeAction,
    uow: UnitOfWorkDep,
    principal: PrincipalDep,
) -> ChangeOut:
    project = await service.load(uow.session, project_id, principal, for_update=True)
    change = await changes.get(uow, project, change_id)
    change = await changes.act(uow, principal, project, change, action, body.reason)
    await uow.commit()
    return change_out(change)


# -- 赛马制 rounds ---------------------------------------------------------------------------------------


@races_router.post(
    "/calls/{call_id}/races/{challenge_id}/rounds",
    status_code=status.HTTP_201_CREATED,
    response_model=RaceRoundOpened,
    summary="赛马制: a milestone round over the racing teams (staff)",
)
async def open_round(
    call_id: UUID,
    challenge_id: str,
    body: RaceRoundCreate,
    uow: UnitOfWorkDep,
    _: StaffDep,
) -> dict[str, Any]:
    call = await calls.get(uow.session, call_id, for_update=True)
    rnd = await races.open_round(uow, call, challenge_id, body)
    await uow.commit()
    return {"id": str(rnd.id), "seq": rnd.seq, "state": rnd.state, "keep": rnd.keep, "rule_zh": races.RULE_ZH}


@races_router.get("/calls/{call_id}/races/{challenge_id}/rounds", response_model=Page[RaceRoundOut])
async def list_rounds(call_id: UUID, challenge_id: str, session: SessionDep, _: StaffDep) -> Page[Any]:
    return Page.whole([_round_out(r) for r in await races.rounds_of(session, call_id, challenge_id)])


def _round_out(r: RaceRound) -> dict[str, Any]:
    return {
        "id": str(r.id),
        "seq": r.seq,
        "label": r.label,
        "keep": r.keep,
        "state": r.state,
        "due_date": r.due_date,
        "outcome": r.outcome,
        "decided_at": r.decided_at,
        "rule_zh": races.RULE_ZH,
    }


@races_router.get(
    "/calls/{call_id}/races/{challenge_id}/rounds/{round_id}",
    response_model=RaceRoundOut,
    summary="赛马制: one milestone round and its outcome",
)
async def get_round(
    call_id: UUID, challenge_id: str, round_id: UUID, session: SessionDep, _: StaffDep
) -> dict[str, Any]:
    rnd = next((r for r in await races.rounds_of(session, call_id, challenge_id) if r.id == round_id), None)
    if rnd is None:
        raise NotFound("no such round of this race", "该赛马任务无此轮次")
    return _round_out(rnd)
