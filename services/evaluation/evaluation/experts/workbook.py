"""The expert database as a workbook: nominate experts from .xlsx (all or nothing), export it."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import select

from evaluation import disciplines
from evaluation.codes import EXPERT_STATUSES
from evaluation.experts.models import Expert, PersonView
from evaluation.experts.service import enrol
from shared.errors import FieldIssue, ValidationFailed
from shared.excel import Column, SheetFormatError, export_xlsx, read_xlsx
from shared.uow import UnitOfWork

IMPORT_COLUMNS = [
    Column("id_number_digest", "身份证号摘要"),
    Column("region", "地区"),
    Column("title", "职称"),
    Column("disciplines", "学科代码"),
    Column("keywords", "关键词"),
    Column("max_load", "每轮最多评审数"),
]
IMPORT_REQUIRED = ("id_number_digest", "region", "title", "disciplines")


def _split(value: Any) -> list[str]:
    return [p.strip() for p in str(value or "").replace("，", ",").split(",") if p.strip()]


async def import_experts(uow: UnitOfWork, content: bytes) -> list[Expert]:
    """Nominate experts from a workbook, all or nothing; people matched by verified identifier only."""
    try:
        rows = await read_xlsx(content, IMPORT_COLUMNS, required=IMPORT_REQUIRED, max_rows=5000)
    except SheetFormatError as exc:
        raise ValidationFailed([FieldIssue("file", "bad_sheet", str(exc), "Excel文件格式不正确")]) from exc
    if not rows:
        raise ValidationFailed(
            [FieldIssue("file", "empty_sheet", "the sheet has no data rows", "工作表中没有数据行")]
        )
    issues: list[FieldIssue] = []
    planned: list[tuple[UUID, dict[str, Any]]] = []
    for row in rows:
        v = row.values
        digest = str(v.get("id_number_digest") or "").strip().lower()
        person = (
            await uow.session.execute(select(PersonView).where(PersonView.id_number_digest == digest))
        ).scalar()
        if person is None:
            issues.append(
                FieldIssue(
                    f"rows[{row.number}].id_number_digest",
                    "unverified",
                    "no verified registry person with this identifier",
                    "未找到已核验身份的人员",
                )
            )
            continue
        try:
            max_load = int(v.get("max_load") or 20)
        except ValueError:
            max_load = -1
        if not 1 <= max_load <= 200:
            issues.append(
                FieldIssue(f"rows[{row.number}].max_load", "range", "between 1 and 200", "应在1到200之间")
            )
            continue
        codes = [c.upper() for c in _split(v["disciplines"])[:10]]
        unknown = [c for c in codes if not disciplines.known(c)]
        if unknown:
            issues.append(
                FieldIssue(
                    f"rows[{row.number}].disciplines",
                    "unknown_discipline",
                    f"unknown discipline codes {unknown} (NSFC application codes)",
                    f"未知的学科代码：{'、'.join(unknown)}",
                )
            )
            continue
        data = {
            "region": str(v["region"]).strip()[:6],
            "title": str(v["title"]).strip()[:50],
            "disciplines": codes,
            "keywords": _split(v.get("keywords"))[:20],
            "max_load": max_load,
        }
        planned.append((person.id, data))
    if issues:
        raise ValidationFailed(issues)
    return [await enrol(uow, person_id=pid, origin="nominated", data=data) for pid, data in planned]


EXPORT_COLUMNS = [
    Column("name", "姓名"),
    Column("title", "职称"),
    Column("region", "地区"),
    Column("disciplines", "学科代码"),
    Column("keywords", "关键词"),
    Column("status", "状态"),
    Column("credit_score", "评审信用分"),
]


async def export_experts(uow: UnitOfWork) -> bytes:
    rows = (await uow.session.execute(select(Expert).order_by(Expert.name, Expert.id))).scalars()
    data = [
        {
            "name": e.name,
            "title": e.title,
            "region": e.region,
            "disciplines": ",".join(e.disciplines),
            "keywords": ",".join(e.keywords),
            "status": EXPERT_STATUSES.get(e.status, e.status),
            "credit_score": e.credit_score,
        }
        for e in rows
    ]
    return export_xlsx(EXPORT_COLUMNS, data)
