"""What each ecoxl stage is measured against: the obvious way to do the same job, and the floor.

- `openpyxl_forms`: the unit forms written with openpyxl, one after another, as a typical
  script would: the same cells, texts, formats, merged ranges, comments, validation,
  protection, print set-up, very hidden identity sheet and document properties as
  `ecoxl.form_sheets` writes (the wording and row contents come from the same
  `forms.form_content`, so only the writing differs).
- `pandas_loop`: `pandas.read_excel(engine="openpyxl")` over the returned files, reading the
  two sheets ecoxl reads (填报表 and the identity sheet), nothing else.
- `calamine_floor`: python-calamine reading those same two sheets' cells, nothing else.
- `xlsxwriter_floor`: the scorecard's 明细 cells (every reported row of every counted
  return, the same 21 columns) read from the ledger with one SQL query and written as
  plain values with xlsxwriter: no scoring, no formulas, no other sheet.
"""

from __future__ import annotations

import math
import re
import sqlite3
from collections.abc import Callable
from datetime import datetime, time
from pathlib import Path

from ecoxl import layout
from ecoxl.form_sheets import (
    CJK_UNITS,
    GUIDE_WIDTHS,
    HEADER_FILL,
    INPUT_FILL,
    LAST_VISIBLE_COL,
    LINE_HEIGHT,
    SIZE,
    VALUE_LIMIT,
    FormContent,
    contact_line,
    rate_formula,
)
from ecoxl.forms import FormPlan, form_content
from ecoxl.layout import COLUMNS, FIRST_DATA_ROW, HEADER_ROW
from ecoxl.model import ROLE_LABELS, Registry
from ecoxl.texts import say
from ecoxl.xlsx import FONT

# -- forms with openpyxl -----------------------------------------------------------------


class _Style:
    """One xlsxwriter format of `form_sheets.Formats`, as the openpyxl objects a script sets."""

    def __init__(self, **props: object):
        from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side

        thin = Side(style="thin")
        self.font = Font(name=FONT, size=props.get("font_size", SIZE), bold=props.get("bold"))
        self.alignment = Alignment(
            horizontal=props.get("align"),
            vertical="center" if props.get("valign") else None,
            wrap_text=props.get("text_wrap"),
        )
        self.border = Border(thin, thin, thin, thin) if props.get("border") else Border()
        fill = props.get("bg_color")
        self.fill = (
            PatternFill("solid", fgColor=str(fill).lstrip("#")) if fill else PatternFill(None)
        )
        self.protection = Protection(
            locked=props.get("locked", True), hidden=props.get("hidden", False)
        )
        self.number_format = props.get("num_format", "General")

    def apply(self, cell) -> None:
        cell.font = self.font
        cell.alignment = self.alignment
        cell.border = self.border
        cell.fill = self.fill
        cell.protection = self.protection
        cell.number_format = self.number_format


class _Formats:
    def __init__(self):
        cell = {"border": 1, "valign": "vcenter"}
        unlocked = {"locked": False, "bg_color": INPUT_FILL}
        self.title = _Style(bold=True, font_size=14, align="center", valign="vcenter")
        self.note = _Style(text_wrap=True, valign="vcenter")
        self.label = _Style(bold=True, align="right", valign="vcenter")
        self.heading = _Style(bold=True, valign="vcenter")
        self.header = _Style(
            bold=True, bg_color=HEADER_FILL, text_wrap=True, align="center", **cell
        )
        self.wrap = _Style(text_wrap=True, **cell)
        self.center = _Style(align="center", **cell)
        self.number = _Style(**cell)
        self.rate = _Style(num_format="0.0%", **cell)
        self.key = _Style(hidden=True, **cell)
        self.input_number = _Style(**cell, **unlocked)
        self.input_text = _Style(**cell, **unlocked)
        self.input_wrap = _Style(text_wrap=True, **cell, **unlocked)
        self.input_date = _Style(num_format="yyyy-mm-dd", **cell, **unlocked)
        self.legend = _Style(align="center", valign="vcenter", border=1, bg_color=INPUT_FILL)


def _height(text: str, width: float) -> float:
    """As `form_sheets` sizes a row for wrapped text (ported, not imported: it is private)."""
    lines = 0
    for line in text.split("\n"):
        units = sum(CJK_UNITS if ord(ch) > 0x2E7F else 1 for ch in line)
        lines += max(1, math.ceil(units / width))
    return max(1, lines) * LINE_HEIGHT + 4


def _protect(sheet) -> None:
    """`form_sheets.PROTECTION`: formatting columns and rows allowed, selecting allowed."""
    sheet.protection.sheet = True
    sheet.protection.formatColumns = False
    sheet.protection.formatRows = False
    sheet.protection.selectLockedCells = False
    sheet.protection.selectUnlockedCells = False


def _validation(rule: dict, ref: str):
    from openpyxl.worksheet.datavalidation import DataValidation

    found = DataValidation(
        type=rule["type"],
        operator=rule.get("operator"),
        formula1=rule.get("formula1"),
        formula2=rule.get("formula2"),
        allow_blank=True,
        showInputMessage=True,
        showErrorMessage=True,
        promptTitle=rule.get("prompt_title"),
        prompt=rule.get("prompt"),
        errorTitle=rule.get("error_title"),
        error=rule.get("error"),
    )
    found.add(ref)
    return found


def _length(header: str, limit: int, prompt: str | None = None) -> dict:
    return {
        "type": "textLength",
        "operator": "lessThanOrEqual",
        "formula1": str(limit),
        "prompt_title": say("forms.text_title", header=header),
        "prompt": prompt or say("forms.text_prompt", limit=limit),
        "error_title": say("forms.error_title"),
        "error": say("forms.text_error", limit=limit),
    }


def _set_text(cell, text: str) -> None:
    """Text as text: openpyxl would store `= 填写区…` (the legend) as a formula."""
    cell.value = text
    cell.data_type = "s"


def _merge(sheet, row: int, first: int, last: int, text: str, style: _Style) -> None:
    """A merged range as xlsxwriter's merge_range writes it: the text, and the format on
    every cell of the range (so the borders show)."""
    for col in range(first, last + 1):
        style.apply(sheet.cell(row + 1, col + 1))
    _set_text(sheet.cell(row + 1, first + 1), text)
    sheet.merge_cells(
        start_row=row + 1, start_column=first + 1, end_row=row + 1, end_column=last + 1
    )


def _form_sheet(book, fmt: _Formats, content: FormContent) -> None:
    from openpyxl.comments import Comment
    from openpyxl.utils import get_column_letter

    sheet = book.active
    sheet.title = layout.FORM_SHEET
    for i, col in enumerate(COLUMNS):
        dim = sheet.column_dimensions[get_column_letter(i + 1)]
        dim.width = col.width
        dim.hidden = col.hidden
    visible = sum(c.width for c in COLUMNS if not c.hidden)
    period = content.period
    facts = say(
        "forms.facts",
        unit=content.unit,
        period=period.label,
        start=period.start.isoformat(),
        end=period.end.isoformat(),
        elapsed=f"{period.elapsed:.0%}",
        deadline=content.deadline.isoformat(),
    )
    lines = {
        layout.TITLE_ROW: (say("forms.title", plan=content.title), fmt.title),
        layout.FACTS_ROW: (facts, fmt.note),
        layout.CONTACT_ROW: (contact_line(content.office), fmt.note),
        layout.HOWTO_ROW: ("\n".join(content.instructions.howto), fmt.note),
    }
    for row, (text, style) in lines.items():
        _merge(sheet, row, 0, LAST_VISIBLE_COL, text, style)
        if row != layout.TITLE_ROW:
            sheet.row_dimensions[row + 1].height = _height(text, visible)
    sheet.row_dimensions[layout.TITLE_ROW + 1].height = 24
    legend = say("forms.legend", rows=len(content.rows))
    _merge(sheet, layout.LEGEND_ROW, 0, 1, say("forms.legend_cell"), fmt.legend)
    _merge(sheet, layout.LEGEND_ROW, 2, LAST_VISIBLE_COL, legend, fmt.note)

    example = content.deadline.isoformat()
    for field in layout.SIGNATURE:
        label = sheet.cell(field.row + 1, field.label_col + 1, field.label)
        fmt.label.apply(label)
        target = sheet.cell(field.row + 1, field.input_col + 1)
        ref = target.coordinate
        if field.key == "fill_date":
            fmt.input_date.apply(target)
            rule = {
                "type": "date",
                "operator": "greaterThanOrEqual",
                "formula1": str((period.start - datetime(1899, 12, 30).date()).days),
                "prompt_title": say("forms.date_title"),
                "prompt": say("forms.date_prompt", example=example),
                "error_title": say("forms.error_title"),
                "error": say("forms.date_error", start=period.start.isoformat(), example=example),
            }
        else:
            fmt.input_text.apply(target)
            prompt = say("forms.signature_prompt", label=field.label)
            rule = _length(field.label, field.max_length, prompt)
        sheet.add_data_validation(_validation(rule, ref))
    sheet.row_dimensions[layout.SIGNATURE_ROW + 1].height = 20

    for i, col in enumerate(COLUMNS):
        fmt.header.apply(sheet.cell(HEADER_ROW + 1, i + 1, col.header))
    sheet.row_dimensions[HEADER_ROW + 1].height = 30
    index = layout.column_index
    text_style = {c.key: fmt.wrap if c.wrap else fmt.center for c in COLUMNS}
    comment_size = {"width": int(128 * 2.5), "height": int(74 * 1.5)}
    for offset, row in enumerate(content.rows):
        r = FIRST_DATA_ROW + offset + 1
        indicator = content.indicators.get(row.indicator_id or "")

        def put(key: str, value: object, style: _Style, r: int = r) -> None:
            cell = sheet.cell(r, index(key) + 1)
            if value is not None:
                cell.value = value
            style.apply(cell)

        put("seq", row.seq, fmt.center)
        put("task", row.task, fmt.center)
        put("task_title", row.task_title, text_style["task_title"])
        put("role", ROLE_LABELS[row.role], text_style["role"])
        put("indicator", row.indicator, text_style["indicator"])
        if indicator is not None and indicator.text and indicator.text != indicator.name:
            comment = Comment(say("forms.comment", text=indicator.text), content.office.name)
            comment.width, comment.height = comment_size["width"], comment_size["height"]
            sheet.cell(r, index("indicator") + 1).comment = comment
        put("measure", row.measure, text_style["measure"])
        put("requirement", row.requirement, text_style["requirement"])
        put("target", row.target, fmt.number)
        put("value", None, fmt.input_number)
        put("rate", rate_formula(indicator, r - 1), fmt.rate)
        put("status", None, fmt.input_text)
        for key in ("progress", "problems", "next_steps", "remark"):
            put(key, None, fmt.input_wrap)
        put("row_key", row.key, fmt.key)
        texts = {"task_title": row.task_title, "indicator": row.indicator, "measure": row.measure}
        sheet.row_dimensions[r].height = max(
            _height(text, layout.column(key).width) for key, text in texts.items()
        )

    count = len(content.rows)
    if count:
        first, last = FIRST_DATA_ROW + 1, FIRST_DATA_ROW + count

        def column_ref(key: str) -> str:
            letter = get_column_letter(index(key) + 1)
            return f"{letter}{first}:{letter}{last}"

        rules = [
            (
                "value",
                {
                    "type": "decimal",
                    "operator": "between",
                    "formula1": f"{-VALUE_LIMIT:g}",
                    "formula2": f"{VALUE_LIMIT:g}",
                    "prompt_title": say("forms.value_title"),
                    "prompt": say("forms.value_prompt"),
                    "error_title": say("forms.error_title"),
                    "error": say("forms.value_error"),
                },
            ),
            (
                "status",
                {
                    "type": "list",
                    "formula1": layout.status_source(len(content.instructions.statuses)),
                    "prompt_title": say("forms.status_title"),
                    "prompt": say("forms.status_prompt"),
                    "error_title": say("forms.error_title"),
                    "error": say("forms.status_error"),
                },
            ),
            *(
                (c.key, _length(c.header, c.max_length))
                for c in COLUMNS
                if c.input and c.max_length
            ),
        ]
        for key, rule in rules:
            sheet.add_data_validation(_validation(rule, column_ref(key)))

    setup = sheet.page_setup
    setup.paperSize = 9
    setup.orientation = "landscape"
    setup.fitToWidth, setup.fitToHeight = 1, 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    margins = sheet.page_margins
    margins.left = margins.right = 0.4
    margins.top = margins.bottom = 0.7
    margins.header = margins.footer = 0.3
    sheet.print_options.horizontalCentered = True
    sheet.print_title_rows = f"{HEADER_ROW + 1}:{HEADER_ROW + 1}"
    last_row = FIRST_DATA_ROW + max(count, 1)
    sheet.print_area = f"A1:{get_column_letter(LAST_VISIBLE_COL + 1)}{last_row}"
    sheet.freeze_panes = f"A{FIRST_DATA_ROW + 1}"
    header = say(
        "forms.header",
        unit=content.unit.replace("&", "&&"),
        period=content.period.label.replace("&", "&&"),
        title=layout.FORM_SHEET,
    )
    _header_footer(sheet.oddHeader, header)
    _header_footer(sheet.oddFooter, say("forms.footer"))
    _protect(sheet)


def _header_footer(target, text: str) -> None:
    """xlsxwriter takes `&Lleft&Ccentre&Rright` whole; openpyxl wants the three parts."""
    parts = dict(re.findall(r"&([LCR])((?:[^&]|&&|&[PN])*)", text))
    target.left.text = parts.get("L")
    target.center.text = parts.get("C")
    target.right.text = parts.get("R")


def _guide_sheet(book, fmt: _Formats, content: FormContent) -> None:
    from openpyxl.utils import get_column_letter

    sheet = book.create_sheet(layout.GUIDE_SHEET)
    for i, width in enumerate(GUIDE_WIDTHS):
        sheet.column_dimensions[get_column_letter(i + 1)].width = width
    col = layout.GUIDE_STATUS_COL
    header = layout.GUIDE_STATUS_HEADER_ROW
    title = say("forms.guide_title", unit=content.unit, period=content.period.label)
    _merge(sheet, 0, col, col + 1, title, fmt.title)
    sheet.row_dimensions[1].height = 24
    fmt.header.apply(sheet.cell(header + 1, col + 1, say("forms.guide_status")))
    fmt.header.apply(sheet.cell(header + 1, col + 2, say("forms.guide_meaning")))
    for i, (name, meaning) in enumerate(content.instructions.statuses, start=header + 1):
        fmt.center.apply(sheet.cell(i + 1, col + 1, name))
        fmt.wrap.apply(sheet.cell(i + 1, col + 2, meaning))
    steps = header + len(content.instructions.statuses) + 2
    fmt.heading.apply(sheet.cell(steps + 1, col + 1, say("forms.guide_steps")))
    lines = [*content.instructions.steps, "", contact_line(content.office)]
    for r, line in enumerate(lines, start=steps + 1):
        _merge(sheet, r, col, col + 1, line, fmt.note)
        sheet.row_dimensions[r + 1].height = _height(line, sum(GUIDE_WIDTHS))
    sheet.page_setup.paperSize = 9
    sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight = 1, 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    _protect(sheet)


def _identity_sheet(book, content: FormContent) -> None:
    from openpyxl.packaging.custom import StringProperty

    sheet = book.create_sheet(layout.IDENTITY_SHEET)
    for values in layout.identity_table(content.identity):
        sheet.append(values)
    sheet.sheet_state = "veryHidden"
    _protect(sheet)
    for name, value in layout.identity_properties(content.identity).items():
        book.custom_doc_props.append(StringProperty(name=name, value=value))


def openpyxl_form(plan: FormPlan, unit: str, path: Path) -> None:
    """`unit`'s form, written with openpyxl to `path`."""
    from openpyxl import Workbook

    content = form_content(plan, unit)
    book = Workbook()
    fmt = _Formats()
    _form_sheet(book, fmt, content)
    _guide_sheet(book, fmt, content)
    _identity_sheet(book, content)
    props = book.properties
    props.title = f"{unit} {plan.period.label} {layout.FORM_SHEET}"
    props.subject = plan.registry.plan.title
    props.creator = plan.office.name
    props.created = datetime.combine(plan.period.end, time())
    book.save(path)


def openpyxl_forms(plan: FormPlan, units: list[str], names: list[str], out_dir: Path) -> int:
    """Every unit's form, one after another in this process; how many were written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for unit, name in zip(units, names, strict=True):
        openpyxl_form(plan, unit, out_dir / name)
    return len(units)


# -- reading returns -----------------------------------------------------------------------

SHEETS = [layout.FORM_SHEET, layout.IDENTITY_SHEET]


def pandas_loop(files: list[Path]) -> int:
    """`pandas.read_excel(engine="openpyxl")` over every file: its 填报表 and identity sheet."""
    import pandas

    cells = 0
    for path in files:
        frames = pandas.read_excel(path, sheet_name=SHEETS, engine="openpyxl", header=None)
        cells += sum(frame.size for frame in frames.values())
    return cells


def calamine_floor(files: list[Path]) -> int:
    """python-calamine reading the same two sheets of every file, and nothing else."""
    from python_calamine import CalamineWorkbook

    cells = 0
    for path in files:
        book = CalamineWorkbook.from_path(str(path))
        for name in SHEETS:
            cells += sum(len(row) for row in book.get_sheet_by_name(name).to_python())
        book.close()
    return cells


# -- the scorecard's cells as plain values -------------------------------------------------

DETAIL_QUERY = """
SELECT s.unit, r.task, r.row_key, r.indicator_id, r.target, r.value, r.status, r.progress,
       r.problems, r.next_steps, r.remark, r.value_text, s.received_at, s.file_name
FROM submissions s JOIN rows r ON r.submission_id = s.id
WHERE s.state = 'accepted' AND s.period = ?
ORDER BY s.unit, r.sheet_row
"""


def xlsxwriter_floor(
    registry: Registry, ledger_path: Path, period: str, path: Path, constant_memory: bool
) -> int:
    """The 明细 cells, from one SQL query, as plain values in one xlsxwriter sheet."""
    from xlsxwriter import Workbook

    indicators = {i.id: i for i in registry.all_indicators()}
    roles = {
        (a.task.number, unit): ROLE_LABELS[a.role]
        for unit, found in registry.assignment_index().items()
        for a in found
    }
    seq = {i.id: n for n, i in enumerate(registry.all_indicators(), start=1)}
    book = Workbook(path, {"constant_memory": constant_memory, "strings_to_formulas": False})
    sheet = book.add_worksheet("明细")
    db = sqlite3.connect(ledger_path)
    rows = 0
    write: Callable = sheet.write_row
    for rows, found in enumerate(db.execute(DETAIL_QUERY, (period,)), start=1):
        unit, task, key, ind_id, target, value, status, progress, problems, steps, remark = found[
            :11
        ]
        value_text, received, file_name = found[11:]
        ind = indicators.get(ind_id or "")
        write(
            rows,
            0,
            (
                unit,
                roles.get((task, unit), ""),
                task,
                key,
                ind.name if ind else "",
                ind.unit if ind else "",
                ind.requirement if ind else "",
                target,
                value,
                status,
                progress,
                problems,
                steps,
                remark,
                value_text,
                "按时",
                received[:16],
                file_name,
                seq.get(ind_id or "", 0),
                f"{unit}|{key}",
                1.0,
            ),
        )
    db.close()
    book.close()
    return rows
