"""`ecoxl status`: per reporting unit, whether its form for a period came back, and how.

A unit is `received` (its current accepted submission arrived by the deadline's
day), `late` (after it), `rejected` (only rejected files so far; `problems` counts
their errors) or `missing`. `--json` prints the same as a list of objects: a
contract documented in docs/LEDGER.md.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import date

from .exceptions import ConfigError
from .ledger import Ledger, ReturnState, SubmissionRecord, return_state
from .model import Registry
from .period import Period
from .registry import load_registry
from .texts import display_width, say
from .workspace import Workspace

STATES: tuple[ReturnState, ...] = ("received", "late", "rejected", "missing")
SHORT_SHA = 12  # characters of the SHA-256 shown in the terminal table


@dataclass(frozen=True)
class UnitStatus:
    """One line of `ecoxl status` (and one object of `--json`)."""

    unit: str
    state: ReturnState
    file: str = ""
    sha256: str = ""
    problems: int = 0  # errors in the submission shown (what got it rejected)
    warnings: int = 0
    received_at: str = ""
    submission_id: int | None = None


@dataclass(frozen=True)
class StatusReport:
    period: Period
    deadline: date
    units: list[UnitStatus]

    def count(self, state: ReturnState) -> int:
        return sum(1 for u in self.units if u.state == state)

    def to_json(self) -> str:
        return json.dumps([asdict(u) for u in self.units], ensure_ascii=False, indent=2)

    def table(self) -> str:
        """The terminal table: one line per unit, then the totals."""
        headers = [say(f"status.col.{c}") for c in ("unit", "state", "problems", "received")]
        headers += [say("status.col.file"), say("status.col.sha256")]
        rows = [
            [
                u.unit,
                say(f"status.state.{u.state}"),
                str(u.problems) if u.state == "rejected" else "",
                u.received_at.replace("T", " ")[:19],
                u.file,
                u.sha256[:SHORT_SHA],
            ]
            for u in self.units
        ]
        title = say(
            "status.title",
            period=f"{self.period.label}（{self.period.code}）",
            deadline=self.deadline.isoformat(),
            units=len(self.units),
        )
        totals = say("status.totals", **{s: self.count(s) for s in STATES})
        return "\n".join([title, text_table(headers, rows), totals])


def unit_statuses(
    ledger: Ledger, registry: Registry, period: Period, deadline: date
) -> list[UnitStatus]:
    """Every reporting unit's state for `period`, in registry order."""
    current = ledger.current(period.code)
    return [
        _status(unit, current.get(unit), ledger, deadline) for unit in registry.reporting_units()
    ]


def _status(
    unit: str, record: SubmissionRecord | None, ledger: Ledger, deadline: date
) -> UnitStatus:
    state = return_state(record, deadline)
    if record is None:
        return UnitStatus(unit, state)
    sub = record.submission
    warnings = sum(1 for f in ledger.problems(record.id) if f.severity == "warning")
    return UnitStatus(
        unit=unit,
        state=state,
        file=sub.file_name,
        sha256=sub.sha256,
        problems=record.problem_count,
        warnings=warnings,
        received_at=sub.received_at,
        submission_id=record.id,
    )


def status(ws: Workspace, period: str | None = None) -> StatusReport:
    """`ecoxl status`: the workspace's registry and ledger, for a period."""
    settings = ws.settings
    chosen = settings.period_obj(period)
    registry = load_registry(ws.registry_path)
    with Ledger(ws.ledger_path) as ledger:
        units = unit_statuses(ledger, registry, chosen, settings.deadline_for(chosen))
    return StatusReport(chosen, settings.deadline_for(chosen), units)


# -- one unit's history ----------------------------------------------------------------------


@dataclass(frozen=True)
class HistoryLine:
    """One file a unit sent for the period (`ecoxl status --unit`), newest first."""

    received_at: str
    state: str  # accepted | rejected, as the ledger recorded it
    current: bool  # the one that counts (accepted and newest; superseded ones stay history)
    problems: int
    warnings: int
    file: str
    sha256: str
    source: str
    sender: str


@dataclass(frozen=True)
class UnitHistory:
    period: Period
    unit: str
    lines: list[HistoryLine]

    def to_json(self) -> str:
        return json.dumps([asdict(line) for line in self.lines], ensure_ascii=False, indent=2)

    def table(self) -> str:
        title = say("status.history.title", unit=self.unit, period=self.period.label)
        if not self.lines:
            return "\n".join([title, say("status.history.none")])
        headers = [say(f"status.history.col.{c}") for c in ("received", "state", "problems")]
        headers += [
            say("status.col.file"),
            say("status.col.sha256"),
            say("status.history.col.source"),
        ]
        rows = [
            [
                line.received_at.replace("T", " ")[:19],
                say(f"status.history.{line.state}")
                + (say("status.history.current") if line.current else ""),
                say("status.history.counts", errors=line.problems, warnings=line.warnings),
                line.file,
                line.sha256[:SHORT_SHA],
                line.sender or line.source,
            ]
            for line in self.lines
        ]
        return "\n".join([title, text_table(headers, rows)])


def unit_history(ws: Workspace, unit: str, period: str | None = None) -> UnitHistory:
    """`ecoxl status --unit`: every file the unit sent for the period, superseded ones too
    (the ledger keeps them all), by the unit's name, alias or as typed with full-width
    brackets."""
    # the same name matching as `forms --unit`; imported here, not above, because collect
    # imports this module and need not load the form writer
    from .forms import select_units

    chosen = ws.settings.period_obj(period)
    registry = load_registry(ws.registry_path)
    units = select_units(registry, [unit])
    if len(units) != 1:
        raise ConfigError(say("status.history.one_unit", name=unit))
    (name,) = units
    with Ledger(ws.ledger_path) as ledger:
        lines = [
            HistoryLine(
                received_at=r.submission.received_at,
                state=r.submission.state,
                current=r.current,
                problems=r.problem_count,
                warnings=sum(1 for f in ledger.problems(r.id) if f.severity == "warning"),
                file=r.submission.file_name,
                sha256=r.submission.sha256,
                source=r.submission.source,
                sender=r.submission.sender,
            )
            for r in ledger.submissions(chosen.code, name)
        ]
    return UnitHistory(chosen, name, lines)


# -- a plain-text table that lines up Chinese text ----------------------------------------------


def text_table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [display_width(h) for h in headers]
    for row in rows:
        widths = [max(w, display_width(cell)) for w, cell in zip(widths, row, strict=True)]

    def line(cells: list[str]) -> str:
        padded = [c + " " * (w - display_width(c)) for c, w in zip(cells, widths, strict=True)]
        return "  ".join(padded).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(headers), rule, *map(line, rows)])
