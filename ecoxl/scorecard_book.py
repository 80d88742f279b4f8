"""What every scorecard sheet shares: formats, defined names, tables and their colours.

A `Table` is one sheet holding one table: a title on row 1, the headers on row 2
and one record per row from row 3, with frozen headers, a filter and A4-landscape
print setup. Its columns are declared once (`Col`), with the headers in the form's
words; formulas address cells through `Table.cell` / `Table.absolute` and the
workbook-level names `Table.define` gives its columns.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from xlsxwriter.utility import (
    quote_sheetname,
    xl_col_to_name,
    xl_range,
    xl_range_abs,
    xl_rowcol_to_cell,
)
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from .layout import column
from .scoring_results import Card
from .texts import say
from .xlsx import FONT, ClassicSheet, new_workbook

LINE_HEIGHT = 14.25  # points per line of 11-point text
MAX_LINES = 12  # a longer text is cut off on screen (the cell keeps it all)

TITLE_ROW = 0
HEADER_ROW = 1
FIRST = 2  # zero-based row of a table's first record

# Excel's own good / neutral / bad colours, and grey for 未报送.
COLOURS = {
    "green": ("#C6EFCE", "#006100"),
    "amber": ("#FFEB9C", "#9C5700"),
    "red": ("#FFC7CE", "#9C0006"),
    "grey": ("#E7E6E6", "#595959"),
}

_BORDERED = {"border": 1, "border_color": "#BFBFBF", "valign": "vcenter"}
_STYLES: dict[str, dict] = {
    "title": {"bold": True, "font_size": 14, "valign": "vcenter"},
    "section": {"bold": True, "font_size": 12, "font_color": "#1F4E79"},
    "header": {
        **_BORDERED,
        "bold": True,
        "bg_color": "#DDEBF7",
        "align": "center",
        "text_wrap": True,
    },
    "text": _BORDERED,
    "wrap": {**_BORDERED, "text_wrap": True},
    "int": {**_BORDERED, "num_format": "0", "align": "center"},
    "number": {**_BORDERED, "num_format": "General"},
    "pct": {**_BORDERED, "num_format": "0.0%"},
    "score": {**_BORDERED, "num_format": "0.0"},
    "helper": {**_BORDERED, "font_color": "#808080"},
    "helper_number": {**_BORDERED, "font_color": "#808080", "num_format": "General"},
    "link": {**_BORDERED, "font_color": "#0563C1", "underline": 1},
    "label": {**_BORDERED, "bold": True, "bg_color": "#F2F2F2", "align": "center"},
    "big": {**_BORDERED, "bold": True, "font_size": 14, "align": "center", "num_format": "0"},
    "big_pct": {
        **_BORDERED,
        "bold": True,
        "font_size": 14,
        "align": "center",
        "num_format": "0.0%",
    },
    "value": {**_BORDERED, "align": "center"},
}


@dataclass(frozen=True)
class Col:
    """One column of a table: key, header (the form's word where it has one), width, style."""

    key: str
    header: str
    width: float
    style: str = "text"


class RowOrderError(RuntimeError):
    """A cell or row height written behind the row being written (a bug in a sheet writer)."""


class RowByRowSheet(ClassicSheet):
    """A scorecard sheet, written row by row (`Book`): a write behind the current row,
    which `constant_memory` mode would silently drop, raises instead."""

    def _check_dimensions(self, row, col, ignore_row=False, ignore_col=False):
        # Runs for every cell: calling the parent directly adds a third of what super() adds.
        found = Worksheet._check_dimensions(self, row, col, ignore_row, ignore_col)
        if found == -2:
            raise RowOrderError(f"{self.name}: row {row + 1} after row {self.previous_row + 1}")
        return found


class Book:
    """The workbook being written, with its formats and the card it shows.

    Written in xlsxwriter's `constant_memory` mode: each row goes to disk as soon as a
    later row is started, so 明细's hundreds of thousands of rows are never all held (peak
    memory at 5,000 units 730 → 304 MB, bench/README.md). Every sheet is therefore written
    top to bottom, a row complete before the next (`RowByRowSheet` raises on a cell or
    `set_row` behind the current row), and strings are stored in the cells, not shared.
    """

    def __init__(self, path: Path, card: Card):
        self.workbook: Workbook = new_workbook(path, constant_memory=True)
        self.card = card
        self.formats = {k: self._format(v) for k, v in _STYLES.items()}
        self.plain = {k: self._format({**v, "border": 0}) for k, v in _STYLES.items()}
        self.fills = {
            light: self._format({"bg_color": bg, "font_color": fg})
            for light, (bg, fg) in COLOURS.items()
        }

    def _format(self, properties: dict):
        return self.workbook.add_format({"font_name": FONT, **properties})

    def add_sheet(self, name: str) -> Worksheet:
        return self.workbook.add_worksheet(name, worksheet_class=RowByRowSheet)

    def name(self, name: str, sheet: str, first_row: int, col: int, last_row: int | None) -> None:
        """A workbook-level name for a column (whole column when `last_row` is None)."""
        letter = xl_col_to_name(col, col_abs=True)
        if last_row is None:
            ref = f"{letter}:{letter}"
        else:
            ref = xl_range_abs(first_row, col, max(first_row, last_row), col)
        self.workbook.define_name(name, f"={quote_sheetname(sheet)}!{ref}")

    def close(self) -> None:
        self.workbook.close()

    # -- colours --------------------------------------------------------------

    def colour_by_label(self, sheet: Worksheet, area: str, driver: str, labels: dict) -> None:
        """Colour `area` by the text in `driver` (a cell of its first row, column fixed)."""
        for light, label in labels.items():
            sheet.conditional_format(
                area,
                {
                    "type": "formula",
                    "criteria": f"={driver}={text_constant(label)}",
                    "format": self.fills[light],
                },
            )

    def colour_by_elapsed(self, sheet: Worksheet, area: str, driver: str, scale: str = "") -> None:
        """Colour a rate (or a 0–100 score with scale '100*') against 序时进度."""
        amber = f"{scale}(序时进度-黄色区间)"
        filled = f'{driver}<>""'
        rules = {
            "green": f"=AND({filled},{driver}>={scale}序时进度)",
            "amber": f"=AND({filled},{driver}<{scale}序时进度,{driver}>={amber})",
            "red": f"=AND({filled},{driver}<{amber})",
        }
        for light, rule in rules.items():
            sheet.conditional_format(
                area, {"type": "formula", "criteria": rule, "format": self.fills[light]}
            )


def form_header(key: str) -> str:
    """A column header in the unit form's own words (layout.COLUMNS)."""
    return column(key).header


def light_labels() -> dict[str, str]:
    return {light: say(f"scorecard.light.{light}") for light in COLOURS}


def state_labels() -> dict[str, str]:
    states = ("received", "late", "rejected", "missing")
    return {state: say(f"scorecard.state.{state}") for state in states}


# The colour each return state shows in.
STATE_COLOURS = {"received": "green", "late": "amber", "rejected": "red", "missing": "grey"}


class Table:
    """One sheet with one table of `records` rows.

    A `plain` table (明细, the big one) has no cell borders and writes nothing for an
    empty value, so its size costs no more than its values.
    """

    def __init__(
        self,
        book: Book,
        name: str,
        what: str,
        cols: Sequence[Col],
        records: int,
        freeze: int = 1,
        plain: bool = False,
    ):
        self.book = book
        self.plain = plain
        self.formats = book.plain if plain else book.formats
        self.name = name
        self.cols = tuple(cols)
        self.index = {c.key: i for i, c in enumerate(self.cols)}
        self.records = records
        self.lines: dict[int, int] = {}  # record → lines its wrapped text needs
        self.sheet: Worksheet = book.add_sheet(name)
        self._setup(what, freeze)

    def _setup(self, what: str, freeze: int) -> None:
        sheet, fmt = self.sheet, self.book.formats
        title = say("scorecard.sheet_title", period=self.book.card.period.label, what=what)
        sheet.write_string(TITLE_ROW, 0, title, fmt["title"])
        sheet.set_row(TITLE_ROW, 24)
        sheet.set_row(HEADER_ROW, 30)
        for i, col in enumerate(self.cols):
            sheet.set_column(i, i, col.width)
            sheet.write_string(HEADER_ROW, i, col.header, fmt["header"])
        sheet.freeze_panes(FIRST, freeze)
        sheet.autofilter(HEADER_ROW, 0, HEADER_ROW + max(1, self.records), len(self.cols) - 1)
        print_setup(sheet, repeat=(TITLE_ROW, HEADER_ROW))

    # -- addresses ------------------------------------------------------------

    def row(self, record: int) -> int:
        return FIRST + record

    def cell(self, record: int, key: str) -> str:
        """The record's cell in column `key`, column fixed: $N3."""
        return xl_rowcol_to_cell(self.row(record), self.index[key], col_abs=True)

    def absolute(self, record: int, key: str) -> str:
        """Another sheet's view of one cell: 任务!$G$5."""
        cell = xl_rowcol_to_cell(self.row(record), self.index[key], row_abs=True, col_abs=True)
        return f"{quote_sheetname(self.name)}!{cell}"

    def area(self, key: str, last_key: str | None = None) -> str:
        """The records' cells in columns key…last_key, for conditional formats."""
        last = self.row(max(0, self.records - 1))
        first_col, last_col = self.index[key], self.index[last_key or key]
        return xl_range(FIRST, first_col, last, last_col)

    def define(self, name: str, key: str, *, whole: bool = False) -> None:
        last = None if whole else self.row(max(0, self.records - 1))
        self.book.name(name, self.name, FIRST, self.index[key], last)

    # -- cells ----------------------------------------------------------------

    def text(self, record: int, key: str, value: str, style: str | None = None) -> None:
        """Text as text: never a formula or a link, whatever it looks like."""
        col = self.cols[self.index[key]]
        style = style or col.style
        fmt = self.formats[style]
        if value:
            self.sheet.write_string(self.row(record), self.index[key], value, fmt)
            if style == "wrap":
                self._fit(record, value, col.width)
        elif not self.plain:
            self.sheet.write_blank(self.row(record), self.index[key], None, fmt)

    def _fit(self, record: int, value: str, width: float) -> None:
        """Rows are not grown to fit wrapped text on opening, so size them here."""
        lines = min(MAX_LINES, wrapped_lines(value, width))
        if lines > self.lines.get(record, 1):
            self.lines[record] = lines
            self.sheet.set_row(self.row(record), LINE_HEIGHT * lines)

    def number(self, record: int, key: str, value: float | None) -> None:
        fmt = self.formats[self.cols[self.index[key]].style]
        if value is None:
            if not self.plain:
                self.sheet.write_blank(self.row(record), self.index[key], None, fmt)
        else:
            self.sheet.write_number(self.row(record), self.index[key], value, fmt)

    def formula(self, record: int, key: str, formula: str, value: float | str | None) -> None:
        """A formula with its result stored ("" for an empty result)."""
        fmt = self.formats[self.cols[self.index[key]].style]
        stored = "" if value is None else value
        self.sheet.write_formula(self.row(record), self.index[key], formula, fmt, stored)


def print_setup(sheet: Worksheet, repeat: tuple[int, int]) -> None:
    """A4 landscape, one page wide, headers repeated, page numbers in the footer."""
    sheet.set_paper(9)
    sheet.set_landscape()
    sheet.fit_to_pages(1, 0)
    sheet.repeat_rows(*repeat)
    sheet.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.6)
    sheet.set_footer("&C" + say("scorecard.footer"))


def wrapped_lines(text: str, width: float) -> int:
    """Lines `text` takes in a column `width` characters wide (a Chinese character is two)."""
    per_line = max(1.0, width - 1)
    total = 0
    for line in text.splitlines() or [""]:
        size = sum(2 if ord(ch) > 0x2E7F else 1 for ch in line)
        total += max(1, math.ceil(size / per_line))
    return total


def num(value: float) -> str:
    """A number as a formula constant that reads back to the same double."""
    if float(value).is_integer():
        return str(int(value))
    return repr(float(value))


def text_constant(value: str) -> str:
    """A string constant in a formula."""
    return '"' + value.replace('"', '""') + '"'
