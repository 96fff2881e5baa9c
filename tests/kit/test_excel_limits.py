"""The kit's spreadsheet reader stops hostile workbooks at the first limit they pass."""

from __future__ import annotations

import pickle

import pytest

from shared.excel import Column, SheetLimits, SheetTooLarge, read_xlsx
from shared.testing import sheets

COLUMNS = [Column("name", "姓名"), Column("code", "代码")]
LABELS = ["姓名", "代码"]


@pytest.mark.parametrize(
    ("make", "limit"),
    [
        (lambda: sheets.huge_cell(LABELS, chars=100_000_000), "uncompressed_bytes"),
        (lambda: sheets.blank_rows(LABELS, rows=40_000), "blank_rows"),
        (lambda: sheets.long_cell(LABELS, chars=32_768), "cell_chars"),
        (lambda: sheets.wide_row(LABELS, columns=201), "columns"),
        (lambda: sheets.rows_of(LABELS, [["张三", "1"]] * 11), "rows"),
    ],
)
async def test_a_workbook_over_a_limit_is_refused_naming_it(make: object, limit: str) -> None:
    with pytest.raises(SheetTooLarge) as refused:
        await read_xlsx(make(), COLUMNS, max_rows=10)  # type: ignore[operator]
    assert refused.value.limit == limit
    assert refused.value.status == 413
    assert refused.value.issues[0].message_zh


async def test_a_sheet_at_the_limits_is_read_whole() -> None:
    content = sheets.rows_of(LABELS, [["长" * 32_767, "1"]] * 10)
    rows = await read_xlsx(content, COLUMNS, max_rows=10)
    assert [r.number for r in rows] == list(range(2, 12))
    assert len(rows[0].values["name"]) == 32_767


async def test_a_false_dimension_does_not_pad_rows_to_sixteen_thousand_cells() -> None:
    rows = await read_xlsx(sheets.false_dimension(LABELS), COLUMNS)
    assert [r.values for r in rows] == [{"name": "v0", "code": "v1"}] * 3


async def test_a_high_compression_ratio_is_refused_before_anything_inflates() -> None:
    content = sheets.blank_rows(LABELS, rows=300_000)  # about 100:1, 13 MB unpacked
    with pytest.raises(SheetTooLarge) as refused:
        await read_xlsx(content, COLUMNS, limits=SheetLimits(max_compression_ratio=5))
    assert refused.value.limit == "compression_ratio"


def test_a_refusal_crosses_the_process_boundary_intact() -> None:
    error = SheetTooLarge("cell_chars", 32_767, "a cell holds 40000 characters", "row 2, A2")
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.limit, copy.allowed, copy.detail, copy.detail_zh) == (
        error.limit,
        error.allowed,
        error.detail,
        error.detail_zh,
    )
