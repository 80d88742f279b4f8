"""Writing the registry workbook `plan.xlsx`: a guide sheet, then one sheet per table.

The sheets and columns are in `registry_sheets.py`; reading them back is
`registry_read.py`. Each sheet is written by its own function from the registry.
"""

from __future__ import annotations

import math
from pathlib import Path

from xlsxwriter.workbook import Workbook

from .model import Registry
from .registry_sheets import (
    CATEGORIES,
    GOALS,
    GROUPS,
    GUIDE_SHEET,
    INDICATORS,
    PLAN,
    PLAN_FACTS,
    TABLES,
    TASKS,
    UNITS,
    format_changes,
)
from .sheet_table import Styles, join_names, print_setup, write_table
from .texts import COMBINE_RULES, DIRECTIONS, REGISTRY_GUIDE, UNIT_KINDS, display_width, say
from .xlsx import new_workbook

GUIDE_LINE_HEIGHT = 16  # points per line of the guide's text


def write_registry_book(registry: Registry, target: Path) -> None:
    """Write `registry` as the workbook the office edits."""
    workbook = new_workbook(target)
    workbook.set_properties({"title": registry.plan.title, "subject": say("registry.guide_title")})
    styles = Styles.of(workbook)
    _write_guide(workbook)
    write_table(workbook, styles, PLAN, _plan_rows(registry))
    write_table(workbook, styles, CATEGORIES, [[c.number, c.title] for c in registry.categories])
    write_table(workbook, styles, TASKS, _task_rows(registry))
    write_table(workbook, styles, INDICATORS, _indicator_rows(registry))
    write_table(workbook, styles, UNITS, _unit_rows(registry))
    write_table(workbook, styles, GROUPS, _group_rows(registry))
    workbook.close()


def _write_guide(workbook: Workbook) -> None:
    """说明: what the workbook is, what the office may change, and every sheet's columns."""
    sheet = workbook.add_worksheet(GUIDE_SHEET)
    title = workbook.add_format({"bold": True, "font_size": 14})
    bold = workbook.add_format({"bold": True, "valign": "top", "bg_color": "#DDEBF7", "border": 1})
    wrap = workbook.add_format({"text_wrap": True, "valign": "top"})
    name = workbook.add_format({"bold": True, "valign": "top"})
    widths = (12, 16, 90)
    for col, width in enumerate(widths):
        sheet.set_column(col, col, width, wrap if col == 2 else None)
    sheet.write_string(0, 0, say("registry.guide_title"), title)
    row = 2
    for line in REGISTRY_GUIDE:
        # Neither Excel nor WPS grows a merged row to fit: give it the lines it needs.
        lines = math.ceil(display_width(line) / (sum(widths) - 4))
        sheet.set_row(row, GUIDE_LINE_HEIGHT * lines)
        sheet.merge_range(row, 0, row, 2, line, wrap)
        row += 1
    row += 1
    for col, key in enumerate(("table.guide_sheet", "table.guide_column", "table.guide_note")):
        sheet.write_string(row, col, say(key), bold)
    for spec in TABLES:
        row += 1
        sheet.write_string(row, 0, spec.sheet, name)
        sheet.write_string(row, 2, spec.note, wrap)
        for column in spec.columns:
            row += 1
            sheet.write_string(row, 1, column.header)
            sheet.write_string(row, 2, column.note, wrap)
    print_setup(sheet)
    sheet.activate()


def _plan_rows(registry: Registry) -> list[list[object]]:
    return [[label, getattr(registry.plan, key)] for key, label in PLAN_FACTS]


def _task_rows(registry: Registry) -> list[list[object]]:
    return [
        [
            t.number,
            t.category,
            t.title,
            join_names(t.lead_units),
            join_names(t.responsible_units),
            t.weight,
            t.text,
        ]
        for t in registry.tasks
    ]


def _indicator_rows(registry: Registry) -> list[list[object]]:
    owned = [(GOALS, i) for i in registry.goals]
    owned += [(t.number, i) for t in registry.tasks for i in t.indicators]
    return [
        [
            i.id,
            owner,
            i.name,
            i.target,
            i.target_max,
            i.unit,
            DIRECTIONS[i.direction],
            i.requirement,
            COMBINE_RULES[i.combine],
            format_changes(i.changes),
            i.text,
        ]
        for owner, i in owned
    ]


def _unit_rows(registry: Registry) -> list[list[object]]:
    return [
        [
            u.name,
            join_names(u.aliases),
            UNIT_KINDS[u.kind],
            u.contact.person if u.contact else "",
            u.contact.title if u.contact else "",
        ]
        for u in registry.units
    ]


def _group_rows(registry: Registry) -> list[list[object]]:
    """One row per member; a group with no members yet keeps one row with 成员 empty."""
    return [[g.name, member] for g in registry.groups for member in g.members or [""]]
