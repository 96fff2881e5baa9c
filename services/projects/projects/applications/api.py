from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Response, status
from fastapi.responses import HTMLResponse
from sqlalchemy import Select, Text, and_, cast, false, func, or_, select
from sqlalchemy.dialects.postgresql import ARRAY, array

from projects import names
from projects.applications import checks, document, listing, service
from projects.applications.machines import APPLICATION_MACHINE, ApplicationState
from projects.applications.models import Application, ApplicationStep, ApplicationVersion
from projects.applications.schemas import (
    ApplicationAction,
    ApplicationCreate,
    ApplicationFields,
    ApplicationOut,
    ApplicationRow,
    FormalReport,
    FundingTable,
    PrintedCheck,
    SealsOut,
    StepOut,
    VersionOut,
)
from projects.calls import service as calls
from projects.catalogue.models import Programme
from projects.contract import MachineOut
from projects.organisations.models import OrganisationView
from projects.registry_views.models import PersonView
from shared.auth import Principal, Role
from shared.clock import utcnow
from shared.errors import FieldIssue, Forbidden, NotFound, ValidationFailed
from shared.excel import XLSX_MEDIA_TYPE, Column, export_xlsx
from shared.http.auth import PrincipalDep, require_roles
from shared.http.deps import PageDep, SessionDep, UnitOfWorkDep
from shared.http.schemas import Page


class XlsxResponse(Response):
    media_type = XLSX_MEDIA_TYPE


router = APIRouter(prefix="/applications", tags=["applications"])
StaffDep = Annotated[Principal, Depends(require_roles(Role.department_staff, Role.administrator))]
STAFF = (Role.department_staff, Role.administrator)
Sort = Literal[
    "updated_at",
    "-updated_at",
    "submitted_at",
    "-submitted_at",
    "code",
    "-code",
    "title",
    "-title",
    "requested_funding_fen",
    "-requested_funding_fen",
    "review_score",
    "-review_score",
]
QUEUES: dict[str, tuple[str, ...]] = {
    "endorsement": ("submitted",),  # 依托单位待审核
    "recommendation": ("endorsed",),  # 主管部门待推荐
    "formal_review": ("recommended",),  # 待形式审查
    "decision": ("reviewed",),  # 待立项决策
    "revision": ("returned",),  # 待修改
}


def out(app: Application, principal: Principal) -> ApplicationOut:
    o = ApplicationOut.model_validate(app)
    o.state_zh = APPLICATION_MACHINE.state_labels_zh[app.state]
    o.allowed_actions = service.allowed_actions(principal, app)
    return o


def visible_to(stmt: Select[Any], principal: Principal) -> Select[Any]:
    """The same object-level rule as service.can_see, as SQL."""
    if principal.has_role(*STAFF):
        return stmt
    units = sorted(service._units(principal))
    ors: list[Any] = []
    if principal.has_role(Role.applicant):
        ors.append(Application.applicant_user_id == principal.user_id)
        if principal.person_id:
            ors.append(Application.applicant_person_id == principal.person_id)
    if principal.has_role(Role.host_unit_admin) and units:
        ors.append((Application.unit_id.in_(units)) & (Application.state != "draft"))
    if principal.has_role(Role.competent_department) and units:
        ors.append((Application.competent_department_id.in_(units)) & (Application.state != "draft"))
    return stmt.where(or_(*ors)) if ors else stmt.where(false())


async def load(
    session: SessionDep, app_id: UUID, principal: Principal, *, for_update: bool = False
) -> Application:
    app = await service.get(session, app_id, for_update=for_update)
    if not service.can_see(principal, app):
        raise NotFound(f"application {app_id} not found", "未找到该申报书")  # no hint that it exists
    return app


def _filtered(
    principal: Principal,
    queue: str | None,
    state: str | None,
    call_id: UUID | None,
    year: int | None,
    unit_id: UUID | None,
    q: str | None,
) -> Select[Any]:
    stmt = visible_to(select(Application), principal)
    if queue:
        stmt = stmt.where(Application.state.in_(QUEUES[queue]))
    if state:
        stmt = stmt.where(Application.state == state)
    if call_id:
        stmt = stmt.where(Application.call_id == call_id)
    if year:
        stmt = stmt.where(Application.year == year)
    if unit_id:
        stmt = stmt.where(Application.unit_id == unit_id)
    q = (q or "").replace("\x00", "").strip()
    if q:
        grams = {q[i : i + 2] for i in range(len(q) - 1)}
        by_title = Application.title.contains(q, autoescape=True)
        if grams:  # the bigram index narrows, LIKE confirms
            by_title = and_(
                func.projects_bigrams(Application.title).op("@>")(cast(array(sorted(grams)), ARRAY(Text()))),
                by_title,
            )
        stmt = stmt.where(or_(by_title, Application.code == q))
    return stmt


StateParam = Annotated[ApplicationState | None, Query(description="one state of the application machine")]
QueueParam = Annotated[
    Literal["endorsement", "recommendation", "formal_review", "decision", "revision"] | None,
    Query(description="a role's work queue"),
]


@router.get(
    "/machine", response_model=MachineOut, summary="The application state machine with Chinese labels"
)
async def machine(_: PrincipalDep) -> dict[str, object]:
    return APPLICATION_MACHINE.describe()


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ApplicationOut)
async def draft(body: ApplicationCreate, uow: UnitOfWorkDep, principal: PrincipalDep) -> ApplicationOut:
    app = await service.create(uow, principal, body)
    await uow.commit()
    return out(app, principal)


@router.get("", response_model=Page[ApplicationRow], summary="Work queues: paging, filter, sort, search")
async def list_applications(
    session: SessionDep,
    principal: PrincipalDep,
    page: PageDep,
    queue: QueueParam = None,
    state: StateParam = None,
    call_id: UUID | None = None,
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
    unit_id: UUID | None = None,
    q: Annotated[str | None, Query(max_length=100, description="part of the title, or the code")] = None,
    sort: Sort = "-updated_at",
    cursor: Annotated[
        str | None, Query(max_length=400, description="next_cursor of the previous page (keyset paging)")
    ] = None,
) -> Page[ApplicationRow]:
    if principal.has_role(Role.expert) and not principal.has_role(*STAFF, Role.applicant):
        raise Forbidden(
            "experts see applications only in the evaluation service", "评审专家请在评审系统中查看"
        )
    stmt = _filtered(principal, queue, state, call_id, year, unit_id, q)
    total, exact = await listing.count_capped(session, stmt)
    rows, next_cursor = await listing.page_rows(
        session, stmt, sort, page.size, cursor=cursor, offset=0 if cursor else page.offset
    )
    items = []
    for r in rows:
        row = ApplicationRow.model_validate(r)
        row.state_zh = APPLICATION_MACHINE.state_labels_zh[r.state]
        items.append(row)
    return Page(
        items=items, total=total, total_exact=exact, page=page.page, size=page.size, next_cursor=next_cursor
    )


LIST_COLUMNS = [
    Column("code", "申报编号"),
    Column("title", "项目名称", 40),
    Column("year", "年度", 8),
    Column("unit_name", "依托单位", 30),
    Column("unit_id", "依托单位编号", 38),
    Column("applicant_name", "申报人", 12),
    Column("applicant_person_id", "申报人编号", 38),
    Column("requested_funding_yuan", "申请经费（元）"),
    Column("state_zh", "状态"),
    Column("review_score", "评审得分", 10),
    Column("submitted_at", "提交时间", 20),
]


@router.get(
    "/export.xlsx",
    response_class=XlsxResponse,
    summary="The filtered list as an Excel file (Chinese headers)",
)
async def export_applications(
    session: SessionDep,
    principal: PrincipalDep,
    queue: QueueParam = None,
    state: StateParam = None,
    call_id: UUID | None = None,
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
    unit_id: UUID | None = None,
    q: Annotated[str | None, Query(max_length=100)] = None,
) -> Response:
    stmt = (
        _filtered(principal, queue, state, call_id, year, unit_id, q)
        .order_by(Application.code)
        .limit(100_000)
    )
    listed = list((await session.execute(stmt)).scalars())
    unit_names = await names.units(session, (a.unit_id for a in listed))
    people_names = await names.people(session, (a.applicant_person_id for a in listed))
    rows = [
        {
            "code": a.code,
            "title": a.title,
            "year": a.year,
            "unit_name": names.name_of(unit_names, a.unit_id),
            "applicant_name": names.name_of(people_names, a.applicant_person_id),
            "unit_id": str(a.unit_id),
            "applicant_person_id": str(a.applicant_person_id),
            "requested_funding_yuan": a.requested_funding_fen / 100,
            "state_zh": APPLICATION_MACHINE.state_labels_zh[a.state],
            "review_score": a.review_score,
            "submitted_at": a.submitted_at,
        }
        for a in listed
    ]
    return Response(
        export_xlsx(LIST_COLUMNS, rows, sheet="申报书"),
        media_type=XLSX_MEDIA_TYPE,
        headers={"Content-Disposition": 'attachment; filename="applications.xlsx"'},
    )


FUNDING_COLUMNS = [
    Column("rank", "排名", 6),
    Column("code", "申报编号"),
    Column("title", "项目名称", 40),
    Column("review_score", "评审得分", 10),
    Column("recommendation", "评审建议"),
    Column("requested_yuan", "申请经费（元）"),
    Column("cumulative_yuan", "累计经费（元）"),
    Column("above_line", "资助线内", 10),
    Column("state_zh", "状态"),
]


async def _funding_table(session: SessionDep, call_id: UUID) -> dict[str, Any]:
    call = await calls.get(session, call_id)
    apps = (
        (
            await session.execute(
                select(Application)
                .where(
                    Application.call_id == call_id,
                    Application.state.in_(("reviewed", "approved", "rejected")),
                    Application.review_score.is_not(None),
                )
                .order_by(Application.review_score.desc(), Application.submitted_at)
            )
        )
        .scalars()
        .all()
    )
    rows, cumulative = [], 0
    for rank, a in enumerate(apps, start=1):
        cumulative += a.requested_funding_fen
        above = rank <= call.projects_to_fund and cumulative <= call.budget_fen
        rows.append(
            {
                "rank": rank,
                "application_id": str(a.id),
                "code": a.code,
                "title": a.title,
                "review_score": a.review_score,
                "recommendation": (a.review or {}).get("recommendation"),
                "requested_fen": a.requested_funding_fen,
                "cumulative_fen": cumulative,
                "requested_yuan": a.requested_funding_fen / 100,
                "cumulative_yuan": cumulative / 100,
                "above_line": above,
                "state": a.state,
                "state_zh": APPLICATION_MACHINE.state_labels_zh[a.state],
            }
        )
    return {
        "call_id": str(call.id),
        "budget_fen": call.budget_fen,
        "projects_to_fund": call.projects_to_fund,
        "rule": "ranked by expert score; funded while within the number of projects and the budget",
        "rule_zh": "按专家评审得分排序，在资助项目数和预算内的为资助线内",
        "rows": rows,
    }


@router.get(
    "/funding-table/{call_id}",
    response_model=FundingTable,
    summary="Ranking and funding line of a call (staff)",
)
async def funding_table(call_id: UUID, session: SessionDep, _: StaffDep) -> dict[str, Any]:
    return await _funding_table(session, call_id)


@router.get(
    "/funding-table/{call_id}/export.xlsx", response_class=XlsxResponse, summary="The funding table as Excel"
)
async def funding_table_xlsx(call_id: UUID, session: SessionDep, _: StaffDep) -> Response:
    table = await _funding_table(session, call_id)
    rows = [r | {"above_line": "是" if r["above_line"] else "否"} for r in table["rows"]]
    return Response(
        export_xlsx(FUNDING_COLUMNS, rows, sheet="立项排序"),
        media_type=XLSX_MEDIA_TYPE,
        headers={"Content-Disposition": 'attachment; filename="funding-table.xlsx"'},
    )


@router.get(
    "/printed/{code}",
    response_model=PrintedCheck,
    response_model_exclude_unset=True,
    summary="Check a printed application's verification code: is it the archived text, are its seals valid",
)
async def verify(code: str, session: SessionDep, _: PrincipalDep) -> dict[str, Any]:
    prefix = document.digest_prefix(code)
    if prefix is None:
        raise ValidationFailed(
            [
                FieldIssue(
                    "code",
                    "invalid",
                    "a verification code is 20 hexadecimal digits in groups of four",
                    "核验码应为20位十六进制字符（每4位一组）",
                )
            ]
        )
    found = (
        await session.execute(
            select(ApplicationVersion, Application)
            .join(Application, Application.id == ApplicationVersion.application_id)
            .where(ApplicationVersion.digest >= prefix, ApplicationVersion.digest < prefix + "g")
            .limit(1)
        )
    ).first()
    if found is None:
        return {"code": document.verification_code(prefix), "found": False}
    version, app = found
    seals = [s for s in await service.seals_of(session, app) if s["revision"] == version.revision]
    # Only what the paper already shows: no names or texts for someone who merely holds a code.
    return {
        "code": document.verification_code(version.digest),
        "found": True,
        "application_code": app.code,
        "revision": version.revision,
        "digest": version.digest,
        "submitted_at": version.created_at,
        "latest_revision": app.revision,
        "is_latest_revision": version.revision == app.revision,
        "state": app.state,
        "state_zh": APPLICATION_MACHINE.state_labels_zh[app.state],
        "seals": [
            {
                "kind": s["kind"],
                "kind_zh": document.SEAL_ZH.get(s["kind"], s["kind"]),
                "at": s["at"],
                "valid": s["valid"],
            }
            for s in seals
        ],
    }


@router.get(
    "/{app_id}/document",
    response_class=HTMLResponse,
    summary="The printable application (申报书) of a submitted version: HTML for print, with digest, "
    "seals and verification code",
)
async def printable(
    app_id: UUID,
    session: SessionDep,
    principal: PrincipalDep,
    revision: Annotated[
        int | None, Query(ge=1, le=100_000, description="default: the latest submitted")
    ] = None,
) -> HTMLResponse:
    app = await load(session, app_id, principal)
    stmt = select(ApplicationVersion).where(ApplicationVersion.application_id == app.id)
    stmt = stmt.where(ApplicationVersion.revision == revision) if revision else stmt
    version = (
        await session.execute(stmt.order_by(ApplicationVersion.revision.desc()).limit(1))
    ).scalar_one_or_none()
    if version is None:
        raise NotFound(
            "no submitted version to print" + (f" for revision {revision}" if revision else ""),
            "该申报书尚无可打印的提交版本",
        )
    call = await calls.get(session, app.call_id)
    programme = await session.get(Programme, app.programme_code)
    c = version.content
    people = {
        p.id: p.name
        for p in (
            await session.execute(select(PersonView).where(PersonView.id == app.applicant_person_id))
        ).scalars()
    }
    org_ids = [app.unit_id] + ([app.competent_department_id] if app.competent_department_id else [])
    orgs = {
        o.id: o.name
        for o in (
            await session.execute(select(OrganisationView).where(OrganisationView.id.in_(org_ids)))
        ).scalars()
    }
    lead = next((m.get("name") for m in c.get("team") or [] if m.get("role") == "lead"), None)
    seals = [s for s in await service.seals_of(session, app) if s["revision"] == version.revision]
    for s in seals:
        if s.get("unit_id"):
            s["unit_name"] = orgs.get(UUID(s["unit_id"])) or names.unknown(s["unit_id"])
    recommendation = next((s for s in reversed(seals) if s["kind"] == "recommendation"), None)
    sheet = document.Sheet(
        code=app.code,
        revision=version.revision,
        digest=version.digest,
        submitted_at=version.created_at,
        state_zh=APPLICATION_MACHINE.state_labels_zh[app.state],
        call_title=call.title,
        programme_name=programme.name if programme else app.programme_code,
        content=c,
        applicant_name=people.get(app.applicant_person_id) or lead or names.unknown(app.applicant_person_id),
        unit_name=orgs.get(app.unit_id) or names.unknown(app.unit_id),
        department_name=(
            orgs.get(app.competent_department_id) or names.unknown(app.competent_department_id)
            if app.competent_department_id
            else ""
        ),
        seals=seals,
        recommended_matching_fund_fen=(
            int(recommendation["statement"]["matching_fund_fen"]) if recommendation else None
        ),
        printed_at=utcnow(),
    )
    return HTMLResponse(
        document.render(sheet),
        headers={
            "Content-Disposition": f'inline; filename="{app.code}-v{version.revision}.html"',
            "X-Content-Digest": version.digest,
        },
    )


@router.get("/{app_id}", response_model=ApplicationOut)
async def get_application(app_id: UUID, session: SessionDep, principal: PrincipalDep) -> ApplicationOut:
    return out(await load(session, app_id, principal), principal)


@router.patch("/{app_id}", response_model=ApplicationOut, summary="Edit a draft or returned application")
async def edit_application(
    app_id: UUID, body: ApplicationFields, uow: UnitOfWorkDep, principal: PrincipalDep
) -> ApplicationOut:
    app = await service.edit(
        uow, principal, await load(uow.session, app_id, principal, for_update=True), body
    )
    await uow.commit()
    return out(app, principal)


@router.post(
    "/{app_id}/actions/{action}", response_model=ApplicationOut, summary="Take a step of the machine"
)
async def act(
    app_id: UUID, action: str, body: ApplicationAction, uow: UnitOfWorkDep, principal: PrincipalDep
) -> ApplicationOut:
    # The row lock makes concurrent steps on one application (a double-clicked submit) run one
    # after the other: the second finds the new state and is refused with 409.
    app = await load(uow.session, app_id, principal, for_update=True)
    app = await service.act(uow, principal, app, action, body)
    await uow.commit()
    return out(app, principal)


@router.post(
    "/{app_id}/formal-check",
    response_model=FormalReport,
    summary="Run the automatic formal-review checks now (staff)",
)
async def formal_check(app_id: UUID, uow: UnitOfWorkDep, principal: StaffDep) -> dict[str, Any]:
    app = await load(uow.session, app_id, principal, for_update=True)
    call = await calls.get(uow.session, app.call_id)
    app.formal_report = await checks.formal_report(uow.session, app, call)
    await uow.record(
        "application.formal_check",
        entity_type="application",
        entity_id=app.id,
        changes={"passed": app.formal_report["passed"]},
    )
    await uow.commit()
    return app.formal_report


@router.get(
    "/{app_id}/steps", response_model=Page[StepOut], summary="Every step: actor, time, reason, comments"
)
async def steps(app_id: UUID, session: SessionDep, principal: PrincipalDep) -> Page[Any]:
    app = await load(session, app_id, principal)
    rows = (
        await session.execute(
            select(ApplicationStep)
            .where(ApplicationStep.application_id == app.id)
            .order_by(ApplicationStep.at, ApplicationStep.id)
        )
    ).scalars()
    return Page.whole(
        [
            {
                c: getattr(r, c)
                for c in (
                    "action",
                    "from_state",
                    "to_state",
                    "actor_id",
                    "actor_roles",
                    "reason",
                    "comments",
                    "revision",
                    "at",
                )
            }
            | {
                "actor_name": r.actor_name
                or ("系统" if "system" in r.actor_roles else names.unknown(r.actor_id))
            }
            for r in rows
        ]
    )


@router.get(
    "/{app_id}/versions", response_model=Page[VersionOut], summary="Each submitted version with its digest"
)
async def versions(app_id: UUID, session: SessionDep, principal: PrincipalDep) -> Page[Any]:
    app = await load(session, app_id, principal)
    rows = (
        await session.execute(
            select(ApplicationVersion)
            .where(ApplicationVersion.application_id == app.id)
            .order_by(ApplicationVersion.revision)
        )
    ).scalars()
    return Page.whole(
        [
            {"revision": r.revision, "digest": r.digest, "content": r.content, "created_at": r.created_at}
            for r in rows
        ]
    )


@router.get(
    "/{app_id}/seals",
    response_model=SealsOut,
    summary="Pledge, endorsement and recommendation seals, verified now",
)
async def seals(app_id: UUID, session: SessionDep, principal: PrincipalDep) -> dict[str, Any]:
    app = await load(session, app_id, principal)
    return {
        "current_digest": service.digest_of(service.content_of(app)),
        "revision": app.revision,
        "items": await service.seals_of(session, app),
    }
