"""Unit names as notices write them, and the one canonical name behind each spelling.

A notice names the same department in several ways: 市文广新局 and, a few tasks later,
文广新局; 市发展改革委 in the tasks and 市发展和改革委员会 in the attachment. Every later
stage matches units by name, so the registry must use one name per unit and keep the
other spellings as aliases. The rules are documented in docs/REGISTRY.md ("Units").
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from .model import UnitKind
from .notice import HAN

_OPEN = "([〔【"
_CLOSE = ")]〕】"
_SEPARATORS = "、,;"

# Words that start with 市 without being the 市 prefix (市场监管局 is not 市 + 场监管局).
_NOT_PREFIX = ("市场", "市容", "市民", "市政工程", "市政设施", "市政管理")
_PREFIXES = ("市", "县", "区")
_JURISDICTION = re.compile(f"^[{HAN}]{{2,4}}?[省市县区](?!场|容|民)")  # 郑州市…, another level

# How a unit's name ends says what it is.
TOWNSHIP_SUFFIXES = ("街道办事处", "管理委员会", "办事处", "管委会", "街道", "乡", "镇")
DEPARTMENT_SUFFIXES = (
    "委员会", "办公室", "人民政府", "政府", "中心", "局", "委", "办", "社", "院", "部", "署",
    "会", "公司", "集团", "站", "队", "所", "行", "处", "厅", "馆", "台", "团", "校", "联",
)  # fmt: skip
_GROUP = re.compile(r"^(?:各|有关|相关|其他|其它)|各(?:部门|单位|有关|相关|乡|镇|街道|县|区)")

# What a township group's name mentions → the township suffixes it covers.
_LEVEL_WORDS = {"乡": ("乡",), "镇": ("镇",), "街道": ("街道办事处", "街道", "办事处")}
_LEVEL_WORDS |= {"办事处": ("街道办事处", "办事处"), "管委会": ("管委会", "管理委员会")}
_LEVEL_ONLY = re.compile(
    r"^(?:县|区|市)?(?:乡|镇|乡镇|街道|街道办事处|办事处|管委会|县|区|市|县级市|县区|市区)"
    r"(?:人民政府|政府)?$"
)
_ALL_DEPARTMENTS = re.compile(r"^(?:市|县|区)?(?:人民)?政府各部门$|^(?:市|县|区)直各(?:部门|单位)$")

# Spellings that mean the same ending: 委员会 is abbreviated 委, 办公室 办.
_SHORT_ENDINGS = (("管理委员会", "管委会"), ("委员会", "委"), ("办公室", "办"))


def clean(name: str) -> str:
    """A unit name without blanks or list debris (由…, …等单位, 。)."""
    name = re.sub(r"\s+", "", name).strip("。.:、,;")
    name = re.sub(r"^(?:由|和|及|以及|与)", "", name)
    return re.sub(r"(?:等(?:单位|部门)?|共同)$", "", name)


def split_units(text: str) -> list[str]:
    """Split a list of units on 、 , ; outside brackets, keeping group phrases whole.

    各乡镇(街道、管委会) and 各县(市、区)政府 stay whole because their 、 is inside brackets;
    各区、县级市 and 各镇人民政府、街道办事处 stay whole because an item that is only a level
    word (县级市, 街道办事处, 区管委会) names no unit: after a group it continues the group.
    """
    items, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch in _OPEN:
            depth += 1
        elif ch in _CLOSE:
            depth = max(0, depth - 1)
        elif ch in _SEPARATORS and depth == 0:
            items.append(text[start:i])
            start = i + 1
    items.append(text[start:])
    names = [clean(item) for item in items]
    merged: list[str] = []
    for name in (n for n in names if n):
        if merged and _runs_on(merged[-1], name):
            merged[-1] = f"{merged[-1]}、{name}"
        else:
            merged.append(name)
    return merged


def _runs_on(previous: str, name: str) -> bool:
    return kind_of(previous) == "group" and bool(_LEVEL_ONLY.match(name))


def role_note(name: str) -> tuple[str, bool]:
    """市发展改革委(牵头) → (市发展改革委, True): a role written after one unit of a list."""
    m = re.fullmatch(r"(.+?)\((牵头|主责|牵头单位|负责)\)", name)
    return (m.group(1), True) if m else (name, False)


def kind_of(name: str) -> UnitKind:
    """group (各乡镇…, 市政府各部门), township (…乡, …镇, …街道办事处, …管委会), or department."""
    if _GROUP.search(name):
        return "group"
    if name.endswith(TOWNSHIP_SUFFIXES) and not name.startswith(_PREFIXES):
        return "township"
    return "department"


def looks_like_unit(name: str) -> bool:
    """Whether words can be a unit's name: a group, or ending the way unit names end."""
    bare = re.sub(r"\(.*?\)$", "", name)
    return 2 <= len(bare) <= 30 and (
        kind_of(name) == "group" or bare.endswith((*TOWNSHIP_SUFFIXES, *DEPARTMENT_SUFFIXES, "区"))
    )


def has_prefix(name: str, prefix: str) -> bool:
    """市文广新局 has the 市 prefix; 市场监管局 does not, 市市场监管局 does."""
    if not name.startswith(prefix):
        return False
    rest = name[len(prefix) :]
    return prefix != "市" or rest.startswith("市") or not name.startswith(_NOT_PREFIX)


def own_prefix(names: Iterable[str]) -> str:
    """The prefix the notice writes before its departments (市, 县 or 区), or ''."""
    counts = Counter(p for n in names for p in _PREFIXES if has_prefix(n, p))
    return counts.most_common(1)[0][0] if counts else ""


def with_prefix(name: str, prefix: str, city: str) -> str:
    """文广新局 → 市文广新局, 新郑市公安局 → 市公安局; other jurisdictions stay as written."""
    if not prefix or kind_of(name) != "department":
        return name
    if city and name.startswith(city) and len(name) > len(city):
        return prefix + name[len(city) :]
    if has_prefix(name, prefix) or _JURISDICTION.match(name):
        return name
    if name.startswith(("国家", "中国", "中共", "省")):
        return name
    return prefix + name


def abbreviates(short: str, long: str) -> bool:
    """市发展改革委 abbreviates 市发展和改革委员会: same start, same ending, and every
    character of the short name in the long one, in order."""
    if len(short) >= len(long) or short[:2] != long[:2]:
        return False
    for full, abbr in _SHORT_ENDINGS:
        if long.endswith(full):
            long = long[: -len(full)] + abbr
    if short[-1] != long[-1]:
        return False
    chars = iter(long)
    return all(ch in chars for ch in short)


@dataclass(frozen=True)
class Spelling:
    """A name as written, and whether a task used it (attachment-only names are not)."""

    name: str
    in_tasks: int  # how many times tasks use it


def canonical_names(spellings: list[Spelling], prefix: str, city: str) -> dict[str, str]:
    """Map every spelling to its canonical name.

    First the prefix is put back (文广新局 → 市文广新局). Then a name only the attachment
    uses is merged into the one task name it abbreviates or is abbreviated by
    (市发展和改革委员会 → 市发展改革委); two names that tasks both use stay two units,
    as the notice deliberately told them apart. The task spelling wins.
    """
    mapping = {s.name: with_prefix(s.name, prefix, city) for s in spellings}
    used = Counter()
    for s in spellings:
        used[mapping[s.name]] += s.in_tasks
    task_names = [n for n in dict.fromkeys(mapping.values()) if used[n]]
    for name in dict.fromkeys(mapping.values()):
        if used[name] or kind_of(name) == "group":
            continue
        matches = [t for t in task_names if abbreviates(t, name) or abbreviates(name, t)]
        if len(matches) == 1:
            for spelling, target in mapping.items():
                if target == name:
                    mapping[spelling] = matches[0]
    return mapping


def group_members(group: str, townships: list[str], departments: list[str]) -> list[str]:
    """The units a group stands for, when its name says so.

    各乡镇(街道、管委会) covers the townships whose kind its words name (乡, 镇, 街道,
    管委会); 市政府各部门 covers every department. Any other group (各产业聚集区和专业园区,
    各有关单位) gets no members: the notice does not list them, the office fills them in.
    """
    if _ALL_DEPARTMENTS.match(group):
        return list(departments)
    if "有关" in group or "相关" in group:
        return []
    endings = {e for word, es in _LEVEL_WORDS.items() if word in group for e in es}
    return [t for t in townships if t.endswith(tuple(endings))] if endings else []
