"""Cell values as a clerk writes them: numbers typed by hand, text, dates, keys.

Pure helpers of `validate_rows.py` and `validate.py`: `read_number` reads `1,234`,
`１２３`, `12%` and `12公里` the way a clerk means them, never turning text into 0.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from .findings import Severity
from .layout import FormRow
from .measures import normalise
from .model import Indicator

NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
THOUSANDS = re.compile(r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?")
CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff]")
SPACE = re.compile(r"\s+")
# A share of a whole (覆盖率, 处理率, 比例, 比重, 占比) cannot pass 100 %; a growth rate,
# a completion rate or a self-sufficiency rate can.
SHARE = re.compile(r"(率|比例|比重|占比)$")
NOT_SHARE = re.compile(r"增长|增速|增幅|提高|下降|降低|幅度|完成率|自给率|产销率|贡献率|弹性")


# -- numbers written by hand -----------------------------------------------------------------


@dataclass(frozen=True)
class NumberReading:
    """A 本期完成值 cell read: the number (None if there is none), the text it was written as
    (empty for a clean number cell), and what had to be done to read it."""

    value: float | None
    text: str = ""
    issues: tuple[tuple[str, Severity], ...] = ()


def read_number(raw: object, measure: str) -> NumberReading:
    """Read a number the way a clerk means it: `1,234`, `１２３`, `12%` (only where the measure
    unit is %), `12公里`; anything else that is not a number is an error, never 0."""
    if raw is None:
        return NumberReading(None)
    if isinstance(raw, bool):
        return NumberReading(None, str(raw).upper(), (("value.not_number", "error"),))
    if isinstance(raw, int | float):
        if math.isfinite(raw):
            return NumberReading(float(raw))
        return NumberReading(None, str(raw), (("value.not_number", "error"),))
    if isinstance(raw, date | time | timedelta):
        return NumberReading(None, as_text(raw), (("value.not_number", "error"),))
    original = str(raw)
    text = original.strip().strip("\u3000")
    if not text:
        return NumberReading(None)
    issues: list[tuple[str, Severity]] = []
    half = normalise(text).strip()
    if half != text:
        issues.append(("value.full_width", "warning"))
    text = half
    percent = text.endswith("%")
    if percent:
        text = text[:-1].strip()
    elif measure and measure != "%" and text.endswith(measure):
        text = text[: -len(measure)].strip()
        issues.append(("value.unit_suffix", "warning"))
    if THOUSANDS.fullmatch(text):
        text = text.replace(",", "")
        issues.append(("value.thousands", "warning"))
    if not NUMBER.fullmatch(text):
        return NumberReading(None, original, (("value.not_number", "error"),))
    if percent and measure != "%":
        return NumberReading(None, original, (("value.percent_mismatch", "error"),))
    if percent:
        issues.append(("value.percent_sign", "warning"))
    return NumberReading(float(text), original, tuple(issues))


def is_change(indicator: Indicator) -> bool:
    """A target that is itself a change (下降幅度 13 %): it may come out negative."""
    return any(c.value == indicator.target for c in indicator.changes)


def is_share(expected: FormRow, indicator: Indicator | None) -> bool:
    name = SPACE.sub("", expected.indicator)
    if expected.measure != "%" or not SHARE.search(name) or NOT_SHARE.search(name):
        return False
    return indicator is None or not is_change(indicator)


def header_text(value: object) -> str:
    return SPACE.sub("", value) if isinstance(value, str) else ""


def squash(text: str) -> str:
    return SPACE.sub("", text)


def present(value: object) -> bool:
    return value is not None and not (isinstance(value, str) and not value.strip())


def key_text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = str(value).strip()
    return text or None


def as_text(value: object) -> str:
    """A cell as the text a clerk sees: 2015 not 2015.0, dates as 2015-10-08."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return str(value).upper()
    if isinstance(value, float):
        return num(value)
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat(" ")
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value)


def as_number(value: object) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        text = value.strip()
        if NUMBER.fullmatch(text):
            return float(text)
    return None


def same(found: object, want: object) -> bool:
    """A prefilled cell still holds what the form was written with."""
    if want is None or want == "":
        return not present(found)
    if isinstance(want, int | float):
        number = as_number(found)
        return number is not None and math.isclose(number, want, rel_tol=1e-9, abs_tol=1e-9)
    return squash(as_text(found)) == squash(str(want))


def num(value: float | None) -> str:
    if value is None:
        return ""
    return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)


def show(value: object, limit: int = 40) -> str:
    """A cell's content for a message: short, on one line."""
    text = SPACE.sub(" ", CONTROL.sub("", as_text(value))).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"
