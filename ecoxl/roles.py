"""Who does a task: the lead and responsible units, however the notice writes them.

Notices assign units in three ways, all read here from the lines of one task:

- labels: 牵头单位:A / 责任单位:B、C on lines of their own or inline (牵头责任单位,
  相关责任单位, 配合单位, 参与单位, 牵头部门 …);
- a bracket clause after the task: (牵头单位:A;配合单位:B) in (), [], 〔〕 or 【】;
- verbs: A、B牵头,C参与 / 由A负责 as the task's last sentence or in the brackets.

What is left is the task's own text. The rules are documented in docs/REGISTRY.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from .unitnames import looks_like_unit, role_note, split_units

Role = Literal["lead", "responsible", "plain"]

_ROLE_WORDS = "牵头|主责|主办|负责|主要|配合|参与|协办|协助|协同|相关|责任|成员|落实|实施"
LABEL = re.compile(
    rf"((?:{_ROLE_WORDS})(?:责任|配合|落实|实施|牵头)?(?:单位|部门)|牵头|配合|参与|协办|协助)\s*:"
)
_LEAD_WORDS = ("牵头", "主责", "主办", "负责", "主要")
_PLAIN_LABELS = ("责任单位", "责任部门", "落实单位", "实施单位", "落实部门", "实施部门")
_VERB = re.compile(
    r"^(?:由)?(?P<units>.+?)(?:共同)?(?P<verb>牵头负责|牵头|负责|主抓|参与|配合|协助|协办|协同)"
    r"(?:实施|落实|完成|推进)?$"
)
_LEAD_VERBS = ("牵头负责", "牵头", "负责", "主抓")
_OPEN, _CLOSE = "([〔【", ")]〕】"


@dataclass
class TaskUnits:
    """The units of one task as written (not yet canonical), and its remaining text."""

    text: str
    lead: list[str] = field(default_factory=list)
    responsible: list[str] = field(default_factory=list)


def label_role(label: str) -> Role:
    """牵头单位 → lead; 配合单位, 相关责任单位 → responsible; 责任单位 alone → plain."""
    if label in _PLAIN_LABELS:
        return "plain"
    if any(word in label for word in _LEAD_WORDS) and "相关" not in label:
        return "lead"
    return "responsible"


def read_task(lines: list[str]) -> TaskUnits:
    """Split a task's lines into its text and its units.

    Lines from the first label line on are unit lines; a label inside a line (after 。)
    starts the unit part of that line. The task's text is what comes before.
    """
    text_lines: list[str] = []
    unit_part: list[str] = []
    for line in lines:
        if unit_part:
            if LABEL.match(line):
                unit_part.append(line)
            continue
        at = _label_start(line)
        if at is None:
            text_lines.append(line)
        else:
            text_lines.append(line[:at])
            unit_part.append(line[at:])
    pairs = [pair for part in unit_part for pair in labelled(part)]
    text = "\n".join(t for t in (line.strip() for line in text_lines) if t)
    text, bracketed = _bracket_clause(text)
    pairs += bracketed
    if not pairs:
        text, pairs = _verb_sentence(text)
    return _assign(text, pairs)


def _label_start(line: str) -> int | None:
    """Where the first role label of a line starts, if it starts a sentence outside
    brackets (a label inside brackets belongs to a bracket clause)."""
    for m in LABEL.finditer(line):
        before = line[: m.start()].rstrip()
        inside = sum(before.count(c) for c in _OPEN) > sum(before.count(c) for c in _CLOSE)
        if not inside and (not before or before.endswith(("。", ";", "."))):
            return m.start()
    return None


def labelled(part: str) -> list[tuple[Role, str]]:
    """牵头单位:A;配合单位:B、C → [(lead, "A"), (responsible, "B、C")]."""
    found = list(LABEL.finditer(part))
    pairs: list[tuple[Role, str]] = []
    for m, after in zip(found, [*found[1:], None], strict=True):
        end = after.start() if after else len(part)
        pairs.append((label_role(m.group(1)), part[m.end() : end].strip(" ;。")))
    return pairs


def _bracket_clause(text: str) -> tuple[str, list[tuple[Role, str]]]:
    """A bracket clause that assigns units, anywhere after the task's first words."""
    for start, end in reversed(_brackets(text)):
        inner = text[start + 1 : end]
        pairs = labelled(inner) if LABEL.search(inner) else _verb_clauses(inner)
        if pairs:
            rest = (text[:start].rstrip() + text[end + 1 :].lstrip()).strip()
            return rest, pairs
    return text, []


def _brackets(text: str) -> list[tuple[int, int]]:
    """Top-level bracket pairs (start, end) of any of the four bracket kinds."""
    spans, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch in _OPEN:
            if depth == 0:
                start = i
            depth += 1
        elif ch in _CLOSE and depth:
            depth -= 1
            if depth == 0:
                spans.append((start, i))
    return spans


def _verb_sentence(text: str) -> tuple[str, list[tuple[Role, str]]]:
    """The task's last sentence, when every clause of it is 'units + role verb'."""
    body = text.rstrip("。 ")
    cut = max(body.rfind("。"), body.rfind("\n"))
    pairs = _verb_clauses(body[cut + 1 :])
    if not pairs:
        return text, []
    return body[: cut + 1].strip(), pairs


def _verb_clauses(sentence: str) -> list[tuple[Role, str]]:
    clauses = [c.strip() for c in re.split(r"[,;]", sentence.strip("。 ")) if c.strip()]
    pairs: list[tuple[Role, str]] = []
    for clause in clauses:
        m = _VERB.match(clause)
        if not m or not all(looks_like_unit(n) for n in split_units(m.group("units"))):
            return []
        role: Role = "lead" if m["verb"] in _LEAD_VERBS else "responsible"
        pairs.append((role, m["units"]))
    return pairs


def _assign(text: str, pairs: list[tuple[Role, str]]) -> TaskUnits:
    """Units by role; with no lead named at all, the first unit under a plain
    责任单位 label leads (the usual reading of 责任单位:A、B、C)."""
    result = TaskUnits(text)
    first_plain = None
    for role, units in pairs:
        for raw in split_units(units):
            name, is_lead = role_note(raw)
            if role == "plain" and first_plain is None:
                first_plain = name
            target = result.lead if role == "lead" or is_lead else result.responsible
            if name not in result.lead and name not in result.responsible:
                target.append(name)
    if not result.lead and first_plain in result.responsible:
        result.responsible.remove(first_plain)
        result.lead.append(first_plain)
    return result
