"""Validation of one returned form: whose it is, which rows it holds, and what is wrong.

The checks are pure: a `ReturnedBook` (plain cell values from `readback`), the
registry and the period being collected go in; the form's identity, its rows matched
by key as `ReportedRow`s, the signature and the findings come out. `Validator` reads
no file and no ledger, so the rules are tested on real forms without any I/O around
them. `CheckTask` is the one exception: it is the worker's step during `collect`,
reading the workbook through `readback` and then checking it.

The form is found by content, not position: the header row by its required headers
(rows inserted above are fine), columns by header text (moved columns are fine),
rows by the hidden 行键 column (sorted, deleted and added rows are fine). Every
finding names the cell and says what was found and what is expected; the codes and
their severities are listed in docs/COLLECT.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from xlsxwriter.utility import xl_rowcol_to_cell

from . import layout
from .config import Limits
from .exceptions import ConfigError
from .findings import Finding, Severity
from .layout import FormIdentity, FormRow
from .ledger import ReportedRow
from .measures import normalise
from .model import Registry
from .period import Period
from .readback import ReturnedBook, read_checked
from .texts import say
from .validate_rows import Rows
from .validate_values import CONTROL, as_text, header_text
from .worker import ReadFailure

IdentifiedBy = str  # identity | filename | none

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
        self.names = self._names()
        self.name_tokens = self._name_tokens()

    def _names(self) -> dict[str, str]:
        """Every name a unit goes by (name, alias) → its canonical name; groups are no unit."""
        names = {u: u for u in self.reporting}
        for unit in self.registry.units:
            if unit.kind == "group":
                continue
            for name in (unit.name, *unit.aliases):
                names.setdefault(name.strip(), unit.name)
        return names

    def _name_tokens(self) -> list[tuple[str, str]]:
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
        check = FormCheck(self, book)
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


@dataclass(frozen=True)
class CheckTask:
    """What a reader worker does with each file during `collect` (`worker.py`): inspect,
    read and validate it, so only the outcome crosses back, not every cell. The worker
    gets the `Validator` once per run, with every fact already computed."""

    validator: Validator
    limits: Limits

    def __call__(self, name: str, data: bytes) -> Validation | ReadFailure:
        book = read_checked(data, name, self.limits)
        return self.validator.validate(book) if isinstance(book, ReturnedBook) else book


def period_in_name(text: str) -> str | None:
    """A period written in a file name: 2015-Q3, 2015Q3, 2015年第三季度, 2015-09, 2015年上半年."""
    for pattern, template in _PERIOD_IN_NAME:
        match = pattern.search(text)
        if match:
            parts = [_CHINESE_DIGITS.get(g, g) for g in match.groups()]
            return Period.parse(template.format(*parts)).code
    return None


# -- one form ------------------------------------------------------------------------------


class FormCheck:
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
        result.rows = Rows(self, columns, rows, by_key, identity, plan_changed).read(header_row)
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
            found = {header_text(v) for v in row} & set(layout.REQUIRED_HEADERS)
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
                label = header_text(cell).rstrip(":：")
                if label in labels and labels[label].key not in found:
                    found[labels[label].key] = (r, c)
        for sig in layout.SIGNATURE:
            if sig.key not in found:
                continue
            r, c = found[sig.key]
            row = self.book.cells[r]
            for cell in row[c + 1 :]:
                if header_text(cell).rstrip(":：") in labels:
                    break
                text = as_text(cell).strip()
                if text:
                    values[sig.key] = CONTROL.sub("", text)[: sig.max_length]
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
                positions.setdefault(header_text(value), c)
        if required <= positions.keys():
            return r, {
                col.key: positions[col.header] for col in layout.COLUMNS if col.header in positions
            }
    return None


def _period_code(text: str) -> str | None:
    """The period's code; an unreadable one is kept as written, so the check can quote it."""
    text = str(text).strip()
    try:
        return Period.parse(text).code
    except ConfigError:
        return text or None


def _label(code: str) -> str:
    try:
        return f"{Period.parse(code).label}（{code}）"
    except ConfigError:
        return code
