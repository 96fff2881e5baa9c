"""Excel import of platforms and people (导入): template with Chinese headers, a row-by-row
report of what is wrong and why, all-or-nothing or valid-rows-only, idempotent re-import.

Rows are matched to the register (platforms by code, or by name within the host unit; people
by resident ID number), so importing the same file twice changes nothing the second time.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal, TypeVar
from uuid import UUID

from pydantic import ValidationError
from sqlalchemy import select

from registry.access import is_staff, may_manage_unit
from registry.codes import REGION_LABELS
from registry.organisations.models import Organisation
from registry.people import identity
from registry.people import repository as people
from registry.people import service as people_service
from registry.people.schemas import PersonCreate
from registry.platforms import service as platforms
from registry.platforms.models import Platform
from registry.platforms.schemas import PlatformCreate
from registry.reference import FIELD_LABELS, LAB_TYPES, PLATFORM_KINDS, SUB_FIELD_LABELS, TITLES
from shared.auth import Principal
from shared.db import equals_any
from shared.errors import DomainError
from shared.excel import Column, SheetFormatError, SheetRow, export_xlsx, read_xlsx_then
from shared.ids import uuid7
from shared.uow import UnitOfWork

Mode = Literal["all_or_nothing", "valid_rows_only"]
MAX_ROWS = 20_000
R = TypeVar("R")

PLATFORM_COLUMNS = [
    Column("code", "平台编号", 16),
    Column("name", "平台名称", 40),
    Column("kind", "平台类别", 20),
    Column("host_unit_credit_code", "依托单位统一社会信用代码", 24),
    Column("lab_type", "实验室类型", 12),
    Column("field", "领域", 10),
    Column("sub_field", "细分领域", 16),
    Column("research_directions", "研究方向", 50),
    Column("region", "所在盟市", 12),
    Column("approved_on", "批准日期", 12),
    Column("approval_document", "批准文号", 20),
    Column("director_id_number", "主任身份证号码", 22),
    Column("director_term_start", "主任任期开始", 12),
    Column("director_term_end", "主任任期结束", 12),
    Column("director_full_time", "主任是否全职", 10),
    Column("staff_count", "固定人员数", 10),
    Column("initial_state", "状态", 10),
]
PLATFORM_REQUIRED = (
    "name",
    "kind",
    "host_unit_credit_code",
    "lab_type",
    "field",
    "sub_field",
    "research_directions",
    "region",
)

PEOPLE_COLUMNS = [
    Column("name", "姓名", 12),
    Column("id_number", "身份证号码", 22),
    Column("title", "职称", 12),
    Column("discipline", "学科", 16),
    Column("department", "院系/部门", 16),
    Column("unit_credit_code", "工作单位统一社会信用代码", 24),
    Column("full_time", "全职/兼职", 10),
    Column("phone", "联系电话", 16),
    Column("email", "电子邮箱", 24),
]
PEOPLE_REQUIRED = ("name", "id_number")

STATE_BY_ZH = {
    "拟建": "proposed",
    "建设期": "under_construction",
    "培育/建设期": "under_construction",
    "运行": "operating",
}
YES = {"是", "全职", "true", "TRUE", "1", "Y", "y"}


def _reverse(labels: dict[str, str]) -> dict[str, str]:
    return {zh: code for code, zh in labels.items()} | {code: code for code in labels}


KIND_BY = _reverse(PLATFORM_KINDS)
LAB_TYPE_BY = _reverse(LAB_TYPES)
FIELD_BY = _reverse(FIELD_LABELS)
SUB_FIELD_BY = _reverse(SUB_FIELD_LABELS)
REGION_BY = {zh: r.value for r, zh in REGION_LABELS.items()} | {r.value: r.value for r in REGION_LABELS}
TITLE_BY = _reverse(TITLES)


@dataclass
class RowIssue:
    row: int
    column: str
    message: str
    message_zh: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "row": self.row,
            "column": self.column,
            "message": self.message,
            "message_zh": self.message_zh,
        }


@dataclass
class ImportReport:
    mode: Mode
    rows: int = 0
    created: int = 0
    unchanged: int = 0
    rejected_rows: list[int] = field(default_factory=list)
    issues: list[RowIssue] = field(default_factory=list)
    committed: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "rows": self.rows,
            "created": self.created,
            "unchanged": self.unchanged,
            "rejected": len(self.rejected_rows),
            "rejected_rows": self.rejected_rows,
            "committed": self.committed,
            "issues": [i.as_dict() for i in self.issues],
        }


def template(columns: Sequence[Column], example: dict[str, Any]) -> bytes:
    return export_xlsx(columns, [example], sheet="导入模板")


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = str(value).strip()
    return text or None


def _mapped(value: Any, table: dict[str, str]) -> str | None:
    text = _text(value)
    return table.get(text, text) if text is not None else None


def _pydantic_issues(row: int, exc: ValidationError, headers: dict[str, str]) -> list[RowIssue]:
    issues = []
    for error in exc.errors():
        loc = [str(p) for p in error["loc"]]
        key = loc[0] if loc else ""
        header = headers.get(key, headers.get("director_" + (loc[-1] if loc else ""), key))
        ctx = error.get("ctx") or {}
        issues.append(RowIssue(row, header, error["msg"], str(ctx.get("message_zh") or "数据格式不正确")))
    return issues


async def _units_by_code(uow: UnitOfWork, codes: set[str]) -> dict[str, Organisation]:
    if not codes:
        return {}
    rows = await uow.session.execute(
        select(Organisation).where(equals_any(Organisation.credit_code, sorted(codes), "codes"))
    )
    return {o.credit_code: o for o in rows.scalars()}


async def _finish(uow: UnitOfWork, report: ImportReport) -> ImportReport:
    report.rejected_rows = sorted(set(report.rejected_rows))
    nothing_imported = not (report.created or report.unchanged)
    if (report.mode == "all_or_nothing" and report.rejected_rows) or nothing_imported:
        await uow.rollback()
        report.created = 0
        report.unchanged = 0
        return report
    await uow.commit()
    report.committed = True
    return report


async def _checked_rows(
    report: ImportReport,
    check: Callable[[list[SheetRow], identity.Keyring], list[R]],
    content: bytes,
    columns: Sequence[Column],
    required: Sequence[str],
) -> list[R]:
    """The sheet's rows as ``check`` leaves them in the parser's worker process; none, with the
    reason in the report, when the file is not the template or has no data rows."""
    try:
        rows = await read_xlsx_then(
            check, content, columns, identity.keyring(), required=required, max_rows=MAX_ROWS
        )
    except SheetFormatError as exc:
        report.issues.append(RowIssue(1, "", str(exc), "文件不是有效的导入模板（缺少必填列或格式错误）"))
        return []
    report.rows = len(rows)
    if not rows:
        report.issues.append(RowIssue(2, "", "the sheet has no data rows", "工作表中没有数据行"))
    return rows


_PLATFORM_HEADERS = {c.key: c.header_zh for c in PLATFORM_COLUMNS} | {
    "host_unit_id": "依托单位统一社会信用代码",
    "director": "主任身份证号码",
    "person_id": "主任身份证号码",
    "term_start": "主任任期开始",
    "term_end": "主任任期结束",
}
# Stands for the host unit and the director in the worker's validation; the event loop puts
# the register's ids in their place.
_RESOLVED_LATER = UUID(int=0)


@dataclass(frozen=True)
class CheckedPlatform:
    """One row of a platform import as the parser's worker process leaves it: the platform
    checked (host unit and director still to be found in the register), or what is wrong."""

    number: int
    unit_credit_code: str
    director_lookup: str | None  # the lookup digest of the director's ID number, if given
    issues: tuple[RowIssue, ...]
    platform: PlatformCreate | None = None


def check_platform_rows(rows: list[SheetRow], keyring: identity.Keyring) -> list[CheckedPlatform]:
    """The checks of a platform import that need no database, in the parser's worker process:
    mapping the labels, validating each platform and digesting the director's ID number."""
    identity.configure(keyring)
    headers = _PLATFORM_HEADERS
    checked = []
    for r in rows:
        v = r.values
        director_lookup = None
        director = None
        if v.get("director_id_number"):
            director_lookup = identity.lookup_digest(str(v["director_id_number"]))
            director = {
                "person_id": _RESOLVED_LATER,
                "term_start": _text(v.get("director_term_start")),
                "term_end": _text(v.get("director_term_end")),
                "full_time": _text(v.get("director_full_time")) in YES
                if v.get("director_full_time") is not None
                else True,
            }
        directions = [
            d.strip()
            for d in str(v.get("research_directions") or "").replace(";", "；").split("；")
            if d.strip()
        ]
        data = {
            "code": _text(v.get("code")),
            "name": _text(v.get("name")),
            "kind": _mapped(v.get("kind"), KIND_BY),
            "host_unit_id": _RESOLVED_LATER,
            "lab_type": _mapped(v.get("lab_type"), LAB_TYPE_BY),
            "field": _mapped(v.get("field"), FIELD_BY),
            "sub_field": _mapped(v.get("sub_field"), SUB_FIELD_BY),
            "research_directions": directions,
            "region": _mapped(v.get("region"), REGION_BY),
            "approved_on": _text(v.get("approved_on")),
            "approval_document": _text(v.get("approval_document")),
            "director": director,
            "staff_count": _text(v.get("staff_count")) or 0,
            "initial_state": _mapped(v.get("initial_state"), STATE_BY_ZH) or "operating",
        }
        unit_code = str(v.get("host_unit_credit_code") or "").upper()
        issues: list[RowIssue] = []
        platform = None
        try:
            platform = PlatformCreate.model_validate({k: val for k, val in data.items() if val is not None})
        except ValidationError as exc:
            issues.extend(_pydantic_issues(r.number, exc, headers))
        except DomainError as exc:
            for i in getattr(exc, "issues", []):
                issues.append(RowIssue(r.number, headers.get(i.field, i.field), i.message, i.message_zh))
        checked.append(CheckedPlatform(r.number, unit_code, director_lookup, tuple(issues), platform))
    return checked


async def import_platforms(uow: UnitOfWork, principal: Principal, content: bytes, mode: Mode) -> ImportReport:
    """Platforms are checked row by row in the parser's worker process, matched to the
    register's units and people here, then written in bulk (``platforms.register_many``)."""
    report = ImportReport(mode)
    headers = _PLATFORM_HEADERS
    rows = await _checked_rows(report, check_platform_rows, content, PLATFORM_COLUMNS, PLATFORM_REQUIRED)
    if not rows:
        return report
    units = await _units_by_code(uow, {r.unit_credit_code for r in rows})
    directors = await people.ids_by_hmac(
        uow.session, {r.director_lookup for r in rows if r.director_lookup is not None}
    )
    parsed: list[tuple[int, PlatformCreate | None]] = []
    for i, r in enumerate(rows):
        if i % 500 == 499:
            await asyncio.sleep(0)  # 20,000 rows in one go would hold other requests back
        row_issues: list[RowIssue] = []
        unit = units.get(r.unit_credit_code)
        if unit is None:
            row_issues.append(
                RowIssue(
                    r.number,
                    headers["host_unit_credit_code"],
                    "no unit with this credit code",
                    "依托单位未在库中登记",
                )
            )
        person_id = directors.get(r.director_lookup) if r.director_lookup is not None else None
        if r.director_lookup is not None and person_id is None:
            row_issues.append(
                RowIssue(
                    r.number,
                    headers["director_id_number"],
                    "no person with this ID number",
                    "主任未在人员库中登记",
                )
            )
        row_issues.extend(r.issues)
        model = None
        if not row_issues and r.platform is not None and unit is not None:
            director = r.platform.director
            model = r.platform.model_copy(
                update={
                    "host_unit_id": unit.id,
                    "director": director.model_copy(update={"person_id": person_id}) if director else None,
                }
            )
        if row_issues:
            report.issues.extend(row_issues)
            report.rejected_rows.append(r.number)
        parsed.append((r.number, model))

    valid = [m for _, m in parsed if isinstance(m, PlatformCreate)]
    existing_codes, existing_names = await _existing_platforms(uow, valid)
    to_create: list[PlatformCreate] = []
    seen_codes: dict[str, int] = {}
    seen_names: dict[tuple[str, Any], int] = {}
    for number, candidate in parsed:
        if not isinstance(candidate, PlatformCreate):
            continue
        model = candidate
        name_key = (model.name, model.host_unit_id)
        if (model.code and model.code in existing_codes) or (not model.code and name_key in existing_names):
            report.unchanged += 1
            continue
        first = (
            seen_codes.setdefault(model.code, number)
            if model.code
            else seen_names.setdefault(name_key, number)
        )
        if first != number:
            column = headers["code"] if model.code else headers["name"]
            report.issues.append(
                RowIssue(number, column, f"same platform as row {first}", f"与第{first}行为同一平台")
            )
            report.rejected_rows.append(number)
            continue
        if not may_manage_unit(principal, model.host_unit_id) or (
            model.initial_state != "proposed" and not is_staff(principal)
        ):
            report.issues.append(
                RowIssue(
                    number, headers["host_unit_credit_code"], "not a unit you act for", "无权为该单位登记平台"
                )
            )
            report.rejected_rows.append(number)
            continue
        to_create.append(model)
    if mode == "all_or_nothing" and report.rejected_rows:
        report.unchanged = 0
        return report
    created = await platforms.register_many(uow, principal, to_create, reason="Excel导入")
    report.created = len(created)
    return await _finish(uow, report)


async def _existing_platforms(
    uow: UnitOfWork, models: list[PlatformCreate]
) -> tuple[set[str], set[tuple[str, Any]]]:
    codes = {m.code for m in models if m.code}
    names = {m.name for m in models if not m.code}
    found_codes: set[str] = set()
    found_names: set[tuple[str, Any]] = set()
    if codes:
        rows = await uow.session.execute(
            select(Platform.code).where(equals_any(Platform.code, codes, "codes"))
        )
        found_codes = set(rows.scalars())
    if names:
        rows2 = await uow.session.execute(
            select(Platform.name, Platform.host_unit_id).where(equals_any(Platform.name, names, "names"))
        )
        found_names = {(n, u) for n, u in rows2.all()}
    return found_codes, found_names


_PEOPLE_HEADERS = {c.key: c.header_zh for c in PEOPLE_COLUMNS} | {
    "unit_id": "工作单位统一社会信用代码",
    "birth_date": "身份证号码",
    "gender": "身份证号码",
}


@dataclass(frozen=True)
class CheckedPerson:
    """One row of a people import as the parser's worker process leaves it: what the row is
    worth without the register (checked, normalised, encrypted), and what still needs it.

    Plain values only (the id and the birth date as text): the rows come back to the event
    loop pickled, and 20,000 ``UUID`` and ``date`` objects take a fifth of a second to unpickle
    while the loop waits."""

    number: int
    unit_credit_code: str | None  # looked up in the register on the event loop
    issues: tuple[RowIssue, ...]  # what is wrong with the row itself
    id_number: str | None = None  # normalised, when the row is valid
    person: dict[str, Any] | None = None  # see ``people_service.register_imported``

    @property
    def lookup(self) -> str | None:
        return self.person["id_number_hmac"] if self.person else None


def check_people_rows(rows: list[SheetRow], keyring: identity.Keyring) -> list[CheckedPerson]:
    """The checks of a people import that need no database, in the parser's worker process:
    mapping the cells, validation, the birth date and gender read from the ID number, its
    digests and its ciphertext."""
    identity.configure(keyring)
    headers = _PEOPLE_HEADERS
    checked = []
    for r in rows:
        v = r.values
        unit_code = str(v["unit_credit_code"]).upper() if v.get("unit_credit_code") else None
        data = {
            "name": _text(v.get("name")),
            "id_number": _text(v.get("id_number")),
            "title": _mapped(v.get("title"), TITLE_BY),
            "discipline": _text(v.get("discipline")),
            "department": _text(v.get("department")),
            "full_time": (_text(v.get("full_time")) in YES) if v.get("full_time") is not None else True,
            "phone": _text(v.get("phone")),
            "email": _text(v.get("email")),
        }
        try:
            model = PersonCreate.model_validate({k: val for k, val in data.items() if val is not None})
        except ValidationError as exc:
            checked.append(
                CheckedPerson(r.number, unit_code, tuple(_pydantic_issues(r.number, exc, headers)))
            )
            continue
        number = model.id_number
        person = {
            "id": str(uuid7()),
            "name": model.name,
            "gender": identity.gender_of(number),
            "birth_date": identity.birth_date_of(number).isoformat(),
            "title": model.title,
            "discipline": model.discipline,
            "department": model.department,
            "full_time": model.full_time,
            "phone": model.phone,
            "email": model.email,
            "id_number_ciphertext": identity.encrypt(number),
            "id_number_hmac": identity.lookup_digest(number),
            "id_number_digest": identity.digest(number),
        }
        checked.append(CheckedPerson(r.number, unit_code, (), id_number=number, person=person))
    return checked


async def import_people(uow: UnitOfWork, principal: Principal, content: bytes, mode: Mode) -> ImportReport:
    """People are checked row by row in the parser's worker process, matched to the register
    here, then written in bulk (see ``register_imported``)."""
    report = ImportReport(mode)
    headers = _PEOPLE_HEADERS
    rows = await _checked_rows(report, check_people_rows, content, PEOPLE_COLUMNS, PEOPLE_REQUIRED)
    if not rows:
        return report
    units = await _units_by_code(uow, {r.unit_credit_code for r in rows if r.unit_credit_code})
    registered = set(await people.ids_by_hmac(uow.session, {r.lookup for r in rows if r.lookup}))
    to_create: list[tuple[dict[str, Any], UUID | None]] = []
    seen: dict[str, int] = {}
    for r in rows:
        row_issues: list[RowIssue] = []
        unit_id = None
        if r.unit_credit_code:
            unit = units.get(r.unit_credit_code)
            if unit is None:
                row_issues.append(
                    RowIssue(
                        r.number,
                        headers["unit_credit_code"],
                        "no unit with this credit code",
                        "工作单位未在库中登记",
                    )
                )
            else:
                unit_id = unit.id
        if not row_issues:
            row_issues.extend(r.issues)
        if not row_issues and r.id_number is not None:
            first = seen.setdefault(r.id_number, r.number)
            if first != r.number:
                row_issues.append(
                    RowIssue(
                        r.number,
                        headers["id_number"],
                        f"same ID number as row {first}",
                        f"与第{first}行身份证号码重复",
                    )
                )
            elif not may_manage_unit(principal, unit_id):
                row_issues.append(
                    RowIssue(
                        r.number,
                        headers["unit_credit_code"],
                        "not a unit you act for",
                        "无权登记非本单位人员",
                    )
                )
        if row_issues:
            report.issues.extend(row_issues)
            report.rejected_rows.append(r.number)
        elif r.lookup in registered:
            report.unchanged += 1
        elif r.person is not None:
            to_create.append((r.person, unit_id))
    if mode == "all_or_nothing" and report.rejected_rows:
        report.unchanged = 0
        return report
    report.created = await people_service.register_imported(uow, principal, to_create, reason="Excel导入")
    return await _finish(uow, report)


EXPORT_EXTRA = [Column("state_zh", "当前状态", 10), Column("merged_into_code", "整合至", 16)]


async def platform_rows(session: Any, items: Sequence[Platform], *, reveal_ids: bool) -> list[dict[str, Any]]:
    """Platforms as rows under the import headers, so an exported list can be re-imported as is."""
    from registry.people.models import Person
    from registry.platforms.machine import STATE_LABELS

    unit_ids = {p.host_unit_id for p in items}
    units = (
        {
            o.id: o.credit_code
            for o in (
                await session.execute(select(Organisation).where(Organisation.id.in_(unit_ids)))
            ).scalars()
        }
        if unit_ids
        else {}
    )
    person_ids = {p.director_person_id for p in items if p.director_person_id}
    numbers = (
        {
            p.id: p.id_number
            for p in (await session.execute(select(Person).where(Person.id.in_(person_ids)))).scalars()
        }
        if person_ids
        else {}
    )
    codes = {p.id: p.code for p in items}
    rows = []
    for p in items:
        number = numbers.get(p.director_person_id) if p.director_person_id else None
        rows.append(
            {
                "code": p.code,
                "name": p.name,
                "kind": PLATFORM_KINDS[p.kind],
                "host_unit_credit_code": units.get(p.host_unit_id),
                "lab_type": LAB_TYPES[p.lab_type],
                "field": FIELD_LABELS[p.field],
                "sub_field": SUB_FIELD_LABELS.get(p.sub_field, p.sub_field),
                "research_directions": "；".join(p.research_directions),
                "region": REGION_LABELS.get(p.region),  # type: ignore[call-overload]
                "approved_on": p.approved_on,
                "approval_document": p.approval_document,
                "director_id_number": (number if reveal_ids else identity.mask(number)) if number else None,
                "director_term_start": p.director_term_start,
                "director_term_end": p.director_term_end,
                "director_full_time": ("是" if p.director_full_time else "否")
                if p.director_person_id
                else None,
                "staff_count": p.staff_count,
                "initial_state": STATE_LABELS[p.state] if p.state in STATE_BY_ZH.values() else None,
                "state_zh": STATE_LABELS[p.state],
                "merged_into_code": codes.get(p.merged_into_id) if p.merged_into_id else None,
            }
        )
    return rows
