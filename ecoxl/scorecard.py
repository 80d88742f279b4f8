"""`ecoxl scorecard`: the consolidated workbook leaders read, with live formulas.

Reads the registry and the ledger, computes the scoring rules (`scoring.py`) and
writes 总览, 指标, 任务, 单位, 明细, 问题 and 评分规则 (docs/SCORECARD.md): the reported
rows as plain values, everything computed as a classic formula over them with its
result stored, so Excel, WPS and LibreOffice recalculate it and a phone preview
that never recalculates still shows the right numbers.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from .atomic import atomic_target
from .config import Scoring
from .findings import Finding
from .ledger import Ledger, return_state
from .model import Registry
from .period import Period
from .problems import standing
from .registry import load_registry
from .scorecard_book import Book
from .scorecard_details import write_details, write_problems
from .scorecard_overview import write_overview, write_rules
from .scorecard_sheets import write_indicators, write_tasks, write_units
from .scoring import compute
from .scoring_results import Card, UnitReturn
from .texts import say
from .workspace import Workspace


@dataclass(frozen=True)
class Scorecard:
    """A written scorecard: where it is and what it says."""

    path: Path
    card: Card

    def summary(self) -> str:
        """What `ecoxl scorecard` prints: where the file is and the headline figures."""
        h = self.card.headline
        return say(
            "scorecard.written",
            path=_shown(self.path),
            period=self.card.period.label,
            units=h.units,
            returned=h.returned,
            late=h.late,
            rejected=h.rejected,
            missing=h.missing,
            overall=h.overall,
        )

    def to_json(self) -> str:
        """What `ecoxl scorecard --json` prints (docs/SCORECARD.md)."""
        data = {"workbook": str(self.path), **self.card.to_dict()}
        return json.dumps(data, ensure_ascii=False, indent=2)


def _shown(path: Path) -> str:
    """The path as the user would type it: relative to the current folder when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


# -- reading the ledger --------------------------------------------------------


def read_returns(
    ledger: Ledger, registry: Registry, period: Period, deadline: date, root: Path, out_dir: Path
) -> dict[str, UnitReturn]:
    """Each reporting unit's return: on time, late (received after the deadline's day),
    rejected (only rejected files), or missing; with the rows of an accepted one."""
    current = ledger.current(period.code)
    here = out_dir.resolve()
    returns = {}
    for unit in registry.reporting_units():
        record = current.get(unit)
        state = return_state(record, deadline)
        if record is None:
            returns[unit] = UnitReturn(unit, state)
            continue
        sub = record.submission
        rows = tuple(ledger.rows(record.id)) if record.current else ()
        returns[unit] = UnitReturn(
            unit=unit,
            state=state,
            received_at=sub.received_at,
            file_name=sub.file_name,
            link=_link(ledger, sub.sha256, root, here),
            rows=rows,
            problem_count=record.problem_count,
        )
    return returns


def _link(ledger: Ledger, sha256: str, root: Path, out_dir: Path) -> str:
    """The archived original's path relative to the scorecard's folder `out_dir` (resolved),
    so the link survives moving the workspace folder; absolute when no relative path exists
    (another drive)."""
    archived = ledger.archive_path(sha256)
    if not archived:
        return ""
    target = Path(archived)
    if not target.is_absolute():
        target = root / target
    try:
        return os.path.relpath(target, out_dir)
    except ValueError:
        return str(target)


def forms_sent(ledger: Ledger, period: Period) -> int:
    """How many units were sent their form for the period (0 when mail was never used)."""
    return ledger.units_sent("forms", period.code)


def read_problems(ledger: Ledger, period: Period) -> list[tuple[str, Finding]]:
    """What still stands for the period (`problems.standing`, as the problem list has it),
    then the findings about files that never became a submission, of this period or of none."""
    lines = [(line.unit, line.finding) for line in standing(ledger, period.code)]
    return lines + [("", finding) for finding in ledger.intake_problems(period.code)]


# -- writing -------------------------------------------------------------------


def write_scorecard(card: Card, problems: list[tuple[str, Finding]], path: Path) -> Path:
    """The workbook: 总览 first (the sheet it opens on), then the tables, then the rules.

    Written beside `path` and renamed over it when complete, so last period's copy (or
    one open in Excel) is never left half-written."""
    with atomic_target(path) as temp:
        book = Book(temp, card)
        write_overview(book)
        write_indicators(book)
        tasks = write_tasks(book)
        write_units(book, tasks)
        write_details(book)
        write_problems(book, problems)
        write_rules(book)
        book.close()
    return path


def build_scorecard(
    registry: Registry,
    ledger: Ledger,
    period: Period,
    deadline: date,
    scoring: Scoring,
    path: Path,
    root: Path,
) -> Scorecard:
    """Compute and write the scorecard of `period` to `path` (links relative to it)."""
    returns = read_returns(ledger, registry, period, deadline, root, path.parent)
    card = compute(registry, period, deadline, scoring, returns, forms_sent(ledger, period))
    write_scorecard(card, read_problems(ledger, period), path)
    return Scorecard(path, card)


def make_scorecard(ws: Workspace, period: str | None = None, out: Path | None = None) -> Scorecard:
    """`ecoxl scorecard`: the workspace's registry and ledger, the period's scorecard."""
    settings = ws.settings
    chosen = settings.period_obj(period)
    registry = load_registry(ws.registry_path)
    path = out or ws.scorecard_path(chosen.code)
    with Ledger(ws.ledger_path) as ledger:
        return build_scorecard(
            registry,
            ledger,
            chosen,
            settings.deadline_for(chosen),
            settings.scoring,
            path,
            ws.root,
        )
