"""The kit's state machine table and Excel helpers, as the services use them."""

from __future__ import annotations

from datetime import date

import pytest

from shared.errors import Forbidden, InvalidTransition
from shared.excel import Column, SheetFormatError, export_xlsx, read_xlsx
from shared.statemachine import StateMachine, Transition

LAB = StateMachine(
    "lab",
    (
        Transition.of("start_construction", ["proposed"], "under_construction", "开始建设"),
        Transition.of("accept", ["under_construction"], "operating", "验收运行", roles=["department_staff"]),
        Transition.of("revoke", ["operating", "under_rectification"], "revoked", "撤销"),
    ),
    {"proposed": "拟建", "operating": "运行"},
    terminal=frozenset({"revoked"}),
)


def test_allowed_step_returns_the_target() -> None:
    assert LAB.apply("proposed", "start_construction").target == "under_construction"


def test_refused_step_names_current_state_and_allowed_actions() -> None:
    with pytest.raises(InvalidTransition) as refused:
        LAB.apply("operating", "accept")
    assert refused.value.status == 409
    assert refused.value.extra == {
        "current_state": "operating",
        "current_state_zh": "运行",
        "allowed_actions": ["revoke"],
        "allowed_actions_zh": ["撤销"],
    }
    # people read the machine's labels, never its codes
    assert refused.value.detail_zh == "当前状态「运行」不允许执行「验收运行」，可执行：「撤销」"


def test_a_refusal_from_a_final_state_says_nothing_remains() -> None:
    with pytest.raises(InvalidTransition) as refused:
        LAB.apply("revoked", "revoke")
    assert refused.value.extra["allowed_actions"] == []
    assert "revoked" not in refused.value.detail_zh and "revoke" not in refused.value.detail_zh
    assert refused.value.detail_zh.endswith("且没有可执行的操作")


def test_a_step_reserved_to_a_role_is_forbidden_to_others() -> None:
    with pytest.raises(Forbidden):
        LAB.apply("under_construction", "accept", roles=["applicant"])
    assert LAB.allowed_actions("under_construction", roles=["applicant"]) == []
    assert LAB.apply("under_construction", "accept", roles=["department_staff"]).target == "operating"


def test_declaring_the_same_step_twice_is_an_error() -> None:
    with pytest.raises(ValueError, match="declared twice"):
        StateMachine("x", (Transition.of("a", ["s"], "t"), Transition.of("a", ["s"], "u")))


def test_describe_lists_states_with_labels() -> None:
    described = LAB.describe()
    assert {"code": "revoked", "zh": "revoked", "terminal": True} in described["states"]  # type: ignore[operator]


COLUMNS = [Column("name", "单位名称"), Column("code", "统一社会信用代码"), Column("since", "成立日期")]


async def test_excel_round_trip_keeps_values_and_row_numbers() -> None:
    rows = [
        {"name": "内蒙古大学", "code": "91150100MA0N0G2A1C", "since": date(1957, 10, 1)},
        {"name": "包头钢铁研究院", "code": "12150000460000307L", "since": None},
    ]
    content = export_xlsx(COLUMNS, rows, sheet="单位")
    back = await read_xlsx(content, COLUMNS, required=["name", "code"])
    assert [r.number for r in back] == [2, 3]
    assert back[0].values["name"] == "内蒙古大学"
    assert back[0].values["since"].date() == date(1957, 10, 1)
    assert back[1].values["since"] is None


async def test_excel_missing_required_column_is_reported_by_its_chinese_name() -> None:
    content = export_xlsx([Column("name", "单位名称")], [{"name": "x"}])
    with pytest.raises(SheetFormatError, match="统一社会信用代码"):
        await read_xlsx(content, COLUMNS, required=["code"])


async def test_not_a_workbook_is_a_format_error() -> None:
    with pytest.raises(SheetFormatError):
        await read_xlsx(b"PK-not-really", COLUMNS)
