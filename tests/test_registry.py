"""Registry I/O: JSON and the registry workbook written, edited by hand, and read back."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import openpyxl
import pytest
from fixtures import PARKS_GROUP, TOWNSHIPS_GROUP, small_registry

from ecoxl.exceptions import InputError, RegistryError
from ecoxl.libreoffice import convert
from ecoxl.model import Change, Unit
from ecoxl.registry import RegistryBookError, load_registry, save_registry
from ecoxl.registry_read import match_names, read_registry_book
from ecoxl.registry_sheets import GUIDE_SHEET, TABLES, format_changes, parse_changes
from ecoxl.texts import display_width, say

# Rows of the small registry in 指标 (goals first, then by task) and columns by header.
ROW = {"G-1": 2, "G-2": 3, "G-3": 4, "1-1": 5, "1-2": 6, "2-1": 7, "2-2": 8, "3-1": 9, "3-2": 10}


@pytest.fixture
def plan_xlsx(tmp_path: Path) -> Path:
    path = tmp_path / "plan.xlsx"
    save_registry(small_registry(), path)
    return path


def edit(path: Path, sheet: str, cells: dict[str, object], number_format: str = "") -> None:
    """What a clerk does in Excel: change some cells and save."""
    book = openpyxl.load_workbook(path)
    for cell, value in cells.items():
        book[sheet][cell].value = value
        if number_format:
            book[sheet][cell].number_format = number_format
    book.save(path)


def problems(path: Path) -> list[tuple[str, str | None, str | None]]:
    with pytest.raises(RegistryBookError) as caught:
        load_registry(path)
    return [(f.code, f.sheet, f.cell) for f in caught.value.findings]


# -- round trips -------------------------------------------------------------------


def test_workbook_round_trip_gives_an_equal_registry(plan_xlsx: Path) -> None:
    registry = small_registry()
    back = load_registry(plan_xlsx)
    assert back.to_dict() == registry.to_dict()
    assert back.fingerprint() == registry.fingerprint()
    assert back.plan_id == registry.plan_id


def test_json_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "plan.json"
    save_registry(small_registry(), path)
    assert load_registry(path).to_dict() == small_registry().to_dict()


def test_workbook_converted_back_to_json_equals_the_original(plan_xlsx: Path) -> None:
    path = plan_xlsx.with_name("again.json")
    save_registry(load_registry(plan_xlsx), path)
    assert path.read_text(encoding="utf-8") == small_registry().to_json()


def test_the_sample_notice_round_trips_through_the_workbook(
    tmp_path: Path, sample_notice: Path
) -> None:
    registry = load_registry(sample_notice)
    assert len(registry.tasks) == 32
    for name in ("plan.xlsx", "plan.json"):
        save_registry(registry, tmp_path / name)
        back = load_registry(tmp_path / name)
        assert back.to_dict() == registry.to_dict()
        assert back.fingerprint() == registry.fingerprint()


@pytest.mark.libreoffice
def test_workbook_resaved_by_libreoffice_reads_back_equal(
    plan_xlsx: Path, tmp_path: Path, soffice: str
) -> None:
    resaved = convert(plan_xlsx, "xlsx", tmp_path / "resaved")
    assert load_registry(resaved).to_dict() == small_registry().to_dict()


# -- what the workbook looks like ------------------------------------------------


def test_sheets_headers_and_input_rules(plan_xlsx: Path) -> None:
    book = openpyxl.load_workbook(plan_xlsx)
    assert book.sheetnames == [GUIDE_SHEET, *(spec.sheet for spec in TABLES)]
    assert book.active.title == GUIDE_SHEET
    for spec in TABLES:
        sheet = book[spec.sheet]
        assert [c.value for c in sheet[1]] == [c.header for c in spec.columns]
        assert sheet.freeze_panes == "A2"
        assert sheet.auto_filter.ref.startswith("A1:")
    rules = {str(dv.sqref): dv for dv in book["指标"].data_validations.dataValidation}
    assert rules["G2:G2001"].formula1 == '"越高越好,越低越好"'
    assert rules["H2:H2001"].formula1 == '"≥,≤,约,区间"'
    assert rules["I2:I2001"].formula1 == '"牵头单位为准,各单位合计"'
    assert rules["D2:D2001"].type == "decimal"
    kinds = book["单位"].data_validations.dataValidation[0]
    assert kinds.formula1 == '"市直部门,乡镇街道,单位类别,其他"'
    members = book["单位类别"].data_validations.dataValidation[0]
    assert members.formula1 == "单位!$A$2:$A$2001"


def test_columns_fit_their_text_and_long_text_wraps(plan_xlsx: Path) -> None:
    book = openpyxl.load_workbook(plan_xlsx)
    units = book["单位"]
    longest = max(display_width(c.value) for c in units["A"][1:])
    assert longest + 2 <= units.column_dimensions["A"].width <= 31
    assert units.column_dimensions["C"].width < 20  # 类型: short words, a narrow column
    tasks = book["重点任务"]
    assert tasks["E2"].alignment.wrap_text
    assert tasks["E2"].number_format == "@"  # typed 7-3 stays text, not a date
    assert tasks.row_dimensions[2].height is None  # one line: Excel's own height
    indicators = book["指标"]
    assert indicators.row_dimensions[ROW["G-2"]].height == 30  # the 原文 takes two lines


def test_cells_are_written_as_a_clerk_reads_them(plan_xlsx: Path) -> None:
    book = openpyxl.load_workbook(plan_xlsx)
    tasks, indicators = book["重点任务"], book["指标"]
    assert [c.value for c in tasks[2]][:6] == [
        1,
        1,
        "构建协调发展的新型城镇化格局",
        "市发展改革委",
        f"市住建局、{TOWNSHIPS_GROUP}",
        1,
    ]
    assert [c.value for c in indicators[ROW["G-1"]]][:9] == [
        "G-1",
        "主要目标",
        "森林覆盖率",
        30.94,
        None,
        "%",
        "越高越好",
        "≥",
        "牵头单位为准",
    ]
    assert indicators[f"J{ROW['2-2']}"].value == "比2013年下降13%"
    assert indicators[f"B{ROW['1-1']}"].value == 1
    groups = [[c.value for c in row] for row in book["单位类别"].iter_rows(min_row=2)]
    assert groups == [
        [TOWNSHIPS_GROUP, "城关乡"],
        [TOWNSHIPS_GROUP, "新建路街道"],
        [PARKS_GROUP, None],
    ]
    assert book["单位"]["C2"].value == "市直部门"
    assert book["单位"]["D2"].value == "刘红军"


def test_change_figures_read_back_in_any_common_wording() -> None:
    changes = [Change("increase", 10.0, "%"), Change("decrease", 13.0, "%", 2013)]
    assert format_changes(changes) == "增长10%；比2013年下降13%"
    assert parse_changes("增长10%；比2013年下降13%") == changes
    assert parse_changes("增长10%;比2013年下降13%") == changes  # as typed without a Chinese IME
    assert parse_changes("提高 １０%、 较2013年降低13%\n") == changes
    assert parse_changes("") == []
    with pytest.raises(ValueError):
        parse_changes("翻一番")


# -- the office's edits ---------------------------------------------------------------


def test_edited_target_alias_and_group_members_reach_later_stages(plan_xlsx: Path) -> None:
    edit(plan_xlsx, "指标", {f"D{ROW['1-1']}": 150})
    edit(plan_xlsx, "单位", {"B3": "住建局、市住房和城乡建设局"})
    edit(plan_xlsx, "单位类别", {"B4": "城关乡"})
    registry = load_registry(plan_xlsx)
    assert registry.indicator("1-1").target == 150.0
    assert registry.unit("住建局").name == "市住建局"
    assert registry.group(PARKS_GROUP).members == ["城关乡"]
    assert [a.task.number for a in registry.assignments("城关乡")] == [1, 2, 3, 4]
    assert registry.fingerprint() != small_registry().fingerprint()


def test_an_alias_in_a_task_reads_back_as_the_canonical_name(plan_xlsx: Path) -> None:
    edit(plan_xlsx, "重点任务", {"D2": "市发展和改革委员会", "E2": "住建局;各乡镇（街道、管委会）"})
    edit(plan_xlsx, "单位", {"B3": "住建局"})
    task = load_registry(plan_xlsx).task(1)
    assert task.lead_units == ["市发展改革委"]
    assert task.responsible_units == ["市住建局", TOWNSHIPS_GROUP]


@pytest.mark.parametrize("notice", sorted((Path(__file__).parent / "notices").glob("*.txt")))
def test_other_cities_notices_round_trip_through_the_workbook(tmp_path: Path, notice: Path) -> None:
    """Their group names hold a 、 (各区、县级市, 各镇人民政府、街道办事处) and stay whole."""
    registry = load_registry(notice)
    save_registry(registry, tmp_path / "plan.xlsx")
    assert load_registry(tmp_path / "plan.xlsx").to_dict() == registry.to_dict()


def test_names_are_matched_longest_first() -> None:
    known = {"各区、县级市": "各区、县级市", "市住建局": "市住建局", "各区": "各区"}
    parts = ["市住建局", "各区", "县级市", "各区", "市不存在局"]
    assert match_names(parts, known) == [
        ("市住建局", "市住建局"),
        ("各区、县级市", "各区、县级市"),
        ("各区", "各区"),
        ("市不存在局", None),
    ]


def test_what_excel_and_wps_do_to_a_sheet_changes_nothing(plan_xlsx: Path) -> None:
    """Numbers as text, full-width digits, spaces, a percentage, a date, moved and empty rows."""
    edit(
        plan_xlsx,
        "指标",
        {f"D{ROW['1-1']}": "１３０ ", f"E{ROW['3-1']}": "3", f"B{ROW['1-2']}": " 1"},
    )
    edit(plan_xlsx, "指标", {f"D{ROW['G-1']}": 0.3094}, number_format="0.00%")
    edit(plan_xlsx, "重点任务", {"F3": "2.0", "A4": "３"})
    edit(plan_xlsx, "单位", {"A2": "市发展改革委  ", "B2": " 市发展和改革委员会 "})
    edit(plan_xlsx, "方案信息", {"B5": datetime(2015, 8, 18), "B6": " 2015"})
    book = openpyxl.load_workbook(plan_xlsx)
    for name in ("重点任务", "指标"):  # sorted upside down, with empty rows in between
        sheet = book[name]
        rows = [[(c.value, c.number_format) for c in row] for row in sheet.iter_rows(min_row=2)]
        sheet.delete_rows(2, len(rows))
        for offset, cells in enumerate(reversed(rows)):
            for col, (value, number_format) in enumerate(cells, start=1):
                sheet.cell(2 + 2 * offset, col, value).number_format = number_format
    book.save(plan_xlsx)
    assert load_registry(plan_xlsx).to_dict() == small_registry().to_dict()


def test_moved_and_added_columns_are_found_by_their_header(plan_xlsx: Path) -> None:
    book = openpyxl.load_workbook(plan_xlsx)
    book["指标"].insert_cols(1)
    book["指标"]["A1"] = "办公室备注"
    book["指标"]["A2"] = "待核实"
    book.save(plan_xlsx)
    assert load_registry(plan_xlsx).to_dict() == small_registry().to_dict()


def test_blank_choices_take_their_defaults(plan_xlsx: Path) -> None:
    row = ROW["3-1"]
    edit(plan_xlsx, "指标", {f"G{row}": None, f"H{row}": None, f"I{row}": None})
    indicator = load_registry(plan_xlsx).indicator("3-1")
    assert (indicator.direction, indicator.requirement, indicator.combine) == ("up", "区间", "lead")


# -- invalid edits: reported with sheet, cell and code; no registry -------------------


@pytest.mark.parametrize(
    ("sheet", "cells", "code", "where"),
    [
        ("指标", {"D5": "约130"}, "registry.target_not_number", "D5"),
        ("指标", {"E9": "三"}, "registry.target_not_number", "E9"),
        ("指标", {"E9": 0.5}, "registry.bad_range", "E9"),
        ("重点任务", {"D2": "市不存在局"}, "registry.unknown_unit", "D2"),
        ("重点任务", {"E3": "市住建局、某某园区"}, "registry.unknown_unit", "E3"),
        ("重点任务", {"A3": 1}, "registry.duplicate_task", "A3"),
        ("重点任务", {"A3": "第二"}, "registry.not_integer", "A3"),
        ("重点任务", {"B3": 9}, "registry.unknown_category", "B3"),
        ("重点任务", {"C2": None}, "registry.missing_value", "C2"),
        ("重点任务", {"F2": -1}, "registry.weight_invalid", "F2"),
        ("重点任务", {"F2": "高"}, "registry.weight_invalid", "F2"),
        ("指标", {"B5": 99}, "registry.unknown_task", "B5"),
        ("指标", {"B5": "目标"}, "registry.unknown_task", "B5"),
        ("指标", {"A6": "1-1"}, "registry.duplicate_indicator", "A6"),
        ("指标", {"G5": "越大越好"}, "registry.not_in_list", "G5"),
        ("指标", {"H5": ">"}, "registry.not_in_list", "H5"),
        ("指标", {"I5": "平均"}, "registry.not_in_list", "I5"),
        ("指标", {"J7": "翻一番"}, "registry.bad_change", "J7"),
        ("单位", {"C2": "部门"}, "registry.not_in_list", "C2"),
        ("单位", {"B3": "市发展改革委"}, "registry.duplicate_unit", "B3"),
        ("单位", {"A3": "市发展改革委"}, "registry.duplicate_unit", "A3"),
        ("单位类别", {"B2": "某某乡"}, "registry.unknown_member", "B2"),
        ("任务类别", {"A3": 1}, "registry.duplicate_category", "A3"),
        ("方案信息", {"B6": "二〇一五"}, "registry.not_integer", "B6"),
        ("方案信息", {"B5": "八月十八日"}, "registry.bad_date", "B5"),
        ("方案信息", {"B2": ""}, "registry.missing_value", "B2"),
    ],
)
def test_an_invalid_edit_names_its_cell(
    plan_xlsx: Path, sheet: str, cells: dict[str, object], code: str, where: str
) -> None:
    edit(plan_xlsx, sheet, cells)
    assert (code, sheet, where) in problems(plan_xlsx)


def test_every_problem_is_listed_in_one_error(plan_xlsx: Path) -> None:
    edit(plan_xlsx, "指标", {"D12": "x"})  # a row the clerk added
    edit(plan_xlsx, "指标", {"A12": "4-1", "B12": 4, "C12": "遗址保护数量"})
    edit(plan_xlsx, "重点任务", {"D2": "市不存在局"})
    with pytest.raises(RegistryBookError) as caught:
        load_registry(plan_xlsx)
    assert [(f.code, f.cell) for f in caught.value.findings] == [
        ("registry.unknown_unit", "D2"),
        ("registry.target_not_number", "D12"),
    ]
    lines = str(caught.value).splitlines()
    assert len(lines) == 3
    assert lines[1].startswith("plan.xlsx 重点任务!D2")
    assert lines[2].startswith("plan.xlsx 指标!D12")


def test_an_invalid_edit_stops_a_conversion_before_anything_is_written(plan_xlsx: Path) -> None:
    edit(plan_xlsx, "指标", {"D5": "一百三十"})
    out = plan_xlsx.with_name("plan.json")
    with pytest.raises(RegistryError):
        save_registry(load_registry(plan_xlsx), out)
    assert not out.exists()


def test_a_deleted_sheet_or_column_is_named(plan_xlsx: Path) -> None:
    book = openpyxl.load_workbook(plan_xlsx)
    del book["单位类别"]
    book["指标"].delete_cols(4)  # 目标值
    book.save(plan_xlsx)
    found = problems(plan_xlsx)
    assert ("table.missing_sheet", "单位类别", None) in found
    assert ("table.missing_column", "指标", None) in found


def test_a_deleted_title_row_is_named(plan_xlsx: Path) -> None:
    book = openpyxl.load_workbook(plan_xlsx)
    book["方案信息"].delete_rows(2)
    book.save(plan_xlsx)
    assert problems(plan_xlsx) == [("registry.missing_value", "方案信息", None)]


def test_a_registry_read_without_problems_has_no_findings(plan_xlsx: Path) -> None:
    reading = read_registry_book(plan_xlsx)
    assert reading.findings == []
    assert reading.registry is not None


# -- files -------------------------------------------------------------------------------


def test_a_failed_save_leaves_the_old_file_whole(plan_xlsx: Path) -> None:
    before = plan_xlsx.read_bytes()
    broken = small_registry()
    broken.units.append(Unit("市未知局", kind="committee"))  # type: ignore[arg-type]
    with pytest.raises(KeyError):
        save_registry(broken, plan_xlsx)
    assert plan_xlsx.read_bytes() == before
    assert sorted(p.name for p in plan_xlsx.parent.iterdir()) == ["plan.xlsx"]


@pytest.mark.parametrize("name", ["plan.xls", "plan.csv", "plan"])
def test_an_unknown_suffix_is_one_clear_line(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(b"x")
    with pytest.raises(InputError) as caught:
        load_registry(path)
    assert "\n" not in str(caught.value)
    assert name in str(caught.value)


def test_a_file_that_is_not_a_workbook_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "plan.xlsx"
    path.write_text("not a workbook", encoding="utf-8")
    with pytest.raises(InputError):
        load_registry(path)


def test_broken_json_is_a_registry_error(tmp_path: Path) -> None:
    path = tmp_path / "plan.json"
    path.write_text('{"goals": []}', encoding="utf-8")
    with pytest.raises(RegistryError) as caught:
        load_registry(path)
    assert "plan.json" in str(caught.value)


def test_saving_to_an_unknown_suffix_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError):
        save_registry(small_registry(), tmp_path / "plan.csv")


@pytest.mark.parametrize(
    ("name", "content", "said"),
    [
        ("plan.json", "{}", "“plan”"),
        ("plan.json", "[1, 2]", "结构不对"),
        ("plan.json", '{"plan": 5', "第 1 行第 11 列"),
        ("plan.xlsx", "", "空文件"),
        ("plan.xlsx", "单位,联系人\n", ".xlsx 工作簿"),
    ],
)
def test_a_registry_that_is_not_one_says_why_in_chinese(tmp_path, name, content, said):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises((InputError, RegistryError)) as caught:
        load_registry(path)
    message = str(caught.value)
    assert message.startswith(name) and said in message
    assert not any(word in message for word in ("Error", "zip", "Expecting", "list"))


@pytest.mark.parametrize(("name", "key"), [("通知.pdf", "notice.pdf"), ("通知.DOC", "notice.doc")])
def test_a_pdf_or_doc_notice_says_how_to_convert_it(tmp_path, name, key):
    path = tmp_path / name
    path.write_bytes(b"anything")
    with pytest.raises(InputError) as caught:
        load_registry(path)
    assert str(caught.value) == say(key, file=name)
