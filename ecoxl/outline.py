"""The numbered outline of a notice: headings, their levels, and what each one holds.

Chinese official documents number their parts in a fixed order of levels:
一、 > (一) > 1. or 1、 > (1) > ①. Which level holds the tasks differs between notices
(the sample numbers tasks 1. under categories (一); others number them (1) under 一、,
restarting in each part), so nothing here assumes a level: `parse` picks the level
whose items carry unit assignments, and the level above it that groups them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5}
_CN_DIGITS |= {"六": 6, "七": 7, "八": 8, "九": 9}
_CN = "一二三四五六七八九十"

# (level, pattern); the marker is group 1, its number group 2.
_LEVELS: tuple[tuple[int, re.Pattern[str]], ...] = (
    (1, re.compile(rf"^(([{_CN}]+)[、.])")),
    (2, re.compile(rf"^(\(([{_CN}]+)\))")),
    (3, re.compile(r"^((\d{1,3})(?:[、]|\.(?!\d)))")),
    (4, re.compile(r"^(\((\d{1,3})\))")),
    (5, re.compile(r"^(([①-⑳]))")),
)
_CIRCLED = {chr(0x2460 + i): i + 1 for i in range(20)}
_ATTACHMENT = re.compile(r"^附\s*件\s*\d*\s*(?::|$)")


@dataclass(frozen=True)
class Heading:
    """A numbered line: its level (1 = 一、), the marker as written, its number, the rest."""

    line: int
    level: int
    marker: str
    number: int
    rest: str


def chinese_number(text: str) -> int:
    """一 → 1, 十二 → 12, 二十 → 20, 三十二 → 32 (the numbers headings use)."""
    if "十" not in text:
        value = 0
        for ch in text:
            value = value * 10 + _CN_DIGITS[ch]
        return value
    tens, _, ones = text.partition("十")
    return (_CN_DIGITS[tens] if tens else 1) * 10 + (_CN_DIGITS[ones] if ones else 0)


def heading(line: str, index: int = 0) -> Heading | None:
    """The heading on `line`, or None for a plain line."""
    for level, pattern in _LEVELS:
        if m := pattern.match(line):
            marker, digits = m.group(1), m.group(2)
            if digits in _CIRCLED:
                number = _CIRCLED[digits]
            elif digits.isdigit():
                number = int(digits)
            else:
                number = chinese_number(digits)
            return Heading(index, level, marker, number, line[m.end() :].strip())
    return None


def is_attachment(line: str) -> bool:
    """附件 / 附 件 / 附件1: — where the body of the notice ends."""
    return bool(_ATTACHMENT.match(line))


def headings(lines: list[str]) -> list[Heading]:
    return [h for i, line in enumerate(lines) if (h := heading(line, i))]


def block_end(lines: list[str], items: list[Heading], item: Heading) -> int:
    """Where `item`'s block ends: the next heading at its level or above, or the attachment."""
    for other in items:
        if other.line > item.line and other.level <= item.level:
            return other.line
    for index in range(item.line + 1, len(lines)):
        if is_attachment(lines[index]):
            return index
    return len(lines)


def owner(items: list[Heading], item: Heading, level: int) -> Heading | None:
    """The heading of `level` that `item` sits under, if no higher heading cuts them apart."""
    for other in reversed([h for h in items if h.line < item.line]):
        if other.level == level:
            return other
        if other.level < level:
            return None
    return None
