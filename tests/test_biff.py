"""Formula cells of an .xls: a form re-saved by LibreOffice and collected, the real-world
corpus, and hand-made BIFF streams that lie (cut short, lengths past the end, offsets outside)."""

from __future__ import annotations

import io
import random
import struct
from datetime import date

import fill
import hostile
import pytest
from fixtures import small_registry
from python_calamine import CalamineError, CalamineWorkbook

from ecoxl import layout
from ecoxl.biff import (
    BOF,
    BOUNDSHEET,
    CODEPAGE,
    EOF,
    FILEPASS,
    FORMULA,
    MAX_RECORDS,
    stream_formulas,
    xls_formulas,
)
from ecoxl.collect import collect
from ecoxl.config import Limits, Office
from ecoxl.forms import build_form
from ecoxl.libreoffice import convert
from ecoxl.period import Period
from ecoxl.readback import ReturnedBook, read_checked
from ecoxl.texts import say

PLACEHOLDER = say("read.formula.xls")

# -- a form re-saved as .xls by LibreOffice ---------------------------------------------------

ANSWERS = {
    "1-1": {"value": fill.Formula("=SUM(60,60)", 120.0), "status": "达进度"},
    "1-2": {
        "value": 1.25,
        "status": "欠进度",
        "problems": "资金未到位",
        "progress": fill.Formula('="完成"&"一半"'),
    },
    "2-1": {"value": 40, "status": "超进度"},
    "2-2": {"value": 13, "status": "已完成"},
}


@pytest.fixture(scope="module")
def returned(tmp_path_factory, soffice) -> tuple[bytes, bytes]:
    """A lead unit's return with formulas in two input cells: as filled (.xlsx), and as .xls."""
    form = build_form(
        small_registry(), "市发展改革委", Period.parse("2015-Q3"), date(2015, 10, 10), Office()
    )
    filled = fill.fill_form(form, ANSWERS, fill.signed())
    folder = tmp_path_factory.mktemp("biff")
    source = fill.drop(folder, "2015-Q3_市发展改革委_填报表.xlsx", filled)
    return filled, convert(source, "xls", folder / "xls").read_bytes()


def position(data: bytes, key: str, column: str) -> tuple[int, int]:
    rows, columns = fill.form_positions(data)
    return rows[key], columns[column]


@pytest.mark.libreoffice
def test_the_formula_cells_of_an_xls_are_those_of_the_workbook_it_was_saved_from(returned):
    filled, xls = returned
    original = read_checked(filled, "form.xlsx", Limits())
    assert isinstance(original, ReturnedBook)
    found = xls_formulas(xls, layout.FORM_SHEET)
    assert set(found) == set(original.formulas)  # the inputs and the form's own 完成率
    assert position(filled, "1-1", "value") in found
    assert position(filled, "1-2", "progress") in found
    assert position(filled, "1-2", "value") not in found  # a number typed in
    assert position(filled, "1-1", "rate") in found
    assert set(found.values()) == {PLACEHOLDER}
    assert xls_formulas(xls, layout.IDENTITY_SHEET) == {}


@pytest.mark.libreoffice
def test_a_formula_in_an_xls_input_cell_is_reported_where_it_is(returned, tmp_path):
    filled, xls = returned
    ws = fill.new_workspace(tmp_path / "ws", small_registry())
    fill.drop(ws.inbox_dir, "发改委三季度.xls", xls)
    handled = collect(ws, [ws.inbox_dir]).handled[0]
    assert handled.outcome == "rejected"
    assert [(f.code, f.sheet, f.cell) for f in handled.findings] == [
        ("value.formula", layout.FORM_SHEET, fill.cell_of(filled, "1-1", "value")),
        ("input.formula", layout.FORM_SHEET, fill.cell_of(filled, "1-2", "progress")),
    ]


# -- the real-world corpus ----------------------------------------------------------------


def test_every_sheet_of_every_real_world_xls_is_read_without_raising(realworld):
    files = sorted(realworld.glob("*.xls"))
    assert len(files) > 30
    for path in files:
        data = path.read_bytes()
        for sheet in [*_sheet_names(data), "Sheet1", "填报表"]:
            assert isinstance(xls_formulas(data, sheet), dict), path.name


def test_real_world_formula_cells_are_found(realworld):
    # calamine's own test (issue304_xls_formula): A2:A4 of Sheet1 are formulas, Sheet2 has none
    data = (realworld / "xls_formula.xls").read_bytes()
    assert set(xls_formulas(data, "Sheet1")) == {(1, 0), (2, 0), (3, 0)}
    assert xls_formulas(data, "Sheet2") == {}
    biff5 = (realworld / "issue_643_biff5_formula.xls").read_bytes()  # a `Book` stream
    assert xls_formulas(biff5, "SheetJS")


def _sheet_names(data: bytes) -> list[str]:
    """The names calamine reads (readback asks `biff` about those); none when it refuses."""
    try:
        return CalamineWorkbook.from_filelike(io.BytesIO(data)).sheet_names
    except CalamineError:
        return []


# -- hand-made streams ----------------------------------------------------------------------


def record(kind: int, body: bytes = b"") -> bytes:
    return struct.pack("<HH", kind, len(body)) + body


def bof(version: int = 0x0600, kind: int = 0x0010) -> bytes:
    return record(BOF, struct.pack("<HH", version, kind) + bytes(12))


def formula(row: int, col: int) -> bytes:
    return record(FORMULA, struct.pack("<HHH", row, col, 15) + bytes(14))


def number(row: int, col: int) -> bytes:
    return record(0x0203, struct.pack("<HHHd", row, col, 15, 1.5))


def boundsheet(offset: int, name: str, biff8: bool = True) -> bytes:
    if not biff8:
        raw = name.encode("cp936")
        return record(BOUNDSHEET, struct.pack("<IHB", offset, 0, len(raw)) + raw)
    wide = not name.isascii()
    raw = name.encode("utf-16-le" if wide else "latin-1")
    return record(BOUNDSHEET, struct.pack("<IHBB", offset, 0, len(name), wide) + raw)


def workbook(sheets: dict[str, list[bytes]], version: int = 0x0600, extra: bytes = b"") -> bytes:
    """Globals (BOF, `extra`, a BOUNDSHEET per sheet, EOF), then each sheet: BOF, records, EOF."""
    biff8 = version == 0x0600
    head = bof(version, 0x0005) + extra
    offset = len(head) + sum(len(boundsheet(0, n, biff8)) for n in sheets) + 4
    index, bodies = b"", b""
    for name, records in sheets.items():
        index += boundsheet(offset + len(bodies), name, biff8)
        bodies += bof(version) + b"".join(records) + record(EOF)
    return head + index + record(EOF) + bodies


def pointing_at(stream: bytes, offset: int) -> bytes:
    """The stream with its first BOUNDSHEET's offset replaced (the record follows the BOF)."""
    patched = bytearray(stream)
    struct.pack_into("<I", patched, len(bof()) + 4, offset)
    return bytes(patched)


FORM = {
    "说明": [formula(0, 0)],
    "填报表": [number(7, 8), formula(7, 9), formula(8, 8), number(8, 9)],
    "Sheet3": [formula(5, 5)],
}
STREAM = workbook(FORM)


def test_each_sheet_gives_its_own_formula_cells_only():
    assert stream_formulas(STREAM, "填报表") == {(7, 9): PLACEHOLDER, (8, 8): PLACEHOLDER}
    assert set(stream_formulas(STREAM, "说明")) == {(0, 0)}
    assert set(stream_formulas(STREAM, "Sheet3")) == {(5, 5)}
    assert stream_formulas(STREAM, "填报") == {}
    assert xls_formulas(hostile.ole2({"Workbook": STREAM}), "填报表").keys() == {(7, 9), (8, 8)}


def test_a_biff5_book_stream_names_sheets_in_its_code_page():
    stream = workbook(FORM, version=0x0500, extra=record(CODEPAGE, struct.pack("<H", 936)))
    assert set(xls_formulas(hostile.ole2({"Book": stream}), "填报表")) == {(7, 9), (8, 8)}
    assert set(stream_formulas(stream, "Sheet3")) == {(5, 5)}


def test_a_chart_inside_a_sheet_does_not_end_it():
    chart = [bof(kind=0x0020), record(0x1002, bytes(16)), record(EOF)]
    stream = workbook({"填报表": [formula(1, 1), *chart, formula(2, 2)], "后": [formula(3, 3)]})
    assert set(stream_formulas(stream, "填报表")) == {(1, 1), (2, 2)}


def test_a_stream_cut_anywhere_gives_some_of_the_cells_and_never_raises():
    whole = stream_formulas(STREAM, "填报表")
    for end in range(len(STREAM)):
        assert stream_formulas(STREAM[:end], "填报表").items() <= whole.items(), end
    assert stream_formulas(STREAM[:-4], "填报表") == whole  # only its EOF missing


def test_a_length_running_past_the_end_stops_the_walk():
    liar = struct.pack("<HH", FORMULA, 0xFFFF) + struct.pack("<HH", 9, 9)
    stream = workbook({"填报表": [formula(1, 1)]})[:-4] + liar
    assert set(stream_formulas(stream, "填报表")) == {(1, 1)}
    globals_liar = bof(0x0600, 0x0005) + struct.pack("<HH", BOUNDSHEET, 0xFFFF) + bytes(40)
    assert stream_formulas(globals_liar, "填报表") == {}


@pytest.mark.parametrize(
    "offset", [0xFFFFFFFF, len(STREAM), len(STREAM) - 2, len(bof()), len(bof()) + 3, 0]
)
def test_a_sheet_offset_outside_or_not_at_a_bof_gives_nothing(offset):
    # outside, inside the last record, at the BOUNDSHEET itself, mid-record, the globals' BOF
    assert stream_formulas(pointing_at(STREAM, offset), "说明") == {}


def test_zero_length_records_end_the_walk_at_the_cap():
    filler = record(0) * (MAX_RECORDS + 1)
    stream = workbook({"填报表": [formula(1, 1), filler, formula(2, 2)]})
    assert set(stream_formulas(stream, "填报表")) == {(1, 1)}  # the walk stopped in the filler


def test_damaged_records_are_skipped_or_end_the_search():
    short = record(FORMULA, b"\x01\x00")  # too short to hold a row and a column
    assert set(stream_formulas(workbook({"填报表": [short, formula(4, 4)]}), "填报表")) == {(4, 4)}
    encrypted = workbook(FORM, extra=record(FILEPASS, bytes(54)))
    assert stream_formulas(encrypted, "填报表") == {}
    # a name longer than its record, whose first characters are the name asked for
    cut = record(BOUNDSHEET, struct.pack("<IHBB", 0, 0, 9, 1) + "填报表".encode("utf-16-le"))
    sheet = bof() + formula(1, 1) + record(EOF)
    head = bof(0x0600, 0x0005) + cut + record(EOF)
    assert stream_formulas(pointing_at(head, len(head)) + sheet, "填报表") == {}
    assert stream_formulas(record(BOF), "填报表") == {}  # a BOF too short for its version
    not_bof = bytearray(STREAM)
    struct.pack_into("<H", not_bof, 0, 0x0209)  # a BIFF3 BOF: not a BIFF5/8 workbook
    assert stream_formulas(bytes(not_bof), "填报表") == {}


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\xd0\xcf\x11\xe0",
        hostile.not_a_zip(),
        hostile.word_97(),
        hostile.ole2({"Workbook": b"\xff" * 64}),
        hostile.ole2({"Workbook": STREAM})[:1000],
    ],
)
def test_a_file_that_is_not_a_whole_xls_gives_nothing(data):
    assert xls_formulas(data, "填报表") == {}


def test_random_damage_never_raises():
    generator = random.Random(2015)
    container = hostile.ole2({"Workbook": STREAM})
    for _ in range(3000):
        stream, file = bytearray(STREAM), bytearray(container)
        for _ in range(generator.randint(1, 8)):
            stream[generator.randrange(len(stream))] = generator.randrange(256)
            file[generator.randrange(len(file))] = generator.randrange(256)
        assert isinstance(stream_formulas(bytes(stream), "填报表"), dict)
        assert isinstance(xls_formulas(bytes(file), "填报表"), dict)
