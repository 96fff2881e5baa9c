"""Excel in and out with Chinese headers (openpyxl), the way officials work with lists.

Export writes a header row of Chinese labels and one row per item, streamed in write-only
mode so that long lists stay cheap. Import maps Chinese (or code) headers to fields, and
gives every data row with its row number, so a caller can report "row 7, 统一社会信用代码: …".

An uploaded workbook is untrusted: a few megabytes of zip can hold gigabytes of XML, millions
of blank rows or one cell of hundreds of megabytes. Before openpyxl reads anything, the zip's
members are checked against a decompressed size and a compression ratio (``zipfile`` never
inflates a member past the size it declares, so the declared sizes are a real bound); while the
sheet streams, rows, columns and cell lengths are counted, and the first limit passed stops the
read with :class:`SheetTooLarge` (a 413 naming the limit). The parsing runs in the kit's worker
processes, never on the event loop, so a service keeps answering while a file is read.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import multiprocessing
import os
import pickle
import zipfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeVar, cast

from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from shared.errors import DomainError, FieldIssue

XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
R = TypeVar("R")


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


EXCEL_MAX_CELL_CHARS = 32_767  # Excel's own limit on the text of one cell


@dataclass(frozen=True)
class SheetLimits:
    """What an uploaded workbook may hold. ``max_rows`` counts rows with data; blank rows
    (formatting carried far down a sheet) are read past up to ``max_blank_rows`` of them."""

    max_rows: int = 100_000
    max_blank_rows: int = 10_000
    max_columns: int = 200
    max_cell_chars: int = EXCEL_MAX_CELL_CHARS
    max_uncompressed_bytes: int = 80 * 1024 * 1024
    max_compression_ratio: float = 100.0
    ratio_checked_from_bytes: int = 1024 * 1024  # small members may compress as they like


_LIMIT_ZH = {
    "rows": "数据行数",
    "blank_rows": "空行数",
    "columns": "列数",
    "cell_chars": "单元格字符数",
    "uncompressed_bytes": "解压后大小",
    "compression_ratio": "压缩比",
}


class SheetTooLarge(DomainError):
    """A workbook past one of the limits; ``limit`` names it, ``allowed`` gives its value."""

    status = 413
    code = "sheet_too_large"
    title = "Spreadsheet over a limit"
    title_zh = "表格超出限制"

    def __init__(self, limit: str, allowed: float, detail: str, where: str | None = None) -> None:
        self.limit = limit
        self.allowed = allowed
        self._given = (limit, allowed, detail, where)
        at = f" ({where})" if where else ""
        shown = f"{allowed:,.0f}" if float(allowed).is_integer() else f"{allowed:g}"
        self.issues = [
            FieldIssue(
                "file",
                f"too_many_{limit}" if limit in ("rows", "blank_rows", "columns") else f"{limit}_exceeded",
                f"{detail}{at}; the limit is {shown}",
                f"{_LIMIT_ZH[limit]}超出上限 {shown}{at}",
            )
        ]
        super().__init__(
            f"{detail}{at}; the limit is {shown}",
            f"表格{_LIMIT_ZH[limit]}超出上限 {shown}{at}",
            extra={"limit": limit, "allowed": allowed, "errors": [i.as_dict() for i in self.issues]},
        )

    def __reduce__(self) -> tuple[type[SheetTooLarge], tuple[str, float, str, str | None]]:
        return (SheetTooLarge, self._given)  # raised in a worker process, re-raised here


@dataclass(frozen=True)
class SheetRow:
    number: int  # the row number a person sees in Excel
    values: dict[str, Any]


def check_archive(content: bytes, limits: SheetLimits) -> None:
    """Refuse a zip whose members would inflate past the limits, before anything inflates."""
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise SheetFormatError("not an .xlsx workbook") from exc
    total = 0
    for member in members:
        total += member.file_size
        if total > limits.max_uncompressed_bytes:
            raise SheetTooLarge(
                "uncompressed_bytes",
                limits.max_uncompressed_bytes,
                f"the workbook unpacks to more than {limits.max_uncompressed_bytes} bytes",
            )
        if member.file_size >= limits.ratio_checked_from_bytes:
            ratio = member.file_size / max(member.compress_size, 1)
            if ratio > limits.max_compression_ratio:
                raise SheetTooLarge(
                    "compression_ratio",
                    limits.max_compression_ratio,
                    f"{member.filename} is compressed {ratio:.0f}:1",
                )


def _read_xlsx_blocking(
    content: bytes, columns: Sequence[Column], required: Iterable[str], limits: SheetLimits
) -> list[SheetRow]:
    check_archive(content, limits)
    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except SheetTooLarge:
        raise
    except Exception as exc:
        raise SheetFormatError("not an .xlsx workbook") from exc
    try:
        return _rows(workbook, columns, required, limits)
    finally:
        workbook.close()


def _rows(
    workbook: Any, columns: Sequence[Column], required: Iterable[str], limits: SheetLimits
) -> list[SheetRow]:
    if not workbook.worksheets:
        raise SheetFormatError("the workbook has no sheet")
    ws = workbook.worksheets[0]
    # The dimension a file declares is not trusted (A1:XFD1048576 would pad every row to
    # 16,384 cells): rows come as stored, and their width is checked below.
    ws.reset_dimensions()
    rows = ws.iter_rows(values_only=True)
    scanned_limit = limits.max_rows + limits.max_blank_rows + 1

    def checked(number: int, raw: tuple[Any, ...]) -> tuple[Any, ...]:
        if number > scanned_limit:
            raise SheetTooLarge("blank_rows", limits.max_blank_rows, "too many blank rows", f"row {number}")
        if len(raw) > limits.max_columns:
            raise SheetTooLarge("columns", limits.max_columns, f"{len(raw)} columns", f"row {number}")
        for index, value in enumerate(raw):
            if isinstance(value, str) and len(value) > limits.max_cell_chars:
                raise SheetTooLarge(
                    "cell_chars",
                    limits.max_cell_chars,
                    f"a cell holds {len(value)} characters",
                    f"row {number}, {get_column_letter(index + 1)}{number}",
                )
        return raw

    try:
        header = checked(1, next(rows))
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
        checked(number, raw)
        if all(v is None or (isinstance(v, str) and not v.strip()) for v in raw):
            continue
        if len(result) >= limits.max_rows:
            raise SheetTooLarge("rows", limits.max_rows, "too many rows with data", f"row {number}")
        values = {}
        for index, key in positions.items():
            value = raw[index] if index < len(raw) else None
            values[key] = value.strip() if isinstance(value, str) else value
        result.append(SheetRow(number, values))
    return result


# Parsing is CPU-bound pure Python: in a thread it would hold the GIL against the event loop
# (each await of a request waiting up to a switch interval for it), so workbooks are read in
# worker processes. Two at a time: a burst of uploads queues here instead of taking every core
# and the memory of several large files at once; a worker is replaced after some files so that
# the memory a large one took goes back to the system. The workers run at a lower CPU priority
# (nice 10): on a busy machine the service's own event loop, answering everyone else, goes first.
_MAX_PARSERS = 2
_PARSER_NICENESS = 10
_pool: ProcessPoolExecutor | None = None


def _lower_priority() -> None:
    with contextlib.suppress(OSError):  # a platform without nice() parses at normal priority
        os.nice(_PARSER_NICENESS)


def _parsers() -> ProcessPoolExecutor:
    global _pool  # noqa: PLW0603 - one pool per process, made on first use
    if _pool is None:
        _pool = ProcessPoolExecutor(
            max_workers=_MAX_PARSERS,
            mp_context=multiprocessing.get_context("spawn"),
            max_tasks_per_child=20,
            initializer=_lower_priority,
        )
    return _pool


def shutdown_parsers() -> None:
    """Stop the worker processes (they are started again on the next upload)."""
    global _pool  # noqa: PLW0603
    if _pool is not None:
        _pool.shutdown(wait=False, cancel_futures=True)
        _pool = None


async def read_xlsx(
    content: bytes,
    columns: Sequence[Column],
    *,
    required: Iterable[str] = (),
    max_rows: int | None = None,
    limits: SheetLimits | None = None,
) -> list[SheetRow]:
    """Rows of the first sheet as dicts keyed by ``Column.key``; headers by zh label or key.

    Parsed in a worker process within ``limits`` (``max_rows`` overrides its row limit);
    raises :class:`SheetFormatError` for a file that is not a usable workbook and
    :class:`SheetTooLarge` for one over a limit.
    """
    return await read_xlsx_then(
        _rows_as_read, content, columns, required=required, max_rows=max_rows, limits=limits
    )


def _rows_as_read(rows: list[SheetRow]) -> list[SheetRow]:
    return rows


async def read_xlsx_then(
    then: Callable[..., R],
    content: bytes,
    columns: Sequence[Column],
    *then_args: Any,
    required: Iterable[str] = (),
    max_rows: int | None = None,
    limits: SheetLimits | None = None,
) -> R:
    """As :func:`read_xlsx`, then ``then(rows, *then_args)`` in the same worker process.

    For the row-by-row checks of an import (validation, digests, the rows to write): on the
    event loop, 20,000 rows of them hold every other request back for most of a second, and
    what comes back is only what the loop still has to decide. ``then`` is a module-level
    function and its arguments and result can be pickled.
    """
    chosen = limits or SheetLimits()
    if max_rows is not None:
        chosen = replace(chosen, max_rows=max_rows)
    loop = asyncio.get_running_loop()
    try:
        result = await loop.run_in_executor(
            _parsers(), _read_then, then, content, tuple(columns), tuple(required), chosen, then_args
        )
    except BrokenProcessPool as exc:
        # The worker died under this file (out of memory, killed): the next upload gets a new one.
        shutdown_parsers()
        raise SheetFormatError("the file could not be read") from exc
    if not isinstance(result, _PickledChunks):
        return result
    items: list[Any] = []
    for chunk in result.chunks:
        items.extend(pickle.loads(chunk))  # noqa: S301 - our own worker's answer
        await asyncio.sleep(0)
    return cast(R, items)


@dataclass(frozen=True)
class _PickledChunks:
    """A list answer, pickled a chunk at a time by the worker: unpickled whole, 20,000 rows
    hold the GIL (and so the event loop) for a fifth of a second; a chunk at a time, with
    the loop given back in between, they hold it for a few milliseconds each."""

    chunks: tuple[bytes, ...]


_CHUNK_ROWS = 500


def _read_then(
    then: Callable[..., R],
    content: bytes,
    columns: Sequence[Column],
    required: Iterable[str],
    limits: SheetLimits,
    then_args: tuple[Any, ...],
) -> R | _PickledChunks:
    result = then(_read_xlsx_blocking(content, columns, required, limits), *then_args)
    if not isinstance(result, list):
        return result
    return _PickledChunks(
        tuple(
            pickle.dumps(result[i : i + _CHUNK_ROWS], protocol=pickle.HIGHEST_PROTOCOL)
            for i in range(0, len(result), _CHUNK_ROWS)
        )
    )
