"""Validation of returned forms: real forms from `forms.build_form`, filled as a clerk does
(tests/fill.py edits the sheet XML), read by `readback.read_checked`, checked by `validate`.

Findings are asserted by code and cell, never by wording.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

import fill
import pytest
from fixtures import small_registry
from xlsxwriter.utility import xl_rowcol_to_cell

from ecoxl import layout
from ecoxl.config import Limits, Office
from ecoxl.forms import build_form
from ecoxl.model import Indicator
from ecoxl.period import Period
from ecoxl.readback import ReturnedBook, read_checked
from ecoxl.validate import (
    CheckTask,
    Validation,
    Validator,
    period_in_name,
    validate,
)
from ecoxl.validate_values import read_number
from ecoxl.worker import ReadFailure, run_tasks

Q3 = Period.parse("2015-Q3")
DEADLINE = date(2015, 10, 10)
LEAD = "市发展改革委"  # leads tasks 1 and 2: rows 1-1, 1-2, 2-1, 2-2
BUILDER = "市住建局"  # responsible in task 1 (1-1, 1-2), leads task 3 (3-1, 3-2)
TOWNSHIP = "城关乡"  # responsible in tasks 1, 3, 4


def form(unit: str = LEAD, registry=None, period: Period = Q3) -> bytes:
    return build_form(registry or small_registry(), unit, period, DEADLINE, Office())


def answers(data: bytes, **overrides: dict[str, object]) -> dict[str, dict[str, object]]:
    """Every row answered the plain way (a number and 达进度), then the overrides by key."""
    rows, _ = fill.form_positions(data)
    filled = {key: {"value": 10.0 + i, "status": "达进度"} for i, key in enumerate(rows)}
    for key, values in overrides.items():
        filled[key.replace("_", "-")] = {**filled.get(key.replace("_", "-"), {}), **values}
    return filled


def filled(unit: str = LEAD, registry=None, period: Period = Q3, **overrides) -> bytes:
    data = form(unit, registry, period)
    return fill.fill_form(data, answers(data, **overrides), fill.signed())


def book(data: bytes, name: str = "2015-Q3_市发展改革委_填报表.xlsx") -> ReturnedBook:
    result = read_checked(data, name, Limits())
    assert isinstance(result, ReturnedBook), result
    return result


def check(
    data: bytes, name: str = "2015-Q3_市发展改革委_填报表.xlsx", period="2015-Q3", registry=None
) -> Validation:
    return validate(book(data, name), registry or small_registry(), period)


def found(result: Validation) -> list[tuple[str, str | None, str]]:
    return [(f.code, f.cell, f.severity) for f in result.findings]


def row(result: Validation, key: str):
    return next(r for r in result.rows if r.row_key == key)


# -- a form filled correctly -----------------------------------------------------------------


def test_a_correctly_filled_form_is_accepted_with_exactly_its_values():
    data = form()
    filled_in = fill.fill_form(
        data,
        {
            "1-1": {"value": 120.5, "status": "达进度", "progress": "已建成 120.5 公里"},
            "1-2": {
                "value": 1.2,
                "status": "欠进度",
                "problems": "资金未到位",
                "next_steps": "协调资金",
            },
            "2-1": {"value": 40, "status": "超进度", "remark": "统计局快报数"},
            "2-2": {"value": 13, "status": "已完成"},
        },
        fill.signed(),
    )
    result = check(filled_in)
    assert result.accepted and result.findings == []
    identity = result.identity
    registry = small_registry()
    assert (identity.unit, identity.period, identity.identified_by) == (LEAD, "2015-Q3", "identity")
    assert identity.plan_id == registry.plan_id and identity.fingerprint == registry.fingerprint()
    assert identity.form_version == layout.FORM_VERSION
    assert result.signature == {
        "filled_by": "张丽",
        "phone": "0371-62691234",
        "fill_date": "2015-10-08",
    }
    assert [(r.row_key, r.sheet_row, r.task, r.role, r.target) for r in result.rows] == [
        ("1-1", 8, 1, "lead", 130.0),
        ("1-2", 9, 1, "lead", 1.5),
        ("2-1", 10, 2, "lead", 45.0),
        ("2-2", 11, 2, "lead", 13.0),
    ]
    first, second, third, fourth = result.rows
    assert (first.value, first.value_text, first.status, first.progress) == (
        120.5,
        "",
        "达进度",
        "已建成 120.5 公里",
    )
    assert (second.value, second.status, second.problems, second.next_steps) == (
        1.2,
        "欠进度",
        "资金未到位",
        "协调资金",
    )
    assert (third.value, third.status, third.remark) == (40.0, "超进度", "统计局快报数")
    assert (fourth.value, fourth.status, fourth.indicator_id) == (13.0, "已完成", "2-2")


def test_the_file_name_does_not_matter_when_the_identity_is_there():
    result = check(filled(), name="新建 Microsoft Excel 工作表 (2).xlsx")
    assert result.accepted and result.identity.unit == LEAD
    assert result.identity.identified_by == "identity"


def test_validating_in_the_reader_workers_gives_what_validating_here_gives():
    """`collect` validates in the sandboxed workers (`CheckTask`); the outcome is the same."""
    data = filled()
    other = small_registry()
    other.plan = replace(other.plan, title="新郑市2016年工作方案")
    bad = {
        "good.xlsx": data,
        "text.xlsx": filled(**{"1_1": {"value": "约40"}, "1_2": {"value": "1,234"}}),
        "status.xlsx": filled(**{"1_1": {"status": "完成了"}, "1_2": {"status": "欠进度"}}),
        "formula.xlsx": filled(**{"1_1": {"value": fill.Formula("=SUM(60,60)", cached=120.0)}}),
        "edited.xlsx": fill.set_cells(data, {"H8": 100, "P12": "9-9", "I12": 5}),
        "deleted.xlsx": fill.reorder_rows(data, ["1-1", "2-1", "2-2"]),
        "2015-Q3_市发展改革委.xlsx": fill.strip_identity(data),
        "noname.xlsx": fill.strip_identity(data),
        "q2.xlsx": filled(period=Period.parse("2015-Q2")),
        "plan.xlsx": filled(registry=other),
        "unsigned.xlsx": fill.fill_form(form(), answers(form())),
        "notaform.xlsx": b"PK\x03\x04 not really a zip",
    }
    validator = Validator(small_registry(), "2015-Q3")
    items = [Item(name, content) for name, content in bad.items()]
    limits = Limits()
    in_workers = dict(
        (item.name, result)
        for item, result in run_tasks(items, CheckTask(validator, limits), limits, workers=2)
    )
    here = {}
    for item in items:
        read = read_checked(item.data, item.name, limits)
        here[item.name] = validator.validate(read) if isinstance(read, ReturnedBook) else read
    assert in_workers == here
    assert isinstance(here["notaform.xlsx"], ReadFailure)
    assert sum(isinstance(r, Validation) and r.findings != [] for r in here.values()) == 10


@dataclass(frozen=True)
class Item:
    name: str
    data: bytes


def test_many_forms_share_one_validator_and_its_rows_match_the_registry():
    registry = small_registry()
    validator = Validator(registry, "2015-Q3")
    for unit in registry.reporting_units():
        rows, _ = validator.expected(unit)
        assert rows == layout.expected_rows(registry, unit)
        result = validator.validate(book(filled(unit), f"{unit}.xlsx"))
        assert result.accepted, found(result)
        assert [r.row_key for r in result.rows] == [r.key for r in rows]


# -- rows and columns moved by the clerk --------------------------------------------------


def test_sorted_rows_deleted_responsible_rows_and_blank_rows_are_matched_by_key():
    data = filled(TOWNSHIP, **{"3_1": {"value": 2.0}, "4_0": {"progress": "遗址保护已启动"}})
    rows, _ = fill.form_positions(data)
    assert list(rows) == ["1-1", "1-2", "3-1", "3-2", "4-0"]
    shuffled = fill.reorder_rows(data, ["4-0", None, "3-2", "3-1", None, None, "1-1"])
    result = check(shuffled, name="城关乡.xlsx")
    assert result.accepted
    assert found(result) == [("row.missing", None, "warning")]  # 1-2: a responsible row
    assert [r.row_key for r in result.rows] == ["4-0", "3-2", "3-1", "1-1"]
    assert [r.sheet_row for r in result.rows] == [8, 10, 11, 14]
    assert row(result, "3-1").value == 2.0
    assert row(result, "4-0").progress == "遗址保护已启动"


def test_a_deleted_row_of_a_lead_unit_is_an_error():
    data = filled()
    result = check(fill.reorder_rows(data, ["1-1", "2-1", "2-2"]))
    assert not result.accepted
    assert found(result) == [("row.missing", None, "error")]
    assert [r.row_key for r in result.rows] == ["1-1", "2-1", "2-2"]


def test_rows_inserted_above_the_header_and_above_the_signature_are_fine():
    data = filled(**{"2_1": {"value": 44.0}})
    moved = fill.insert_rows_above(fill.insert_rows_above(data, 7, 3), 1, 2)
    result = check(moved)
    assert result.accepted and result.findings == []
    assert [r.sheet_row for r in result.rows] == [13, 14, 15, 16]
    assert row(result, "2-1").value == 44.0
    assert result.signature["filled_by"] == "张丽"


def test_moved_columns_are_found_by_their_headers():
    data = filled(**{"1_1": {"progress": "进展", "remark": "备注"}})
    swapped = fill.swap_columns(data, "L", "O")  # 工作进展 ↔ 备注
    result = check(swapped)
    assert result.accepted
    assert (row(result, "1-1").progress, row(result, "1-1").remark) == ("进展", "备注")


def test_a_deleted_key_column_is_a_warning_and_rows_are_matched_by_task_and_indicator():
    data = filled(**{"1_2": {"value": 1.4}})
    _, columns = fill.form_positions(data)
    key_header = xl_rowcol_to_cell(layout.HEADER_ROW, columns["row_key"])
    result = check(fill.set_cells(data, {key_header: None}))
    assert result.accepted
    assert found(result) == [("form.no_key_column", None, "warning")]
    assert row(result, "1-2").value == 1.4


def test_a_form_whose_headers_were_rewritten_is_rejected():
    data = filled()
    result = check(fill.set_cells(data, {"I7": "完成数", "K7": "情况"}))
    assert found(result) == [("form.no_header", None, "error")]
    assert result.rows == []


def test_an_unknown_key_is_a_warning_and_a_duplicated_key_an_error():
    data = filled()
    extra = fill.set_cells(data, {"P12": "9-9", "I12": 5, "P13": "1-1", "B13": 1, "I13": 7})
    result = check(extra)
    assert found(result) == [
        ("row.unknown_key", "B12", "warning"),
        ("row.duplicate_key", "B13", "error"),
    ]
    assert row(result, "1-1").value == 10.0  # the first one counts


def test_an_added_row_without_a_key_is_ignored_when_blank_and_flagged_when_filled():
    data = filled()
    result = check(fill.set_cells(data, {"L13": "另外补充一条"}))
    assert result.accepted
    assert found(result) == [("row.no_key", "L13", "warning")]


# -- identity ------------------------------------------------------------------------------


def test_identity_from_the_document_properties_when_the_hidden_sheet_is_gone():
    result = check(fill.strip_identity_sheet(filled()), name="x.xlsx")
    assert result.accepted and result.findings == []
    assert (result.identity.unit, result.identity.identified_by) == (LEAD, "identity")


def test_hidden_sheet_and_properties_disagreeing_is_a_warning():
    data = fill.set_identity(filled(), "unit", "市住建局", where=("properties",))
    result = check(data)
    assert result.accepted and result.identity.unit == LEAD
    assert found(result) == [("identity.mismatch", None, "warning")]


@pytest.mark.parametrize(
    ("name", "unit"),
    [
        ("2015-Q3_市发展改革委_填报表.xlsx", LEAD),
        ("市发展和改革委员会2015年第三季度.xlsx", LEAD),  # an alias, the period in words
        ("发展改革委 2015Q3 报表.xlsx", LEAD),  # 市 left out
    ],
)
def test_without_an_identity_the_file_name_identifies_the_form_with_a_warning(name, unit):
    result = check(fill.strip_identity(filled()), name=name)
    assert result.accepted
    assert (result.identity.unit, result.identity.period) == (unit, "2015-Q3")
    assert result.identity.identified_by == "filename"
    assert found(result) == [("identity.from_filename", None, "warning")]


def test_without_an_identity_or_a_unit_in_the_name_the_form_is_rejected():
    result = check(fill.strip_identity(filled()), name="填报表(1).xlsx")
    assert found(result) == [("identity.unknown", None, "error")]
    assert result.identity.unit is None and result.rows == []


def test_a_form_of_another_period_is_rejected_when_a_period_is_being_collected():
    q2 = filled(period=Period.parse("2015-Q2"))
    result = check(q2)
    assert found(result) == [("identity.other_period", None, "error")]
    assert result.identity.period == "2015-Q2"
    unexpected = check(q2, period=None)
    assert unexpected.accepted and unexpected.identity.period == "2015-Q2"


def test_a_form_of_another_plan_is_rejected():
    other = small_registry()
    other.plan = replace(other.plan, title="新郑市2016年工作方案")
    result = check(filled(registry=other))
    assert found(result) == [("identity.other_plan", None, "error")]


def test_a_plan_changed_since_the_form_was_issued_is_matched_by_key_with_warnings():
    issued = small_registry()
    data = filled(registry=issued, **{"1_1": {"value": 125.0}})
    current = small_registry()
    current.tasks[0].indicators[0].target = 140.0  # 1-1: 130 → 140 after the forms went out
    result = check(data, registry=current)
    assert result.accepted
    assert found(result) == [
        ("identity.plan_changed", None, "warning"),
        ("prefilled.outdated", "H8", "warning"),
    ]
    assert (row(result, "1-1").value, row(result, "1-1").target) == (125.0, 140.0)


def test_a_row_added_to_the_plan_after_issue_is_not_required():
    issued = small_registry()
    data = filled(registry=issued)
    current = small_registry()
    current.tasks[0].indicators.append(Indicator("1-3", "新建雨水管网", 20.0, "公里"))
    result = check(data, registry=current)
    assert result.accepted
    assert ("row.not_in_form", None, "warning") in found(result)


def test_a_form_of_a_unit_outside_the_plan_is_rejected():
    wider = small_registry()
    wider.tasks[3].responsible_units.append("市财政局")
    result = check(filled("市财政局", registry=wider), name="市财政局.xlsx")
    assert found(result) == [("identity.unknown_unit", None, "error")]


def test_an_old_form_version_is_read_with_a_warning_and_a_newer_one_refused():
    old = check(fill.set_identity(filled(), "form_version", layout.FORM_VERSION - 1))
    assert old.accepted
    assert found(old) == [("identity.old_version", None, "warning")]
    newer = check(fill.set_identity(filled(), "form_version", layout.FORM_VERSION + 1))
    assert found(newer) == [("identity.newer_version", None, "error")]


# -- prefilled cells ------------------------------------------------------------------------


def test_edited_targets_units_indicators_and_task_numbers_are_errors_at_the_cell():
    data = filled()
    edited = fill.set_cells(data, {"H8": 100, "F9": "米", "E10": "工业增加值", "B11": 3})
    result = check(edited)
    assert found(result) == [
        ("prefilled.edited", "H8", "error"),
        ("prefilled.edited", "F9", "error"),
        ("prefilled.edited", "E10", "error"),
        ("prefilled.edited", "B11", "error"),
    ]
    assert all(f.sheet == layout.FORM_SHEET for f in result.findings)


# -- 本期完成值 ------------------------------------------------------------------------------


def test_numbers_written_as_text_are_read_and_flagged_never_zero():
    data = fill.fill_form(
        form(),
        {
            "1-1": {"value": "1,234", "status": "达进度"},
            "1-2": {"value": "１２３", "status": "达进度"},
            "2-1": {"value": "约40", "status": "达进度"},
            "2-2": {"value": "12%", "status": "达进度"},
        },
        fill.signed(),
    )
    result = check(data)
    assert found(result) == [
        ("value.thousands", "I8", "warning"),
        ("value.full_width", "I9", "warning"),
        ("value.not_number", "I10", "error"),
        ("value.percent_sign", "I11", "warning"),
    ]
    assert [(r.value, r.value_text) for r in result.rows] == [
        (1234.0, "1,234"),
        (123.0, "１２３"),
        (None, "约40"),
        (12.0, "12%"),
    ]


def test_a_percentage_where_the_measure_unit_is_not_percent_is_an_error():
    data = filled(**{"1_1": {"value": "12%"}, "1_2": {"value": "1.6公里"}})
    result = check(data)
    assert found(result) == [
        ("value.percent_mismatch", "I8", "error"),
        ("value.unit_suffix", "I9", "warning"),
    ]
    assert (row(result, "1-1").value, row(result, "1-2").value) == (None, 1.6)


@pytest.mark.parametrize(
    ("raw", "measure", "value", "codes"),
    [
        (12.5, "公里", 12.5, []),
        ("12.5", "公里", 12.5, []),
        (" 12 ", "公里", 12.0, []),
        ("1e3", "", 1000.0, []),
        ("１,２３４.５", "公里", 1234.5, ["value.full_width", "value.thousands"]),
        ("98.5％", "%", 98.5, ["value.full_width", "value.percent_sign"]),
        ("1,23", "公里", None, ["value.not_number"]),
        ("nan", "", None, ["value.not_number"]),
        ("inf", "", None, ["value.not_number"]),
        ("", "公里", None, []),
        (True, "", None, ["value.not_number"]),
        (date(2015, 9, 30), "", None, ["value.not_number"]),
        ("已完成", "", None, ["value.not_number"]),
    ],
)
def test_read_number(raw, measure, value, codes):
    reading = read_number(raw, measure)
    assert reading.value == value
    assert [code for code, _ in reading.issues] == codes


def test_a_formula_in_an_input_cell_is_recorded_as_its_text_and_never_evaluated():
    data = filled(
        **{
            "1_1": {"value": fill.Formula("=SUM(60,60)", cached=120.0)},
            "1_2": {"progress": fill.Formula('="完成"&"一半"', cached=None)},
        }
    )
    result = check(data)
    assert found(result) == [("value.formula", "I8", "error"), ("input.formula", "L9", "error")]
    assert (row(result, "1-1").value, row(result, "1-1").value_text) == (None, "=SUM(60,60)")
    assert row(result, "1-2").progress == '="完成"&"一半"'


def test_a_negative_amount_is_an_error_and_a_negative_change_a_warning():
    data = filled(**{"1_1": {"value": -5.0}, "2_2": {"value": -2.0}})
    result = check(data)
    assert found(result) == [
        ("value.negative", "I8", "error"),
        ("value.negative_change", "I11", "warning"),
    ]


def test_a_share_above_100_percent_is_an_error():
    registry = small_registry()
    registry.tasks[0].indicators.append(Indicator("1-3", "城市污水集中处理率", 95.0, "%"))
    data = filled(registry=registry, **{"1_3": {"value": 120.0}, "2_2": {"value": 120.0}})
    result = check(data, registry=registry)
    assert found(result) == [("value.over_100", "I10", "error")]  # 2-2 is a change, not a share


# -- 进展状态 and required answers ----------------------------------------------------------


def test_a_status_outside_the_list_is_an_error():
    result = check(filled(**{"1_1": {"status": "完成了"}, "1_2": {"status": " 达进度 "}}))
    assert found(result) == [("status.invalid", "K8", "error")]
    assert row(result, "1-2").status == "达进度"


def test_a_lead_unit_must_give_a_status_and_a_reason_when_behind():
    result = check(filled(**{"1_1": {"status": None}, "1_2": {"status": "欠进度"}}))
    assert found(result) == [("status.missing", "K8", "error"), ("problems.missing", "M9", "error")]


def test_a_responsible_unit_may_leave_a_row_empty_but_a_value_needs_a_status():
    data = form(TOWNSHIP)
    result = check(fill.fill_form(data, {"1-1": {"value": 3.0}}, fill.signed()), name="城关乡.xlsx")
    assert result.accepted
    assert found(result) == [("status.missing_with_value", "K8", "warning")]
    assert [r.row_key for r in result.rows] == ["1-1", "1-2", "3-1", "3-2", "4-0"]


def test_a_lead_row_with_a_target_and_a_status_but_no_value_is_a_warning():
    result = check(filled(**{"1_1": {"value": None}}))
    assert result.accepted
    assert found(result) == [("value.missing", "I8", "warning")]


def test_a_date_and_a_phone_typed_as_numbers_are_recorded_as_a_clerk_reads_them():
    data = form()
    signature = fill.signed(fill_date=42285.0, phone=13800000000.0)  # 42285: 2015-10-08
    result = check(fill.fill_form(data, answers(data), signature))
    assert result.accepted and result.findings == []
    assert result.signature == {
        "filled_by": "张丽",
        "phone": "13800000000",
        "fill_date": "2015-10-08",
    }


def test_a_missing_signature_is_a_warning_at_the_input_cell():
    data = form()
    result = check(fill.fill_form(data, answers(data)))
    assert result.accepted
    assert found(result) == [("signature.missing", "C5", "warning")]
    assert result.signature == {}


# -- narrative text --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text", ["=1+1", "+86 371", "-5% 同比", "@所有人", '=HYPERLINK("http://x")']
)
def test_text_that_looks_like_a_formula_is_stored_exactly_as_text(text):
    result = check(filled(**{"1_1": {"progress": text, "remark": text}}))
    assert result.accepted and result.findings == []
    assert (row(result, "1-1").progress, row(result, "1-1").remark) == (text, text)


def test_control_characters_are_removed_and_over_long_text_is_cut_with_warnings():
    long = "长" * 40000
    data = filled(**{"1_1": {"progress": "进展\x01顺利\x1f"}, "1_2": {"remark": long}})
    result = check(data)
    assert result.accepted
    assert found(result) == [
        ("text.control_chars", "L8", "warning"),
        ("text.too_long", "O9", "warning"),
    ]
    assert row(result, "1-1").progress == "进展顺利"
    assert len(row(result, "1-2").remark) == 32767


# -- file names --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "period"),
    [
        ("2015-Q3_市林业局_填报表.xlsx", "2015-Q3"),
        ("林业局2015q3.xls", "2015-Q3"),
        ("林业局2015年第三季度报表", "2015-Q3"),
        ("林业局 2015 年第 4 季度", "2015-Q4"),
        ("林业局2015-09.xlsx", "2015-09"),
        ("林业局2015年9月.xlsx", "2015-09"),
        ("林业局2015年上半年.xlsx", "2015-H1"),
        ("林业局2015年全年.xlsx", "2015"),
        ("林业局.xlsx", None),
        ("林业局2015.10.08报送.xlsx", None),  # a date, not a period
        ("林业局2015年10月8日.xlsx", None),
    ],
)
def test_period_in_a_file_name(name, period):
    assert period_in_name(name) == period
