"""Hostile workbooks for tests and benchmarks: what an upload limit has to stop.

Each is a minimal, valid ``.xlsx`` written straight with ``zipfile`` (streamed, so that making
one costs little memory): a header row of the given labels, then the payload.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator, Sequence
from xml.sax.saxutils import escape

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/sharedStrings.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
    "</Types>"
)
_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="xl/workbook.xml"/></Relationships>'
)
_WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
    'Target="worksheets/sheet1.xml"/>'
    '<Relationship Id="rId2" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" '
    'Target="sharedStrings.xml"/></Relationships>'
)
_SHEET_HEAD = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
)


def _column(index: int) -> str:
    name = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        name = chr(65 + rem) + name
    return name


def _inline(ref: str, text: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{escape(text)}</t></is></c>'


def _header(labels: Sequence[str]) -> str:
    return '<row r="1">' + "".join(_inline(f"{_column(i)}1", t) for i, t in enumerate(labels)) + "</row>"


def _workbook(
    sheet_parts: Iterator[str],
    shared_strings: Iterator[str] | None = None,
    *,
    dimension: str | None = None,
    level: int = 6,
) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as archive:
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES)
        archive.writestr("_rels/.rels", _RELS)
        archive.writestr("xl/workbook.xml", _WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        with archive.open("xl/sharedStrings.xml", "w", force_zip64=True) as out:
            out.write(b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>')
            out.write(b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">')
            for part in shared_strings or iter(()):
                out.write(part.encode())
            out.write(b"</sst>")
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as out:
            out.write(_SHEET_HEAD.encode())
            if dimension:
                out.write(f'<dimension ref="{dimension}"/>'.encode())
            out.write(b"<sheetData>")
            for part in sheet_parts:
                out.write(part.encode())
            out.write(b"</sheetData></worksheet>")
    return buffer.getvalue()


def blank_rows(labels: Sequence[str], rows: int = 2_000_000) -> bytes:
    """A header, then ``rows`` rows holding only a formatted empty cell (2M: about 10 MB, 70 MB
    unpacked, within the size limits: only counting rows while streaming stops it)."""

    def parts() -> Iterator[str]:
        yield _header(labels)
        for n in range(2, rows + 2):
            yield f'<row r="{n}"><c r="A{n}" s="1"/></row>'

    return _workbook(parts(), level=1)


def huge_cell(labels: Sequence[str], chars: int = 400_000_000) -> bytes:
    """One shared string of ``chars`` characters in the first data row (a few hundred KB)."""

    def strings() -> Iterator[str]:
        yield "<si><t>"
        chunk = "x" * 1_000_000
        for _ in range(chars // len(chunk)):
            yield chunk
        yield "x" * (chars % len(chunk))
        yield "</t></si>"

    def parts() -> Iterator[str]:
        yield _header(labels)
        yield '<row r="2"><c r="A2" t="s"><v>0</v></c></row>'

    return _workbook(parts(), strings(), level=9)


def long_cell(labels: Sequence[str], chars: int = 40_000) -> bytes:
    """A data row whose first cell is longer than Excel allows (32,767 characters)."""
    return _workbook(iter([_header(labels), f'<row r="2">{_inline("A2", "长" * chars)}</row>']))


def wide_row(labels: Sequence[str], columns: int = 16_384) -> bytes:
    """A data row with a value in the last column Excel has (XFD)."""
    last = _column(columns - 1)
    return _workbook(
        iter([_header(labels), f'<row r="2">{_inline("A2", "x")}{_inline(f"{last}2", "y")}</row>'])
    )


def false_dimension(labels: Sequence[str], rows: int = 3) -> bytes:
    """A small sheet that declares A1:XFD1048576 (every row padded to 16,384 cells if trusted)."""

    def parts() -> Iterator[str]:
        yield _header(labels)
        for n in range(2, rows + 2):
            yield (
                f'<row r="{n}">'
                + "".join(_inline(f"{_column(i)}{n}", f"v{i}") for i in range(len(labels)))
                + "</row>"
            )

    return _workbook(parts(), dimension="A1:XFD1048576")


def rows_of(labels: Sequence[str], rows: Sequence[Sequence[str]]) -> bytes:
    """A plain sheet: the header, then the given rows of text."""

    def parts() -> Iterator[str]:
        yield _header(labels)
        for n, values in enumerate(rows, start=2):
            yield (
                f'<row r="{n}">'
                + "".join(_inline(f"{_column(i)}{n}", v) for i, v in enumerate(values))
                + "</row>"
            )

    return _workbook(parts())
