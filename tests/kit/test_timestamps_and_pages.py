"""The kit's answer shapes: a timestamp is written in Beijing time, read in Beijing time when it
comes without an offset, and every page carries the same fields."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel

from shared.http.schemas import Page
from shared.timestamps import ZONE_EXTENSION, Timestamp


class Window(BaseModel):
    opens_at: Timestamp
    closes_at: Timestamp | None = None


def test_a_stored_utc_instant_is_answered_in_beijing_time() -> None:
    window = Window(opens_at=datetime(2026, 12, 2, 1, 0, tzinfo=UTC))
    assert window.model_dump(mode="json")["opens_at"] == "2026-12-02T09:00:00+08:00"


def test_a_naive_entry_is_read_as_beijing_time_and_an_offset_is_kept() -> None:
    entered = Window.model_validate({"opens_at": "2026-12-02T09:00", "closes_at": "2026-12-02T09:00Z"})
    assert entered.opens_at == datetime(2026, 12, 2, 1, 0, tzinfo=UTC)
    assert entered.closes_at == datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
    assert entered.model_dump(mode="json")["closes_at"] == "2026-12-02T17:00:00+08:00"


def test_the_document_marks_every_timestamp_with_its_zone() -> None:
    schema = Window.model_json_schema(mode="serialization")["properties"]
    assert schema["opens_at"][ZONE_EXTENSION] == "Asia/Shanghai"
    assert schema["closes_at"]["anyOf"][0][ZONE_EXTENSION] == "Asia/Shanghai"


def test_every_page_has_the_same_fields() -> None:
    fields = set(Page[Window].model_json_schema()["properties"])
    assert fields == {"items", "total", "total_exact", "page", "size", "next_cursor"}
    whole = Page[int].whole([1, 2, 3])
    assert (whole.total, whole.page, whole.size, whole.next_cursor) == (3, 1, 3, None)


def test_every_page_field_is_in_every_answer() -> None:
    answer = Page[Window].model_json_schema(mode="serialization")
    assert set(answer["required"]) == {"items", "total", "total_exact", "page", "size", "next_cursor"}
