"""A notice's text → the plan registry: header facts, goals, categories, tasks, units.

The parser reads structure, not one document's wording:

1. the text is normalised and PDF line breaks are rejoined (`notice`);
2. the numbered outline is read (`outline`); the tasks are the items, at whatever
   level, that assign units (`roles`), and their categories the headings one level
   up that hold them;
3. the goals are the section headed 主要目标 (or 总体目标 …);
4. unit names become canonical names, with the member list as the source of contacts
   and townships (`roster`);
5. the numeric targets of each task and of the goals come from `targets`.

Every decision is written down in docs/REGISTRY.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from .exceptions import InputError
from .header import is_header_line, plan_info
from .members import leading_group
from .model import Category, Registry, Task
from .notice import HAN, close_gaps, join_wrapped, normalise, read_notice
from .outline import Heading, block_end, heading, headings, is_attachment, owner
from .roles import LABEL, TaskUnits, read_task
from .roster import build_roster
from .targets import Extraction, extract_indicators
from .texts import say

_GOALS = re.compile(r"^(?:主要|总体|发展|建设|工作|年度|具体)?目标(?:任务)?(?=$|[:。,])")
_CITY = re.compile(f"^([{HAN}]{{2,6}}?[市县区])")


@dataclass(frozen=True)
class Unparsed:
    """A phrase with a number that `targets` did not understand; task None = the goals."""

    task: int | None
    phrase: str


@dataclass(frozen=True)
class ParsedNotice:
    """The registry and what the parser could not read, for `ecoxl check`."""

    registry: Registry
    unparsed: list[Unparsed]


@dataclass(frozen=True)
class _Item:
    """A task as found: its heading, the heading of its category, its units and text."""

    heading: Heading
    group: Heading | None
    units: TaskUnits


def parse_notice(path: Path) -> Registry:
    """The registry of a notice file (.txt or .docx)."""
    return read_plan(path).registry


def read_plan(path: Path) -> ParsedNotice:
    return read_text(read_notice(path), path.name)


def parse_text(text: str, source_name: str) -> Registry:
    """The registry of a notice's text; `source_name` names it in errors."""
    return read_text(text, source_name).registry


def read_text(text: str, source_name: str) -> ParsedNotice:
    """The registry of a notice's text, with the phrases `targets` did not understand."""
    lines = notice_lines(text)
    items = headings(lines)
    found = _task_items(lines, items)
    if not found:
        raise InputError(say("parse.no_tasks", file=source_name))
    top = min(h.level for h in items)
    info = plan_info(lines, next(h.line for h in items if h.level == top))
    city = m.group(1) if (m := _CITY.match(info.issuer or info.title)) else ""
    names = [n for i in found for n in (*i.units.lead, *i.units.responsible)]
    roster = build_roster(names, leading_group(lines), city)
    groups = list(dict.fromkeys(i.group for i in found))
    tasks, unparsed = _tasks(found, groups, roster.canonical)
    goals_text = _goals_text(lines, items, found[0].heading.line)
    goals = extract_indicators(goals_text, "G-") if goals_text else Extraction([], [])
    registry = Registry(
        plan=info,
        goals=goals.indicators,
        categories=[
            Category(n, _category_title(g, items, found[0])) for n, g in enumerate(groups, start=1)
        ],
        tasks=tasks,
        units=roster.units,
        groups=roster.groups,
    )
    return ParsedNotice(registry, [Unparsed(None, p) for p in goals.unparsed] + unparsed)


def _tasks(
    found: list[_Item], groups: list[Heading | None], canonical: dict[str, str]
) -> tuple[list[Task], list[Unparsed]]:
    """Tasks numbered 1… in order. When the notice does not number them 1… straight
    through (it restarts per section), each text keeps the number it had: (2)…"""
    sequential = [i.heading.number for i in found] == list(range(1, len(found) + 1))
    tasks: list[Task] = []
    unparsed: list[Unparsed] = []
    for number, item in enumerate(found, start=1):
        own = item.units.text
        text = own if sequential else f"{item.heading.marker}{own}"
        extraction = extract_indicators(text, f"{number}-")
        unparsed += [Unparsed(number, phrase) for phrase in extraction.unparsed]
        lead = _unique(canonical[n] for n in item.units.lead)
        responsible = _unique(canonical[n] for n in item.units.responsible)
        tasks.append(
            Task(
                number=number,
                category=groups.index(item.group) + 1,
                title=first_sentence(own),
                text=text,
                lead_units=lead,
                responsible_units=[n for n in responsible if n not in lead],
                indicators=extraction.indicators,
            )
        )
    return tasks, unparsed


def notice_lines(text: str) -> list[str]:
    """Normalised lines; in the body, blanks inside words closed and PDF breaks rejoined.

    The attachment keeps its blanks: they separate a member's name from their post.
    """
    lines = normalise(text).split("\n")
    end = next((i for i, line in enumerate(lines) if is_attachment(line)), len(lines))
    body = join_wrapped([close_gaps(line) for line in lines[:end]], starts_block, is_header_line)
    return body + [line for line in lines[end:] if line]


def starts_block(line: str) -> bool:
    """A line that never continues the one before: a heading, a label, the attachment."""
    return bool(heading(line) or LABEL.match(line) or is_attachment(line))


def first_sentence(text: str) -> str:
    """A task's title: its first sentence (up to 。 ! ? or the end of its first line)."""
    return re.split(r"[。!?\n]", text, maxsplit=1)[0].strip()


def _unique(names) -> list[str]:
    return list(dict.fromkeys(names))


def _task_items(lines: list[str], items: list[Heading]) -> list[_Item]:
    """The tasks: the items of the level whose items assign units, inside the task region."""
    if not items:
        return []
    assigned = {h.line: read_task(_block(lines, items, h)) for h in items}
    by_level: dict[int, list[Heading]] = {}
    for h in items:
        by_level.setdefault(h.level, []).append(h)

    def score(level: int) -> tuple[int, float, int]:
        hits = sum(1 for h in by_level[level] if _has_units(assigned[h.line]))
        return hits, hits / len(by_level[level]), level

    level = max(by_level, key=score)
    tasks = [h for h in by_level[level] if _has_units(assigned[h.line])]
    if not tasks:
        return []
    category_level = next(
        (c for c in range(level - 1, 0, -1) if all(owner(items, t, c) for t in tasks)), None
    )
    bound = category_level or level
    start = max((h.line for h in items if h.level < bound and h.line < tasks[0].line), default=-1)
    end = min((h.line for h in items if h.level < bound and h.line > tasks[-1].line), default=None)
    end = min(end or len(lines), block_end(lines, items, tasks[-1]))
    region = [h for h in by_level[level] if start < h.line < end]
    found = [
        _Item(h, owner(items, h, category_level) if category_level else None, assigned[h.line])
        for h in region
    ]
    return [i for i in found if i.group or not category_level]


def _has_units(found: TaskUnits) -> bool:
    return bool(found.lead or found.responsible)


def _block(lines: list[str], items: list[Heading], item: Heading) -> list[str]:
    """An item's lines, its heading's marker removed."""
    return [item.rest, *lines[item.line + 1 : block_end(lines, items, item)]]


def _category_title(group: Heading | None, items: list[Heading], first: _Item) -> str:
    """A category's heading; with no category headings, the section holding the tasks."""
    if group:
        return group.rest.rstrip("。")
    above = [h for h in items if h.line < first.heading.line and h.level < first.heading.level]
    return above[-1].rest.rstrip("。") if above else "重点任务"


def _goals_text(lines: list[str], items: list[Heading], first_task: int) -> str:
    """The text of the first 主要目标 section above the tasks (heading words left out)."""
    for h in items:
        if h.line >= first_task:
            break
        if m := _GOALS.match(h.rest):
            rest = h.rest[m.end() :].lstrip(":。, ")
            body = lines[h.line + 1 : block_end(lines, items, h)]
            return "\n".join(x for x in (rest, *body) if x)
    return ""
