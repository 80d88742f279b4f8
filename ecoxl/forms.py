"""Unit forms: one prefilled, protected, validated workbook per unit and period.

`build_form` makes one form's bytes (xlsxwriter, in memory); `write_forms` writes
every unit's form, atomically, in a process pool when there are many. The
regions of a form are written by `form_sheets.py`, at the positions `layout.py`
defines; the office's wording comes from `templates/form_instructions.txt`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime, time
from io import BytesIO
from pathlib import Path

import jinja2

from .atomic import atomic_target
from .config import Office
from .exceptions import ConfigError, RegistryError
from .form_sheets import (
    Formats,
    FormContent,
    Instructions,
    write_form_sheet,
    write_guide_sheet,
    write_identity_sheet,
)
from .layout import FORM_SHEET, FORM_VERSION, FormIdentity, expected_rows
from .model import Assignment, Indicator, Registry
from .period import Period
from .registry import load_registry
from .sheet_table import name_key
from .templating import render
from .texts import STATUSES, say
from .workspace import Workspace
from .xlsx import new_workbook

TEMPLATE = "form_instructions.txt"
SECTION_HOWTO, SECTION_STEPS, SECTION_STATUSES = "表头", "步骤", "状态"
POOL_MIN_FORMS = 16  # below this, starting worker processes costs more than it saves
MAX_UNIT_IN_NAME = 80  # characters of the unit's name kept in a file name

Progress = Callable[[int], None]


@dataclass(frozen=True)
class FormPlan:
    """What every form of one run shares, worked out once (and sent once to each worker)."""

    registry: Registry
    period: Period
    deadline: date
    office: Office
    templates: Path | None
    plan_id: str
    fingerprint: str
    indicators: dict[str, Indicator]
    assignments: dict[str, list[Assignment]]

    @classmethod
    def of(
        cls,
        registry: Registry,
        period: Period,
        deadline: date,
        office: Office,
        templates: Path | None = None,
    ) -> FormPlan:
        return cls(
            registry=registry,
            period=period,
            deadline=deadline,
            office=office,
            templates=templates,
            plan_id=registry.plan_id,
            fingerprint=registry.fingerprint(),
            indicators={i.id: i for i in registry.all_indicators()},
            assignments=registry.assignment_index(),
        )


# -- one form ------------------------------------------------------------------


def build_form(
    registry: Registry,
    unit: str,
    period: Period,
    deadline: date,
    office: Office,
    *,
    templates: Path | None = None,
) -> bytes:
    """The form of `unit` for `period`, as .xlsx bytes."""
    return _build(FormPlan.of(registry, period, deadline, office, templates), unit)


def _build(plan: FormPlan, unit: str) -> bytes:
    content = form_content(plan, unit)
    buffer = BytesIO()
    workbook = new_workbook(buffer, in_memory=True)
    fmt = Formats(workbook)
    write_form_sheet(workbook, fmt, content)
    write_guide_sheet(workbook, fmt, content)
    write_identity_sheet(workbook, content.identity)
    workbook.set_properties(
        {
            "title": f"{unit} {plan.period.label} {FORM_SHEET}",
            "subject": plan.registry.plan.title,
            "author": plan.office.name,
            "company": plan.office.name,
            # The same inputs give the same bytes: no "now" in the file.
            "created": datetime.combine(plan.period.end, time()),
        }
    )
    workbook.close()
    return buffer.getvalue()


def form_content(plan: FormPlan, unit: str) -> FormContent:
    """What `unit`'s form shows: its rows, the instructions and its identity."""
    rows = expected_rows(plan.registry, unit, plan.assignments.get(unit, []))
    identity = FormIdentity(
        plan_id=plan.plan_id,
        fingerprint=plan.fingerprint,
        unit=unit,
        period=plan.period.code,
        form_version=FORM_VERSION,
        row_keys=tuple(r.key for r in rows),
    )
    return FormContent(
        title=plan.registry.plan.title,
        unit=unit,
        period=plan.period,
        deadline=plan.deadline,
        office=plan.office,
        rows=rows,
        indicators=plan.indicators,
        instructions=instructions(plan, unit),
        identity=identity,
    )


# -- the office's wording ------------------------------------------------------


def instructions(plan: FormPlan, unit: str) -> Instructions:
    """Render the instructions template for `unit` (the workspace's copy wins) and split it."""
    period = plan.period
    values = {
        "unit": unit,
        "period": period.label,
        "start": period.start.isoformat(),
        "end": period.end.isoformat(),
        "elapsed": f"{period.elapsed:.0%}",
        "deadline": plan.deadline.isoformat(),
        "plan": plan.registry.plan.title,
        "office": plan.office,
        "statuses": STATUSES,
    }
    try:
        text = render(TEMPLATE, plan.templates, **values)
    except jinja2.TemplateError as exc:
        raise ConfigError(say("forms.bad_template", file=TEMPLATE, reason=exc)) from exc
    return parse_instructions(text)


def parse_instructions(text: str) -> Instructions:
    """Split rendered instructions at their `## ` section lines; blank lines are dropped."""
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("## "):
            current = sections.setdefault(line[3:].strip(), [])
        elif line and current is not None:
            current.append(line)
    for name in (SECTION_HOWTO, SECTION_STEPS, SECTION_STATUSES):
        if name not in sections:
            reason = say("forms.template_section", section=name)
            raise ConfigError(say("forms.bad_template", file=TEMPLATE, reason=reason))
    statuses = tuple(_status_line(line) for line in sections[SECTION_STATUSES])
    names = [name for name, _ in statuses]
    if sorted(names) != sorted(STATUSES):
        reason = say("forms.template_statuses", found="、".join(names))
        raise ConfigError(say("forms.bad_template", file=TEMPLATE, reason=reason))
    return Instructions(tuple(sections[SECTION_HOWTO]), tuple(sections[SECTION_STEPS]), statuses)


def _status_line(line: str) -> tuple[str, str]:
    """`状态:含义` (a full- or half-width colon)."""
    parts = re.split(r"[:：]", line, maxsplit=1)
    return parts[0].strip(), parts[1].strip() if len(parts) > 1 else ""


# -- file names ----------------------------------------------------------------

_NOT_IN_NAMES = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]')
_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10))}
_RESERVED |= {f"LPT{i}" for i in range(1, 10)}


def safe_file_name(name: str) -> str:
    """`name` made valid on Windows: no \\/:*?"<>| or control characters, no trailing dot
    or space, and no reserved device name (CON, NUL, COM1 …) as its stem."""
    cleaned = _NOT_IN_NAMES.sub("_", name).strip().rstrip(". ")
    if cleaned.split(".")[0].strip().upper() in _RESERVED:
        cleaned = f"_{cleaned}"
    return cleaned or "_"


def form_file_name(period: Period, unit: str) -> str:
    """`2015-Q3_市林业局_填报表.xlsx`, valid on Windows."""
    unit_part = safe_file_name(unit)[:MAX_UNIT_IN_NAME]
    return safe_file_name(say("forms.file_name", period=period.code, unit=unit_part))


def _file_names(period: Period, units: Sequence[str]) -> list[str]:
    """One name per unit; two units whose names clean up alike get a numbered suffix."""
    seen: set[str] = set()
    names = []
    for unit in units:
        name = form_file_name(period, unit)
        stem, suffix, n = name.removesuffix(".xlsx"), ".xlsx", 1
        while name.casefold() in seen:  # Windows file names ignore case
            n += 1
            name = f"{stem}_{n}{suffix}"
        seen.add(name.casefold())
        names.append(name)
    return names


# -- all forms -----------------------------------------------------------------


def select_units(registry: Registry, requested: Iterable[str] | None = None) -> list[str]:
    """The units to write forms for, in registry order: every reporting unit, or those asked
    for by name, alias or group. A name that is no unit, or a unit without tasks, is an error."""
    reporting = registry.reporting_units()
    wanted = [name.strip() for name in requested or () if name.strip()]
    if not wanted:
        return reporting
    known = set(reporting)
    spellings = _spellings(registry)
    chosen: set[str] = set()
    for typed in wanted:
        name = spellings.get(name_key(typed), typed)
        unit = registry.unit(name)
        if registry.group(name) is not None:
            members = [m for m in registry.expand(name) if m in known]
        elif unit is not None or name in known:
            members = [unit.name if unit else name]
        else:
            raise ConfigError(say("forms.unknown_unit", unit=typed))
        if not members or members[0] not in known:
            raise ConfigError(say("forms.unit_without_tasks", unit=typed))
        chosen.update(members)
    return [u for u in reporting if u in chosen]


def _spellings(registry: Registry) -> dict[str, str]:
    """Every unit, alias and group name by its `name_key`: a name typed with a Chinese input
    method (各乡镇（街道、管委会）, full-width brackets) finds the registry's half-width one."""
    names = [g.name for g in registry.groups]
    names += [name for u in registry.units for name in (u.name, *u.aliases)]
    return {name_key(name): name for name in reversed(names)}


def write_forms(
    registry: Registry,
    period: Period,
    deadline: date,
    office: Office,
    out_dir: Path,
    units: Iterable[str] | None = None,
    progress: Progress | None = None,
    *,
    templates: Path | None = None,
) -> list[Path]:
    """Write one form per unit into `out_dir`; returns the files in unit order.

    `units` limits the run (names, aliases or groups); `progress(n)` is called as forms
    are finished; `templates` is a folder whose `form_instructions.txt` wins.
    """
    names = select_units(registry, units)
    plan = FormPlan.of(registry, period, deadline, office, templates)
    if names:
        instructions(plan, names[0])  # a broken template fails here, before any file is written
    out_dir.mkdir(parents=True, exist_ok=True)
    jobs = list(zip(names, _file_names(period, names), strict=True))
    workers = os.cpu_count() or 1
    if len(jobs) < POOL_MIN_FORMS or workers < 2:
        return _track((_write_one(plan, out_dir, job) for job in jobs), progress)
    chunk = max(1, len(jobs) // (workers * 8))
    with ProcessPoolExecutor(workers, initializer=_start_worker, initargs=(plan, out_dir)) as pool:
        return _track(pool.map(_write_in_worker, jobs, chunksize=chunk), progress)


def _track(paths: Iterable[Path], progress: Progress | None) -> list[Path]:
    done = []
    for path in paths:
        done.append(path)
        if progress is not None:
            progress(1)
    return done


def _write_one(plan: FormPlan, out_dir: Path, job: tuple[str, str]) -> Path:
    """Build one form and put it in place atomically: a reader never sees half a file."""
    unit, name = job
    path = out_dir / name
    data = _build(plan, unit)
    with atomic_target(path) as temporary:
        temporary.write_bytes(data)
    return path


_worker: tuple[FormPlan, Path] | None = None  # set once in each worker process


def _start_worker(plan: FormPlan, out_dir: Path) -> None:
    global _worker
    _worker = (plan, out_dir)


def _write_in_worker(job: tuple[str, str]) -> Path:
    assert _worker is not None
    return _write_one(*_worker, job)


# -- in a workspace --------------------------------------------------------------


@dataclass(frozen=True)
class FormsRun:
    """`ecoxl forms` resolved against a workspace: what to write, and where."""

    registry: Registry
    period: Period
    deadline: date
    office: Office
    units: list[str]
    out_dir: Path
    templates: Path

    def write(self, progress: Progress | None = None) -> list[Path]:
        return write_forms(
            self.registry,
            self.period,
            self.deadline,
            self.office,
            self.out_dir,
            self.units,
            progress,
            templates=self.templates,
        )


def _refuse_plan_errors(registry: Registry, file: str) -> None:
    """Forms are not written from a plan `ecoxl check` finds errors in (a task without a lead
    unit, a unit not in the list): each would be a form nobody can fill in right."""
    from .lint import check_plan

    errors = check_plan(registry, file).errors
    if errors:
        lines = [say("forms.plan_errors", file=file, count=len(errors)), *map(str, errors)]
        raise RegistryError("\n".join(lines))


def forms_run(
    ws: Workspace,
    *,
    period: str | None = None,
    deadline: str | None = None,
    units: Sequence[str] = (),
    out_dir: Path | None = None,
) -> FormsRun:
    """The settings, registry and units of `ecoxl forms`, with the command line's overrides."""
    settings = ws.settings
    reporting_period = settings.period_obj(period)
    registry = load_registry(ws.registry_path)
    _refuse_plan_errors(registry, ws.registry_path.name)
    return FormsRun(
        registry=registry,
        period=reporting_period,
        deadline=settings.deadline_for(reporting_period, deadline),
        office=settings.office,
        units=select_units(registry, units),
        out_dir=out_dir or ws.forms_dir(reporting_period.code),
        templates=ws.templates_dir,
    )
