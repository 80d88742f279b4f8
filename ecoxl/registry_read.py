"""Reading the registry workbook back, with the office's edits checked cell by cell.

An unedited `plan.xlsx` reads back equal to the registry that was written. An
edit that cannot be used (a target that is not a number, a unit that does not
exist, a duplicate task number …) becomes a `Finding` naming sheet and cell;
with any finding there is no registry, so no later stage works from a wrong one.
Unit names in tasks and groups may be written as aliases: they read back canonical.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from openpyxl.workbook.workbook import Workbook as ReadBook
from xlsxwriter.utility import xl_cell_to_rowcol

from .findings import Finding
from .model import Category, Contact, Group, Indicator, PlanInfo, Registry, Task, Unit
from .registry_sheets import (
    CATEGORIES,
    GOALS,
    GROUPS,
    INDICATORS,
    PLAN,
    PLAN_FACTS,
    REQUIREMENTS,
    TABLES,
    TASKS,
    UNITS,
    codes_of,
    parse_changes,
)
from .sheet_table import (
    Problems,
    TableRow,
    TableSpec,
    clean_text,
    name_key,
    open_book,
    read_table,
    split_names,
    to_int,
    to_number,
)
from .texts import COMBINE_RULES, DIRECTIONS, UNIT_KINDS

_DIRECTION_CODES = codes_of(DIRECTIONS)
_COMBINE_CODES = codes_of(COMBINE_RULES)
_KIND_CODES = codes_of(UNIT_KINDS)
_REQUIREMENT_CODES = {**{r: r for r in REQUIREMENTS}, ">=": "≥", "<=": "≤", "≧": "≥", "≦": "≤"}
_DATE = re.compile(r"(\d{4})\D+(\d{1,2})\D+(\d{1,2})\D*")


@dataclass
class BookReading:
    """The registry from a workbook; None when `findings` lists edits that cannot be used."""

    registry: Registry | None
    findings: list[Finding]


def read_registry_book(path: Path) -> BookReading:
    """Read and check `plan.xlsx`; InputError if it is not a workbook at all."""
    book = open_book(path, "registry.unreadable")
    problems = Problems(path.name)
    try:
        registry = _read(book, problems)
    finally:
        book.close()
    findings = sorted(problems.findings, key=_place)
    return BookReading(None if findings else registry, findings)


def _place(finding: Finding) -> tuple[int, int, int]:
    """Where a finding is, in reading order: sheet by sheet, row by row, left to right."""
    sheets = [spec.sheet for spec in TABLES]
    sheet = sheets.index(finding.sheet) if finding.sheet in sheets else -1
    return (sheet, *(xl_cell_to_rowcol(finding.cell) if finding.cell else (-1, -1)))


def _read(book: ReadBook, problems: Problems) -> Registry:
    plan = _read_plan(book, problems)
    categories = _read_categories(book, problems)
    units = _read_units(book, problems)
    unit_names = _lookup((alias, u.name) for u in units for alias in (u.name, *u.aliases))
    groups = _read_groups(book, problems, unit_names)
    names = {**unit_names, **_lookup((g.name, g.name) for g in groups)}
    tasks = _read_tasks(book, problems, names, {c.number for c in categories})
    goals = _read_indicators(book, problems, {t.number: t for t in tasks})
    return Registry(plan, goals, categories, tasks, units, groups)


class _Cells:
    """One row's cells, read as their column says; what cannot be read is flagged at its cell."""

    def __init__(self, row: TableRow, spec: TableSpec, problems: Problems) -> None:
        self.row, self.spec, self.problems = row, spec, problems

    def flag(self, key: str, code: str, **values: object) -> None:
        self.problems.add(self.spec.sheet, self.row.cells[key], code, **values)

    def raw(self, key: str) -> str:
        return clean_text(self.row.values[key])

    def text(self, key: str) -> str:
        text = self.raw(key)
        if not text and self.spec.column(key).required:
            self.flag(key, "registry.missing_value", header=self.spec.column(key).header)
        return text

    def number(self, key: str, code: str = "registry.target_not_number") -> float | None:
        try:
            return to_number(self.row.values[key], key in self.row.percent)
        except ValueError:
            self.flag(key, code, header=self.spec.column(key).header, value=self.raw(key))
            return None

    def integer(self, key: str) -> int | None:
        if not self.text(key):
            return None
        try:
            return to_int(self.row.values[key])
        except ValueError:
            self.flag(
                key,
                "registry.not_integer",
                header=self.spec.column(key).header,
                value=self.raw(key),
            )
            return None

    def choice(self, key: str, codes: dict[str, str], default: str) -> str:
        text = self.raw(key)
        if not text:
            return default
        if text not in codes:
            column = self.spec.column(key)
            self.flag(
                key,
                "registry.not_in_list",
                header=column.header,
                choices="、".join(column.choices),
                value=text,
            )
            return default
        return codes[text]

    def names(self, key: str, known: dict[str, str], code: str) -> list[str]:
        """The names in one cell, as canonical names; an unknown one is flagged."""
        result: dict[str, None] = {}
        for name, canonical in match_names(split_names(self.row.values[key]), known):
            if canonical is None:
                self.flag(key, code, name=name)
            else:
                result.setdefault(canonical, None)
        return list(result)

    def date(self, key: str) -> str:
        """An ISO date from a date cell or from text like 2015-08-18, 2015/8/18, 2015年8月18日."""
        value = self.row.values[key]
        if isinstance(value, datetime | date):
            return clean_text(value)
        text = self.raw(key)
        if not text:
            return ""
        match = _DATE.fullmatch(name_key(text))
        try:
            if match:
                return date(*map(int, match.groups())).isoformat()
        except ValueError:
            pass
        self.flag(key, "registry.bad_date", value=text)
        return ""


def match_names(parts: list[str], known: dict[str, str]) -> list[tuple[str, str | None]]:
    """Each name as typed with its canonical name (None if unknown), longest known name first.

    A group's own name may hold a 、 (各区、县级市), so parts split at 、 are joined
    back when together they are a known name.
    """
    matched: list[tuple[str, str | None]] = []
    start = 0
    while start < len(parts):
        for end in range(len(parts), start, -1):
            name = "、".join(parts[start:end])
            canonical = known.get(name_key(name))
            if canonical is not None or end == start + 1:
                matched.append((name, canonical))
                start = end
                break
    return matched


def _lookup(pairs) -> dict[str, str]:
    """How a name as typed finds its canonical name (full-width and blanks ignored)."""
    return {name_key(name): canonical for name, canonical in pairs}


def _rows(book: ReadBook, spec: TableSpec, problems: Problems) -> list[_Cells]:
    return [_Cells(row, spec, problems) for row in read_table(book, spec, problems)]


# -- one function per sheet -------------------------------------------------------


def _read_plan(book: ReadBook, problems: Problems) -> PlanInfo:
    facts = {name_key(label): key for key, label in PLAN_FACTS}
    values: dict[str, object] = {}
    for cells in _rows(book, PLAN, problems):
        key = facts.get(name_key(cells.raw("item")))
        if key == "year":
            values[key] = cells.integer("value") or 0
        elif key == "date":
            values[key] = cells.date("value")
        elif key:
            values[key] = cells.raw("value")
        if key == "title" and not values[key]:
            cells.flag("value", "registry.missing_value", header=cells.raw("item"))
    if "title" not in values and PLAN.sheet in book.sheetnames:  # its row was deleted
        problems.add(PLAN.sheet, None, "registry.missing_value", header=PLAN_FACTS[0][1])
    return PlanInfo(**{"title": "", **values})


def _read_categories(book: ReadBook, problems: Problems) -> list[Category]:
    categories: dict[int, Category] = {}
    first: dict[int, int] = {}
    for cells in _rows(book, CATEGORIES, problems):
        number, title = cells.integer("number"), cells.text("title")
        if number is None:
            continue
        if number in first:
            cells.flag("number", "registry.duplicate_category", number=number, first=first[number])
            continue
        first[number] = cells.row.number
        categories[number] = Category(number, title)
    return [categories[n] for n in sorted(categories)]


def _read_units(book: ReadBook, problems: Problems) -> list[Unit]:
    units: list[Unit] = []
    owner: dict[str, str] = {}  # each name and alias, as compared, and the unit it belongs to
    seen: set[str] = set()
    for cells in _rows(book, UNITS, problems):
        name = cells.text("name")
        if not name:
            continue
        aliases = split_names(cells.row.values["aliases"])
        for key, alias in [("name", name), *(("aliases", a) for a in aliases)]:
            other = owner.setdefault(name_key(alias), name)
            if other != name or (key == "name" and name_key(name) in seen):
                cells.flag(key, "registry.duplicate_unit", name=alias, other=other)
        seen.add(name_key(name))
        person, title = cells.raw("person"), cells.raw("title")
        kind = cells.choice("kind", _KIND_CODES, "department")
        contact = Contact(person, title) if person or title else None
        units.append(Unit(name, aliases, kind, contact))
    return units


def _read_groups(book: ReadBook, problems: Problems, unit_names: dict[str, str]) -> list[Group]:
    groups: dict[str, Group] = {}
    for cells in _rows(book, GROUPS, problems):
        name = cells.text("group")
        if not name:
            continue
        group = groups.setdefault(name_key(name), Group(name))
        for member in cells.names("member", unit_names, "registry.unknown_member"):
            if member not in group.members:
                group.members.append(member)
    return list(groups.values())


def _read_tasks(
    book: ReadBook, problems: Problems, names: dict[str, str], categories: set[int]
) -> list[Task]:
    tasks: dict[int, Task] = {}
    first: dict[int, int] = {}
    for cells in _rows(book, TASKS, problems):
        number, category = cells.integer("number"), cells.integer("category")
        if category is not None and categories and category not in categories:
            cells.flag("category", "registry.unknown_category", number=category)
        weight = cells.number("weight", "registry.weight_invalid")
        if weight is not None and weight < 0:
            cells.flag("weight", "registry.weight_invalid", value=cells.raw("weight"))
        task = Task(
            number=number or 0,
            category=category or 0,
            title=cells.text("title"),
            text=cells.raw("text"),
            lead_units=cells.names("lead_units", names, "registry.unknown_unit"),
            responsible_units=cells.names("responsible_units", names, "registry.unknown_unit"),
            weight=1.0 if weight is None else weight,
        )
        if number is None:
            continue
        if number in first:
            cells.flag("number", "registry.duplicate_task", number=number, first=first[number])
            continue
        first[number] = cells.row.number
        tasks[number] = task
    return [tasks[n] for n in sorted(tasks)]


def _read_indicators(book: ReadBook, problems: Problems, tasks: dict[int, Task]) -> list[Indicator]:
    """The goals' indicators; the tasks' ones are added to their tasks, each in id order."""
    goals: list[Indicator] = []
    first: dict[str, int] = {}
    for cells in _rows(book, INDICATORS, problems):
        indicator = _indicator(cells)
        owner = _owner(cells, tasks)
        if indicator is None or owner is None:
            continue
        if indicator.id in first:
            cells.flag(
                "id", "registry.duplicate_indicator", id=indicator.id, first=first[indicator.id]
            )
            continue
        first[indicator.id] = cells.row.number
        (goals if owner is GOALS else owner.indicators).append(indicator)
    for task in tasks.values():
        task.indicators.sort(key=lambda i: _natural(i.id))
    return sorted(goals, key=lambda i: _natural(i.id))


def _owner(cells: _Cells, tasks: dict[int, Task]) -> Task | str | None:
    """The task an indicator row belongs to, or GOALS."""
    text = cells.text("task")
    if not text:
        return None
    if name_key(text) == GOALS:
        return GOALS
    try:
        task = tasks.get(to_int(text))
    except ValueError:
        task = None
    if task is None:
        cells.flag("task", "registry.unknown_task", value=text)
    return task


def _indicator(cells: _Cells) -> Indicator | None:
    indicator_id, name = cells.text("id"), cells.text("name")
    target, target_max = cells.number("target"), cells.number("target_max")
    if target_max is not None and (target is None or target_max < target):
        cells.flag(
            "target_max",
            "registry.bad_range",
            low=cells.raw("target"),
            high=cells.raw("target_max"),
        )
    direction = cells.choice("direction", _DIRECTION_CODES, "up")
    default_requirement = (
        "区间" if target_max is not None else ("≤" if direction == "down" else "≥")
    )
    try:
        changes = parse_changes(cells.raw("changes"))
    except ValueError as exc:
        cells.flag("changes", "registry.bad_change", value=exc.args[0])
        changes = []
    if not indicator_id or not name:
        return None
    return Indicator(
        id=indicator_id,
        name=name,
        target=target,
        unit=cells.raw("unit"),
        direction=direction,
        text=cells.raw("text"),
        target_max=target_max,
        changes=changes,
        requirement=cells.choice("requirement", _REQUIREMENT_CODES, default_requirement),
        combine=cells.choice("combine", _COMBINE_CODES, "lead"),
    )


def _natural(text: str) -> list[object]:
    """7-2 before 7-10: digits compare as numbers."""
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", text)]
