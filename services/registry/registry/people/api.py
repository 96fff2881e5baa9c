from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Response, status
from sqlalchemy import select

from registry.access import is_staff
from registry.exports import XLSX_ANSWER, XlsxResponse
from registry.listing import PageRequestDep, list_page
from registry.organisations import repository as organisations
from registry.people import disclosure, identity, repository, service
from registry.people.models import Person
from registry.people.schemas import HistoryEntry, PersonCreate, PersonOut, PersonUpdate
from registry.reference import TitleCode
from shared.errors import Forbidden, NotFound
from shared.excel import XLSX_MEDIA_TYPE, Column, export_xlsx
from shared.http.auth import PrincipalDep
from shared.http.deps import RuntimeDep, SessionDep, UnitOfWorkDep
from shared.http.schemas import Page

router = APIRouter(prefix="/people", tags=["people"])
Sort = Literal["name", "-name", "birth_date", "-birth_date", "created_at", "-created_at"]


async def load_person(person_id: UUID, session: SessionDep, _: PrincipalDep) -> Person:
    person = await repository.get(session, person_id)
    if person is None:
        raise NotFound(f"person {person_id} not found", "未找到该人员")
    return person


PersonDep = Annotated[Person, Depends(load_person)]


@router.post("", status_code=status.HTTP_201_CREATED, response_model=PersonOut)
async def register_person(body: PersonCreate, uow: UnitOfWorkDep, principal: PrincipalDep) -> PersonOut:
    """Staff register anyone; a host-unit admin registers people of the units they act for."""
    person = await service.register(uow, principal, body)
    await uow.commit()
    return PersonOut.for_viewer(person, principal)


@router.get("", response_model=Page[PersonOut])
async def list_people(
    session: SessionDep,
    principal: PrincipalDep,
    page: PageRequestDep,
    q: Annotated[str | None, Query(max_length=100, description="part of the name")] = None,
    unit_id: UUID | None = None,
    title: TitleCode | None = None,
    full_time: bool | None = None,
    id_number: Annotated[str | None, Query(max_length=30, description="staff only: exact ID number")] = None,
    sort: Sort = "name",
) -> Page[PersonOut]:
    if id_number is not None and not is_staff(principal):
        raise Forbidden("only department staff may search by ID number", "仅科技厅业务处室可按身份证号码查询")
    disclosure.require_sort(disclosure.list_audience(principal), sort)
    fetched = await repository.list_page(
        session,
        repository.PersonFilter(
            q=q,
            unit_id=unit_id,
            title=title,
            full_time=full_time,
            id_number_hmac=identity.lookup_digest(id_number) if id_number else None,
        ),
        sort=sort,
        request=page,
    )
    return list_page(fetched, page, [PersonOut.for_viewer(p, principal) for p in fetched.rows])


EXPORT_COLUMNS = [
    Column("name", "姓名", 12),
    Column("id_number", "身份证号码", 22),
    Column("gender_zh", "性别", 6),
    Column("birth_date", "出生日期", 12),
    Column("title_zh", "职称", 12),
    Column("discipline", "学科", 16),
    Column("department", "院系/部门", 16),
    Column("unit_name", "工作单位", 30),
    Column("unit_id", "工作单位ID", 38),
    Column("employment", "全职/兼职", 10),
    Column("phone", "联系电话", 16),
    Column("email", "电子邮箱", 24),
]
EXPORT_LIMIT = 50_000


@router.get(
    "/export",
    response_class=XlsxResponse,
    responses=XLSX_ANSWER,
    summary="The people the caller manages as an Excel file, with the fields the caller may see",
)
async def export_people(
    session: SessionDep,
    principal: PrincipalDep,
    q: Annotated[str | None, Query(max_length=100)] = None,
    unit_id: UUID | None = None,
    title: TitleCode | None = None,
    full_time: bool | None = None,
    sort: Sort = "name",
) -> Response:
    """Staff export everyone; a host-unit admin the people of the units it acts for (masked ID
    number, no birth date); columns the caller may not see are left out of the sheet."""
    aud, units = disclosure.export_scope(principal, unit_id)
    disclosure.require_sort(aud, sort)
    items = await repository.all_matching(
        session,
        repository.PersonFilter(q=q, unit_id=unit_id, title=title, full_time=full_time, unit_ids=units),
        sort=sort,
        limit=EXPORT_LIMIT,
    )
    hidden = set(disclosure.withheld(aud)) - disclosure.MASKED_OTHERWISE
    if "unit_id" in hidden:
        hidden.add("unit_name")
    columns = [c for c in EXPORT_COLUMNS if c.key not in hidden]
    unit_names = await organisations.names_of(session, {p.unit_id for p in items if p.unit_id})
    rows = (
        PersonOut.of(p, aud).model_dump(mode="json")
        | {
            "employment": "全职" if p.full_time else "兼职",
            "unit_name": unit_names.get(p.unit_id) if p.unit_id else None,
        }
        for p in items
    )
    return Response(
        export_xlsx(columns, rows, sheet="人员"),
        media_type=XLSX_MEDIA_TYPE,
        headers={"Content-Disposition": "attachment; filename*=UTF-8''people.xlsx"},
    )


@router.get("/{person_id}", response_model=PersonOut)
async def get_person(person: PersonDep, principal: PrincipalDep) -> PersonOut:
    return PersonOut.for_viewer(person, principal)


@router.get(
    "/{person_id}/history",
    response_model=Page[HistoryEntry],
    summary="Every change to this person: who, when, what, why (the person view's field rules)",
)
async def person_history(
    person: PersonDep, session: SessionDep, runtime: RuntimeDep, principal: PrincipalDep
) -> Page[HistoryEntry]:
    aud = disclosure.audience(principal, person_id=person.id, unit_id=person.unit_id)
    a = runtime.tables.audit_log
    rows = (
        await session.execute(
            select(a.c.occurred_at, a.c.actor_id, a.c.action, a.c.changes, a.c.reason)
            .where(a.c.entity_type == "person", a.c.entity_id == str(person.id))
            .order_by(a.c.occurred_at, a.c.id)
        )
    ).mappings()
    items = []
    for r in rows:
        changes, hidden = disclosure.redact_changes(aud, r["changes"])
        items.append(
            HistoryEntry(
                occurred_at=r["occurred_at"],
                actor_id=r["actor_id"],
                action=r["action"],
                changes=changes,
                withheld_fields=hidden,
                reason=r["reason"],
            )
        )
    return Page.whole(items)


@router.patch("/{person_id}", response_model=PersonOut)
async def update_person(
    person_id: UUID, body: PersonUpdate, uow: UnitOfWorkDep, principal: PrincipalDep
) -> PersonOut:
    person = await repository.get(uow.session, person_id, for_update=True)
    if person is None:
        raise NotFound(f"person {person_id} not found", "未找到该人员")
    person = await service.update(uow, principal, person, body)
    await uow.commit()
    return PersonOut.for_viewer(person, principal)
