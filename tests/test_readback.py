"""Reading returned files in worker processes: values, identity, formulas, and isolation."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

import hostile
import pytest

from ecoxl import layout
from ecoxl.config import Limits
from ecoxl.libreoffice import convert
from ecoxl.readback import (
    ReadFailure,
    ReadTask,
    ReturnedBook,
    read_checked,
    read_many,
    xlsx_formulas,
)
from ecoxl.texts import say
from ecoxl.worker import Pool

LIMITS = Limits(timeout_seconds=60)
# A1 and P400000: under the safety cap, but the reader allocates ~200 MB for it
BIG_EXTENT = (
    '<row r="1"><c r="A1"><v>1</v></c></row><row r="400000"><c r="P400000"><v>2</v></c></row>'
)


@dataclass(frozen=True)
class Item:
    name: str
    data: bytes


def read_one(data: bytes, name: str = "form.xlsx", limits: Limits = LIMITS):
    [(_, result)] = list(read_many([Item(name, data)], limits, workers=1))
    return result


def test_a_form_is_read_with_values_identity_properties_and_formulas():
    book = read_one(hostile.simple_form(rows=3, formula_in_value=True))
    assert isinstance(book, ReturnedBook)
    assert (book.format, book.form_sheet, book.findings) == ("xlsx", layout.FORM_SHEET, [])
    header = book.cells[layout.HEADER_ROW]
    assert header[: len(layout.COLUMNS)] == [c.header for c in layout.COLUMNS]
    first = book.cells[layout.FIRST_DATA_ROW]
    assert first[layout.column_index("status")] == "达进度"
    assert first[layout.column_index("remark")] is None  # empty cells are None
    identity = layout.parse_identity_table(book.identity_rows)
    assert identity == hostile.IDENTITY
    assert book.properties["ecoxl.unit"] == "市环保局"
    value_cell = (layout.FIRST_DATA_ROW, layout.column_index("value"))
    assert book.formulas[value_cell] == "=1+2"
    assert first[layout.column_index("value")] == 3  # the cached value, never evaluated
    rate_cell = (layout.FIRST_DATA_ROW + 1, layout.column_index("rate"))
    assert book.formulas[rate_cell] == "=I9/H9"
    assert [s.visible for s in book.sheets] == ["visible", "veryhidden"]


def test_a_renamed_form_sheet_is_found_by_its_headers():
    book = read_one(hostile.simple_form(sheet="Sheet1"))
    assert book.form_sheet == "Sheet1"
    assert book.formulas


def test_a_workbook_without_the_form_says_so():
    book = read_one(hostile.minimal_xlsx(sheet="数据"))
    assert book.form_sheet is None
    assert [(f.code, f.severity) for f in book.findings] == [("form.no_form_sheet", "error")]


def test_a_value_at_xfd1048576_is_refused_and_the_test_process_lives():
    result = read_one(hostile.far_cell(), "far.xlsx")
    assert isinstance(result, ReadFailure)
    assert result.code == "sheet.far_outside"
    assert result.findings[0].cell == "XFD1048576"


def test_macros_are_read_with_a_warning():
    book = read_one(hostile.with_macros(), "宏.xlsm")
    assert book.format == "xlsm"
    assert [f.code for f in book.findings] == ["file.macros"]
    assert book.cells


def test_a_crashing_file_costs_itself_only():
    """The reader really aborts here (its allocation exceeds the worker's memory limit)."""
    good = hostile.simple_form()
    crasher = hostile.minimal_xlsx(rows=BIG_EXTENT)
    items = [Item(f"ok{i}.xlsx", good) for i in range(5)]
    items.insert(2, Item("crash.xlsx", crasher))
    results = list(read_many(items, Limits(memory_mb=150, timeout_seconds=60), workers=2))
    assert [item.name for item, _ in results] == [item.name for item in items]
    outcome = {item.name: getattr(r, "code", "book") for item, r in results}
    assert outcome.pop("crash.xlsx") == "file.crashed_reader"
    assert set(outcome.values()) == {"book"}
    assert "\n" not in results[2][1].message


def test_a_file_that_overruns_its_time_is_given_up_and_the_rest_are_read():
    slow = hostile.many_sheets(12, BIG_EXTENT)  # 12 sheets of ~0.25 s each; a form takes ~2 ms
    items = [
        Item("a.xlsx", hostile.simple_form()),
        Item("slow.xlsx", slow),
        Item("b.xlsx", hostile.simple_form()),
    ]
    results = list(read_many(items, Limits(timeout_seconds=0.25), workers=1))
    codes = [getattr(r, "code", "book") for _, r in results]
    assert codes == ["book", "file.timeout", "book"]


def test_results_are_in_input_order_and_do_not_depend_on_the_worker_count():
    builders = [
        hostile.simple_form,
        hostile.docx,
        hostile.far_cell,
        hostile.with_external_links,
        hostile.pdf,
        hostile.strict_ooxml,
    ]
    items = [Item(f"{i:03}.xlsx", builders[i % len(builders)]()) for i in range(60)]
    one = [(i.name, r) for i, r in read_many(items, LIMITS, workers=1)]
    two = [(i.name, r) for i, r in read_many(iter(items), LIMITS, workers=2)]
    assert one == two
    assert [name for name, _ in two] == [item.name for item in items]


def test_formulas_are_found_in_every_form_a_writer_uses():
    """Shared formulas, self-closed followers, whitespace, prefixed elements; not a `<family>`
    of inline rich text, not an `<xm:f>` of a data validation, not an `<f>` after a value."""
    sheet = (
        '<worksheet xmlns="main" xmlns:x="main" xmlns:xm="xm"><sheetData>'
        '<row r="1"><c r="A1"><f>1+2</f><v>3</v></c>'
        '<c r="B1" t="str">\n  <f t="shared" ref="B1:B3" si="0">A1&amp;"x"</f><v>3x</v></c></row>'
        '<row r="2"><c r="B2" t="str"><f t="shared" si="0"/><v>x</v></c>'
        '<c r="C2" t="inlineStr"><is><r><rPr><family val="2"/></rPr><t>text</t></r></is></c>'
        '<c r="D2"><v>1</v><f>9</f></c></row>'
        '<x:row r="3"><x:c r="AA3"><x:f>SUM(A1:A2)</x:f><x:v>3</x:v></x:c></x:row>'
        "</sheetData><extLst><ext><x14:dataValidations><x14:dataValidation><x14:formula1>"
        "<xm:f>填报说明!$A$3:$A$7</xm:f></x14:formula1></x14:dataValidation>"
        "</x14:dataValidations></ext></extLst></worksheet>"
    ).encode()
    assert xlsx_formulas(sheet) == {
        (0, 0): "=1+2",
        (0, 1): '=A1&"x"',
        (1, 1): '=A1&"x"',
        (2, 26): "=SUM(A1:A2)",
    }


def test_read_checked_refuses_before_reading():
    result = read_checked(hostile.zip_bomb(), "bomb.xlsx", LIMITS)
    assert isinstance(result, ReadFailure) and result.code == "file.zip_bomb"


@pytest.fixture(scope="module")
def resaved(tmp_path_factory, soffice) -> dict[str, Path]:
    """The simple form re-saved by LibreOffice as .ods and .xls (as a unit might)."""
    folder = tmp_path_factory.mktemp("resaved")
    source = folder / "form.xlsx"
    source.write_bytes(hostile.simple_form(rows=3, formula_in_value=True))
    return {fmt: convert(source, fmt, folder / fmt) for fmt in ("ods", "xls")}


@pytest.mark.libreoffice
def test_ods_saved_by_libreoffice_keeps_identity_properties_and_formulas(resaved):
    book = read_one(resaved["ods"].read_bytes(), "form.ods")
    assert book.format == "ods" and book.form_sheet == layout.FORM_SHEET
    assert layout.parse_identity_table(book.identity_rows) == hostile.IDENTITY
    assert book.properties["ecoxl.unit"] == "市环保局"
    value_cell = (layout.FIRST_DATA_ROW, layout.column_index("value"))
    assert book.formulas[value_cell] == "=1+2"
    assert book.cells[layout.FIRST_DATA_ROW][layout.column_index("value")] == 3


@pytest.mark.libreoffice
def test_xls_saved_by_libreoffice_keeps_identity_properties_and_formula_cells(resaved):
    book = read_one(resaved["xls"].read_bytes(), "form.xls")
    assert book.format == "xls" and book.form_sheet == layout.FORM_SHEET
    assert layout.parse_identity_table(book.identity_rows) == hostile.IDENTITY
    assert book.properties.get("ecoxl.unit") == "市环保局"
    value_cell = (layout.FIRST_DATA_ROW, layout.column_index("value"))
    assert book.formulas[value_cell] == say("read.formula.xls")  # where, not the text
    assert book.cells[layout.FIRST_DATA_ROW][layout.column_index("value")] == 3


def test_workers_come_from_a_fresh_zygote_which_is_started_again_if_it_dies():
    items = [Item(f"ok{i}.xlsx", hostile.simple_form()) for i in range(3)]
    before = _children()
    with Pool(ReadTask.__module__, LIMITS, 2) as pool:
        first = pool.zygote.process
        first.kill()
        first.wait()
        results = list(pool.run(items, ReadTask(LIMITS)))
        assert pool.zygote.process is not first
        assert pool.zygote.process.args[:3] == [sys.executable, "-P", "-c"]  # not a fork of us
    assert [type(r) for _, r in results] == [ReturnedBook] * 3
    assert _children() <= before


def test_workers_are_gone_afterwards():
    before = _children()
    list(read_many([Item("a.xlsx", hostile.simple_form())], LIMITS, workers=2))
    assert _children() <= before


def _children() -> set[int]:
    me = os.getpid()
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == me:
                found.add(int(entry.name))
    return found
