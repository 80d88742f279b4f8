"""Unit forms, written and read back: rows, locking, validation, identity, names, the CLI.

Every test builds real .xlsx files and reads them with openpyxl and python-calamine
(the reader collection uses); the whole workbook is also compared with a golden dump.
"""

from __future__ import annotations

import re
import zipfile
from datetime import date
from pathlib import Path

import openpyxl
import pytest
from classic import functions, rewritten
from click.testing import CliRunner
from defusedxml import ElementTree
from fixtures import TOWNSHIPS_GROUP, small_registry
from golden import check_golden, dump_workbook
from python_calamine import CalamineWorkbook

from ecoxl import layout
from ecoxl.cli import main
from ecoxl.config import Office
from ecoxl.exceptions import ConfigError
from ecoxl.forms import (
    POOL_MIN_FORMS,
    build_form,
    form_file_name,
    parse_instructions,
    safe_file_name,
    select_units,
    write_forms,
)
from ecoxl.model import Group, Indicator, Registry, Task, Unit
from ecoxl.period import Period
from ecoxl.registry import save_registry
from ecoxl.texts import STATUSES

Q3 = Period.parse("2015-Q3")
DEADLINE = date(2015, 10, 10)
OFFICE = Office(
    name="新郑市生态文明建设领导小组办公室",
    person="王建",
    phone="0371-62699999",
    email="stwm@xinzheng.gov.cn",
)
CUSTOM_NS = "{http://schemas.openxmlformats.org/officeDocument/2006/custom-properties}"


def form_registry() -> Registry:
    """The shared small registry plus a task with "down" targets (one a range, one zero)."""
    registry = small_registry()
    registry.units.append(Unit("市环保局", aliases=["环保局"]))
    registry.tasks.append(
        Task(
            number=5,
            category=2,
            title="强化大气污染防治",
            text="PM2.5浓度控制在105微克/立方米以下,二氧化硫排放量控制在10—12万吨,不发生重大环境污染事故。",
            lead_units=["市环保局"],
            responsible_units=["市住建局"],
            indicators=[
                Indicator(
                    "5-1",
                    "环境空气中细颗粒物(Pm2.5)平均浓度",
                    105.0,
                    "微克/立方米",
                    direction="down",
                    text="PM2.5浓度控制在105微克/立方米以下",
                    requirement="≤",
                ),
                Indicator(
                    "5-2",
                    "二氧化硫排放量",
                    10.0,
                    "万吨",
                    direction="down",
                    text="二氧化硫排放量控制在10—12万吨",
                    target_max=12.0,
                    requirement="区间",
                ),
                Indicator(
                    "5-3",
                    "重大环境污染事故",
                    0.0,
                    "起",
                    direction="down",
                    text="不发生重大环境污染事故",
                    requirement="≤",
                ),
            ],
        )
    )
    return registry


def write_form(tmp_path: Path, unit: str, registry: Registry | None = None) -> Path:
    path = tmp_path / f"{unit}.xlsx"
    path.write_bytes(build_form(registry or form_registry(), unit, Q3, DEADLINE, OFFICE))
    return path


def table_rows(path: Path) -> list[tuple]:
    """(task, role, indicator, row key) of each table row, read with openpyxl."""
    sheet = openpyxl.load_workbook(path)[layout.FORM_SHEET]
    col = {c.key: i for i, c in enumerate(layout.COLUMNS)}
    rows = []
    for values in sheet.iter_rows(min_row=layout.FIRST_DATA_ROW + 1, values_only=True):
        rows.append((values[col["task"]], values[col["role"]], values[col["row_key"]]))
    return rows


# -- rows ----------------------------------------------------------------------

EXPECTED_ROWS = {
    # lead of 3, responsible in 1 (directly) and 5
    "市住建局": [
        (1, "责任", "1-1"),
        (1, "责任", "1-2"),
        (3, "牵头", "3-1"),
        (3, "牵头", "3-2"),
        (5, "责任", "5-1"),
        (5, "责任", "5-2"),
        (5, "责任", "5-3"),
    ],
    # a township: every task only through the group 各乡镇(街道、管委会); task 4 has no target
    "城关乡": [
        (1, "责任", "1-1"),
        (1, "责任", "1-2"),
        (3, "责任", "3-1"),
        (3, "责任", "3-2"),
        (4, "责任", "4-0"),
    ],
    "市文广新局": [(2, "责任", "2-1"), (2, "责任", "2-2"), (4, "牵头", "4-0")],
}


@pytest.mark.parametrize("unit", sorted(EXPECTED_ROWS))
def test_rows_are_exactly_the_units_tasks_read_with_openpyxl(tmp_path, unit):
    assert table_rows(write_form(tmp_path, unit)) == EXPECTED_ROWS[unit]


@pytest.mark.parametrize("unit", sorted(EXPECTED_ROWS))
def test_rows_are_exactly_the_units_tasks_read_with_calamine(tmp_path, unit):
    book = CalamineWorkbook.from_path(str(write_form(tmp_path, unit)))
    cells = book.get_sheet_by_name(layout.FORM_SHEET).to_python(skip_empty_area=False)
    header = cells[layout.HEADER_ROW]
    assert header == [c.header for c in layout.COLUMNS]
    task, role, key = (header.index(h) for h in ("任务编号", "本单位角色", "行键"))
    rows = [(int(r[task]), r[role], r[key]) for r in cells[layout.FIRST_DATA_ROW :]]
    assert rows == EXPECTED_ROWS[unit]


def test_prefilled_values_follow_the_registry(tmp_path):
    sheet = openpyxl.load_workbook(write_form(tmp_path, "市住建局"))[layout.FORM_SHEET]
    by_key = {
        row[-1].value: {c.key: cell.value for c, cell in zip(layout.COLUMNS, row, strict=True)}
        for row in sheet.iter_rows(min_row=layout.FIRST_DATA_ROW + 1)
    }
    assert by_key["3-1"]["requirement"] == "1—3"
    assert by_key["3-1"]["target"] == 1
    assert by_key["3-2"]["measure"] == ""
    assert by_key["5-1"]["requirement"] == "≤"
    assert by_key["5-1"]["target"] == 105
    assert by_key["1-1"]["task_title"] == "构建协调发展的新型城镇化格局"
    assert [r["seq"] for r in by_key.values()] == list(range(1, 8))


def test_task_without_target_has_no_target_and_no_rate_formula(tmp_path):
    sheet = openpyxl.load_workbook(write_form(tmp_path, "市文广新局"))[layout.FORM_SHEET]
    row = layout.FIRST_DATA_ROW + 3  # the third row: task 4, key 4-0
    assert sheet.cell(row, layout.column_index("row_key") + 1).value == "4-0"
    assert sheet.cell(row, layout.column_index("target") + 1).value is None
    assert sheet.cell(row, layout.column_index("rate") + 1).value is None


def test_rate_is_a_formula_whose_stored_result_is_blank(tmp_path):
    path = write_form(tmp_path, "市住建局")
    formulas = openpyxl.load_workbook(path)[layout.FORM_SHEET]
    values = openpyxl.load_workbook(path, data_only=True)[layout.FORM_SHEET]
    rate = layout.column_index("rate") + 1
    for r in range(layout.FIRST_DATA_ROW + 1, layout.FIRST_DATA_ROW + 8):
        assert str(formulas.cell(r, rate).value).startswith("=IF(ISNUMBER(I")
        assert values.cell(r, rate).value is None
    cells = CalamineWorkbook.from_path(str(path)).get_sheet_by_name(layout.FORM_SHEET).to_python()
    assert all(row[rate - 1] == "" for row in cells[layout.FIRST_DATA_ROW :])


def test_formulas_use_only_classic_functions(tmp_path):
    """Every form of a plan with every kind of target (≥, ≤, ranges, zero): the form's
    sheets are `ClassicSheet`s, so no formula may need xlsxwriter's `_xlfn.` prefix."""
    registry = form_registry()
    used = set()
    for unit in registry.reporting_units():
        book = openpyxl.load_workbook(write_form(tmp_path, unit, registry))
        assert not rewritten(book), unit
        used |= functions(book)
    assert used == {"IF", "ISNUMBER", "MIN", "MAX"}


def test_target_phrase_is_a_comment_on_the_indicator(tmp_path):
    sheet = openpyxl.load_workbook(write_form(tmp_path, "市住建局"))[layout.FORM_SHEET]
    indicator = layout.column_index("indicator") + 1
    comments = {
        sheet.cell(r, layout.column_index("row_key") + 1).value: sheet.cell(r, indicator).comment
        for r in range(layout.FIRST_DATA_ROW + 1, layout.FIRST_DATA_ROW + 8)
    }
    assert "二氧化硫排放量控制在10—12万吨" in comments["5-2"].text
    assert comments["5-2"].author == OFFICE.name


# -- protection ------------------------------------------------------------------


def test_every_prefilled_cell_locked_and_every_input_cell_unlocked(tmp_path):
    book = openpyxl.load_workbook(write_form(tmp_path, "市住建局"))
    sheet = book[layout.FORM_SHEET]
    inputs = {(f.row + 1, f.input_col + 1) for f in layout.SIGNATURE}
    last = layout.FIRST_DATA_ROW + len(EXPECTED_ROWS["市住建局"])
    assert sheet.max_row == last
    for c, column in enumerate(layout.COLUMNS, start=1):
        for r in range(layout.FIRST_DATA_ROW + 1, last + 1):
            if column.input:
                inputs.add((r, c))
    unlocked = set()
    for row in sheet.iter_rows(min_row=1, max_row=last, max_col=len(layout.COLUMNS)):
        for cell in row:
            if not cell.protection.locked:
                unlocked.add((cell.row, cell.column))
    assert unlocked == inputs
    # the input cells carry the light fill; a prefilled cell does not
    assert sheet.cell(last, layout.column_index("value") + 1).fill.fgColor.rgb.endswith("FFF2CC")
    assert sheet.cell(last, layout.column_index("target") + 1).fill.fill_type is None


@pytest.mark.parametrize("name", [layout.FORM_SHEET, layout.GUIDE_SHEET, layout.IDENTITY_SHEET])
def test_sheets_protected_without_password_allowing_resize_and_selection(tmp_path, name):
    protection = openpyxl.load_workbook(write_form(tmp_path, "城关乡"))[name].protection
    assert protection.sheet is True
    assert protection.password is None and protection.hashValue is None
    # in OOXML a true flag means "protected": false is what the clerk is allowed to do
    allowed = {"formatColumns", "formatRows", "selectLockedCells", "selectUnlockedCells"}
    for flag in ("formatColumns", "formatRows", "selectLockedCells", "selectUnlockedCells"):
        assert getattr(protection, flag) is False, flag
    for flag in (
        "formatCells",
        "insertRows",
        "insertColumns",
        "deleteRows",
        "deleteColumns",
        "sort",
    ):
        assert flag not in allowed and getattr(protection, flag) is True, flag


# -- validation ------------------------------------------------------------------


def validations(path: Path) -> dict[str, object]:
    sheet = openpyxl.load_workbook(path)[layout.FORM_SHEET]
    return {str(dv.sqref): dv for dv in sheet.data_validations.dataValidation}


def test_value_cells_accept_any_decimal_number(tmp_path):
    rules = validations(write_form(tmp_path, "市住建局"))
    rule = rules["I8:I14"]
    assert rule.type == "decimal"
    assert float(rule.formula1) <= -1e300 and float(rule.formula2) >= 1e300
    assert rule.showInputMessage and rule.prompt and rule.showErrorMessage
    assert rule.errorStyle in (None, "stop")


def test_status_list_comes_from_a_sheet_qualified_absolute_range_of_the_statuses(tmp_path):
    path = write_form(tmp_path, "市住建局")
    rule = validations(path)["K8:K14"]
    assert rule.type == "list"
    match = re.fullmatch(r"'(.+)'!\$([A-Z]+)\$(\d+):\$([A-Z]+)\$(\d+)", rule.formula1)
    assert match, rule.formula1
    sheet_name, first_col, first_row, last_col, last_row = match.groups()
    guide = openpyxl.load_workbook(path)[sheet_name]
    cells = guide[f"{first_col}{first_row}:{last_col}{last_row}"]
    assert [row[0].value for row in cells] == list(STATUSES)
    assert '"' not in rule.formula1  # not an inline list
    # each status is explained next to it
    assert [row[0].offset(0, 1).value for row in cells] == list(STATUSES.values())


def test_narrative_columns_have_length_limits_and_fill_date_is_a_date(tmp_path):
    rules = validations(write_form(tmp_path, "市住建局"))
    for column in layout.COLUMNS:
        if column.max_length:
            letter = chr(ord("A") + layout.column_index(column.key))
            rule = rules[f"{letter}8:{letter}14"]
            assert (rule.type, rule.operator, rule.formula1) == (
                "textLength",
                "lessThanOrEqual",
                str(column.max_length),
            )
    signature = {f.key: f for f in layout.SIGNATURE}
    date_field = signature["fill_date"]
    date_rule = rules[chr(ord("A") + date_field.input_col) + str(date_field.row + 1)]
    assert date_rule.type == "date"
    assert date_rule.formula1 == "42186"  # 2015-07-01, the period's first day
    assert {k for k, v in rules.items() if v.type == "list"} == {"K8:K14"}


# -- identity --------------------------------------------------------------------


def test_identity_sheet_is_very_hidden_and_parses_back(tmp_path):
    registry = form_registry()
    path = write_form(tmp_path, "城关乡", registry)
    assert openpyxl.load_workbook(path)[layout.IDENTITY_SHEET].sheet_state == "veryHidden"
    book = CalamineWorkbook.from_path(str(path))
    meta = {s.name: str(s.visible) for s in book.sheets_metadata}
    assert "VeryHidden" in meta[layout.IDENTITY_SHEET]
    assert "Visible" in meta[layout.FORM_SHEET]
    identity = layout.parse_identity_table(
        book.get_sheet_by_name(layout.IDENTITY_SHEET).to_python()
    )
    assert identity == layout.FormIdentity(
        plan_id=registry.plan_id,
        fingerprint=registry.fingerprint(),
        unit="城关乡",
        period="2015-Q3",
        form_version=layout.FORM_VERSION,
        row_keys=tuple(key for _, _, key in EXPECTED_ROWS["城关乡"]),
    )


def test_identity_is_also_in_custom_document_properties(tmp_path):
    registry = form_registry()
    path = write_form(tmp_path, "市住建局", registry)
    with zipfile.ZipFile(path) as package:
        root = ElementTree.fromstring(package.read("docProps/custom.xml"))
    properties = {p.get("name"): "".join(p.itertext()) for p in root.iter(f"{CUSTOM_NS}property")}
    assert properties == {
        "ecoxl.form_version": str(layout.FORM_VERSION),
        "ecoxl.plan_id": registry.plan_id,
        "ecoxl.fingerprint": registry.fingerprint(),
        "ecoxl.unit": "市住建局",
        "ecoxl.period": "2015-Q3",
    }


def test_same_inputs_give_the_same_bytes():
    registry = form_registry()
    first = build_form(registry, "城关乡", Q3, DEADLINE, OFFICE)
    assert build_form(registry, "城关乡", Q3, DEADLINE, OFFICE) == first
    assert build_form(registry, "城关乡", Period.parse("2015-09"), DEADLINE, OFFICE) != first


# -- golden ----------------------------------------------------------------------


@pytest.mark.parametrize("unit", ["市住建局", "城关乡"])
def test_whole_workbook_matches_golden(tmp_path, unit, update_golden):
    check_golden(dump_workbook(write_form(tmp_path, unit)), f"form_{unit}.txt", update_golden)


# -- the instructions template ---------------------------------------------------


def test_workspace_template_wins_and_its_text_is_in_the_form(tmp_path):
    templates = tmp_path / "templates"
    templates.mkdir()
    text = "## 表头\n{{ unit }}请于{{ deadline }}前报送。\n## 步骤\n第一步\n## 状态\n"
    text += "".join(f"{name}:自定义{name}\n" for name in STATUSES)
    (templates / "form_instructions.txt").write_text(text, encoding="utf-8")
    path = tmp_path / "f.xlsx"
    path.write_bytes(
        build_form(form_registry(), "城关乡", Q3, DEADLINE, OFFICE, templates=templates)
    )
    book = openpyxl.load_workbook(path)
    assert (
        book[layout.FORM_SHEET].cell(layout.HOWTO_ROW + 1, 1).value
        == "城关乡请于2015-10-10前报送。"
    )
    guide = book[layout.GUIDE_SHEET]
    first = layout.GUIDE_STATUS_HEADER_ROW + 2
    assert guide.cell(first, 2).value == "自定义已完成"


@pytest.mark.parametrize(
    "text",
    [
        "## 表头\n说明\n## 步骤\n一\n",  # no 状态 section
        "## 表头\n说明\n## 步骤\n一\n## 状态\n已完成:完成\n",  # four statuses missing
        "## 表头\n说明\n## 步骤\n一\n## 状态\n"
        + "".join(f"{n}:x\n" for n in [*list(STATUSES)[:4], "快完成了"]),
    ],
)
def test_a_broken_template_is_a_config_error(text):
    with pytest.raises(ConfigError):
        parse_instructions(text)


def test_a_broken_template_stops_write_forms_before_any_file(tmp_path):
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "form_instructions.txt").write_text("## 表头\n{{ nonsense }}\n", encoding="utf-8")
    out = tmp_path / "forms"
    with pytest.raises(ConfigError):
        write_forms(form_registry(), Q3, DEADLINE, OFFICE, out, templates=templates)
    assert not out.exists() or not any(out.iterdir())


# -- file names ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "safe"),
    [
        ("市林业局", "市林业局"),
        ('a\\b/c:d*e?f"g<h>i|j', "a_b_c_d_e_f_g_h_i_j"),
        ("tab\there\x00\x1f", "tab_here__"),
        ("trailing. . ", "trailing"),
        ("CON", "_CON"),
        ("con.xlsx", "_con.xlsx"),
        ("COM1", "_COM1"),
        ("lpt9.txt", "_lpt9.txt"),
        ("CONSOLE", "CONSOLE"),
        ("...", "_"),
    ],
)
def test_safe_file_name(name, safe):
    assert safe_file_name(name) == safe


def test_form_file_name_carries_period_and_unit():
    assert form_file_name(Q3, "市林业局") == "2015-Q3_市林业局_填报表.xlsx"
    assert form_file_name(Q3, "城关/新区") == "2015-Q3_城关_新区_填报表.xlsx"


# -- writing every form ----------------------------------------------------------


def test_write_forms_writes_one_valid_file_per_reporting_unit(tmp_path):
    registry = form_registry()
    ticks = []
    paths = write_forms(registry, Q3, DEADLINE, OFFICE, tmp_path, progress=ticks.append)
    units = ["市发展改革委", "市住建局", "市文广新局", "城关乡", "新建路街道", "市环保局"]
    assert [p.name for p in paths] == [form_file_name(Q3, u) for u in units]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in paths)
    assert sum(ticks) == len(units)
    for path, unit in zip(paths, units, strict=True):
        book = CalamineWorkbook.from_path(str(path))
        identity = layout.parse_identity_table(
            book.get_sheet_by_name(layout.IDENTITY_SHEET).to_python()
        )
        assert identity.unit == unit
        assert list(identity.row_keys) == [r.key for r in layout.expected_rows(registry, unit)]


def test_many_units_are_written_by_a_process_pool(tmp_path):
    registry = form_registry()
    members = [f"第{i}乡" for i in range(POOL_MIN_FORMS + 4)]
    registry.groups[0] = Group(TOWNSHIPS_GROUP, members)
    paths = write_forms(registry, Q3, DEADLINE, OFFICE, tmp_path)
    assert len(paths) == len(registry.reporting_units()) == len(members) + 4
    assert not [p for p in tmp_path.iterdir() if p.suffix != ".xlsx"]  # no temporary file left
    for path, unit in zip(paths, registry.reporting_units(), strict=True):
        assert path.name == form_file_name(Q3, unit)
        book = CalamineWorkbook.from_path(str(path))
        identity = layout.parse_identity_table(
            book.get_sheet_by_name(layout.IDENTITY_SHEET).to_python()
        )
        assert identity.unit == unit


def test_units_filter_accepts_aliases_and_groups():
    registry = form_registry()
    assert select_units(registry, ["文广新局", "市发展和改革委员会"]) == [
        "市发展改革委",
        "市文广新局",
    ]
    assert select_units(registry, [TOWNSHIPS_GROUP]) == ["城关乡", "新建路街道"]
    typed = "各乡镇（街道、管委会）"  # as a Chinese input method types it
    assert select_units(registry, [typed, " 市发展 改革委 "]) == [
        "市发展改革委",
        "城关乡",
        "新建路街道",
    ]


@pytest.mark.parametrize("name", ["市教育局", "市财政局", "各产业聚集区和专业园区"])
def test_units_filter_refuses_unknown_units_and_units_without_tasks(tmp_path, name):
    with pytest.raises(ConfigError, match=name):
        write_forms(form_registry(), Q3, DEADLINE, OFFICE, tmp_path, units=[name])


# -- the command line ------------------------------------------------------------


@pytest.fixture
def workspace(tmp_path, monkeypatch) -> Path:
    root = tmp_path / "ws"
    root.mkdir()
    (root / "ecoxl.toml").write_text(
        '[period]\ncurrent = "2015-Q3"\ndeadline = "2015-10-12"\n\n'
        '[office]\nname = "领导小组办公室"\nperson = "王建"\nphone = "0371-62699999"\n',
        encoding="utf-8",
    )
    save_registry(form_registry(), root / "plan.xlsx")
    monkeypatch.chdir(root)
    return root


def test_cli_forms_writes_one_file_per_unit_into_the_workspace(workspace):
    result = CliRunner().invoke(main, ["forms"])
    assert result.exit_code == 0, result.output
    folder = workspace / "forms" / "2015-Q3"
    names = sorted(p.name for p in folder.iterdir())
    assert len(names) == 6
    assert "2015-Q3_市住建局_填报表.xlsx" in names
    assert all(safe_file_name(n) == n and n.endswith("_填报表.xlsx") for n in names)
    assert str(folder) in result.output and "6" in result.output
    facts = openpyxl.load_workbook(folder / names[0])[layout.FORM_SHEET].cell(
        layout.FACTS_ROW + 1, 1
    )
    assert "2015-10-12" in facts.value  # the deadline from ecoxl.toml


def test_cli_forms_with_unit_period_and_output(workspace, tmp_path):
    out = tmp_path / "elsewhere"
    result = CliRunner().invoke(
        main, ["forms", "--period", "2015-09", "--unit", "文广新局", "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert [p.name for p in out.iterdir()] == ["2015-09_市文广新局_填报表.xlsx"]


def test_cli_forms_unknown_unit_is_one_line_and_exit_2(workspace):
    result = CliRunner().invoke(main, ["forms", "--unit", "市教育局"])
    assert result.exit_code == 2
    assert "市教育局" in result.output
    assert "Traceback" not in result.output
    assert not (workspace / "forms").exists()


def test_cli_forms_refuses_a_plan_that_check_finds_errors_in(workspace):
    registry = form_registry()
    registry.tasks[0].lead_units.clear()  # the office blanked 牵头单位
    save_registry(registry, workspace / "plan.xlsx")
    result = CliRunner().invoke(main, ["forms"])
    assert result.exit_code == 2
    assert f"任务{registry.tasks[0].number}" in result.stderr and "ecoxl check" in result.stderr
    assert not (workspace / "forms").exists()
