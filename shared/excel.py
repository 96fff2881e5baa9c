"""Excel in and out with Chinese headers (openpyxl), the way officials work with lists.

Export writes a header row of Chinese labels and one row per item, streamed in write-only
mode so that long lists stay cheap. Import maps Chinese (or code) headers to fields, and
gives every data row with its row number, so a caller can report "row 7, 统一社会信用代码: …".
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class Column:
    key: str
    header_zh: str
    width: int = 18


def _cell(value: Any) -> Any:
    if value is None or isinstance(value, (str, int, float, Decimal, date, datetime, bool)):
        if isinstance(value, datetime) and value.tzinfo is not None:
            return value.replace(tzinfo=None)
        return value
    if isinstance(value, (list, tuple, set)):
        return "；".join(str(v) for v in value)
    return str(value)


def export_xlsx(
    columns: Sequence[Column], rows: Iterable[Mapping[str, Any]], *, sheet: str = "Sheet1"
) -> bytes:
    workbook = Workbook(write_only=True)
    ws = workbook.create_sheet(title=sheet[:31])
    for index, column in enumerate(columns, start=1):
        ws.column_dimensions[get_column_letter(index)].width = column.width
    header = []
    for column in columns:
        cell = WriteOnlyCell(ws, value=column.header_zh)
        cell.font = Font(bold=True)
        header.append(cell)
    ws.append(header)
    for row in rows:
        ws.append([_cell(row.get(c.key)) for c in columns])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


class SheetFormatError(ValueError):
    """The file is not a workbook, or its header row lacks required columns."""


@dataclass(frozen=True)
class SheetRow:
    number: int  # the row number a person sees in Excel
    values: dict[str, Any]


def read_xlsx(
    content: bytes, columns: Sequence[Column], *, required: Iterable[str] = (), max_rows: int = 100_000
) -> list[SheetRow]:
    """Rows of the first sheet as dicts keyed by ``Column.key``; headers by zh label or key."""
    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as exc:
        raise SheetFormatError("not an .xlsx workbook") from exc
    ws = workbook.worksheets[0]
    rows = ws.iter_rows(values_only=True)
    try:
        header = next(rows)
    except StopIteration as exc:
        raise SheetFormatError("the sheet is empty") from exc
    by_label = {c.header_zh: c.key for c in columns} | {c.key: c.key for c in columns}
    positions: dict[int, str] = {}
    for index, title in enumerate(header):
        key = by_label.get(str(title).strip()) if title is not None else None
        if key is not None:
            positions[index] = key
    missing = [c.header_zh for c in columns if c.key in set(required) and c.key not in positions.values()]
    if missing:
        raise SheetFormatError(f"missing columns: {', '.join(missing)}")
    result: list[SheetRow] = []
    for number, raw in enumerate(rows, start=2):
        if all(v is None or (isinstance(v, str) and not v.strip()) for v in raw):
            continue
        if len(result) >= max_rows:
            raise SheetFormatError(f"more than {max_rows} rows")
        values = {}
        for index, key in positions.items():
            value = raw[index] if index < len(raw) else None
            values[key] = value.strip() if isinstance(value, str) else value
        result.append(SheetRow(number, values))
    workbook.close()
    return result
