from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Response, status

from registry.access import acting_units, directed_platforms, is_staff
from registry.advisor.duplicates import duplicates_of
from registry.codes import Region
from registry.exports import XLSX_ANSWER, XlsxResponse
from registry.imports import service as imports
from registry.listing import PageRequestDep, list_page
from registry.organisations import repository as organisations
from registry.people import repository as people
from registry.platforms import consequences, repository, service
from registry.platforms.machine import ACTION_LABELS, PLATFORM_MACHINE
from registry.platforms.models import (
    Platform,
    PlatformAssessment,
    PlatformMember,
    PlatformOutput,
    RevocationCase,
)
from registry.platforms.schemas import (
    CASE_STATUS_LABELS,
    ActionRequest,
    AppointmentOut,
    AppointmentsOut,
    AssessmentOut,
    CaseDecisionIn,
    DuplicatesOut,
    HistoryEntryOut,
    IndustryChain,
    Kind,
    LabType,
    MemberIn,
    MemberOut,
    OutputIn,
    OutputOut,
    PlatformCreate,
    PlatformMachineOut,
    PlatformOut,
    PlatformRef,
    PlatformUpdate,
    RevocationCaseOut,
    StateCode,
    SupportCandidateOut,
)
from registry.platforms.tenure import term_years, terms_served
from registry.reference import FieldCode, SubFieldCode
from shared.auth import Principal
from shared.clock import utcnow
from shared.errors import NotFound
from shared.excel import XLSX_MEDIA_TYPE, Column, export_xlsx
from shared.http.auth import PrincipalDep
from shared.http.deps import PageDep, SessionDep, UnitOfWorkDep
from shared.http.schemas import Page

router = APIRouter(prefix="/platforms", tags=["platforms"])
Sort = Literal["code", "-code", "name", "-name", "approved_on", "-approved_on", "updated_at", "-updated_at"]
Action = Literal[
    "start_construction",
    "accept",
    "open_rectification",
    "close_rectification",
    "revoke",
    "strengthen",
    "adjust",
    "merge",
    "promote",
    "demote",
    "reclassify",
]
EXPORT_LIMIT = 20_000


async def load_platform(platform_id: UUID, session: SessionDep, _: PrincipalDep) -> Platform:
    p = await repository.get(session, platform_id)
    if p is None:
        raise NotFound(f"platform {platform_id} not found", "未找到该平台")
    return p


PlatformDep = Annotated[Platform, Depends(load_platform)]


async def locked(uow: UnitOfWorkDep, platform_id: UUID) -> Platform:
    p = await repository.get(uow.session, platform_id, for_update=True)
    if p is None:
        raise NotFound(f"platform {platform_id} not found", "未找到该平台")
    return p


class Filters:
    """The columns officials filter by; ``mine`` narrows to the platforms the caller acts for."""

    def __init__(
        self,
        q: Annotated[
            str | None, Query(max_length=100, description="name, code or research directions")
        ] = None,
        kind: Kind | None = None,
        state: StateCode | None = None,
        field: FieldCode | None = None,
        sub_field: SubFieldCode | None = None,
        region: Region | None = None,
        host_unit_id: UUID | None = None,
        lab_type: LabType | None = None,
        industry_chain: IndustryChain | None = None,
        mine: bool = False,
        sort: Sort = "code",
    ) -> None:
        self.sort = sort
        self.mine = mine
        self.values: dict[str, Any] = dict(
            q=q,
            kind=kind,
            state=state,
            field=field,
            sub_field=sub_field,
            region=region.value if region else None,
            host_unit_id=host_unit_id,
            lab_type=lab_type,
            industry_chain=industry_chain,
        )

    def to_filter(self, principal: Principal) -> repository.PlatformFilter:
        if not self.mine:
            return repository.PlatformFilter(**self.values)
        units, platforms = acting_units(principal), directed_platforms(principal)
        if platforms and not units:
            return repository.PlatformFilter(**self.values, ids=platforms)
        return repository.PlatformFilter(**self.values, host_unit_ids=units)


FiltersDep = Annotated[Filters, Depends()]


@router.get(
    "/lifecycle",
    response_model=PlatformMachineOut,
    summary="The lifecycle state machine with Chinese labels",
)
async def lifecycle(_: PrincipalDep) -> dict[str, object]:
    return PLATFORM_MACHINE.describe() | {"action_labels": ACTION_LABELS}


@router.post("", status_code=status.HTTP_201_CREATED, response_model=PlatformOut)
async def register_platform(body: PlatformCreate, uow: UnitOfWorkDep, principal: PrincipalDep) -> PlatformOut:
    p = await service.register(uow, principal, body)
    years = await term_years(uow.session)
    await uow.commit()
    return PlatformOut.of(p, term_years=years)


@router.get("", response_model=Page[PlatformOut])
async def list_platforms(
    session: SessionDep, principal: PrincipalDep, page: PageRequestDep, filters: FiltersDep
) -> Page[PlatformOut]:
    """Page/size with the total, or ``cursor`` (keyset) paging; see ``registry.paging``."""
    fetched = await repository.list_page(
        session, filters.to_filter(principal), sort=filters.sort, request=page
    )
    years = await term_years(session)
    former = await repository.former_codes_of(session, [p.id for p in fetched.rows])
    items = [PlatformOut.of(p, former.get(p.id), term_years=years) for p in fetched.rows]
    return list_page(fetched, page, items)


#: Names beside the codes (an exported sheet is read by people), after the import's columns so
#: that the sheet still imports as it is.
EXPORT_NAMES = [Column("host_unit_name", "依托单位名称", 30), Column("director_name", "主任姓名", 12)]


@router.get(
    "/export",
    response_class=XlsxResponse,
    responses=XLSX_ANSWER,
    summary="The filtered list as an Excel file with Chinese headers",
)
async def export_platforms(session: SessionDep, principal: PrincipalDep, filters: FiltersDep) -> Response:
    items = await repository.all_matching(
        session, filters.to_filter(principal), sort=filters.sort, limit=EXPORT_LIMIT
    )
    rows = await imports.platform_rows(session, items, reveal_ids=is_staff(principal))
    units = await organisations.names_of(session, {p.host_unit_id for p in items})
    directors = await people.get_many(session, {p.director_person_id for p in items if p.director_person_id})
    for p, row in zip(items, rows, strict=True):
        director = directors.get(p.director_person_id) if p.director_person_id else None
        row["host_unit_name"] = units.get(p.host_unit_id)
        row["director_name"] = director.name if director else None
    return Response(
        export_xlsx(
            [*imports.PLATFORM_COLUMNS, *imports.EXPORT_EXTRA, *EXPORT_NAMES], rows, sheet="创新平台"
        ),
        media_type=XLSX_MEDIA_TYPE,
        headers={"Content-Disposition": "attachment; filename*=UTF-8''platforms.xlsx"},
    )


@router.get(
    "/support-candidates",
    response_model=Page[SupportCandidateOut],
    summary="Labs an excellent assessment (优秀) put on the support-candidate list, with the evidence",
)
async def support_candidates(
    session: SessionDep,
    principal: PrincipalDep,
    paging: PageDep,
    field: FieldCode | None = None,
    region: Region | None = None,
    kind: Kind | None = None,
) -> Page[SupportCandidateOut]:
    rows, total = await consequences.support_candidates(
        session,
        principal,
        field=field,
        region=region.value if region else None,
        kind=kind,
        offset=paging.offset,
        limit=paging.size,
    )
    items = [
        SupportCandidateOut(
            id=r.entry.id,
            listed_at=r.entry.listed_at,
            platform=PlatformRef.of(r.platform),
            evidence=AssessmentOut.of(r.assessment),
        )
        for r in rows
    ]
    return Page(items=items, total=total, page=paging.page, size=paging.size)


def _case_out(case: RevocationCase, p: Platform, cited: dict[str, PlatformAssessment]) -> RevocationCaseOut:
    return RevocationCaseOut(
        id=case.id,
        status=case.status,
        status_zh=CASE_STATUS_LABELS[case.status],
        allowed_actions=list(consequences.CASE_DECISIONS) if case.status == "open" else [],
        platform=PlatformRef.of(p),
        assessments=[AssessmentOut.of(cited[i]) for i in case.assessment_ids if i in cited],
        opened_at=case.opened_at,
        opened_reason=case.opened_reason,
        decided_at=case.decided_at,
        decided_by=case.decided_by,
        decision_reason=case.decision_reason,
        decision_document=case.decision_document,
        version=case.version,
    )


@router.get(
    "/revocation-cases",
    response_model=Page[RevocationCaseOut],
    summary="撤销（取消资格）cases: failed again while under rectification, citing both assessments",
)
async def revocation_cases(
    session: SessionDep,
    principal: PrincipalDep,
    paging: PageDep,
    status: Literal["open", "revoked", "dismissed"] | None = None,
) -> Page[RevocationCaseOut]:
    rows, total = await consequences.revocation_cases(
        session, principal, status=status, offset=paging.offset, limit=paging.size
    )
    cited = await consequences.cited(session, [c for c, _ in rows])
    return Page(
        items=[_case_out(c, p, cited) for c, p in rows], total=total, page=paging.page, size=paging.size
    )


@router.get(
    "/revocation-cases/{case_id}",
    response_model=RevocationCaseOut,
    summary="One 撤销 case with the assessments it cites",
)
async def revocation_case(case_id: UUID, session: SessionDep, principal: PrincipalDep) -> RevocationCaseOut:
    case, p = await consequences.revocation_case(session, principal, case_id)
    return _case_out(case, p, await consequences.cited(session, [case]))


@router.post(
    "/revocation-cases/{case_id}/decision",
    response_model=RevocationCaseOut,
    summary="Decide a 撤销 case: revoke the platform, or dismiss the case (rectification goes on)",
)
async def decide_revocation_case(
    case_id: UUID, body: CaseDecisionIn, uow: UnitOfWorkDep, principal: PrincipalDep
) -> RevocationCaseOut:
    case, p = await consequences.decide(
        uow, principal, case_id, body.decision, body.reason, body.document_number
    )
    cited = await consequences.cited(uow.session, [case])
    out = _case_out(case, p, cited)
    await uow.commit()
    return out


@router.get(
    "/by-code/{code}",
    response_model=PlatformOut,
    summary="The platform with this code, now or before a change of kind (原编号)",
)
async def platform_by_code(code: str, session: SessionDep, _: PrincipalDep) -> PlatformOut:
    p = await repository.by_code(session, code.strip().upper())
    if p is None:
        raise NotFound(f"no platform has or had the code {code}", "未找到该编号的平台")
    return PlatformOut.of(
        p, await repository.former_codes(session, p.id), term_years=await term_years(session)
    )


@router.get("/{platform_id}", response_model=PlatformOut)
async def get_platform(p: PlatformDep, session: SessionDep) -> PlatformOut:
    return PlatformOut.of(
        p, await repository.former_codes(session, p.id), term_years=await term_years(session)
    )


@router.patch("/{platform_id}", response_model=PlatformOut)
async def update_platform(
    platform_id: UUID, body: PlatformUpdate, uow: UnitOfWorkDep, principal: PrincipalDep
) -> PlatformOut:
    p = await service.update(uow, principal, await locked(uow, platform_id), body)
    years = await term_years(uow.session)
    await uow.commit()
    return PlatformOut.of(p, term_years=years)


@router.post(
    "/{platform_id}/actions/{action}",
    response_model=PlatformOut,
    summary="Lifecycle step or 充实/调整/整合/撤销",
)
async def platform_action(
    platform_id: UUID, action: Action, body: ActionRequest, uow: UnitOfWorkDep, principal: PrincipalDep
) -> PlatformOut:
    if action == "merge":
        absorbed, _ = await service.merge(uow, principal, platform_id, body)
        years = await term_years(uow.session)
        await uow.commit()
        return PlatformOut.of(absorbed, term_years=years)
    p = await service.act(uow, principal, await locked(uow, platform_id), action, body)
    former = await repository.former_codes(uow.session, p.id)
    years = await term_years(uow.session)
    await uow.commit()
    return PlatformOut.of(p, former, term_years=years)


@router.get(
    "/{platform_id}/history",
    response_model=Page[HistoryEntryOut],
    summary="Append-only history: who, when, what, why, documents",
)
async def platform_history(p: PlatformDep, session: SessionDep) -> Page[HistoryEntryOut]:
    rows = await repository.history(session, p.id)
    return Page.whole(
        [
            HistoryEntryOut(
                occurred_at=h.occurred_at,
                actor_id=h.actor_id,
                action=h.action,
                action_zh=ACTION_LABELS.get(h.action, h.action),
                from_state=h.from_state,
                to_state=h.to_state,
                reason=h.reason,
                document_number=h.document_number,
                attachments=list(h.attachments or []),
                details=dict(h.details or {}),
                related_platform_id=h.related_platform_id,
            )
            for h in rows
        ]
    )


@router.get(
    "/{platform_id}/duplicates",
    response_model=DuplicatesOut,
    summary="Labs of the same sub-field whose research directions duplicate this one's (唯一性)",
)
async def platform_duplicates(p: PlatformDep, session: SessionDep) -> DuplicatesOut:
    return DuplicatesOut.model_validate(
        {"platform_id": p.id, "code": p.code} | await duplicates_of(session, p)
    )


@router.get(
    "/{platform_id}/director-appointments",
    response_model=AppointmentsOut,
    summary="Director appointment history (主任任职记录); consecutive terms are derived from it",
)
async def director_appointments(p: PlatformDep, session: SessionDep) -> AppointmentsOut:
    years = await term_years(session)
    today = utcnow().date()
    return AppointmentsOut(
        term_years=years,
        items=[
            AppointmentOut(
                person_id=a.person_id,
                started_on=a.started_on,
                ended_on=a.ended_on,
                terms_served=terms_served(a.started_on, a.ended_on or today, years),
                recorded_at=a.recorded_at,
                recorded_by=a.recorded_by,
            )
            for a in await repository.appointments(session, p.id)
        ],
    )


def _member_out(m: PlatformMember) -> MemberOut:
    return MemberOut(person_id=m.person_id, role=m.role, joined_on=m.joined_on)


@router.get("/{platform_id}/members", response_model=Page[MemberOut])
async def list_members(p: PlatformDep, session: SessionDep) -> Page[MemberOut]:
    return Page.whole([_member_out(m) for m in await repository.members(session, p.id)])


@router.post("/{platform_id}/members", status_code=status.HTTP_201_CREATED, response_model=MemberOut)
async def add_member(
    platform_id: UUID, body: MemberIn, uow: UnitOfWorkDep, principal: PrincipalDep
) -> MemberOut:
    member = await service.add_member(uow, principal, await locked(uow, platform_id), body)
    await uow.commit()
    return _member_out(member)


@router.get(
    "/{platform_id}/members/{person_id}",
    response_model=MemberOut,
    summary="One person's place on the platform's team",
)
async def get_member(p: PlatformDep, person_id: UUID, session: SessionDep) -> MemberOut:
    member = await repository.member(session, p.id, person_id)
    if member is not None:
        return _member_out(member)
    raise NotFound(f"person {person_id} is not on this platform's team", "该人员不是本平台团队成员")


@router.delete("/{platform_id}/members/{person_id}", status_code=status.HTTP_204_NO_CONTENT)
async def remove_member(
    platform_id: UUID, person_id: UUID, uow: UnitOfWorkDep, principal: PrincipalDep
) -> Response:
    await service.remove_member(uow, principal, await locked(uow, platform_id), person_id)
    await uow.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{platform_id}/outputs", response_model=Page[OutputOut], summary="Yearly outputs (年度产出)")
async def list_outputs(p: PlatformDep, session: SessionDep) -> Page[OutputOut]:
    return Page.whole([OutputOut.of(o) for o in (await repository.outputs(session, [p.id]))[p.id]])


@router.get("/{platform_id}/outputs/{year}", response_model=OutputOut, summary="One year's outputs")
async def get_output(p: PlatformDep, year: int, session: SessionDep) -> OutputOut:
    row = await session.get(PlatformOutput, (p.id, year))
    if row is not None:
        return OutputOut.of(row)
    raise NotFound(f"no outputs reported for {year}", f"未填报{year}年度产出")


@router.put("/{platform_id}/outputs/{year}", response_model=OutputOut)
async def report_output(
    platform_id: UUID, year: int, body: OutputIn, uow: UnitOfWorkDep, principal: PrincipalDep
) -> OutputOut:
    row = await service.report_output(uow, principal, await locked(uow, platform_id), year, body)
    await uow.commit()
    return OutputOut.of(row)
