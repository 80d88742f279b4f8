"""The problem list (`problems/<period>_问题清单.xlsx`) the office forwards to the units.

One line per finding: unit, file, sheet, cell, severity, code, what was found and
what is expected, and what to do. Everything is written as text (xlsx.new_workbook),
so a message quoting `=SUM(…)` or a URL a unit typed stays exactly as typed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .atomic import atomic_target
from .findings import Finding
from .ledger import Ledger
from .texts import MESSAGES, say
from .xlsx import new_workbook

SEVERITY_ORDER = {"error": 0, "warning": 1}


@dataclass(frozen=True)
class ProblemLine:
    """A finding and the unit whose file it is in ("" when the file was not identified)."""

    unit: str
    finding: Finding

    @property
    def sort_key(self) -> tuple:
        f = self.finding
        return (self.unit == "", self.unit, f.file, SEVERITY_ORDER.get(f.severity, 2), f.cell or "")


def standing(ledger: Ledger, period: str) -> list[ProblemLine]:
    """What still stands for `period`, from the ledger alone: the problems of each unit's
    current submission (its accepted one, or else its newest rejection), of a rejected file
    newer than that (the unit's fix that failed), and of files no unit could be found for.
    An older file is history. Both the problem list and the scorecard's 问题 sheet use it."""
    current = ledger.current(period)
    lines = []
    for record in reversed(ledger.submissions(period)):  # oldest first, as they came in
        unit = record.submission.unit or ""
        held = current.get(unit)
        newer = held is not None and record.submission.received_at > held.submission.received_at
        if held is None or record.id == held.id or newer:
            lines += [ProblemLine(unit, f) for f in ledger.problems(record.id)]
    return lines


@dataclass(frozen=True)
class ProblemColumn:
    key: str
    width: float


COLUMNS: tuple[ProblemColumn, ...] = (
    ProblemColumn("unit", 16),
    ProblemColumn("file", 30),
    ProblemColumn("sheet", 10),
    ProblemColumn("cell", 8),
    ProblemColumn("severity", 11),
    ProblemColumn("code", 22),
    ProblemColumn("message", 70),
    ProblemColumn("advice", 28),
)
TITLE_ROW = 0
HEADER_ROW = 1


def advice(finding: Finding) -> str:
    """What the unit (or the office) should do about a finding."""
    key = f"advice.{finding.code}"
    return say(key) if key in MESSAGES else say(f"advice.{finding.severity}")


def line_values(line: ProblemLine) -> dict[str, str]:
    f = line.finding
    return {
        "unit": line.unit,
        "file": f.file,
        "sheet": f.sheet or "",
        "cell": f.cell or "",
        "severity": say(f"problems.severity.{f.severity}"),
        "code": f.code,
        "message": f.message,
        "advice": advice(f),
    }


def write_problems(path: Path, lines: list[ProblemLine], title: str) -> Path:
    """Write the problem list to `path`, atomically (a forwarded file is never half written)."""
    with atomic_target(path) as temporary:
        workbook = new_workbook(temporary)
        sheet = workbook.add_worksheet(say("problems.sheet"))
        _title(workbook, sheet, title)
        _header(workbook, sheet)
        _lines(workbook, sheet, lines)
        _page(sheet, len(lines))
        workbook.close()
    return path


def _title(workbook, sheet, title: str) -> None:
    bold = workbook.add_format({"bold": True, "font_size": 14})
    sheet.write_string(TITLE_ROW, 0, title, bold)


def _header(workbook, sheet) -> None:
    fmt = workbook.add_format(
        {"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True, "valign": "vcenter"}
    )
    for col, column in enumerate(COLUMNS):
        sheet.set_column(col, col, column.width)
        sheet.write_string(HEADER_ROW, col, say(f"problems.col.{column.key}"), fmt)


def _lines(workbook, sheet, lines: list[ProblemLine]) -> None:
    plain = workbook.add_format({"text_wrap": True, "valign": "top", "border": 1})
    error = workbook.add_format(
        {"text_wrap": True, "valign": "top", "border": 1, "font_color": "#9C0006"}
    )
    for offset, line in enumerate(lines):
        row = HEADER_ROW + 1 + offset
        fmt = error if line.finding.severity == "error" else plain
        values = line_values(line)
        for col, column in enumerate(COLUMNS):
            sheet.write_string(row, col, values[column.key], fmt)


def _page(sheet, count: int) -> None:
    sheet.autofilter(HEADER_ROW, 0, HEADER_ROW + max(count, 1), len(COLUMNS) - 1)
    sheet.freeze_panes(HEADER_ROW + 1, 0)
    sheet.set_landscape()
    sheet.set_paper(9)
    sheet.fit_to_pages(1, 0)
    sheet.repeat_rows(HEADER_ROW)
