"""The unit form's layout, defined once: `forms` writes it and `collect` reads it back.

Everything about where things are in a form lives here: sheet names, the
instructions block, the columns (header, width, locked or input), the hidden
identity and the rows a unit gets. No other module hard-codes a form position.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from xlsxwriter.utility import xl_range_abs

from .model import ROLE_LABELS, Assignment, Registry, Role

FORM_VERSION = 1
FORM_MARK = "ecoxl-form"

FORM_SHEET = "填报表"
GUIDE_SHEET = "填报说明"
IDENTITY_SHEET = "_ecoxl"

HEADER_ROW = 6  # zero-based: the column headers are on Excel row 7
FIRST_DATA_ROW = HEADER_ROW + 1
SEARCH_ROWS = 40  # how far down a reader looks for the header row if rows were inserted

ColumnKind = Literal["int", "text", "number", "formula", "status", "key"]


@dataclass(frozen=True)
class Column:
    """One column of the form table."""

    key: str
    header: str
    width: float
    kind: ColumnKind
    input: bool = False
    max_length: int | None = None
    hidden: bool = False
    wrap: bool = False


COLUMNS: tuple[Column, ...] = (
    Column("seq", "序号", 5, "int"),
    Column("task", "任务编号", 7, "int"),
    Column("task_title", "重点任务", 26, "text", wrap=True),
    Column("role", "本单位角色", 9, "text"),
    Column("indicator", "指标", 22, "text", wrap=True),
    Column("measure", "计量单位", 9, "text", wrap=True),
    Column("requirement", "要求", 7, "text"),
    Column("target", "目标值", 9, "number"),
    Column("value", "本期完成值", 10, "number", input=True),
    Column("rate", "完成率", 8, "formula"),
    Column("status", "进展状态", 9, "status", input=True),
    Column("progress", "工作进展", 28, "text", input=True, max_length=2000, wrap=True),
    Column("problems", "存在问题", 20, "text", input=True, max_length=1000, wrap=True),
    Column("next_steps", "下步打算", 20, "text", input=True, max_length=1000, wrap=True),
    Column("remark", "备注", 10, "text", input=True, max_length=500, wrap=True),
    Column("row_key", "行键", 8, "key", hidden=True),
)
REQUIRED_HEADERS = ("任务编号", "目标值", "本期完成值", "进展状态")
INPUT_KEYS = tuple(c.key for c in COLUMNS if c.input)


_POSITIONS = {c.key: i for i, c in enumerate(COLUMNS)}


def column(key: str) -> Column:
    return COLUMNS[_POSITIONS[key]]


def column_index(key: str) -> int:
    """Zero-based position of a column in a freshly written form."""
    return _POSITIONS[key]


# The signature fields a unit fills in above the table: label, then the input cell to its right.
@dataclass(frozen=True)
class SignatureField:
    key: str
    label: str
    row: int  # zero-based
    label_col: int
    input_col: int
    max_length: int = 100


SIGNATURE_ROW = 4
SIGNATURE: tuple[SignatureField, ...] = (
    SignatureField("filled_by", "填报人", SIGNATURE_ROW, 1, 2),
    SignatureField("phone", "联系电话", SIGNATURE_ROW, 3, 4),
    SignatureField("fill_date", "填报日期", SIGNATURE_ROW, 6, 7),
)

# The instructions block above the signature: one merged line each, across the visible columns.
TITLE_ROW = 0
FACTS_ROW = 1  # unit, period, deadline
CONTACT_ROW = 2  # the office's contact
HOWTO_ROW = 3  # the short how-to from templates/form_instructions.txt
LEGEND_ROW = 5  # what the light fill means

# The 填报说明 sheet: the status list (the 进展状态 validation's source), then the how-to steps.
GUIDE_STATUS_HEADER_ROW = 1
GUIDE_STATUS_COL = 0


def status_source(count: int) -> str:
    """Absolute, sheet-qualified range of the status names on 填报说明: `'填报说明'!$A$3:$A$7`."""
    first = GUIDE_STATUS_HEADER_ROW + 1
    quoted = GUIDE_SHEET.replace("'", "''")  # always quoted: valid for any sheet name
    return f"'{quoted}'!" + xl_range_abs(
        first, GUIDE_STATUS_COL, first + count - 1, GUIDE_STATUS_COL
    )


# -- the rows a unit gets ------------------------------------------------------


@dataclass(frozen=True)
class FormRow:
    """One prefilled row: an indicator of a task, as one unit reports it."""

    key: str
    seq: int
    task: int
    task_title: str
    role: Role
    indicator_id: str | None
    indicator: str
    measure: str
    requirement: str
    target: float | None
    target_max: float | None

    @property
    def role_label(self) -> str:
        return ROLE_LABELS[self.role]


def row_key(task: int, indicator_id: str | None) -> str:
    """Stable key of a form row: the indicator id, or `<task>-0` for a task without one."""
    return indicator_id or f"{task}-0"


def requirement_label(requirement: str, target: float | None, target_max: float | None) -> str:
    """What 要求 shows: ≥, ≤, 约, or the range itself (1—3)."""
    if requirement == "区间" and target is not None and target_max is not None:
        return f"{_num(target)}—{_num(target_max)}"
    return requirement if target is not None else ""


def expected_rows(
    registry: Registry, unit: str, assignments: list[Assignment] | None = None
) -> list[FormRow]:
    """The rows of `unit`'s form, in task order: one per indicator, one for a task without.

    Callers handling many units pass the unit's entry of `Registry.assignment_index()`.
    """
    rows: list[FormRow] = []
    if assignments is None:
        assignments = registry.assignments(unit)
    for assignment in assignments:
        task = assignment.task
        for ind in task.indicators or [None]:
            rows.append(
                FormRow(
                    key=row_key(task.number, ind.id if ind else None),
                    seq=len(rows) + 1,
                    task=task.number,
                    task_title=task.title,
                    role=assignment.role,
                    indicator_id=ind.id if ind else None,
                    indicator=ind.name if ind else "",
                    measure=ind.unit if ind else "",
                    requirement=requirement_label(ind.requirement, ind.target, ind.target_max)
                    if ind
                    else "",
                    target=ind.target if ind else None,
                    target_max=ind.target_max if ind else None,
                )
            )
    return rows


# -- the hidden identity -----------------------------------------------------


@dataclass(frozen=True)
class FormIdentity:
    """What a form says about itself in its very hidden sheet and document properties."""

    plan_id: str
    fingerprint: str
    unit: str
    period: str
    form_version: int
    row_keys: tuple[str, ...]


IDENTITY_FIELDS = ("mark", "form_version", "plan_id", "fingerprint", "unit", "period")
ROWS_MARKER = "row_keys"
PROPERTY_PREFIX = "ecoxl."


def identity_table(identity: FormIdentity) -> list[list[object]]:
    """The very hidden sheet's content: key/value lines, then the row keys one per line."""
    values = {
        "mark": FORM_MARK,
        "form_version": identity.form_version,
        "plan_id": identity.plan_id,
        "fingerprint": identity.fingerprint,
        "unit": identity.unit,
        "period": identity.period,
    }
    table: list[list[object]] = [[k, values[k]] for k in IDENTITY_FIELDS]
    table.append([ROWS_MARKER, len(identity.row_keys)])
    table.extend([[key] for key in identity.row_keys])
    return table


def identity_properties(identity: FormIdentity) -> dict[str, str]:
    """Custom document properties: a second copy of the identity (without row keys)."""
    return {
        f"{PROPERTY_PREFIX}{k}": str(v)
        for k, v in {
            "form_version": identity.form_version,
            "plan_id": identity.plan_id,
            "fingerprint": identity.fingerprint,
            "unit": identity.unit,
            "period": identity.period,
        }.items()
    }


def parse_identity_table(rows: list[list[object]]) -> FormIdentity | None:
    """Read `identity_table` back from cell values (as any reader returns them); None if absent."""
    values: dict[str, object] = {}
    keys: list[str] = []
    in_keys = False
    for row in rows:
        cells = [c for c in row if c not in (None, "")]
        if not cells:
            continue
        first = str(cells[0]).strip()
        if in_keys:
            keys.append(first)
        elif first == ROWS_MARKER:
            in_keys = True
        elif len(cells) >= 2:
            values[first] = cells[1]
    if values.get("mark") != FORM_MARK:
        return None
    try:
        version = int(float(str(values.get("form_version", 0))))
    except ValueError:
        version = 0
    return FormIdentity(
        plan_id=str(values.get("plan_id", "")),
        fingerprint=str(values.get("fingerprint", "")),
        unit=str(values.get("unit", "")),
        period=str(values.get("period", "")),
        form_version=version,
        row_keys=tuple(keys),
    )


def _num(value: float) -> str:
    return f"{value:g}"
