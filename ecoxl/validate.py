"""Validation of one returned form: whose it is, which rows it holds, and what is wrong.

Pure: a `ReturnedBook` (plain cell values from `readback`), the registry and the
period being collected go in; the form's identity, its rows matched by key as
`ReportedRow`s, the signature and the findings come out. Nothing here reads a file
or the ledger, so the rules are tested on real forms without any I/O around them.

The form is found by content, not position: the header row by its required headers
(rows inserted above are fine), columns by header text (moved columns are fine),
rows by the hidden 行键 column (sorted, deleted and added rows are fine). Every
finding names the cell and says what was found and what is expected; the codes and
their severities are listed in docs/COLLECT.md.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import cached_property

from xlsxwriter.utility import xl_rowcol_to_cell

from . import layout
from .exceptions import ConfigError
from .findings import Finding, Severity
from .layout import FormIdentity, FormRow
from .ledger import ReportedRow
from .measures import normalise
from .model import ROLE_LABELS, Indicator, Registry
from .period import Period
from .readback import ReturnedBook
from .texts import STATUSES, say
from .xlsx import MAX_CELL_TEXT

IdentifiedBy = str  # identity | filename | none

NARRATIVE_KEYS = ("progress", "problems", "next_steps", "remark")
HEADERS = {c.key: c.header for c in layout.COLUMNS}
PREFILLED_KEYS = ("task", "indicator", "measure", "target")
STATUS_LIST = "、".join(STATUSES)
REPORTED_STATUSES = frozenset(s for s in STATUSES if s != "未启动")
BEHIND = "欠进度"

_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_THOUSANDS = re.compile(r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?")
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff]")
_SPACE = re.compile(r"\s+")
# A share of a whole (覆盖率, 处理率, 比例, 比重, 占比) cannot pass 100 %; a growth rate,
# a completion rate or a self-sufficiency rate can.
_SHARE = re.compile(r"(率|比例|比重|占比)$")
_NOT_SHARE = re.compile(r"增长|增速|增幅|提高|下降|降低|幅度|完成率|自给率|产销率|贡献率|弹性")
_PERIOD_IN_NAME = (
    (re.compile(r"(20\d\d)\s*[-_.年 ]?\s*第?\s*[Qq]\s*([1-4])"), "{0}-Q{1}"),
    (re.compile(r"(20\d\d)\s*年?\s*第\s*([1-4一二三四])\s*季度"), "{0}-Q{1}"),
    (re.compile(r"(20\d\d)\s*[-_.年 ]?\s*[Hh]\s*([12])"), "{0}-H{1}"),
    (re.compile(r"(20\d\d)\s*年?\s*(上|下)半年"), "{0}-H{1}"),
    # a month, but not the month of a date (2015.10.08, 2015-10-08, 2015年10月8日)
    (
        re.compile(r"(20\d\d)\s*[-_.年]\s*(0?[1-9]|1[0-2])(?!\d|\s*[-_.]\s*\d|\s*月\s*\d)"),
        "{0}-{1}",
    ),
    (re.compile(r"(20\d\d)\s*年?\s*全年"), "{0}"),
)
_CHINESE_DIGITS = {"一": "1", "二": "2", "三": "3", "四": "4", "上": "1", "下": "2"}


@dataclass(frozen=True)
class Identity:
    """Whose form this is, as far as it can be told, and how it was told."""

    unit: str | None
    period: str | None
    identified_by: IdentifiedBy = "none"
    plan_id: str | None = None
    fingerprint: str | None = None
    form_version: int | None = None
    row_keys: tuple[str, ...] = ()


@dataclass
class Validation:
    """The outcome for one returned form; accepted when no finding is an error."""

    identity: Identity
    rows: list[ReportedRow] = field(default_factory=list)
    signature: dict[str, str] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)

    @property
    def accepted(self) -> bool:
        return not any(f.severity == "error" for f in self.findings)


def validate(book: ReturnedBook, registry: Registry, period: str | None = None) -> Validation:
    """Validate one form; for many forms build one `Validator` and reuse it."""
    return Validator(registry, period).validate(book)


class Validator:
    """The registry's facts a form is checked against, computed once for a whole batch."""

    def __init__(self, registry: Registry, period: str | None = None):
        self.registry = registry
        self.period = Period.parse(period).code if period else None
        self.plan_id = registry.plan_id
        self.fingerprint = registry.fingerprint()
        self.reporting = set(registry.reporting_units())
        self.indicators = {i.id: i for i in registry.all_indicators()}
        self._rows: dict[str, tuple[list[FormRow], dict[str, FormRow]]] = {}
        self._assignments = registry.assignment_index()

    @cached_property
    def names(self) -> dict[str, str]:
        """Every name a unit goes by (name, alias) → its canonical name; groups are no unit."""
        names = {u: u for u in self.reporting}
        for unit in self.registry.units:
            if unit.kind == "group":
                continue
            for name in (unit.name, *unit.aliases):
                names.setdefault(name.strip(), unit.name)
        return names

    @cached_property
    def name_tokens(self) -> list[tuple[str, str]]:
        """(token, unit) to look for in a file name, longest first; 市林业局 also as 林业局."""
        tokens = {normalise(name): unit for name, unit in self.names.items()}
        for name, unit in list(tokens.items()):
            if name.startswith("市") and len(name) >= 4:
                tokens.setdefault(name[1:], unit)
        return sorted(tokens.items(), key=lambda item: -len(item[0]))

    def expected(self, unit: str) -> tuple[list[FormRow], dict[str, FormRow]]:
        """The rows `unit`'s form was written with (`layout.expected_rows`), once per unit."""
        if unit not in self._rows:
            rows = layout.expected_rows(self.registry, unit, self._assignments.get(unit, []))
            self._rows[unit] = (rows, {r.key: r for r in rows})
        return self._rows[unit]

    def validate(self, book: ReturnedBook) -> Validation:
        check = _Check(self, book)
        return check.run()

    def from_file_name(self, name: str) -> tuple[str | None, str | None]:
        """The unit and period a file name mentions (either may be None)."""
        text = normalise(name)
        unit = None
        for token, canonical in self.name_tokens:
            if token and token in text:
                unit = canonical
                break
        return unit, period_in_name(text)


def period_in_name(text: str) -> str | None:
    """A period written in a file name: 2015-Q3, 2015Q3, 2015年第三季度, 2015-09, 2015年上半年."""
    for pattern, template in _PERIOD_IN_NAME:
        match = pattern.search(text)
        if match:
            parts = [_CHINESE_DIGITS.get(g, g) for g in match.groups()]
            return Period.parse(template.format(*parts)).code
    return None


# -- one form ------------------------------------------------------------------------------


class _Check:
    """The checks of one form, in order; each adds findings and may end the validation."""

    def __init__(self, validator: Validator, book: ReturnedBook):
        self.v = validator
        self.book = book
        self.sheet = book.form_sheet or layout.FORM_SHEET
        self.findings: list[Finding] = list(book.findings)

    def add(
        self, code: str, severity: Severity, cell: str | None = None, sheet: bool = True, **values
    ) -> None:
        message = say(f"check.{code}", **values)
        where = self.sheet if sheet else None
        self.findings.append(Finding(self.book.file, where, cell, code, message, severity))

    def run(self) -> Validation:
        identity = self.identify()
        result = Validation(identity, findings=self.findings)
        if not self.identity_is_usable(identity) or self.book.form_sheet is None:
            return result
        rows, by_key = self.v.expected(identity.unit)
        table = _locate(self.book.cells)
        if table is None:
            self.no_header()
            return result
        header_row, columns = table
        result.signature = self.signature(header_row)
        plan_changed = identity.fingerprint not in (None, self.v.fingerprint)
        result.rows = _Rows(self, columns, rows, by_key, identity, plan_changed).read(header_row)
        return result

    # -- identity ----------------------------------------------------------------------

    def identify(self) -> Identity:
        """Hidden sheet first, document properties second, then the file name (a warning)."""
        book = self.book
        table = layout.parse_identity_table(book.identity_rows) if book.identity_rows else None
        props = identity_from_properties(book.properties)
        if table and props:
            self.compare_copies(table, props)
        found = table or props
        if found is not None:
            unit = self.v.names.get(found.unit.strip(), found.unit.strip())
            return Identity(
                unit=unit,
                period=_period_code(found.period),
                identified_by="identity",
                plan_id=found.plan_id,
                fingerprint=found.fingerprint,
                form_version=found.form_version,
                row_keys=found.row_keys,
            )
        unit, period = self.v.from_file_name(book.file)
        period = period or self.v.period
        if unit is None or period is None:
            hint = say("check.identity.no_period") if period is None else ""
            self.add("identity.unknown", "error", sheet=False, period_hint=hint)
            return Identity(unit, period)
        shown = Period.parse(period).label
        self.add("identity.from_filename", "warning", sheet=False, unit=unit, period=shown)
        return Identity(unit, period, "filename")

    def compare_copies(self, table: FormIdentity, props: FormIdentity) -> None:
        for name in ("plan_id", "fingerprint", "unit", "period", "form_version"):
            a, b = str(getattr(table, name)), str(getattr(props, name))
            if a.strip() != b.strip():
                self.add(
                    "identity.mismatch",
                    "warning",
                    sheet=False,
                    field=say(f"check.identity.field.{name}"),
                    sheet_value=a,
                    property_value=b,
                )
                return

    def identity_is_usable(self, identity: Identity) -> bool:
        """Plan, period, unit and form version: errors here end the validation."""
        if identity.unit is None or identity.period is None:
            if identity.identified_by == "identity":
                self.add("identity.unknown", "error", sheet=False, period_hint="")
            return False
        if identity.plan_id is not None and identity.plan_id != self.v.plan_id:
            self.add(
                "identity.other_plan",
                "error",
                sheet=False,
                found=identity.plan_id or "?",
                expected=self.v.plan_id,
            )
            return False
        if self.v.period and identity.period != self.v.period:
            self.add(
                "identity.other_period",
                "error",
                sheet=False,
                found=_label(identity.period),
                expected=_label(self.v.period),
            )
            return False
        if identity.unit not in self.v.reporting:
            self.add("identity.unknown_unit", "error", sheet=False, unit=identity.unit)
            return False
        version = identity.form_version
        if version is not None and version > layout.FORM_VERSION:
            self.add(
                "identity.newer_version",
                "error",
                sheet=False,
                found=version,
                expected=layout.FORM_VERSION,
            )
            return False
        if version is not None and version < layout.FORM_VERSION:
            self.add(
                "identity.old_version",
                "warning",
                sheet=False,
                found=version,
                expected=layout.FORM_VERSION,
            )
        if identity.fingerprint is not None and identity.fingerprint != self.v.fingerprint:
            self.add("identity.plan_changed", "warning", sheet=False)
        return True

    def no_header(self) -> None:
        present = set()
        for row in self.book.cells[: layout.SEARCH_ROWS]:
            found = {_header(v) for v in row} & set(layout.REQUIRED_HEADERS)
            if len(found) > len(present):
                present = found
        missing = [h for h in layout.REQUIRED_HEADERS if h not in present]
        self.add(
            "form.no_header",
            "error",
            rows=layout.SEARCH_ROWS,
            required="、".join(layout.REQUIRED_HEADERS),
            missing="、".join(missing),
        )

    # -- signature ---------------------------------------------------------------------

    def signature(self, header_row: int) -> dict[str, str]:
        """填报人, 联系电话, 填报日期: each label found above the table, its value to the right."""
        labels = {f.label: f for f in layout.SIGNATURE}
        values: dict[str, str] = {}
        found: dict[str, tuple[int, int]] = {}
        for r, row in enumerate(self.book.cells[:header_row]):
            for c, cell in enumerate(row):
                label = _header(cell).rstrip(":：")
                if label in labels and labels[label].key not in found:
                    found[labels[label].key] = (r, c)
        for sig in layout.SIGNATURE:
            if sig.key not in found:
                continue
            r, c = found[sig.key]
            row = self.book.cells[r]
            for cell in row[c + 1 :]:
                if _header(cell).rstrip(":：") in labels:
                    break
                text = _as_text(cell).strip()
                if text:
                    values[sig.key] = _CONTROL.sub("", text)[: sig.max_length]
                    break
        if not values.get("filled_by"):
            sig = layout.SIGNATURE[0]
            place = found.get(sig.key)
            cell = (
                xl_rowcol_to_cell(place[0], place[1] + sig.input_col - sig.label_col)
                if place
                else None
            )
            self.add("signature.missing", "warning", cell, label=sig.label)
        return values


# -- the table -----------------------------------------------------------------------------


class _Rows:
    """Reads and checks the data rows below the header row, matching them by 行键.

    This runs for every row of every form, so the columns, headers and input formulas
    are looked up once, and the common case (a clean number, a listed status, plain
    text) takes the shortest path.
    """

    def __init__(
        self,
        check: _Check,
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
        self.by_name = {(r.task, _squash(r.indicator)): r for r in expected}
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
        filled = [c for c in self.inputs if c < len(row) and _present(row[c])]
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
            return _key_text(row[col]) if col < len(row) else None
        task = _as_number(self._get(row, "task"))
        name = _squash(_as_text(self._get(row, "indicator")))
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
                indicator=expected.indicator or expected.task_title,
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
            if found == want or _same(found, want):
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
                found=_show(found),
                expected=_show(want),
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
                "value.formula", "error", xl_rowcol_to_cell(r, col), formula=_show(formula)
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
                    found=_show(reading.text),
                    value=_num(reading.value),
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
            changing = indicator is not None and _is_change(indicator)
            code, severity = (
                ("value.negative_change", "warning") if changing else ("value.negative", "error")
            )
            self.check.add(code, severity, xl_rowcol_to_cell(r, col), value=_num(value))
        elif value > 100 and expected.measure == "%":
            indicator = self.check.v.indicators.get(expected.indicator_id or "")
            if _is_share(expected, indicator):
                self.check.add(
                    "value.over_100", "error", xl_rowcol_to_cell(r, col), value=_num(value)
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
                formula=_show(formula),
            )
            return formula[:MAX_CELL_TEXT]
        text = _SPACE.sub("", _CONTROL.sub("", _as_text(raw)))
        if text and text not in STATUSES:
            self.check.add(
                "status.invalid",
                "error",
                xl_rowcol_to_cell(r, col),
                found=_show(text),
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
            self.check.add("input.formula", "error", cell, header=header, formula=_show(formula))
            return formula[:MAX_CELL_TEXT]
        if raw is None:
            return ""
        text = raw if type(raw) is str else _as_text(raw)
        if _CONTROL.search(text):
            controls = len(_CONTROL.findall(text))
            text = _CONTROL.sub("", text)
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


# -- numbers written by hand -----------------------------------------------------------------


@dataclass(frozen=True)
class NumberReading:
    """A 本期完成值 cell read: the number (None if there is none), the text it was written as
    (empty for a clean number cell), and what had to be done to read it."""

    value: float | None
    text: str = ""
    issues: tuple[tuple[str, Severity], ...] = ()


def read_number(raw: object, measure: str) -> NumberReading:
    """Read a number the way a clerk means it: `1,234`, `１２３`, `12%` (only where the measure
    unit is %), `12公里`; anything else that is not a number is an error, never 0."""
    if raw is None:
        return NumberReading(None)
    if isinstance(raw, bool):
        return NumberReading(None, str(raw).upper(), (("value.not_number", "error"),))
    if isinstance(raw, int | float):
        if math.isfinite(raw):
            return NumberReading(float(raw))
        return NumberReading(None, str(raw), (("value.not_number", "error"),))
    if isinstance(raw, date | time | timedelta):
        return NumberReading(None, _as_text(raw), (("value.not_number", "error"),))
    original = str(raw)
    text = original.strip().strip("\u3000")
    if not text:
        return NumberReading(None)
    issues: list[tuple[str, Severity]] = []
    half = normalise(text).strip()
    if half != text:
        issues.append(("value.full_width", "warning"))
    text = half
    percent = text.endswith("%")
    if percent:
        text = text[:-1].strip()
    elif measure and measure != "%" and text.endswith(measure):
        text = text[: -len(measure)].strip()
        issues.append(("value.unit_suffix", "warning"))
    if _THOUSANDS.fullmatch(text):
        text = text.replace(",", "")
        issues.append(("value.thousands", "warning"))
    if not _NUMBER.fullmatch(text):
        return NumberReading(None, original, (("value.not_number", "error"),))
    if percent and measure != "%":
        return NumberReading(None, original, (("value.percent_mismatch", "error"),))
    if percent:
        issues.append(("value.percent_sign", "warning"))
    return NumberReading(float(text), original, tuple(issues))


def _is_change(indicator: Indicator) -> bool:
    """A target that is itself a change (下降幅度 13 %): it may come out negative."""
    return any(c.value == indicator.target for c in indicator.changes)


def _is_share(expected: FormRow, indicator: Indicator | None) -> bool:
    name = _SPACE.sub("", expected.indicator)
    if expected.measure != "%" or not _SHARE.search(name) or _NOT_SHARE.search(name):
        return False
    return indicator is None or not _is_change(indicator)


# -- cells ---------------------------------------------------------------------------------


def identity_from_properties(properties: dict[str, str]) -> FormIdentity | None:
    """The second copy of the identity, in custom document properties (no row keys)."""
    prefix = layout.PROPERTY_PREFIX
    values = {k[len(prefix) :]: v for k, v in properties.items() if k.startswith(prefix)}
    if not values.get("plan_id") or not values.get("unit"):
        return None
    try:
        version = int(float(values.get("form_version", "0")))
    except ValueError:
        version = 0
    return FormIdentity(
        plan_id=values["plan_id"].strip(),
        fingerprint=values.get("fingerprint", "").strip(),
        unit=values["unit"].strip(),
        period=values.get("period", "").strip(),
        form_version=version,
        row_keys=(),
    )


def _locate(cells: list[list[object]]) -> tuple[int, dict[str, int]] | None:
    """The header row (zero-based) and each column's position, found by header text."""
    required = set(layout.REQUIRED_HEADERS)
    for r, row in enumerate(cells[: layout.SEARCH_ROWS]):
        positions: dict[str, int] = {}
        for c, value in enumerate(row):
            if isinstance(value, str):
                positions.setdefault(_header(value), c)
        if required <= positions.keys():
            return r, {
                col.key: positions[col.header] for col in layout.COLUMNS if col.header in positions
            }
    return None


def _header(value: object) -> str:
    return _SPACE.sub("", value) if isinstance(value, str) else ""


def _squash(text: str) -> str:
    return _SPACE.sub("", text)


def _present(value: object) -> bool:
    return value is not None and not (isinstance(value, str) and not value.strip())


def _key_text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = str(value).strip()
    return text or None


def _as_text(value: object) -> str:
    """A cell as the text a clerk sees: 2015 not 2015.0, dates as 2015-10-08."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return str(value).upper()
    if isinstance(value, float):
        return _num(value)
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat(" ")
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value)


def _as_number(value: object) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        text = value.strip()
        if _NUMBER.fullmatch(text):
            return float(text)
    return None


def _same(found: object, want: object) -> bool:
    """A prefilled cell still holds what the form was written with."""
    if want is None or want == "":
        return not _present(found)
    if isinstance(want, int | float):
        number = _as_number(found)
        return number is not None and math.isclose(number, want, rel_tol=1e-9, abs_tol=1e-9)
    return _squash(_as_text(found)) == _squash(str(want))


def _num(value: float | None) -> str:
    if value is None:
        return ""
    return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)


def _show(value: object, limit: int = 40) -> str:
    """A cell's content for a message: short, on one line."""
    text = _SPACE.sub(" ", _CONTROL.sub("", _as_text(value))).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _period_code(text: str) -> str | None:
    """The period's code; an unreadable one is kept as written, so the check can quote it."""
    text = str(text).strip()
    try:
        return Period.parse(text).code
    except ConfigError:
        return text or None


def _label(code: str) -> str:
    try:
        return f"{Period.parse(code).label}({code})"
    except ConfigError:
        return code
