"""`ecoxl check`: what in a plan needs the office's attention before forms go out.

Errors stop later stages from working and must be fixed in the registry: a task with
no lead unit (its form rows would have no owner), a unit name that is in no unit list
(nobody would get its form). Warnings are for a person to look at, since the notice
itself may be right: the same indicator with different targets in two places, a phrase
with a number the parser did not understand, a unit missing from the leading group's
list (no contact, possibly a typo), a group whose members the notice does not list.
Codes are stable (docs/REGISTRY.md, "ecoxl check"); tests assert codes, not wording.
"""

from __future__ import annotations

import difflib
from collections import defaultdict
from pathlib import Path

from .findings import Finding, Report, Severity
from .model import Indicator, Registry
from .parse import Unparsed, read_plan
from .registry import NOTICE_SUFFIXES, RegistryBookError, load_registry
from .texts import inner_quotes, say
from .unitnames import abbreviates


def check_file(path: Path) -> Report:
    """Check a notice (.txt/.docx, with the phrases its parse did not understand) or a
    registry (.json/.xlsx, as the office edited it)."""
    if path.suffix.lower() in NOTICE_SUFFIXES:
        parsed = read_plan(path)
        return check_plan(parsed.registry, path.name, parsed.unparsed)
    try:
        registry = load_registry(path)
    except RegistryBookError as exc:  # cells that cannot be used: the check's first findings
        return Report(list(exc.findings))
    return check_plan(registry, path.name)


def report_lines(report: Report) -> list[str]:
    """One line per finding, then the totals: what `ecoxl check` prints."""
    lines = [
        say(
            "lint.line",
            severity=say(f"lint.severity.{f.severity}"),
            where=f.where,
            message=f.message,
        )
        for f in report
    ]
    if not report.findings:
        return [say("lint.clean")]
    return [*lines, say("lint.summary", errors=len(report.errors), warnings=len(report.warnings))]


def check_plan(registry: Registry, file: str, unparsed: list[Unparsed] = ()) -> Report:
    """Every finding about one plan, errors first."""
    report = Report()
    for rule in (_no_lead, _unknown_units, _conflicts):
        report.extend(rule(registry, file))
    report.extend(_unparsed(unparsed, file))
    report.extend(_no_contact(registry, file))
    report.extend(_empty_groups(registry, file))
    report.findings.sort(key=lambda f: f.severity != "error")
    return report


def _finding(file: str, code: str, severity: Severity, **values: object) -> Finding:
    return Finding(file, None, None, code, say(f"lint.{code}", **values), severity)


def _where(task: int | None) -> str:
    return say("lint.where.goals") if task is None else say("lint.where.task", task=task)


def _tasks(numbers: list[int]) -> str:
    return "、".join(_where(n) for n in numbers)


def _no_lead(registry: Registry, file: str) -> list[Finding]:
    return [
        _finding(file, "task.no_lead", "error", task=t.number, title=inner_quotes(t.title))
        for t in registry.tasks
        if not t.lead_units
    ]


def _unknown_units(registry: Registry, file: str) -> list[Finding]:
    known = {u.name for u in registry.units} | {a for u in registry.units for a in u.aliases}
    known |= {g.name for g in registry.groups}
    return [
        _finding(file, "unit.unknown", "error", task=t.number, unit=name)
        for t in registry.tasks
        for name in dict.fromkeys([*t.lead_units, *t.responsible_units])
        if name not in known
    ]


def _conflicts(registry: Registry, file: str) -> list[Finding]:
    """Indicators of one name whose targets differ (the targets module names alike alike)."""
    places: dict[str, list[tuple[int | None, Indicator]]] = defaultdict(list)
    for indicator in registry.goals:
        places[indicator.name].append((None, indicator))
    for task in registry.tasks:
        for indicator in task.indicators:
            places[indicator.name].append((task.number, indicator))
    findings = []
    for name, found in places.items():
        numeric = [(n, i) for n, i in found if i.target is not None]
        if len({(i.target, i.target_max, i.unit) for _, i in numeric}) > 1:
            listed = "；".join(
                say("lint.target.place", where=_where(n), target=_target(i), text=i.text)
                for n, i in numeric
            )
            findings.append(_finding(file, "target.conflict", "warning", name=name, places=listed))
    return findings


def _target(indicator: Indicator) -> str:
    def number(value: float) -> str:
        return f"{value:g}"

    low = number(indicator.target)
    value = f"{low}—{number(indicator.target_max)}" if indicator.target_max is not None else low
    return f"{value}{indicator.unit}"


def _unparsed(unparsed: list[Unparsed], file: str) -> list[Finding]:
    return [
        _finding(file, "target.unparsed", "warning", where=_where(u.task), phrase=u.phrase)
        for u in unparsed
    ]


def _no_contact(registry: Registry, file: str) -> list[Finding]:
    """Units the tasks name that the leading group's list does not (only if there is a list)."""
    listed = [u for u in registry.units if u.contact]
    if not listed:
        return []
    names = [n for u in listed for n in (u.name, *u.aliases)]
    used = _used_in(registry)
    findings = []
    for unit in registry.units:
        if unit.contact or unit.kind == "group" or unit.name not in used:
            continue
        similar = _similar(unit.name, names)
        hint = say("lint.unit.similar", name=similar) if similar else ""
        findings.append(
            _finding(
                file,
                "unit.no_contact",
                "warning",
                unit=unit.name,
                tasks=_tasks(used[unit.name]),
                hint=hint,
            )
        )
    return findings


def _similar(name: str, names: list[str]) -> str:
    for other in names:
        if abbreviates(name, other) or abbreviates(other, name):
            return other
    close = difflib.get_close_matches(name, names, n=1, cutoff=0.8)
    return close[0] if close else ""


def _empty_groups(registry: Registry, file: str) -> list[Finding]:
    used = _used_in(registry)
    return [
        _finding(file, "group.no_members", "warning", group=g.name, tasks=_tasks(used[g.name]))
        for g in registry.groups
        if not g.members and g.name in used
    ]


def _used_in(registry: Registry) -> dict[str, list[int]]:
    """Each name the tasks use → the numbers of the tasks that use it."""
    used: dict[str, list[int]] = defaultdict(list)
    for task in registry.tasks:
        for name in dict.fromkeys([*task.lead_units, *task.responsible_units]):
            used[name].append(task.number)
    return used
