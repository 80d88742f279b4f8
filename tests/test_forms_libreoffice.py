"""Forms in a real client: LibreOffice opens a form, re-saves it as .xlsx, .xls and .ods,
and recalculates 完成率. Each test pins down what survives (docs/FORMS.md has the table).

.xlsx and .ods are inspected directly; an .xls is read with python-calamine for its cells
and sheet visibility, and opened once more by LibreOffice and saved as .xlsx to show what
the .xls file itself carried (validation, protection, properties), since no Python reader
here sees those records in BIFF8.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import openpyxl
import pytest
from defusedxml import ElementTree
from python_calamine import CalamineWorkbook
from test_forms import DEADLINE, OFFICE, Q3, form_registry

from ecoxl import layout
from ecoxl.forms import build_form
from ecoxl.libreoffice import convert
from ecoxl.scoring import rate_kind, value_rate
from ecoxl.texts import STATUSES

pytestmark = pytest.mark.libreoffice

UNIT = "市住建局"
ROWS = 7  # the unit's rows: 1-1 1-2 3-1 3-2 5-1 5-2 5-3
LAST_ROW = layout.FIRST_DATA_ROW + ROWS  # Excel row number of the last table row
NS = {
    "table": "urn:oasis:names:tc:opendocument:xmlns:table:1.0",
    "style": "urn:oasis:names:tc:opendocument:xmlns:style:1.0",
    "office": "urn:oasis:names:tc:opendocument:xmlns:office:1.0",
    "meta": "urn:oasis:names:tc:opendocument:xmlns:meta:1.0",
    "loext": "urn:org:documentfoundation:names:experimental:office:xmlns:loext:1.0",
}


def letter(key: str) -> str:
    return chr(ord("A") + layout.column_index(key))


@pytest.fixture(scope="module")
def form(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("form") / "form.xlsx"
    path.write_bytes(build_form(form_registry(), UNIT, Q3, DEADLINE, OFFICE))
    return path


@pytest.fixture(scope="module")
def resaved(form, soffice, tmp_path_factory) -> dict[str, Path]:
    """The form re-saved by LibreOffice in each format, and the .xls saved back as .xlsx."""
    out = tmp_path_factory.mktemp("resaved")
    files = {fmt: convert(form, fmt, out / fmt) for fmt in ("xlsx", "xls", "ods")}
    files["xls>xlsx"] = convert(files["xls"], "xlsx", out / "xls-back")
    return files


def expected_identity() -> layout.FormIdentity:
    registry = form_registry()
    return layout.FormIdentity(
        plan_id=registry.plan_id,
        fingerprint=registry.fingerprint(),
        unit=UNIT,
        period=Q3.code,
        form_version=layout.FORM_VERSION,
        row_keys=tuple(r.key for r in layout.expected_rows(registry, UNIT)),
    )


# -- every format: identity sheet, its visibility, row keys ------------------------


@pytest.mark.parametrize("fmt", ["xlsx", "xls", "ods"])
def test_identity_sheet_and_row_keys_survive_but_very_hidden_becomes_hidden(resaved, fmt):
    book = CalamineWorkbook.from_path(str(resaved[fmt]))
    visibility = {s.name: str(s.visible).rsplit(".", 1)[-1] for s in book.sheets_metadata}
    assert visibility == {
        layout.FORM_SHEET: "Visible",
        layout.GUIDE_SHEET: "Visible",
        layout.IDENTITY_SHEET: "Hidden",  # LibreOffice has no "very hidden": it keeps "hidden"
    }
    rows = book.get_sheet_by_name(layout.IDENTITY_SHEET).to_python()
    assert layout.parse_identity_table(rows) == expected_identity()
    cells = book.get_sheet_by_name(layout.FORM_SHEET).to_python(skip_empty_area=False)
    key = layout.column_index("row_key")
    assert cells[layout.HEADER_ROW] == [c.header for c in layout.COLUMNS]
    keys = [row[key] for row in cells[layout.FIRST_DATA_ROW :]]
    assert tuple(keys) == expected_identity().row_keys


@pytest.mark.parametrize("fmt", ["xlsx", "ods"])
def test_rate_stays_blank_until_a_value(resaved, fmt):
    cells = CalamineWorkbook.from_path(str(resaved[fmt])).get_sheet_by_name(layout.FORM_SHEET)
    rate = layout.column_index("rate")
    assert [row[rate] for row in cells.to_python()[layout.FIRST_DATA_ROW :]] == [""] * ROWS


def test_xls_stores_the_blank_rate_as_zero(resaved):
    """BIFF8 written by LibreOffice keeps no empty-string result: a reader sees 0 (not a value)."""
    cells = CalamineWorkbook.from_path(str(resaved["xls"])).get_sheet_by_name(layout.FORM_SHEET)
    rate = layout.column_index("rate")
    assert [row[rate] for row in cells.to_python()[layout.FIRST_DATA_ROW :]] == [0.0] * ROWS


# -- .xlsx, and what the .xls carried (read through LibreOffice's .xlsx) ----------


@pytest.mark.parametrize("fmt", ["xlsx", "xls>xlsx"])
def test_properties_validation_protection_and_formula_survive(resaved, fmt):
    book = openpyxl.load_workbook(resaved[fmt])
    properties = {p.name: p.value for p in book.custom_doc_props.props}
    assert properties == layout.identity_properties(expected_identity())
    sheet = book[layout.FORM_SHEET]

    rules = {str(dv.sqref): dv for dv in sheet.data_validations.dataValidation}
    data = f"{layout.FIRST_DATA_ROW + 1}:{{}}{LAST_ROW}"
    value = rules[f"{letter('value')}{data.format(letter('value'))}"]
    assert value.type == "decimal" and value.prompt
    status = rules[f"{letter('status')}{data.format(letter('status'))}"]
    assert status.type == "list"
    match = re.fullmatch(r"'?(.+?)'?!\$A\$(\d+):\$A\$(\d+)", status.formula1)
    assert match, status.formula1
    guide = book[match.group(1)]
    first, last = int(match.group(2)), int(match.group(3))
    assert [guide.cell(r, 1).value for r in range(first, last + 1)] == list(STATUSES)
    assert len([r for r in rules.values() if r.type == "textLength"]) == 6

    for name in (layout.FORM_SHEET, layout.GUIDE_SHEET, layout.IDENTITY_SHEET):
        protection = book[name].protection
        assert protection.sheet and protection.password is None and protection.hashValue is None
        assert protection.formatColumns is False and protection.formatRows is False
    inputs = {layout.column_index(c.key) + 1 for c in layout.COLUMNS if c.input}
    for column in range(1, len(layout.COLUMNS) + 1):
        locked = sheet.cell(LAST_ROW, column).protection.locked
        assert locked is (column not in inputs), column
    for field in layout.SIGNATURE:
        assert sheet.cell(field.row + 1, field.input_col + 1).protection.locked is False

    rate = sheet[f"{letter('rate')}{layout.FIRST_DATA_ROW + 1}"].value
    assert rate == '=IF(ISNUMBER(I8),MAX(0,MIN(1,I8/H8)),"")'
    assert sheet.column_dimensions[letter("row_key")].hidden
    indicator = sheet[f"{letter('indicator')}{layout.FIRST_DATA_ROW + 1}"]
    assert indicator.comment is not None and "130公里" in indicator.comment.text
    assert sheet.print_title_rows == f"${layout.HEADER_ROW + 1}:${layout.HEADER_ROW + 1}"
    assert sheet.page_setup.orientation == "landscape" and sheet.page_setup.paperSize == 9
    assert sheet.sheet_properties.pageSetUpPr.fitToPage
    assert (sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight) == (1, 0)


@pytest.mark.parametrize("fmt", ["xlsx", "xls>xlsx"])
def test_frozen_panes_are_not_written_by_headless_libreoffice(resaved, form, fmt):
    assert openpyxl.load_workbook(form)[layout.FORM_SHEET].freeze_panes == "A8"
    assert openpyxl.load_workbook(resaved[fmt])[layout.FORM_SHEET].freeze_panes is None


def test_ods_has_no_view_settings_so_no_frozen_panes(resaved):
    with zipfile.ZipFile(resaved["ods"]) as package:
        settings = package.read("settings.xml").decode("utf-8")
    assert "SplitMode" not in settings and 'config:name="Tables"' not in settings


# -- .ods ------------------------------------------------------------------------


def ods_parts(path: Path) -> tuple[ElementTree.ElementTree, ElementTree.ElementTree]:
    with zipfile.ZipFile(path) as package:
        content = ElementTree.fromstring(package.read("content.xml"))
        meta = ElementTree.fromstring(package.read("meta.xml"))
    return content, meta


def q(name: str) -> str:
    prefix, local = name.split(":")
    return f"{{{NS[prefix]}}}{local}"


def ods_row_styles(table, row_number: int) -> list[str | None]:
    """The cell style names of one row (1-based) of an ODS table, repeats expanded."""
    column_styles: list[str | None] = []
    for column in table.iter(q("table:table-column")):
        repeat = int(column.get(q("table:number-columns-repeated"), "1"))
        column_styles += [column.get(q("table:default-cell-style-name"))] * min(repeat, 64)
    current = 0
    for row in table.iter(q("table:table-row")):
        current += int(row.get(q("table:number-rows-repeated"), "1"))
        if current < row_number:
            continue
        styles: list[str | None] = []
        for cell in row:
            repeat = int(cell.get(q("table:number-columns-repeated"), "1"))
            style = cell.get(q("table:style-name"))
            styles += [style or column_styles[len(styles)]] * min(repeat, 64)
        return styles
    raise AssertionError(f"row {row_number} not found")


def test_ods_keeps_properties_validation_protection_and_formula(resaved):
    content, meta = ods_parts(resaved["ods"])
    properties = {p.get(q("meta:name")): p.text for p in meta.iter(q("meta:user-defined"))}
    for name, value in layout.identity_properties(expected_identity()).items():
        assert properties[name] == value

    conditions = [v.get(q("table:condition")) for v in content.iter(q("table:content-validation"))]
    assert "of:cell-content-is-in-list([$填报说明.$A$3:.$A$7])" in conditions
    assert any(c.startswith("of:cell-content-is-decimal-number()") for c in conditions)
    assert sum("text-length()" in c for c in conditions) == 6

    tables = {t.get(q("table:name")): t for t in content.iter(q("table:table"))}
    assert all(t.get(q("table:protected")) == "true" for t in tables.values())
    assert all(t.get(q("table:protection-key")) is None for t in tables.values())

    protect = {}
    for style in content.iter(q("style:style")):
        props = style.find(q("style:table-cell-properties"))
        if props is not None:
            protect[style.get(q("style:name"))] = props.get(q("style:cell-protect"))
    row = ods_row_styles(tables[layout.FORM_SHEET], LAST_ROW)
    for i, column in enumerate(layout.COLUMNS):
        state = protect.get(row[i] or "", "protected")  # no property: the default, protected
        assert (state == "none") is column.input, (column.key, state)

    formulas = [
        c.get(q("table:formula"))
        for c in tables[layout.FORM_SHEET].iter(q("table:table-cell"))
        if c.get(q("table:formula"))
    ]
    assert len(formulas) == ROWS
    assert formulas[0] == 'of:=IF(ISNUMBER([.I8]);MAX(0;MIN(1;[.I8]/[.H8]));"")'

    form_table = tables[layout.FORM_SHEET]
    assert len(list(form_table.iter(q("office:annotation")))) == ROWS  # 通知原文 comments
    assert form_table.find(f".//{q('table:table-header-rows')}") is not None  # repeated header
    messages = [m.get(q("table:title")) for m in content.iter(q("table:help-message"))]
    assert {"本期完成值", "进展状态"} <= set(messages)


def test_ods_prints_a4_landscape_one_page_wide(resaved):
    with zipfile.ZipFile(resaved["ods"]) as package:
        styles = ElementTree.fromstring(package.read("styles.xml"))
    fo = "urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0"
    layouts = [
        p
        for p in styles.iter(q("style:page-layout-properties"))
        if p.get(q("style:print-orientation")) == "landscape"
    ]
    assert len(layouts) == 1
    assert layouts[0].get(q("style:scale-to-X")) == "1"
    assert layouts[0].get(f"{{{fo}}}page-width") == "11.6929in"  # A4 across


# -- 完成率 recalculated ------------------------------------------------------------


def fill_values(source: Path, target: Path, values: dict[int, float]) -> None:
    """Put numbers into 本期完成值 by editing the sheet XML (forms are never re-saved by a
    library): {Excel row: value}."""
    column = letter("value")
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        for item in old.infolist():
            data = old.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                text = data.decode("utf-8")
                for row, value in values.items():
                    text, count = re.subn(
                        rf'<c r="{column}{row}" s="(\d+)"/>',
                        rf'<c r="{column}{row}" s="\1"><v>{value!r}</v></c>',
                        text,
                    )
                    assert count == 1, row
                data = text.encode("utf-8")
            new.writestr(item, data)


@pytest.mark.parametrize(
    "values",
    [
        # 1-1 up 130 公里, 1-2 up 1.5, 3-1 range 1—3 个, 3-2 up 0.652, 5-1 down 105,
        # 5-2 range 10—12 万吨 down, 5-3 down 0 起
        {8: 65.0, 9: 3.0, 10: 0.5, 11: 0.652, 12: 120.0, 13: 11.0, 14: 0.0},
        {8: 0.0, 9: -2.0, 10: 4.0, 11: 0.7, 12: 90.0, 13: 15.0, 14: 2.0},
    ],
)
def test_recalculated_rates_follow_the_scoring_rules(form, soffice, tmp_path, values):
    filled = tmp_path / "filled.xlsx"
    fill_values(form, filled, values)
    result = convert(filled, "xlsx", tmp_path / "recalc", recalc=True)
    sheet = openpyxl.load_workbook(result, data_only=True)[layout.FORM_SHEET]
    registry = form_registry()
    for row, value in values.items():
        key = sheet[f"{letter('row_key')}{row}"].value
        indicator = registry.indicator(key)
        expected = value_rate(rate_kind(indicator), indicator, value, 1.0)
        assert sheet[f"{letter('rate')}{row}"].value == pytest.approx(expected), key


def test_stored_blank_rates_equal_the_recalculated_ones(form, soffice, tmp_path):
    result = convert(form, "xlsx", tmp_path / "recalc", recalc=True)
    sheet = openpyxl.load_workbook(result, data_only=True)[layout.FORM_SHEET]
    stored = openpyxl.load_workbook(form, data_only=True)[layout.FORM_SHEET]
    column = letter("rate")
    for row in range(layout.FIRST_DATA_ROW + 1, LAST_ROW + 1):
        assert stored[f"{column}{row}"].value in (None, "")
        assert sheet[f"{column}{row}"].value in (None, "")
