"""Quantities as written in a notice: numbers, ranges, ratios and measure units (计量单位).

The unit vocabulary is built from magnitudes × base units (万 × 平方米 → 万平方米), and a
matched unit may go on with a "per" part (万吨/日, 亿元/平方公里, 吨标准煤/万元). Matching
the longest written form makes 万吨标准煤 win over 万吨 and 吨, and 个百分点 over 个.
Numbers that are no quantity (years, dates, “136”工程, Pm2.5, "1." before a task) are
recognised here and left to the words around them.
"""

from __future__ import annotations

import re
from collections.abc import Container
from dataclasses import dataclass

Span = tuple[int, int]

# -- characters ---------------------------------------------------------------

_WIDE = {chr(0xFF10 + i): str(i) for i in range(10)}
_WIDE |= {chr(0xFF21 + i): chr(0x41 + i) for i in range(26)}
_WIDE |= {chr(0xFF41 + i): chr(0x61 + i) for i in range(26)}
_WIDE |= dict(zip("，．：；％（）［］－～！？／　〔〕", ",.:;%()[]-~!?/ ()", strict=True))
_WIDE_TABLE = str.maketrans(_WIDE)
PRIVATE_USE = re.compile("[\ue000-\uf8ff]")

_PAIRS = {"(": ")", "[": "]", "【": "】", "“": "”", "‘": "’", "《": "》", "「": "」", '"': '"'}
_QUOTES = frozenset('“‘《「"')


def normalise(text: str) -> str:
    """Half-width digits, letters and punctuation, one character for one.

    Keeping every character in place lets a raw phrase be cut from the original text
    at the positions found in the normalised one.
    """
    return PRIVATE_USE.sub(" ", text.translate(_WIDE_TABLE))


def nesting(text: str) -> tuple[list[int], list[bool]]:
    """Per character: bracket depth, and whether it is quoted (“136”工程, 《…》).

    A sentence end (。 or a line break) closes what is open, so one stray bracket
    cannot hide the rest of the text.
    """
    stack: list[str] = []
    depth: list[int] = []
    quoted: list[bool] = []
    for ch in text:
        if ch in "。\n":
            stack.clear()
        if stack and ch == _PAIRS[stack[-1]]:
            stack.pop()
        elif ch in _PAIRS:
            depth.append(len(stack))
            quoted.append(any(c in _QUOTES for c in stack))
            stack.append(ch)
            continue
        depth.append(len(stack))
        quoted.append(any(c in _QUOTES for c in stack))
    return depth, quoted


# -- measure units ------------------------------------------------------------

_BIG = ("万", "十万", "百万", "千万", "亿", "十亿", "百亿", "万亿")
_MAGNITUDES = ("", "十", "百", "千", *_BIG)
_FACTORS = {"十": 10, "百": 100, "千": 1000}

# Units that take a magnitude prefix (万元, 万吨, 万平方米, 亿千瓦时 …).
_SCALABLE = (
    "元", "美元", "吨", "吨标准煤", "标准煤", "人", "人次", "户", "亩", "个", "家", "辆", "台",
    "台套", "套", "座", "所", "处", "条", "项", "件", "株", "棵", "头", "只", "羽", "张", "册",
    "床", "间", "盏", "根", "口", "眼", "批", "部", "名", "位", "支", "艘", "架", "片", "块",
    "栋", "幢", "种", "场", "次", "份", "篇", "笔", "标箱", "千瓦", "千瓦时", "瓦", "立方米",
    "平方米", "平方公里", "平方千米", "公里", "千米", "米", "公顷", "斤", "公斤", "千克", "克",
    "升", "度", "吨公里", "车次", "微克", "毫克",
)  # fmt: skip

# Units that never take a magnitude.
_PLAIN = ("万", "亿", "%", "‰", "百分点", "天", "小时", "分钟", "分贝", "分", "倍", "岁")

# Written forms that mean another unit: 4个百分点 is 4 百分点, 20吨水 is 20 吨.
_ALIASES = {"个百分点": "百分点", "吨水": "吨"}

# A written form is no unit when the next character makes it a longer word (20万吨水泥).
_NOT_BEFORE = {"吨水": "泥"}

# What may follow "/" in a compound unit.
_PER = (
    "日", "天", "年", "月", "小时", "人", "户", "亩", "元", "万元", "平方公里", "平方米",
    "立方米", "升", "公里", "吨", "千瓦时", "床",
)  # fmt: skip


def _vocabulary() -> dict[str, str]:
    """Every written form of a unit mapped to the unit as recorded."""
    vocabulary = {unit: unit for unit in _PLAIN}
    for base in _SCALABLE:
        for magnitude in _MAGNITUDES:
            vocabulary[magnitude + base] = magnitude + base
    for written, canonical in _ALIASES.items():
        for magnitude in _MAGNITUDES:
            vocabulary[magnitude + written] = magnitude + canonical
    return vocabulary


_VOCABULARY = _vocabulary()
_LONGEST = max(map(len, _VOCABULARY))
_PER_SET = frozenset(_PER)
_PER_LONGEST = max(map(len, _PER))


def _longest(text: str, pos: int, end: int, words: Container[str], size: int) -> str | None:
    """The longest entry of `words` written at `pos`, or None."""
    for length in range(min(size, end - pos), 0, -1):
        written = text[pos : pos + length]
        if written in words and not _blocked(written, text[pos + length : pos + length + 1]):
            return written
    return None


def _blocked(written: str, following: str) -> bool:
    return any(written.endswith(w) and following == c for w, c in _NOT_BEFORE.items())


def match_measure(text: str, pos: int, end: int | None = None) -> tuple[str, int] | None:
    """The unit written at `pos` as (unit as recorded, characters consumed), or None.

    `end` bounds the search (a clause end), so a unit never runs across a comma.
    """
    end = len(text) if end is None else end
    written = _longest(text, pos, end, _VOCABULARY, _LONGEST)
    if written is None:
        return None
    unit, used = _VOCABULARY[written], len(written)
    if text[pos + used : pos + used + 1] == "/":
        per = _longest(text, pos + used + 1, end, _PER_SET, _PER_LONGEST)
        if per is not None:
            unit, used = f"{unit}/{per}", used + 1 + len(per)
    return unit, used


def scaled(value: float, unit: str) -> tuple[float, str]:
    """Compound magnitudes folded into the value: 3千万元 is 3000 万元, 百亿元 100 亿元."""
    factor = _FACTORS.get(unit[:1])
    if factor is None or unit[1:2] not in ("万", "亿"):
        return value, unit
    return value * factor, unit[1:]


def is_magnitude(unit: str) -> bool:
    """Whether `unit` is a magnitude of a unit (亿元, 万人), so that 突破亿元 can mean 1 亿元."""
    return any(unit.startswith(m) and unit[len(m) :] in _SCALABLE for m in _BIG)


@dataclass(frozen=True)
class Quantity:
    """A number as written: value (None for a ratio), range end, unit, 以上/以下 tail."""

    start: int
    end: int
    value: float | None
    value_max: float | None = None
    unit: str = ""
    tail: str = ""


# -- quantities ---------------------------------------------------------------

_NUM = r"\d+(?:,\d{3}(?!\d))*(?:\.\d+)?"
_RANGE_SEP = r"\s*(?:[—–\-~]+|至|到)\s*"
_NUMBER = re.compile(rf"({_NUM})(?:{_RANGE_SEP}({_NUM}))?")
_RANGE_AFTER = re.compile(rf"{_RANGE_SEP}({_NUM})")
_RATIO = re.compile(r"\d+(?:\.\d+)?(?:\s*:\s*\d+(?:\.\d+)?)+")
_DATE = re.compile(r"\d{4}[-/.]\d{1,2}[-/.]\d{1,2}")
_DIGIT_RUN = re.compile(r"[\d.]+")
_ENUMERATION = re.compile(r"\d{1,2}\s*[.、)](?!\d)")
_BRACKETED_ORDINAL = re.compile(r"\d{1,2}\)")
_YEAR = re.compile(r"(?:19|20)\d{2}")
# A number followed by these is a date, a duration, an ordinal or part of a name.
_NOT_QUANTITY = re.compile(
    r"\s*(?:年|个月|月|日|号|时|周岁|期|届|级|星|代|版|型|批次|季度|轮|[A-Za-z])"
)
_TAIL = re.compile(r"\s*(及以上|及以下|以上|以下|以内|之内|左右|上下)")
_UNITLESS_BEFORE = frozenset("、和及与)")
_MAGNITUDE_VERB = re.compile(r"(?:突破|超过|超|过|达到|达)(?=[十百千万亿])")


def read_clause(text: str, clause: Span, quoted: list[bool]) -> tuple[list[Quantity], int, bool]:
    """The clause's quantities, where its first statement may start (after "1." or "(1)"),
    and whether a number in it was not understood.

    Years, dates, quoted names (“136”), numbers glued to letters (Pm2.5) and ordinals are
    read and left out; they stay in the text as words.
    """
    start, end = clause
    quantities, floor, unknown = [], start, False
    i = start
    while i < end:
        if not text[i].isdigit():
            i += 1
            continue
        if not text[start:i].strip(" (") and (m := _ENUMERATION.match(text, i, end)):
            floor = i = m.end()
            continue
        i, quantity, understood = _token(text, i, end, quoted)
        if quantity is not None:
            quantities.append(quantity)
        unknown = unknown or not understood
    quantities += _digitless(text, clause, quoted)
    return sorted(quantities, key=lambda q: q.start), floor, unknown


def _token(text: str, i: int, end: int, quoted: list[bool]) -> tuple[int, Quantity | None, bool]:
    """Read the number at `i`: (where reading stops, the quantity or None, understood)."""
    previous = text[i - 1] if i else ""
    if quoted[i] or (previous.isascii() and previous.isalpha()) or previous == "第":
        return _DIGIT_RUN.match(text, i).end(), None, True
    if (m := _DATE.match(text, i, end)) or (
        previous == "(" and (m := _BRACKETED_ORDINAL.match(text, i, end))
    ):
        return m.end(), None, True
    if m := _RATIO.match(text, i, end):
        return m.end(), Quantity(i, m.end(), None), True
    m = _NUMBER.match(text, i, end)
    if _NOT_QUANTITY.match(text, m.end(), end) or _years(m, text, end):
        return m.end(), None, True
    return _measured(text, m, end)


def _years(m: re.Match[str], text: str, end: int) -> bool:
    """A year or a span of years with no unit after it: 〔2015〕, (2015-2020)."""
    return all(_YEAR.fullmatch(n) for n in (m[1], m[2]) if n is not None) and (
        match_measure(text, skip_spaces(text, m.end(), end), end) is None
    )


def _measured(text: str, m: re.Match[str], end: int) -> tuple[int, Quantity | None, bool]:
    """A number with its unit, a range end written after the unit (85%-90%) and its tail."""
    value_max = _float(m[2]) if m[2] else None
    j = skip_spaces(text, m.end(), end)
    measure = match_measure(text, j, end)
    if measure is not None:
        unit, j = measure[0], j + measure[1]
    elif j >= end or text[j] in _UNITLESS_BEFORE or _TAIL.match(text, j, end):
        unit, j = "", m.end()
    else:
        return m.end(), None, False
    if value_max is None and (r := _RANGE_AFTER.match(text, j, end)):
        value_max, j = _float(r[1]), r.end()
        again = match_measure(text, j, end)
        if again is not None and again[0] == unit:
            j += again[1]
    tail = ""
    if t := _TAIL.match(text, j, end):
        tail, j = t[1], t.end()
    value, scaled_unit = scaled(_float(m[1]), unit)
    if value_max is not None:
        value_max = scaled(value_max, unit)[0]
    return j, Quantity(m.start(), j, value, value_max, scaled_unit, tail), True


def _digitless(text: str, clause: Span, quoted: list[bool]) -> list[Quantity]:
    """突破亿元, 过万人: a magnitude with no digit is one of it; the verb is the start."""
    found = []
    for m in _MAGNITUDE_VERB.finditer(text, *clause):
        measure = match_measure(text, m.end(), clause[1])
        if measure is None or not is_magnitude(measure[0]) or quoted[m.start()]:
            continue
        j = m.end() + measure[1]
        tail = ""
        if t := _TAIL.match(text, j, clause[1]):
            tail, j = t[1], t.end()
        value, unit = scaled(1.0, measure[0])
        found.append(Quantity(m.start(), j, value, None, unit, tail))
    return found


def _float(number: str) -> float:
    return float(number.replace(",", ""))


def skip_spaces(text: str, i: int, end: int) -> int:
    while i < end and text[i] == " ":
        i += 1
    return i
