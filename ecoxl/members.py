"""The leading group's member list (领导小组组成人员名单), usually the notice's attachment.

Each member line names a person and a post: 马东亮 城关乡乡长. The post says which unit
the person speaks for (城关乡) and their title there (乡长), so the list gives each
unit its contact, and it is the only place the notice lists all townships. Names are
padded to three characters in the original table (乔 琳), so blanks inside a name are
removed, and a line may hold a post at another level first (郑州市国土资源局副处级干部,
市国土资源局局长): the post at a unit of this notice is the one kept.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from .notice import HAN, close_gaps
from .unitnames import DEPARTMENT_SUFFIXES, TOWNSHIP_SUFFIXES

# 组 长: / 副组长: / 成员 (a table cell, no colon) …, then the entry.
_LABEL = re.compile(
    r"^((?:常\s*务\s*|执\s*行\s*)?(?:副\s*)?组\s*长|成\s*员|(?:副\s*)?秘\s*书\s*长|办公室主任)"
    r"\s*(?::|\s|$)\s*(.*)$"
)
_LIST_TITLE = re.compile(r"领导小组.*(?:名单|组成人员|成员)")

# A post is made of these words only (longest first when reading).
_POST_TEXT = """党委 党组 党工委 纪检 纪委 监察 常务 执行 副 正 处级 科级 县级 一级 二级 三级 四级
    书记 主任 局长 乡长 镇长 区长 县长 市长 主席 社长 站长 所长 院长 行长 处长 科长 部长
    队长 台长 馆长 校长 会长 理事长 董事长 经理 总经理 政委 调研员 巡视员 干部 组长 委员
    秘书长 主任科员 负责人 助理 总工程师 专职 兼 、 和"""
_POST_WORDS = sorted(_POST_TEXT.split(), key=len, reverse=True)
_UNIT_ENDINGS = (*TOWNSHIP_SUFFIXES, *DEPARTMENT_SUFFIXES)
_HEADS = ("主任", "局长", "乡长", "镇长", "区长", "县长", "主席", "社长", "站长", "所长")
_HEADS += ("院长", "行长", "处长", "部长", "队长", "台长", "馆长", "校长", "总经理", "董事长")
_HEADS += ("党委书记", "党组书记", "党工委书记")


@dataclass(frozen=True)
class Member:
    """One line of the list: the person, the post as written, and the label above it."""

    person: str
    post: str
    label: str  # 组长, 副组长, 成员 … (the label the line sits under)

    @property
    def is_leader(self) -> bool:
        """组长 and 副组长 are city leaders who chair the group, not a unit's member."""
        return self.label.endswith("组长")


def leading_group(lines: list[str]) -> list[Member]:
    """The members listed after the last heading that names the leading group's list."""
    starts = [i for i, line in enumerate(lines) if _LIST_TITLE.search(line) and len(line) < 60]
    if not starts:
        return []
    members: list[Member] = []
    label = ""
    for line in lines[starts[-1] + 1 :]:
        entry = line
        if m := _LABEL.match(line):
            label, entry = m.group(1).replace(" ", ""), m.group(2)
            if not entry:
                continue
        member = _member(entry, label)
        if member is None:
            if members:
                break
            continue
        members.append(member)
    return members


def _member(entry: str, label: str) -> Member | None:
    """马东亮 城关乡乡长 / 乔 琳 副市长: single characters before the post form the name."""
    tokens = entry.split()
    if len(tokens) < 2 or not all(_is_chinese(t) for t in tokens[:2]):
        return None
    person = tokens[0]
    rest = tokens[1:]
    while rest[:-1] and len(rest[0]) == 1 and len(person) < 3:
        person += rest.pop(0)
    if len(person) > 4 or "," in person:
        return None
    return Member(person, close_gaps(" ".join(rest)).replace(" ", ""), label)


def _is_chinese(token: str) -> bool:
    return bool(re.match(f"[{HAN}]", token))


def split_post(post: str, is_known: Callable[[str], bool]) -> tuple[str, str] | None:
    """(unit, title) of a member's post: 市国土资源局局长 → (市国土资源局, 局长).

    A post may list several jobs (郑州市国土资源局副处级干部,市国土资源局局长); the one at a
    unit `is_known` says belongs to this notice wins, else the last one naming a unit.
    """
    readings = [r for part in re.split(r"[,;]", post) if (r := _unit_and_title(part))]
    known = [r for r in readings if is_known(r[0])]
    if known:
        return known[0]
    return readings[-1] if readings else None


def _unit_and_title(part: str) -> tuple[str, str] | None:
    """The shortest unit name whose remainder is made of post words only."""
    for end in range(2, len(part)):
        unit, title = part[:end], part[end:]
        if unit.endswith(_UNIT_ENDINGS) and _is_post(title):
            return unit, title
    return None


def _is_post(text: str) -> bool:
    i = 0
    while i < len(text):
        word = next((w for w in _POST_WORDS if text.startswith(w, i)), None)
        if word is None:
            return False
        i += len(word)
    return bool(text)


def is_head(title: str) -> bool:
    """Whether a title is the unit's head (主任, 局长, 党委书记), not a deputy (副主任, 纪检书记).

    When two members speak for one unit (刘红军 主任 and 高军相 纪检书记 for 市发展改革委),
    the head is the unit's contact."""
    return any(re.search(rf"(?<!副){head}", title) for head in _HEADS)
