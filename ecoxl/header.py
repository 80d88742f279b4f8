"""The notice's header facts: title, issuer, document number, date, year.

An official notice states them in fixed places (GB/T 9704): the document number
(发文字号, 新政办〔2015〕12号) and the issuing office (新郑市人民政府办公室关于印发…的通知)
above the body, the date (成文日期) alone on a line after the salutation or at the
signature, and the plan's own title in 《》 or on a line of its own.
"""

from __future__ import annotations

import itertools
import re

from .model import PlanInfo
from .notice import HAN

_CN_DIGIT = {c: i for i, c in enumerate("〇一二三四五六七八九")} | {"零": 0, "○": 0, "O": 0}
_YEAR_CN = "〇零○O一二三四五六七八九"
_NUM_CN = "一二三四五六七八九十"
_DATES = (
    re.compile(r"((?:19|20)\d{2})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日"),
    re.compile(rf"([{_YEAR_CN}]{{4}})年([{_NUM_CN}]{{1,2}})月([{_NUM_CN}]{{1,3}})日"),
    re.compile(r"((?:19|20)\d{2})-(\d{1,2})-(\d{1,2})"),
)
_DOC_NUMBER = re.compile(
    rf"([{HAN}]{{1,6}}?)\s*[〔\[(【]\s*((?:19|20)\d{{2}})\s*[〕\])】]\s*(\d{{1,4}})\s*号"
)
_PUBLISHES = re.compile(r"^(.*?)关于(?:印发|转发|下发|发布)(.+?)的通知$")
_PLAN_WORDS = ("方案", "计划", "要点", "意见", "细则", "安排", "规划")
_ISSUER_ENDS = ("政府", "办公室", "委员会", "办", "委", "局", "厅", "部", "党委")


def plan_info(lines: list[str], body: int) -> PlanInfo:
    """The header facts; `body` is the index of the first line of the plan's outline."""
    preamble = lines[:body]
    title, issuer = _title_and_issuer(preamble)
    date = _date(preamble, lines)
    if not issuer:
        issuer = _signature(lines)
    year_in_title = re.search(r"((?:19|20)\d{2})\s*年", title)
    year = int(year_in_title.group(1)) if year_in_title else int(date[:4] or 0)
    return PlanInfo(
        title=title,
        issuer=issuer,
        doc_number=_doc_number(preamble) or _doc_number(lines),
        date=date,
        year=year,
    )


def _title_and_issuer(preamble: list[str]) -> tuple[str, str]:
    """From 新郑市人民政府办公室关于印发《X》的通知 (on up to three lines, the issuer
    possibly on the line above), else a line that names a plan."""
    for i, line in enumerate(preamble):
        if "关于" not in line:
            continue
        text = "".join(preamble[i : i + 3])
        if m := _PUBLISHES.match(text[: text.find("的通知") + 3].lstrip("• ")):
            above = preamble[i - 1].removesuffix("文件") if i else ""
            issuer = m.group(1) or above
            return m.group(2).strip("《》"), issuer if issuer.endswith(_ISSUER_ENDS) else ""
    for line in preamble:
        text = line.strip("《》 ")
        if text.endswith(_PLAN_WORDS) and len(text) <= 60 and not re.search(r"[。,;:]", text):
            return text, ""
    return next((line for line in preamble if line), ""), ""


def iso_date(text: str) -> str:
    """2015年8月18日, 二〇一五年八月十八日 or 2015-08-18 → 2015-08-18 ('' if none)."""
    for pattern in _DATES:
        if m := pattern.search(text):
            year, month, day = (_number(g) for g in m.groups())
            if 1 <= month <= 12 and 1 <= day <= 31:
                return f"{year:04d}-{month:02d}-{day:02d}"
    return ""


def _number(text: str) -> int:
    if text.isdigit():
        return int(text)
    if "十" in text:
        tens, _, ones = text.partition("十")
        return (_CN_DIGIT[tens] if tens else 1) * 10 + (_CN_DIGIT[ones] if ones else 0)
    return int("".join(str(_CN_DIGIT[c]) for c in text))


def is_header_line(line: str) -> bool:
    """A document number or a date alone on its line."""
    return bool(_DOC_NUMBER.fullmatch(line.lstrip("• "))) or _is_date_line(line)


def _is_date_line(line: str) -> bool:
    rest = line.strip("• ()")
    return bool(iso_date(rest)) and len(rest) <= 20 and rest.endswith(("日", *"0123456789"))


def _date(preamble: list[str], lines: list[str]) -> str:
    """成文日期: a date alone on a line above the plan, else the 印发 line, else any date line."""
    for line in preamble:
        if _is_date_line(line) and not line.startswith("•"):
            return iso_date(line)
    for line in reversed(lines):
        if line.endswith("印发") and (date := iso_date(line)):
            return date
    for line in [*lines[len(preamble) :], *preamble]:
        if _is_date_line(line):
            return iso_date(line)
    return ""


def _signature(lines: list[str]) -> str:
    """The issuer from 新郑市人民政府办公室2015年8月18日印发, or the line above the last date."""
    for line in reversed(lines):
        if m := re.match(r"^(\S+?)\s*(?:(?:19|20)\d{2}年\d{1,2}月\d{1,2}日)\s*印发$", line):
            return m.group(1)
    for before, line in itertools.pairwise(lines):
        if _is_date_line(line) and before.endswith(_ISSUER_ENDS) and len(before) <= 30:
            return before
    return ""


def _doc_number(lines: list[str]) -> str:
    """新政办〔2015〕12号, with the standard 〔〕 whatever brackets the text used: a line of
    its own first, else the first one written inside a line."""
    for find in (lambda line: _DOC_NUMBER.fullmatch(line.lstrip("• ")), _DOC_NUMBER.search):
        for line in lines:
            if m := find(line):
                return f"{m.group(1)}〔{m.group(2)}〕{m.group(3)}号"
    return ""
