"""The rows of a returned form: matched by 行键 and checked cell by cell (`validate.py` uses it).

Pure, like `validate.py`: cell values in, `ReportedRow`s and findings out. Every
finding names its cell; the codes are listed in docs/COLLECT.md.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from xlsxwriter.utility import xl_rowcol_to_cell

from . import layout
from .layout import FormRow
from .ledger import ReportedRow
from .model import ROLE_LABELS
from .texts import STATUSES, inner_quotes
from .validate_values import (
    CONTROL,
    SPACE,
    as_number,
    as_text,
    is_change,
    is_share,
    key_text,
    num,
    present,
    read_number,
    same,
    show,
    squash,
)
from .xlsx import MAX_CELL_TEXT

if TYPE_CHECKING:
    from .validate import FormCheck, Identity

NARRATIVE_KEYS = ("progress", "problems", "next_steps", "remark")
HEADERS = {c.key: c.header for c in layout.COLUMNS}
PREFILLED_KEYS = ("task", "indicator", "measure", "target")
STATUS_LIST = "、".join(STATUSES)
REPORTED_STATUSES = frozenset(s for s in STATUSES if s != "未启动")
BEHIND = "欠进度"


# -- the table -----------------------------------------------------------------------------


class Rows:
    """Reads and checks the data rows below the header row, matching them by 行键.

    This runs for every row of every form, so the columns, headers and input formulas
    are looked up once, and the common case (a clean number, a listed status, plain
    text) takes the shortest path.
    """

    def __init__(
        self,
        check: FormCheck,
        columns: dict[str, int],
        expected: list[FormRow],
        by_key: dict[str, FormRow],
        identity: Identity,
        plan_changed: bool,
    ):
        self.check = check
        self.columns = columns
        self.expected = expected
        self.by_key = by_key
        self.identity = identity
        self.plan_changed = plan_changed
        self.inputs = [columns[k] for k in layout.INPUT_KEYS if k in columns]
        inputs = set(self.inputs)
        self.formulas = {rc: f for rc, f in check.book.formulas.items() if rc[1] in inputs}
        self.prefilled_cols = [(k, columns[k], HEADERS[k]) for k in PREFILLED_KEYS if k in columns]
        self.narrative_cols = [(k, columns.get(k), HEADERS[k]) for k in NARRATIVE_KEYS]
        self.by_name = {(r.task, squash(r.indicator)): r for r in expected}
        self.width = max(columns.values()) + 1

    def cell(self, r: int, key: str) -> str | None:
        col = self.columns.get(key)
        return xl_rowcol_to_cell(r, col) if col is not None else None

    def read(self, header_row: int) -> list[ReportedRow]:
        check = self.check
        if "row_key" not in self.columns:
            check.add("form.no_key_column", "warning", header=HEADERS["row_key"])
        seen: dict[str, int] = {}
        result: list[ReportedRow] = []
        cells = check.book.cells
        for r in range(header_row + 1, len(cells)):
            row = cells[r]
            key = self.key_of(row)
            expected = self.by_key.get(key) if key is not None else None
            if expected is None:
                self.stray(r, row, key)
            elif key in seen:
                check.add(
                    "row.duplicate_key",
                    "error",
                    self.cell(r, "task"),
                    row=r + 1,
                    first=seen[key] + 1,
                    key=key,
                )
            else:
                seen[key] = r
                result.append(self.read_row(r, row, expected))
        self.missing(seen)
        return result

    def stray(self, r: int, row: list[object], key: str | None) -> None:
        """A row that is not one of this unit's: ignored when blank, a warning when filled."""
        filled = [c for c in self.inputs if c < len(row) and present(row[c])]
        if not filled:
            return
        if key is None:
            self.check.add("row.no_key", "warning", xl_rowcol_to_cell(r, filled[0]), row=r + 1)
        else:
            place = self.cell(r, "task") or xl_rowcol_to_cell(r, filled[0])
            self.check.add("row.unknown_key", "warning", place, row=r + 1, key=key)

    def key_of(self, row: list[object]) -> str | None:
        col = self.columns.get("row_key")
        if col is not None:
            return key_text(row[col]) if col < len(row) else None
        task = as_number(self._get(row, "task"))
        name = squash(as_text(self._get(row, "indicator")))
        if task is None or not task.is_integer():
            return None
        match = self.by_name.get((int(task), name))
        return match.key if match else None

    def _get(self, row: list[object], key: str) -> object:
        col = self.columns.get(key)
        return row[col] if col is not None and col < len(row) else None

    def missing(self, seen: dict[str, int]) -> None:
        issued = set(self.identity.row_keys)
        for expected in self.expected:
            if expected.key in seen:
                continue
            values = dict(
                task=expected.task,
                indicator=inner_quotes(expected.indicator or expected.task_title),
                role=ROLE_LABELS[expected.role],
            )
            if self.plan_changed and issued and expected.key not in issued:
                self.check.add("row.not_in_form", "warning", **values)
            else:
                severity = "error" if expected.role == "lead" else "warning"
                self.check.add("row.missing", severity, **values)

    def read_row(self, r: int, row: list[object], expected: FormRow) -> ReportedRow:
        if len(row) < self.width:
            row = row + [None] * (self.width - len(row))
        self.prefilled(r, row, expected)
        value, value_text = self.value(r, row, expected)
        status = self.status(r, row)
        texts = {
            key: self.narrative(r, key, col, header, row)
            for key, col, header in self.narrative_cols
        }
        self.answers(r, expected, value, value_text, status, texts["problems"])
        return ReportedRow(
            row_key=expected.key,
            sheet_row=r + 1,
            task=expected.task,
            indicator_id=expected.indicator_id,
            role=expected.role,
            target=expected.target,
            value=value,
            value_text=value_text,
            status=status,
            **texts,
        )

    # -- prefilled cells ---------------------------------------------------------------

    def prefilled(self, r: int, row: list[object], expected: FormRow) -> None:
        for key, col, header in self.prefilled_cols:
            found = row[col]
            want = getattr(expected, key)
            if found == want or same(found, want):
                continue
            code, severity = (
                ("prefilled.outdated", "warning")
                if self.plan_changed
                else ("prefilled.edited", "error")
            )
            self.check.add(
                code,
                severity,
                xl_rowcol_to_cell(r, col),
                header=header,
                found=show(found),
                expected=show(want),
            )

    # -- 本期完成值 ------------------------------------------------------------------------

    def value(self, r: int, row: list[object], expected: FormRow) -> tuple[float | None, str]:
        col = self.columns.get("value")
        if col is None:
            return None, ""
        raw = row[col]
        formula = self.formulas.get((r, col)) if self.formulas else None
        if formula:
            self.check.add(
                "value.formula", "error", xl_rowcol_to_cell(r, col), formula=show(formula)
            )
            return None, formula
        if raw is None:
            return None, ""
        if type(raw) is float and math.isfinite(raw) and raw >= 0:
            value, text = raw, ""
        else:
            reading = read_number(raw, expected.measure)
            for code, severity in reading.issues:
                self.check.add(
                    code,
                    severity,
                    xl_rowcol_to_cell(r, col),
                    found=show(reading.text),
                    value=num(reading.value),
                    measure=expected.measure,
                )
            if reading.value is None:
                return None, reading.text
            value, text = reading.value, reading.text
        self.plausible(r, col, value, expected)
        return value, text

    def plausible(self, r: int, col: int, value: float, expected: FormRow) -> None:
        """Negative amounts, and shares of a whole above 100 %."""
        if value < 0:
            indicator = self.check.v.indicators.get(expected.indicator_id or "")
            changing = indicator is not None and is_change(indicator)
            code, severity = (
                ("value.negative_change", "warning") if changing else ("value.negative", "error")
            )
            self.check.add(code, severity, xl_rowcol_to_cell(r, col), value=num(value))
        elif value > 100 and expected.measure == "%":
            indicator = self.check.v.indicators.get(expected.indicator_id or "")
            if is_share(expected, indicator):
                self.check.add(
                    "value.over_100", "error", xl_rowcol_to_cell(r, col), value=num(value)
                )

    # -- 进展状态 and the required answers ----------------------------------------------------

    def status(self, r: int, row: list[object]) -> str:
        col = self.columns.get("status")
        if col is None:
            return ""
        raw = row[col]
        if raw is None or (raw in STATUSES and not self.formulas):
            return raw or ""
        formula = self.formulas.get((r, col))
        if formula:
            self.check.add(
                "input.formula",
                "error",
                xl_rowcol_to_cell(r, col),
                header=HEADERS["status"],
                formula=show(formula),
            )
            return formula[:MAX_CELL_TEXT]
        text = SPACE.sub("", CONTROL.sub("", as_text(raw)))
        if text and text not in STATUSES:
            self.check.add(
                "status.invalid",
                "error",
                xl_rowcol_to_cell(r, col),
                found=show(text),
                allowed=STATUS_LIST,
            )
            return text[:MAX_CELL_TEXT]
        return text

    def answers(
        self,
        r: int,
        expected: FormRow,
        value: float | None,
        value_text: str,
        status: str,
        problems: str,
    ) -> None:
        lead = expected.role == "lead"
        if not status:
            if lead:
                self.check.add(
                    "status.missing", "error", self.cell(r, "status"), allowed=STATUS_LIST
                )
            elif value is not None or value_text:
                self.check.add("status.missing_with_value", "warning", self.cell(r, "status"))
            return
        if status == BEHIND and not problems.strip():
            self.check.add("problems.missing", "error", self.cell(r, "problems"))
        if (
            lead
            and expected.target is not None
            and status in REPORTED_STATUSES
            and value is None
            and not value_text
        ):
            self.check.add("value.missing", "warning", self.cell(r, "value"), status=status)

    # -- narrative cells -----------------------------------------------------------------

    def narrative(self, r: int, key: str, col: int | None, header: str, row: list[object]) -> str:
        if col is None:
            return ""
        raw = row[col]
        formula = self.formulas.get((r, col)) if self.formulas else None
        if formula:
            cell = xl_rowcol_to_cell(r, col)
            self.check.add("input.formula", "error", cell, header=header, formula=show(formula))
            return formula[:MAX_CELL_TEXT]
        if raw is None:
            return ""
        text = raw if type(raw) is str else as_text(raw)
        if CONTROL.search(text):
            controls = len(CONTROL.findall(text))
            text = CONTROL.sub("", text)
            cell = xl_rowcol_to_cell(r, col)
            self.check.add("text.control_chars", "warning", cell, header=header, count=controls)
        if len(text) > MAX_CELL_TEXT:
            self.check.add(
                "text.too_long",
                "warning",
                xl_rowcol_to_cell(r, col),
                header=header,
                length=len(text),
                limit=MAX_CELL_TEXT,
            )
            text = text[:MAX_CELL_TEXT]
        return text
