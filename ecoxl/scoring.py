"""The scoring rules of docs/SCORING.md, computed in plain Python.

The scorecard workbook computes the same rules with live formulas; this module gives
their results to store with each formula (so a preview that never recalculates shows
the right numbers), to `ecoxl scorecard --json`, and to the tests that check a
recalculating spreadsheet against it. Every step mirrors one formula, in the same
order of operations. Where the sheet sums with SUMIFS, AVERAGEIFS or SUMPRODUCT this
module sums with `math.fsum` (correctly rounded), as LibreOffice's compensated
summation does, so near-equal rates rank the same in both; the `+` of a formula is
a plain left-to-right sum here too.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from math import fsum

from .config import Scoring
from .layout import row_key
from .ledger import ReportedRow
from .model import Indicator, Registry, Role, Task
from .period import Period
from .scoring_results import (
    LIGHTS,
    Card,
    CategoryResult,
    Detail,
    Headline,
    RowResult,
    TaskResult,
    UnitResult,
    UnitReturn,
)
from .scoring_rules import (
    RATE_STEP,
    SCORE_STEP,
    elapsed_light,
    orders,
    range_limit,
    ranks,
    rate_kind,
    sort_keys,
    status_light,
    status_score,
    value_rate,
    worst,
)

# The single rules are importable from here too (the form's 完成率 formula uses them).
__all__ = [
    "assigned_roles",
    "category_label",
    "compute",
    "range_limit",
    "rate_kind",
    "status_score",
    "value_rate",
]

# -- the whole card ------------------------------------------------------------


def category_label(registry: Registry, number: int) -> str:
    """(一)科学谋划空间开发格局: the numeral the notice uses, then the title."""
    numerals = "一二三四五六七八九十"
    numeral = numerals[number - 1] if 1 <= number <= len(numerals) else str(number)
    title = next((c.title for c in registry.categories if c.number == number), "")
    return f"({numeral}){title}"


def compute(
    registry: Registry,
    period: Period,
    deadline: date,
    scoring: Scoring,
    returns: dict[str, UnitReturn],
    forms_sent: int = 0,
) -> Card:
    """The scorecard's numbers from the registry and each reporting unit's return."""
    units = registry.reporting_units()
    returns = {u: returns.get(u) or UnitReturn(u, "missing") for u in units}
    tasks = sorted(registry.tasks, key=lambda t: t.number)
    layout = _RowLayout(tasks)
    roles = assigned_roles(registry)
    members = registry.members_map()
    details = _details(units, returns, layout, roles)
    rows = _rows(members, tasks, details, scoring, period.elapsed)
    task_results = _tasks(registry, members, tasks, rows, details, returns)
    unit_results = _units(registry, units, returns, task_results, details, scoring, roles)
    categories = _categories(task_results)
    return Card(
        title=registry.plan.title,
        period=period,
        deadline=deadline,
        scoring=scoring,
        headline=_headline(unit_results, task_results, forms_sent),
        categories=categories,
        rows=rows,
        tasks=task_results,
        units=unit_results,
        details=details,
    )


class _RowLayout:
    """The form's rows across the plan: key → (序号, task, indicator), in task order."""

    def __init__(self, tasks: list[Task]):
        self.rows: dict[str, tuple[int, Task, Indicator | None]] = {}
        for task in tasks:
            for ind in task.indicators or [None]:
                key = row_key(task.number, ind.id if ind else None)
                self.rows[key] = (len(self.rows) + 1, task, ind)


def assigned_roles(registry: Registry) -> dict[str, dict[int, Role]]:
    """Every unit's role per task (`Registry.assignment_index`), keyed by task number."""
    return {
        unit: {a.task.number: a.role for a in assignments}
        for unit, assignments in registry.assignment_index().items()
    }


def _details(units, returns, layout: _RowLayout, roles) -> list[Detail]:
    details = []
    for unit in units:
        ret = returns[unit]
        if not ret.scored:
            continue
        own = roles.get(unit, {})
        for row in ret.rows:
            seq, task, ind = layout.rows.get(row.row_key, (0, None, None))
            number = task.number if task else row.task
            share = task.weight / max(1, len(task.indicators)) if task else 0.0
            details.append(
                Detail(
                    unit=unit,
                    role=own.get(number),
                    task=number,
                    seq=seq,
                    weight=share,
                    indicator=ind,
                    row=row,
                    state=ret.state,
                    received_at=ret.received_at,
                    file_name=ret.file_name,
                    link=ret.link,
                )
            )
    return details


def _rows(members, tasks, details, scoring: Scoring, elapsed: float) -> list[RowResult]:
    by_key = {d.key: i for i, d in enumerate(details)}
    sums: dict[int, list[float]] = {}
    for d in details:
        if d.row.value is not None:
            sums.setdefault(d.seq, []).append(d.row.value)
    results = []
    for task in tasks:
        leads = _expand(members, task.lead_units)
        for ind in task.indicators or [None]:
            key = row_key(task.number, ind.id if ind else None)
            seq = len(results) + 1
            reporter = next((u for u in leads if f"{u}|{key}" in by_key), "")
            index = by_key.get(f"{reporter}|{key}")
            own = details[index].row if index is not None else None
            combine = ind.combine if ind else "lead"
            if combine == "sum":
                value = fsum(sums[seq]) if seq in sums else None
            else:
                value = own.value if own else None
            status = own.status if own else ""
            kind = rate_kind(ind)
            if kind is None or value is None:
                rate, light = status_score(scoring, status), status_light(scoring, status)
            else:
                rate = value_rate(kind, ind, value, scoring.cap)
                light = elapsed_light(rate, elapsed, scoring.amber_margin)
            results.append(
                RowResult(
                    seq=seq,
                    task=task.number,
                    key=key,
                    indicator=ind,
                    lead_units=tuple(leads),
                    combine=combine,
                    kind=kind,
                    reporter=reporter,
                    detail=index,
                    value=value,
                    status=status,
                    rate=rate,
                    light=light,
                )
            )
    return results


def _tasks(registry, members, tasks, rows, details, returns) -> list[TaskResult]:
    by_task: dict[int, list[RowResult]] = {}
    for r in rows:
        by_task.setdefault(r.task, []).append(r)
    reported: dict[tuple[str, int | None], list[ReportedRow]] = {}
    for d in details:
        reported.setdefault((d.unit, d.task), []).append(d.row)
    results = []
    for task in tasks:
        own = by_task[task.number]
        leads = _expand(members, task.lead_units)
        lead = next((u for u in leads if returns[u].scored), "")
        lead_rows = reported.get((lead, task.number), [])
        responsible = [u for u in _expand(members, task.responsible_units) if u not in leads]
        results.append(
            TaskResult(
                number=task.number,
                category=category_label(registry, task.category),
                title=task.title,
                lead_units=tuple(leads),
                weight=task.weight,
                indicators=len(task.indicators),
                rate=fsum(r.rate for r in own) / len(own),
                light=worst([r.light for r in own]),
                lead_status="、".join(_distinct(r.status for r in lead_rows)),
                progress="\n".join(_distinct(r.progress for r in lead_rows)),
                problems="\n".join(_distinct(r.problems for r in lead_rows)),
                responsible=tuple(responsible),
                responsible_reported=tuple(u for u in responsible if returns[u].scored),
                key=0.0,
                order=0,
            )
        )
    keys = sort_keys([t.rate for t in results], RATE_STEP, descending=False)
    positions = orders(keys, descending=False)
    return [replace(t, key=k, order=p) for t, k, p in zip(results, keys, positions, strict=True)]


def _units(registry, units, returns, tasks, details, scoring, roles) -> list[UnitResult]:
    rate_of = {t.number: t.rate for t in tasks}
    task_of = {t.number: t for t in registry.tasks}
    kinds = {u.name: u.kind for u in registry.units}
    supporting: dict[str, list[Detail]] = {}
    for d in details:
        if d.role == "responsible":
            supporting.setdefault(d.unit, []).append(d)
    results = []
    for unit in units:
        ret = returns[unit]
        assigned = [(task_of[n], role) for n, role in roles.get(unit, {}).items()]
        led = [t for t, role in assigned if role == "lead" and t.weight > 0]
        supported = [t for t, role in assigned if role == "responsible" and t.weight > 0]
        lead_weight = fsum(t.weight for t in led)
        support_weight = fsum(t.weight for t in supported)
        lead_part = support_part = None
        if led:
            lead_part = sum(_weighted(t.weight, rate_of[t.number]) for t in led) / lead_weight
        if supported:
            own = supporting.get(unit, [])
            total = fsum(
                fsum(d.weight for d in own if d.row.status == status) * points
                for status, points in scoring.status_scores.items()
            )
            support_part = total / support_weight
        score = 0.0
        if ret.scored:
            score = _unit_score(scoring, lead_weight, lead_part, support_weight, support_part)
        results.append(
            UnitResult(
                name=unit,
                kind=kinds.get(unit, "other"),
                state=ret.state,
                received_at=ret.received_at,
                led=tuple(t.number for t in led),
                supported=tuple(t.number for t in supported),
                lead_weights=tuple(t.weight for t in led),
                support_weight=support_weight,
                lead_part=lead_part,
                support_part=support_part,
                score=score,
                rank=0,
                key=0.0,
                order=0,
                problem_count=ret.problem_count,
            )
        )
    scores = [u.score for u in results]
    keys = sort_keys(scores, SCORE_STEP, descending=True)
    positions = orders(keys, descending=True)
    return [
        replace(u, rank=r, key=k, order=o)
        for u, r, k, o in zip(results, ranks(scores), keys, positions, strict=True)
    ]


def _unit_score(scoring, lead_weight, lead_part, support_weight, support_part) -> float:
    """100 × the weighted average of the lead and supporting parts (formula order kept)."""
    if lead_part is None:
        return 100 * support_part
    if support_part is None:
        return 100 * lead_part
    lead = scoring.lead_weight * lead_weight
    support = scoring.responsible_weight * support_weight
    return 100 * (lead * lead_part + support * support_part) / (lead + support)


def _categories(tasks: list[TaskResult]) -> list[CategoryResult]:
    labels = list(dict.fromkeys(t.category for t in tasks))
    return [_category(label, [t for t in tasks if t.category == label]) for label in labels]


def _category(label: str, tasks: list[TaskResult]) -> CategoryResult:
    return CategoryResult(label, len(tasks), _weighted_rate(tasks), _count_lights(tasks))


def _headline(units: list[UnitResult], tasks: list[TaskResult], forms_sent: int) -> Headline:
    late = sum(u.state == "late" for u in units)
    returned = sum(u.state == "received" for u in units) + late
    return Headline(
        units=len(units),
        forms_sent=forms_sent,
        returned=returned,
        late=late,
        rejected=sum(u.state == "rejected" for u in units),
        missing=sum(u.state == "missing" for u in units),
        return_rate=returned / len(units) if units else 0.0,
        overall=_weighted_rate(tasks),
        lights=_count_lights(tasks),
    )


def _weighted_rate(tasks: list[TaskResult]) -> float:
    """SUMPRODUCT(weight, rate) / SUMPRODUCT(weight), 0 when no task has weight."""
    total = fsum(t.weight for t in tasks)
    if total == 0:
        return 0.0
    return fsum(t.weight * t.rate for t in tasks) / total


def _count_lights(tasks: list[TaskResult]) -> dict[str, int]:
    return {light: sum(t.light == light for t in tasks) for light in LIGHTS}


def _weighted(weight: float, rate: float) -> float:
    """How the lead-part formula writes one term: the rate alone when the weight is 1."""
    return rate if weight == 1 else weight * rate


def _expand(members: dict[str, list[str]], names: list[str]) -> list[str]:
    """The units behind `names` (`Registry.members_map`), each once, in order: one dict
    look-up a name, where `Registry.expand` scans the groups (a province has thousands)."""
    return list(dict.fromkeys(m for n in names for m in members.get(n, (n,))))


def _distinct(texts) -> list[str]:
    return list(dict.fromkeys(t.strip() for t in texts if t and t.strip()))
