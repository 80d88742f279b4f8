"""The records a scorecard is made of: each unit's return, and the computed results.

`scoring.py` fills them in; the scorecard sheets read them; `Card.to_dict` is what
`ecoxl scorecard --json` prints (docs/SCORECARD.md).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date
from math import fsum
from typing import Literal

from .config import Scoring
from .ledger import ReportedRow, ReturnState
from .model import Indicator, Role
from .period import Period

Light = Literal["green", "amber", "red", "grey"]
RateKind = Literal["up", "down", "range_up", "range_down"]

LIGHTS: tuple[Light, ...] = ("green", "amber", "red", "grey")
# A task is as far behind as its furthest-behind row: red, then amber, then grey, then green.
SEVERITY: tuple[Light, ...] = ("red", "amber", "grey", "green")


@dataclass(frozen=True)
class UnitReturn:
    """One reporting unit's return for the period, as the ledger has it."""

    unit: str
    state: ReturnState
    received_at: str = ""
    file_name: str = ""
    link: str = ""  # where the archived original is, relative to the scorecard
    rows: tuple[ReportedRow, ...] = ()
    problem_count: int = 0

    @property
    def scored(self) -> bool:
        """A return counts when it is accepted (on time or late); otherwise the unit scores 0."""
        return self.state in ("received", "late")


@dataclass(frozen=True, slots=True)
class Detail:
    """One reported row of a counted return (a line of 明细); slots, as a province has
    hundreds of thousands."""

    unit: str
    role: Role | None  # from the registry: the unit's role in the row's task
    task: int | None
    seq: int  # the 序号 of the row's 指标 line; 0 when the key is not in the registry
    weight: float  # the task's weight shared by its rows: Task.weight / rows of the task
    indicator: Indicator | None
    row: ReportedRow
    state: ReturnState
    received_at: str
    file_name: str
    link: str

    @property
    def key(self) -> str:
        """Unit and row key: what a 指标 line looks its reporting unit's row up by."""
        return f"{self.unit}|{self.row.row_key}"


@dataclass(frozen=True)
class RowResult:
    """One line of 指标: an indicator, or the single row of a task without one."""

    seq: int
    task: int
    key: str
    indicator: Indicator | None
    lead_units: tuple[str, ...]
    combine: str
    kind: RateKind | None  # None: scored from 进展状态
    reporter: str  # the lead unit whose row is used ("" if no lead unit reported it)
    detail: int | None  # index of the reporter's row in `Card.details`
    value: float | None
    status: str
    rate: float
    light: Light


@dataclass(frozen=True)
class TaskResult:
    number: int
    category: str
    title: str
    lead_units: tuple[str, ...]
    weight: float
    indicators: int
    rate: float
    light: Light
    lead_status: str
    progress: str
    problems: str
    responsible: tuple[str, ...]
    responsible_reported: tuple[str, ...]
    key: float  # rate + index × RATE_STEP: distinct, so positions are unique
    order: int  # 1 = lowest rate (equal rates in task order)


@dataclass(frozen=True)
class UnitResult:
    name: str
    kind: str
    state: ReturnState
    received_at: str
    led: tuple[int, ...]
    supported: tuple[int, ...]
    lead_weights: tuple[float, ...]  # Task.weight of each led task (same order as `led`)
    support_weight: float  # sum of Task.weight over supported tasks
    lead_part: float | None  # weighted average of the led tasks' rates
    support_part: float | None  # weighted average of the unit's own 进展状态 scores
    score: float  # 0–100
    rank: int  # 1 + how many units score higher: equal scores share a rank
    key: float  # score − index × SCORE_STEP: distinct, so positions are unique
    order: int  # 1 = highest score (equal scores in unit order)
    problem_count: int

    @property
    def lead_weight(self) -> float:
        return fsum(self.lead_weights)


@dataclass(frozen=True)
class CategoryResult:
    label: str
    tasks: int
    rate: float
    lights: dict[str, int]


@dataclass(frozen=True)
class Headline:
    units: int
    forms_sent: int
    returned: int
    late: int
    rejected: int
    missing: int
    return_rate: float
    overall: float
    lights: dict[str, int]  # tasks by light


@dataclass(frozen=True)
class Card:
    """Everything the scorecard shows, computed."""

    title: str
    period: Period
    deadline: date
    scoring: Scoring
    headline: Headline
    categories: list[CategoryResult]
    rows: list[RowResult]
    tasks: list[TaskResult]
    units: list[UnitResult]
    details: list[Detail] = field(default_factory=list)

    @property
    def elapsed(self) -> float:
        return self.period.elapsed

    def to_dict(self) -> dict:
        """The computation as `ecoxl scorecard --json` prints it (docs/SCORECARD.md)."""
        return {
            "plan": self.title,
            "period": self.period.code,
            "deadline": self.deadline.isoformat(),
            "elapsed": self.elapsed,
            "scoring": asdict(self.scoring),
            "headline": asdict(self.headline),
            "categories": [asdict(c) for c in self.categories],
            "indicators": [_row_dict(r) for r in self.rows],
            "tasks": [_task_dict(t) for t in self.tasks],
            "units": [_unit_dict(u) for u in self.units],
        }


# -- JSON ---------------------------------------------------------------------


def _row_dict(r: RowResult) -> dict:
    ind = r.indicator
    return {
        "seq": r.seq,
        "task": r.task,
        "row_key": r.key,
        "name": ind.name if ind else "",
        "unit": ind.unit if ind else "",
        "requirement": ind.requirement if ind else "",
        "target": ind.target if ind else None,
        "target_max": ind.target_max if ind else None,
        "combine": r.combine,
        "reporter": r.reporter,
        "value": r.value,
        "status": r.status,
        "rate": r.rate,
        "light": r.light,
    }


def _task_dict(t: TaskResult) -> dict:
    return {
        "number": t.number,
        "category": t.category,
        "title": t.title,
        "lead_units": list(t.lead_units),
        "weight": t.weight,
        "rate": t.rate,
        "light": t.light,
        "responsible_reported": f"{len(t.responsible_reported)}/{len(t.responsible)}",
    }


def _unit_dict(u: UnitResult) -> dict:
    return {
        "name": u.name,
        "state": u.state,
        "received_at": u.received_at,
        "led": list(u.led),
        "supported": list(u.supported),
        "lead_part": u.lead_part,
        "support_part": u.support_part,
        "score": u.score,
        "rank": u.rank,
    }
