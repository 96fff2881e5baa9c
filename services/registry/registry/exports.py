"""The HTTP side of the registry's spreadsheet exports: the answer the document declares."""

from __future__ import annotations

from typing import Any

from fastapi import Response

from shared.excel import XLSX_MEDIA_TYPE


class XlsxResponse(Response):
    """A spreadsheet answer; the document names its media type instead of JSON."""

    media_type = XLSX_MEDIA_TYPE


#: ``responses=`` of a route answering a spreadsheet: the file, not a JSON object.
XLSX_ANSWER: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "an Excel workbook (.xlsx) with Chinese headers",
        "content": {XLSX_MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}}},
    }
}
