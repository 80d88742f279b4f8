"""A table on one sheet, defined once by its columns: written with xlsxwriter, read with openpyxl.

The registry and contacts workbooks belong to the office, which edits them in
Excel or WPS. So reading finds columns by their header (moved or added columns
do no harm), skips empty rows and takes each cell as a person typed it: numbers
stored as text, full-width digits, stray spaces, a percentage Excel turned into
a fraction. What cannot be read becomes a `Finding` naming the cell.
"""

from __future__ import annotations

import math
import re
import unicodedata
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Literal

from openpyxl.workbook.workbook import Workbook as ReadBook
from xlsxwriter.utility import quote_sheetname, xl_range_abs, xl_rowcol_to_cell
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from .exceptions import InputError
from .findings import Finding, Severity
from .texts import display_width, os_reason, say

Kind = Literal["text", "long", "number", "int", "choice", "email"]

VALIDATION_ROWS = 2000  # rows below the header that keep their input rules as rows are added
LINE_HEIGHT = 15  # points per line of wrapped text (11-point 宋体)
HEADER_SEARCH_ROWS = 10  # how far down a reader looks for the header row if rows were inserted
_SEPARATORS = "、,，;；\n"
_OPEN, _CLOSE = "(（[［〔【", ")）]］〕】"
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\ufeff"))


@dataclass(frozen=True)
class TableColumn:
    """One column: its header, how it is written and how its cells are read back."""

    key: str
    header: str
    width: float  # the widest the column grows to fit its text (long text wraps at it)
    kind: Kind = "text"
    required: bool = False  # a row must fill it
    optional: bool = False  # the header itself may be missing (the office deleted the column)
    choices: tuple[str, ...] = ()  # what a `choice` cell offers, as the clerk reads it
    source: str = ""  # a list validation taken from a range (formula), for `text` columns
    note: str = ""  # one line for the workbook's guide sheet
    grow: bool = True  # a `long` cell's row grows to show all of it (else: the formula bar does)


@dataclass(frozen=True)
class TableSpec:
    """A sheet holding one table with a header row."""

    sheet: str
    columns: tuple[TableColumn, ...]
    note: str = ""

    def column(self, key: str) -> TableColumn:
        return next(c for c in self.columns if c.key == key)

    def range_of(self, key: str) -> str:
        """The absolute range below the header of one column, for a list validation elsewhere."""
        col = next(i for i, c in enumerate(self.columns) if c.key == key)
        return f"={quote_sheetname(self.sheet)}!{xl_range_abs(1, col, VALIDATION_ROWS, col)}"


# -- writing -------------------------------------------------------------------


@dataclass(frozen=True)
class Styles:
    """The formats every table shares; made once per workbook."""

    header: object
    text: object
    long: object
    number: object

    @classmethod
    def of(cls, workbook: Workbook) -> Styles:
        base = {"valign": "top"}
        return cls(
            header=workbook.add_format(
                {"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True, **base}
            ),
            text=workbook.add_format({"num_format": "@", **base}),
            long=workbook.add_format({"num_format": "@", "text_wrap": True, **base}),
            number=workbook.add_format({"num_format": "General", **base}),
        )


def write_table(
    workbook: Workbook, styles: Styles, spec: TableSpec, rows: Sequence[Sequence[object]]
) -> Worksheet:
    """A sheet with a frozen, filtered header row, fitted widths and the columns' input rules."""
    sheet = workbook.add_worksheet(spec.sheet)
    last_col = len(spec.columns) - 1
    for col, column in enumerate(spec.columns):
        style = _style(styles, column)
        values = [row[col] for row in rows]
        sheet.set_column(col, col, fitted_width(column, values), style)
        sheet.write_string(0, col, column.header, styles.header)
        for row, value in enumerate(values, start=1):
            _write_cell(sheet, row, col, value, style)
        _validate(sheet, col, column)
    for row, values in enumerate(rows, start=1):
        lines = wrapped_lines(spec, values)
        if lines > 1:  # no client grows a row to fit wrapped text on opening: give it the lines
            sheet.set_row(row, LINE_HEIGHT * lines)
    sheet.freeze_panes(1, 0)
    sheet.autofilter(0, 0, max(len(rows), 1), last_col)
    print_setup(sheet)
    sheet.repeat_rows(0)
    return sheet


def print_setup(sheet: Worksheet) -> None:
    """A4 landscape, as wide as one page."""
    sheet.set_paper(9)
    sheet.set_landscape()
    sheet.fit_to_pages(1, 0)


def fitted_width(column: TableColumn, values: Sequence[object]) -> float:
    """Wide enough for the header and the longest value, up to the column's width.

    A column still to be filled in (all empty) gets its full width, room for typing.
    """
    if column.kind == "long" or not any(v not in (None, "") for v in values):
        return column.width
    widest = max([display_width(column.header), *(display_width(v) for v in values)])
    return min(column.width, widest + 2)


def wrapped_lines(spec: TableSpec, values: Sequence[object]) -> int:
    """How many lines the row's longest wrapped text takes."""
    return max(
        [1]
        + [
            math.ceil(display_width(value) / (column.width - 1))
            for column, value in zip(spec.columns, values, strict=True)
            if column.kind == "long" and column.grow
        ]
    )


def _style(styles: Styles, column: TableColumn) -> object:
    if column.kind == "long":
        return styles.long
    return styles.number if column.kind in ("number", "int") else styles.text


def _write_cell(sheet: Worksheet, row: int, col: int, value: object, style: object) -> None:
    if value is None or value == "":
        return
    if isinstance(value, int | float) and not isinstance(value, bool):
        sheet.write_number(row, col, value, style)
    else:
        sheet.write_string(row, col, str(value), style)


def _validate(sheet: Worksheet, col: int, column: TableColumn) -> None:
    """Excel's own input rules, so a typo is caught while typing, not when reading back."""
    rule: dict[str, object] | None = None
    if column.kind == "choice":
        rule = {"validate": "list", "source": list(column.choices)}
    elif column.kind == "number":
        rule = {"validate": "decimal", "criteria": "between", "minimum": -1e15, "maximum": 1e15}
    elif column.kind == "int":
        rule = {"validate": "integer", "criteria": "between", "minimum": 0, "maximum": 100000}
    elif column.kind == "email":
        first = xl_rowcol_to_cell(1, col)
        rule = {
            "validate": "custom",
            "value": f'=OR(ISBLANK({first}),ISNUMBER(SEARCH("@",{first})))',
            "error_type": "warning",
        }
    elif column.source:
        rule = {"validate": "list", "source": column.source, "error_type": "warning"}
    if rule is None:
        return
    if column.note:
        rule |= {"input_title": column.header[:32], "input_message": column.note[:255]}
    rule.setdefault("error_title", column.header[:32])
    rule.setdefault("error_message", say("table.input_rule", note=column.note)[:255])
    sheet.data_validation(1, col, VALIDATION_ROWS, col, rule)


# -- reading -------------------------------------------------------------------


@dataclass
class TableRow:
    """One non-empty row as read: raw cell values and each cell's address, by column key."""

    number: int  # the row number Excel shows
    values: dict[str, object]
    cells: dict[str, str]
    percent: frozenset[str]  # keys of cells Excel shows as a percentage


@dataclass
class Problems:
    """Findings collected while reading one file; each message comes from `texts` by its code."""

    file: str
    findings: list[Finding] = field(default_factory=list)

    def add(
        self,
        sheet: str | None,
        cell: str | None,
        code: str,
        severity: Severity = "error",
        /,
        **values: object,
    ) -> None:
        message = say(code, **values)
        self.findings.append(Finding(self.file, sheet, cell, code, message, severity))


def read_table(
    book: ReadBook, spec: TableSpec, problems: Problems, sheet: str = ""
) -> list[TableRow]:
    """The non-empty rows under the header of `spec`'s sheet (or `sheet`); [] if it is unusable."""
    name = sheet or spec.sheet
    if name not in book.sheetnames:
        problems.add(name, None, "table.missing_sheet", sheet=name)
        return []
    worksheet = book[name]
    if hasattr(worksheet, "reset_dimensions"):
        worksheet.reset_dimensions()  # a hand-edited file may declare too small a used range
    grid = [list(row) for row in worksheet.iter_rows()]
    header_row, positions = _find_header(grid, spec)
    missing = [c for c in spec.columns if c.key not in positions and not c.optional]
    for column in missing:
        problems.add(name, None, "table.missing_column", sheet=name, header=column.header)
    if header_row is None or missing:
        return []
    rows = []
    for index in range(header_row + 1, len(grid)):
        cells = grid[index]
        values, addresses, percent = {}, {}, set()
        for key, col in positions.items():
            cell = cells[col] if col < len(cells) else None
            values[key] = getattr(cell, "value", None)
            addresses[key] = xl_rowcol_to_cell(index, col)
            if "%" in (getattr(cell, "number_format", None) or ""):
                percent.add(key)
        if any(clean_text(v) for v in values.values()):
            rows.append(TableRow(index + 1, values, addresses, frozenset(percent)))
    return rows


def _find_header(grid: list[list[object]], spec: TableSpec) -> tuple[int | None, dict[str, int]]:
    """The header row (zero-based) and the position of each known header in it."""
    wanted = {name_key(c.header): c.key for c in spec.columns}
    best: tuple[int | None, dict[str, int]] = (None, {})
    for index, cells in enumerate(grid[:HEADER_SEARCH_ROWS]):
        positions: dict[str, int] = {}
        for col, cell in enumerate(cells):
            key = wanted.get(name_key(clean_text(getattr(cell, "value", None))))
            if key and key not in positions:
                positions[key] = col
        if len(positions) > len(best[1]):
            best = (index, positions)
    return best


# -- cells as a person typed them ---------------------------------------------


def clean_text(value: object) -> str:
    """A cell as text: trimmed, zero-width characters gone, 30.0 shown as 30, a date as ISO."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).translate(_INVISIBLE).strip()


def open_book(path: Path, message: str) -> ReadBook:
    """`path` opened with openpyxl (read-only, values); InputError `message` (a texts key taking
    `file` and `reason`) with the reason in Chinese when it is not a workbook at all."""
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        return openpyxl.load_workbook(path, read_only=True, data_only=True)
    except OSError as exc:
        reason = os_reason(exc)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError):
        empty = path.is_file() and path.stat().st_size == 0
        reason = say("book.empty" if empty else "book.not_xlsx")
    raise InputError(say(message, file=path.name, reason=reason))


def name_key(name: str) -> str:
    """How names are compared: full-width folded to half-width, all blanks removed."""
    return "".join(unicodedata.normalize("NFKC", name).split())


def to_number(value: object, percent: bool = False) -> float | None:
    """A number typed any way (３０．９４, "1,200", "30.94%", 0.3094 shown as %); None if blank.

    Raises ValueError for anything else. A cell Excel shows as a percentage holds
    the fraction; the registry keeps percentages as the number before the % sign.
    """
    if isinstance(value, bool):
        raise ValueError(value)
    if isinstance(value, int | float):
        number = float(value) * (100 if percent else 1)
        if not math.isfinite(number):
            raise ValueError(value)
        return float(f"{number:.15g}") if percent else number
    text = name_key(clean_text(value)).replace(",", "").removesuffix("%")
    if not text:
        return None
    if not re.fullmatch(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?", text):
        raise ValueError(value)
    return float(text)


def to_int(value: object) -> int | None:
    """A whole number typed any way (7, "7", "７", 7.0); None if blank; ValueError otherwise."""
    number = to_number(value)
    if number is None:
        return None
    if not number.is_integer():
        raise ValueError(value)
    return int(number)


def split_names(text: object) -> list[str]:
    """Names in one cell, split at 、 , ; or line breaks outside brackets.

    各乡镇(街道、管委会) stays whole.
    """
    names, current, depth = [], [], 0
    for ch in clean_text(text):
        if ch in _OPEN:
            depth += 1
        elif ch in _CLOSE:
            depth = max(depth - 1, 0)
        if ch in _SEPARATORS and depth == 0:
            names.append("".join(current))
            current = []
        else:
            current.append(ch)
    names.append("".join(current))
    return [n.strip() for n in names if n.strip()]


def join_names(names: Sequence[str]) -> str:
    return "、".join(names)


def format_number(value: float) -> str:
    """A number as text that reads back to the same float: 30.94, 10, 0.579."""
    return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
