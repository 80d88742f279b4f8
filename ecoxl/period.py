"""Reporting periods: 2015-Q3, 2015-09, 2015-H1, 2015 (the whole year).

A period's end date gives 序时进度, the share of the plan year elapsed.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime

from .exceptions import ConfigError
from .texts import say

_PATTERNS = [
    (re.compile(r"^(\d{4})-?Q([1-4])$", re.I), "quarter"),
    (re.compile(r"^(\d{4})-?H([12])$", re.I), "half"),
    (re.compile(r"^(\d{4})-(\d{1,2})$"), "month"),
    (re.compile(r"^(\d{4})$"), "year"),
]


@dataclass(frozen=True)
class Period:
    """A reporting period of the plan year, written like 2015-Q3 or 2015-09."""

    year: int
    first_month: int
    last_month: int
    code: str

    @classmethod
    def parse(cls, text: str) -> Period:
        text = text.strip()
        for pattern, kind in _PATTERNS:
            match = pattern.match(text)
            if not match:
                continue
            year = int(match.group(1))
            if kind == "year":
                return cls(year, 1, 12, f"{year}")
            n = int(match.group(2))
            if kind == "quarter":
                return cls(year, 3 * n - 2, 3 * n, f"{year}-Q{n}")
            if kind == "half":
                return cls(year, 6 * n - 5, 6 * n, f"{year}-H{n}")
            if 1 <= n <= 12:
                return cls(year, n, n, f"{year}-{n:02d}")
        raise ConfigError(say("period.invalid", text=text))

    @property
    def start(self) -> date:
        return date(self.year, self.first_month, 1)

    @property
    def end(self) -> date:
        return date(self.year, self.last_month, calendar.monthrange(self.year, self.last_month)[1])

    @property
    def elapsed(self) -> float:
        """序时进度: months of the plan year elapsed at the period's end, as a fraction."""
        return self.last_month / 12

    @property
    def label(self) -> str:
        """The period in words, for titles and file names: 2015年第3季度."""
        year, last = self.year, self.last_month
        if self.first_month == 1 and last == 12:
            return say("period.label.year", year=year)
        if last - self.first_month == 2:
            return say("period.label.quarter", year=year, quarter=last // 3)
        if last - self.first_month == 5:
            return say(f"period.label.half{last // 6}", year=year)
        return say("period.label.month", year=year, month=last)

    def __str__(self) -> str:
        return self.code


def chinese_date(day: date) -> str:
    """`2015-10-08` → `2015年10月8日`."""
    return say("period.date", year=day.year, month=day.month, day=day.day)


def chinese_time(iso: str) -> str:
    """`2015-10-08T09:30:00+08:00` → `2015年10月8日 09:30`; other text as it is."""
    try:
        moment = datetime.fromisoformat(iso)
    except ValueError:
        return iso
    return f"{chinese_date(moment.date())} {moment:%H:%M}"
