"""The regions of one unit form, each written by its own function (`forms.py` puts them together).

Positions come from `layout.py` only; wording from `texts.py` and the office's
instructions template. Everything is locked except the input cells, which carry
a light fill so a clerk sees where to type. Sheets are `xlsx.ClassicSheet`s: the
完成率 formula uses IF, ISNUMBER, MIN and MAX only (a test reads every formula back).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

from xlsxwriter.format import Format
from xlsxwriter.utility import xl_rowcol_to_cell
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from . import layout
from .config import Office
from .layout import COLUMNS, FIRST_DATA_ROW, HEADER_ROW, FormIdentity, FormRow
from .model import Indicator
from .period import Period
from .scoring import range_limit, rate_kind
from .texts import say
from .xlsx import FONT, add_classic_sheet

INPUT_FILL = "#FFF2CC"  # light yellow: where a clerk types
HEADER_FILL = "#D9E1F2"
SIZE = 10
LINE_HEIGHT = 14  # points per line of 10-point CJK text
CJK_UNITS = 1.75  # column-width units one 10-point CJK character takes
LAST_VISIBLE_COL = max(i for i, c in enumerate(COLUMNS) if not c.hidden)
VALUE_LIMIT = 1e307  # "any number": Excel's decimal rule needs bounds
PROTECTION = {
    "format_columns": True,
    "format_rows": True,
    "select_locked_cells": True,
    "select_unlocked_cells": True,
}


@dataclass(frozen=True)
class Instructions:
    """The office's editable wording: a short how-to, the steps, and each status's meaning."""

    howto: tuple[str, ...]
    steps: tuple[str, ...]
    statuses: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class FormContent:
    """Everything one form shows, resolved: the workbook writers only place it."""

    title: str
    unit: str
    period: Period
    deadline: date
    office: Office
    rows: list[FormRow]
    indicators: dict[str, Indicator]
    instructions: Instructions
    identity: FormIdentity


class Formats:
    """The cell formats of one workbook, all in 宋体."""

    def __init__(self, workbook: Workbook):
        def add(**props: object) -> Format:
            return workbook.add_format({"font_name": FONT, "font_size": SIZE, **props})

        cell = {"border": 1, "valign": "vcenter"}
        unlocked = {"locked": False, "bg_color": INPUT_FILL}
        self.title = add(bold=True, font_size=14, align="center", valign="vcenter")
        self.note = add(text_wrap=True, valign="vcenter")
        self.label = add(bold=True, align="right", valign="vcenter")
        self.heading = add(bold=True, valign="vcenter")
        self.header = add(bold=True, bg_color=HEADER_FILL, text_wrap=True, align="center", **cell)
        self.wrap = add(text_wrap=True, **cell)
        self.center = add(align="center", **cell)
        self.number = add(**cell)
        self.rate = add(num_format="0.0%", **cell)
        self.key = add(hidden=True, **cell)
        self.input_number = add(**cell, **unlocked)
        self.input_text = add(**cell, **unlocked)
        self.input_wrap = add(text_wrap=True, **cell, **unlocked)
        self.input_date = add(num_format="yyyy-mm-dd", **cell, **unlocked)
        self.legend = add(align="center", valign="vcenter", border=1, bg_color=INPUT_FILL)


# -- the form sheet ------------------------------------------------------------


def write_form_sheet(workbook: Workbook, fmt: Formats, content: FormContent) -> None:
    """The 填报表 sheet: instructions block, signature, table, validation, print set-up."""
    sheet = add_classic_sheet(workbook, layout.FORM_SHEET)
    _set_columns(sheet)
    _write_block(sheet, fmt, content)
    _write_signature(sheet, fmt, content)
    _write_table(sheet, fmt, content)
    _validate_rows(sheet, len(content.rows), len(content.instructions.statuses))
    _set_print(sheet, content)
    sheet.protect("", PROTECTION)


def _set_columns(sheet: Worksheet) -> None:
    for i, col in enumerate(COLUMNS):
        sheet.set_column(i, i, col.width, None, {"hidden": True} if col.hidden else {})


def _write_block(sheet: Worksheet, fmt: Formats, content: FormContent) -> None:
    """Title, facts, office contact, short how-to, and the legend of the input fill."""
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
        sheet.merge_range(row, 0, row, LAST_VISIBLE_COL, text, style)
        if row != layout.TITLE_ROW:
            sheet.set_row(row, _height(text, _visible_width()))
    sheet.set_row(layout.TITLE_ROW, 24)
    legend = say("forms.legend", rows=len(content.rows))
    sheet.merge_range(
        layout.LEGEND_ROW, 0, layout.LEGEND_ROW, 1, say("forms.legend_cell"), fmt.legend
    )
    sheet.merge_range(layout.LEGEND_ROW, 2, layout.LEGEND_ROW, LAST_VISIBLE_COL, legend, fmt.note)


def contact_line(office: Office) -> str:
    """联系方式: the office, then whichever of person, phone and e-mail are set."""
    details = "".join(
        say(f"forms.contact_{key}", **{key: value})
        for key, value in (
            ("person", office.person),
            ("phone", office.phone),
            ("email", office.email),
        )
        if value
    )
    return say("forms.contact", office=office.name, details=details)


def _write_signature(sheet: Worksheet, fmt: Formats, content: FormContent) -> None:
    period = content.period
    example = content.deadline.isoformat()
    for field in layout.SIGNATURE:
        sheet.write_string(field.row, field.label_col, field.label, fmt.label)
        if field.key == "fill_date":
            sheet.write_blank(field.row, field.input_col, None, fmt.input_date)
            sheet.data_validation(
                field.row,
                field.input_col,
                field.row,
                field.input_col,
                {
                    "validate": "date",
                    "criteria": ">=",
                    "value": period.start,
                    "input_title": say("forms.date_title"),
                    "input_message": say("forms.date_prompt", example=example),
                    "error_title": say("forms.error_title"),
                    "error_message": say(
                        "forms.date_error", start=period.start.isoformat(), example=example
                    ),
                },
            )
        else:
            sheet.write_blank(field.row, field.input_col, None, fmt.input_text)
            sheet.data_validation(
                field.row,
                field.input_col,
                field.row,
                field.input_col,
                {
                    **_length_rule(field.label, field.max_length),
                    "input_message": say("forms.signature_prompt", label=field.label),
                },
            )
    sheet.set_row(layout.SIGNATURE_ROW, 20)


def _write_table(sheet: Worksheet, fmt: Formats, content: FormContent) -> None:
    for i, col in enumerate(COLUMNS):
        sheet.write_string(HEADER_ROW, i, col.header, fmt.header)
    sheet.set_row(HEADER_ROW, 30)
    for offset, row in enumerate(content.rows):
        _write_row(sheet, fmt, FIRST_DATA_ROW + offset, row, content)


def _write_row(sheet: Worksheet, fmt: Formats, r: int, row: FormRow, content: FormContent) -> None:
    """One prefilled row; the input cells are written blank with the unlocked formats."""
    indicator = content.indicators.get(row.indicator_id or "")
    col = layout.column_index
    sheet.write_number(r, col("seq"), row.seq, fmt.center)
    sheet.write_number(r, col("task"), row.task, fmt.center)
    sheet.write_string(r, col("task_title"), row.task_title, _text(fmt, "task_title"))
    sheet.write_string(r, col("role"), row.role_label, _text(fmt, "role"))
    sheet.write_string(r, col("indicator"), row.indicator, _text(fmt, "indicator"))
    if indicator is not None and indicator.text and indicator.text != indicator.name:
        sheet.write_comment(
            r,
            col("indicator"),
            say("forms.comment", text=indicator.text),
            {"author": content.office.name, "font_name": FONT, "x_scale": 2.5, "y_scale": 1.5},
        )
    sheet.write_string(r, col("measure"), row.measure, _text(fmt, "measure"))
    sheet.write_string(r, col("requirement"), row.requirement, _text(fmt, "requirement"))
    if row.target is None:
        sheet.write_blank(r, col("target"), None, fmt.number)
    else:
        sheet.write_number(r, col("target"), row.target, fmt.number)
    sheet.write_blank(r, col("value"), None, fmt.input_number)
    formula = rate_formula(indicator, r)
    if formula:
        sheet.write_formula(r, col("rate"), formula, fmt.rate, "")
    else:
        sheet.write_blank(r, col("rate"), None, fmt.rate)
    sheet.write_blank(r, col("status"), None, fmt.input_text)
    for key in ("progress", "problems", "next_steps", "remark"):
        sheet.write_blank(r, col(key), None, fmt.input_wrap)
    sheet.write_string(r, col("row_key"), row.key, fmt.key)
    sheet.set_row(r, _row_height(row))


def _row_height(row: FormRow) -> float:
    """Tall enough for the longest wrapped prefilled text: LibreOffice does not grow a row
    on load, so a long task title would otherwise be cut off."""
    texts = {"task_title": row.task_title, "indicator": row.indicator, "measure": row.measure}
    return max(_height(text, layout.column(key).width) for key, text in texts.items())


def _text(fmt: Formats, key: str) -> Format:
    """A prefilled text column: wrapped where the layout says so, else centred."""
    return fmt.wrap if layout.column(key).wrap else fmt.center


def rate_formula(indicator: Indicator | None, r: int) -> str | None:
    """完成率 of row `r`, following `scoring.rate_kind`, capped at 100%, blank until a value.

    None for a row without a numeric target (it is scored from 进展状态).
    """
    kind = rate_kind(indicator)
    if kind is None or indicator is None or indicator.target is None:
        return None
    v = xl_rowcol_to_cell(r, layout.column_index("value"))
    t = xl_rowcol_to_cell(r, layout.column_index("target"))
    if kind in ("down", "range_down"):
        limit = t if kind == "down" else f"{range_limit(indicator):g}"
        rate = f"IF({v}<={limit},1,IF({v}=0,0,MAX(0,{limit}/{v})))"
    elif indicator.target <= 0:
        rate = f"IF({v}>={t},1,0)"
    elif kind == "up":
        rate = f"MAX(0,MIN(1,{v}/{t}))"
    else:
        rate = f"IF({v}>={t},1,MAX(0,{v}/{t}))"
    return f'=IF(ISNUMBER({v}),{rate},"")'


def _validate_rows(sheet: Worksheet, count: int, statuses: int) -> None:
    """Numbers in 本期完成值, the status list from 填报说明, length limits on the narratives."""
    if count == 0:
        return
    first, last = FIRST_DATA_ROW, FIRST_DATA_ROW + count - 1

    def rule(key: str, options: dict) -> None:
        c = layout.column_index(key)
        sheet.data_validation(first, c, last, c, options)

    rule(
        "value",
        {
            "validate": "decimal",
            "criteria": "between",
            "minimum": -VALUE_LIMIT,
            "maximum": VALUE_LIMIT,
            "input_title": say("forms.value_title"),
            "input_message": say("forms.value_prompt"),
            "error_title": say("forms.error_title"),
            "error_message": say("forms.value_error"),
        },
    )
    rule(
        "status",
        {
            "validate": "list",
            "source": "=" + layout.status_source(statuses),
            "input_title": say("forms.status_title"),
            "input_message": say("forms.status_prompt"),
            "error_title": say("forms.error_title"),
            "error_message": say("forms.status_error"),
        },
    )
    for col in COLUMNS:
        if col.input and col.max_length:
            rule(col.key, _length_rule(col.header, col.max_length))


def _length_rule(header: str, limit: int) -> dict:
    return {
        "validate": "length",
        "criteria": "<=",
        "value": limit,
        "input_title": say("forms.text_title", header=header),
        "input_message": say("forms.text_prompt", limit=limit),
        "error_title": say("forms.error_title"),
        "error_message": say("forms.text_error", limit=limit),
    }


def _set_print(sheet: Worksheet, content: FormContent) -> None:
    """A4 landscape, one page wide, header row repeated, panes frozen under it."""
    sheet.set_paper(9)
    sheet.set_landscape()
    sheet.fit_to_pages(1, 0)
    sheet.set_margins(left=0.4, right=0.4, top=0.7, bottom=0.7)
    sheet.center_horizontally()
    sheet.repeat_rows(HEADER_ROW)
    sheet.print_area(0, 0, FIRST_DATA_ROW + max(len(content.rows), 1) - 1, LAST_VISIBLE_COL)
    sheet.freeze_panes(FIRST_DATA_ROW, 0)
    sheet.set_header(
        say(
            "forms.header",
            unit=_escape(content.unit),
            period=_escape(content.period.label),
            title=_escape(layout.FORM_SHEET),
        ),
        {"margin": 0.3},
    )
    sheet.set_footer(say("forms.footer"), {"margin": 0.3})


def _escape(text: str) -> str:
    """Header/footer text: a literal & is written &&."""
    return text.replace("&", "&&")


def _visible_width() -> float:
    return sum(c.width for c in COLUMNS if not c.hidden)


def _height(text: str, width: float) -> float:
    """Row height for `text` wrapped in `width` column units: a 10-point CJK character takes
    about 1.75 units (digit widths of 11-point 宋体), a Latin one 1."""
    lines = 0
    for line in text.split("\n"):
        units = sum(CJK_UNITS if ord(ch) > 0x2E7F else 1 for ch in line)
        lines += max(1, math.ceil(units / width))
    return max(1, lines) * LINE_HEIGHT + 4


# -- the 填报说明 sheet ------------------------------------------------------------


GUIDE_WIDTHS = (12, 90)


def write_guide_sheet(workbook: Workbook, fmt: Formats, content: FormContent) -> None:
    """Status meanings (the source of the status list), the steps, and the office's contact."""
    sheet = add_classic_sheet(workbook, layout.GUIDE_SHEET)
    for i, width in enumerate(GUIDE_WIDTHS):
        sheet.set_column(i, i, width)
    col = layout.GUIDE_STATUS_COL
    header = layout.GUIDE_STATUS_HEADER_ROW
    sheet.merge_range(
        0,
        col,
        0,
        col + 1,
        say("forms.guide_title", unit=content.unit, period=content.period.label),
        fmt.title,
    )
    sheet.set_row(0, 24)
    sheet.write_string(header, col, say("forms.guide_status"), fmt.header)
    sheet.write_string(header, col + 1, say("forms.guide_meaning"), fmt.header)
    for i, (name, meaning) in enumerate(content.instructions.statuses, start=header + 1):
        sheet.write_string(i, col, name, fmt.center)
        sheet.write_string(i, col + 1, meaning, fmt.wrap)
    steps = header + len(content.instructions.statuses) + 2
    sheet.write_string(steps, col, say("forms.guide_steps"), fmt.heading)
    lines = [*content.instructions.steps, "", contact_line(content.office)]
    for r, line in enumerate(lines, start=steps + 1):
        sheet.merge_range(r, col, r, col + 1, line, fmt.note)
        sheet.set_row(r, _height(line, sum(GUIDE_WIDTHS)))
    sheet.set_paper(9)
    sheet.fit_to_pages(1, 0)
    sheet.protect("", PROTECTION)


# -- the hidden identity -------------------------------------------------------


def write_identity_sheet(workbook: Workbook, identity: FormIdentity) -> None:
    """The very hidden `_ecoxl` sheet; a second copy goes into the custom properties."""
    sheet = add_classic_sheet(workbook, layout.IDENTITY_SHEET)
    for r, values in enumerate(layout.identity_table(identity)):
        for c, value in enumerate(values):
            sheet.write(r, c, value)
    sheet.very_hidden()
    sheet.protect("", PROTECTION)
    for name, value in layout.identity_properties(identity).items():
        workbook.set_custom_property(name, value)
