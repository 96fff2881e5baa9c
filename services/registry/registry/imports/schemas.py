"""The import report (导入结果报告): what each row did, and why a row was refused."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class RowIssueOut(BaseModel):
    row: int = Field(description="spreadsheet row number (the header is row 1)")
    column: str = Field(description="the column's Chinese header, empty for the whole file")
    message: str
    message_zh: str


class ImportReport(BaseModel):
    """200: something was imported (all rows, or the valid ones in valid_rows_only mode)."""

    mode: Literal["all_or_nothing", "valid_rows_only"]
    rows: int = Field(description="data rows read")
    created: int
    unchanged: int = Field(description="rows already in the register (a re-import changes nothing)")
    rejected: int
    rejected_rows: list[int]
    committed: bool
    issues: list[RowIssueOut]


class ImportRefused(ImportReport):
    """422 (application/problem+json): nothing was imported; the report says row by row why."""

    type: str
    title: str
    title_zh: str
    status: int
    detail: str
    detail_zh: str
    code: Literal["import_refused"]
    instance: str | None = None
    request_id: str | None = None
