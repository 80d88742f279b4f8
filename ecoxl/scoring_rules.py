"""The scoring rules one at a time (docs/SCORING.md), each a pure function that mirrors
one formula of the scorecard, comparisons included.

Spreadsheets compare numbers with a tolerance, so these functions do too (`same`,
`at_least`); LibreOffice's RANK is the exception (exact), which is why ranks are
`1 + how many are higher` and unique positions come from distinct sort keys.
"""

from __future__ import annotations

from bisect import bisect_right

from .config import Scoring
from .model import Indicator
from .scoring_results import SEVERITY, Light, RateKind


def rate_kind(indicator: Indicator | None) -> RateKind | None:
    """Which completion rule an indicator follows; None when it has no numeric target."""
    if indicator is None or indicator.target is None:
        return None
    down = indicator.direction == "down"
    if indicator.requirement == "区间":
        return "range_down" if down else "range_up"
    if indicator.requirement == "≤" or (indicator.requirement == "约" and down):
        return "down"
    return "up"


def range_limit(indicator: Indicator) -> float:
    """The bound a lower-is-better range is held to: its maximum."""
    return indicator.target_max if indicator.target_max is not None else indicator.target


# Spreadsheets compare numbers with a tolerance: LibreOffice takes two numbers as equal
# when they differ by less than 2^-48 of either (rtl::math::approxEqual), Excel at 15
# significant digits; in RANK, COUNTIFS and the comparison operators alike.
_TOLERANCE = 2.0**-48


def same(a: float, b: float) -> bool:
    """Equal as a spreadsheet sees it: 0.1 + 0.2 is 0.3."""
    if a == b:
        return True
    if a == 0 or b == 0:
        return False
    d = abs(a - b)
    return d < abs(a) * _TOLERANCE and d < abs(b) * _TOLERANCE


def at_least(a: float, b: float) -> bool:
    """a >= b as a spreadsheet evaluates it."""
    return a > b or same(a, b)


def value_rate(kind: RateKind, indicator: Indicator, value: float, cap: float) -> float:
    """Completion rate of a reported value against the indicator's target (docs/SCORING.md)."""
    target = indicator.target
    if kind == "up":
        if target > 0:
            return max(0.0, min(cap, value / target))
        return 1.0 if at_least(value, target) else 0.0
    if kind == "range_up":
        if at_least(value, target):
            return 1.0
        return max(0.0, value / target) if target > 0 else 0.0
    limit = target if kind == "down" else range_limit(indicator)
    if at_least(limit, value):
        return 1.0
    return max(0.0, limit / value) if value != 0 else 0.0


def status_score(scoring: Scoring, status: str) -> float:
    return scoring.status_scores.get(status, 0.0)


def status_light(scoring: Scoring, status: str) -> Light:
    """The colour of a row scored from its status; grey (未报送) when the status is none."""
    if status not in scoring.status_scores:
        return "grey"
    return scoring.status_lights[status]


def elapsed_light(rate: float, elapsed: float, margin: float) -> Light:
    """Green at or above 序时进度, amber up to `margin` below it, red further below."""
    if at_least(rate, elapsed):
        return "green"
    if at_least(rate, elapsed - margin):
        return "amber"
    return "red"


def worst(lights: list[Light]) -> Light:
    return next(light for light in SEVERITY if light in lights)


def ranks(scores: list[float]) -> list[int]:
    """1 + how many scores are higher (SUMPRODUCT((scores>x)*1)+1): equal scores share a
    rank, also when two sums differ in the last bit (a comparison has a tolerance; the
    RANK function of LibreOffice has none)."""
    ascending = sorted(scores)
    return [1 + len(scores) - bisect_right(ascending, s + abs(s) * _TOLERANCE) for s in scores]


# Sort keys make every position unique, equal values keeping the sheet's order: the
# row's index times a step far above rounding noise and far below any real difference.
RATE_STEP = 1e-12
SCORE_STEP = 1e-10


def sort_keys(values: list[float], step: float, *, descending: bool) -> list[float]:
    """value + index × step (ascending) or value − index × step (descending), as the
    helper column's formula computes it."""
    return [v - k * step if descending else v + k * step for k, v in enumerate(values)]


def orders(keys: list[float], *, descending: bool) -> list[int]:
    """RANK over distinct sort keys: 1 for the highest key (descending) or the lowest."""
    ranked = sorted(range(len(keys)), key=keys.__getitem__, reverse=descending)
    result = [0] * len(keys)
    for position, i in enumerate(ranked, start=1):
        result[i] = position
    return result
