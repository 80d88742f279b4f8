"""The plan registry: typed records that every stage after parsing reads.

The JSON form of these records is a documented contract (docs/REGISTRY.md);
`to_dict`/`from_dict` are the only place that knows its shape.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Literal

Direction = Literal["up", "down"]
Requirement = Literal["≥", "≤", "约", "区间"]
Combine = Literal["lead", "sum"]
UnitKind = Literal["department", "township", "group", "other"]
Role = Literal["lead", "responsible"]

ROLE_LABELS: dict[str, str] = {"lead": "牵头", "responsible": "责任"}


@dataclass(frozen=True)
class Change:
    """A change figure kept with its target: 增长10%以上, 比2013年下降13%."""

    kind: Literal["increase", "decrease"]
    value: float
    unit: str
    baseline: int | None = None


@dataclass
class Indicator:
    """One numeric target (or, with `target` None, a target stated only in words)."""

    id: str
    name: str
    target: float | None
    unit: str
    direction: Direction = "up"
    text: str = ""
    target_max: float | None = None
    changes: list[Change] = field(default_factory=list)
    requirement: Requirement = "≥"
    combine: Combine = "lead"


@dataclass(frozen=True)
class Category:
    """A section of the key tasks: (一)科学谋划空间开发格局."""

    number: int
    title: str


@dataclass
class Task:
    """A key task with its lead and responsible units (canonical or group names)."""

    number: int
    category: int
    title: str
    text: str
    lead_units: list[str] = field(default_factory=list)
    responsible_units: list[str] = field(default_factory=list)
    indicators: list[Indicator] = field(default_factory=list)
    weight: float = 1.0


@dataclass(frozen=True)
class Contact:
    """The unit's member of the leading group, as the notice's attachment lists it."""

    person: str
    title: str


@dataclass
class Unit:
    """A department, township or group that tasks are assigned to."""

    name: str
    aliases: list[str] = field(default_factory=list)
    kind: UnitKind = "department"
    contact: Contact | None = None


@dataclass
class Group:
    """A collective name in a task (各乡镇(街道、管委会)) and the units it stands for."""

    name: str
    members: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class PlanInfo:
    """Header facts of the notice."""

    title: str
    issuer: str = ""
    doc_number: str = ""
    date: str = ""  # ISO date, 2015-08-18
    year: int = 0


@dataclass(frozen=True)
class Assignment:
    """One task as seen by one unit: the unit's role in it."""

    task: Task
    role: Role


@dataclass
class Registry:
    """The whole plan: header facts, goals, categories, tasks, units and groups."""

    plan: PlanInfo
    goals: list[Indicator] = field(default_factory=list)
    categories: list[Category] = field(default_factory=list)
    tasks: list[Task] = field(default_factory=list)
    units: list[Unit] = field(default_factory=list)
    groups: list[Group] = field(default_factory=list)

    # -- lookups -------------------------------------------------------------

    def unit(self, name: str) -> Unit | None:
        """The unit called `name` or having it as an alias."""
        for unit in self.units:
            if unit.name == name or name in unit.aliases:
                return unit
        return None

    def group(self, name: str) -> Group | None:
        return next((g for g in self.groups if g.name == name), None)

    def task(self, number: int) -> Task | None:
        return next((t for t in self.tasks if t.number == number), None)

    def indicator(self, indicator_id: str) -> Indicator | None:
        for ind in self.all_indicators():
            if ind.id == indicator_id:
                return ind
        return None

    def all_indicators(self) -> list[Indicator]:
        return [*self.goals, *(i for t in self.tasks for i in t.indicators)]

    def expand(self, name: str) -> list[str]:
        """The reporting units behind a name: a group's members, or the unit itself."""
        group = self.group(name)
        return list(group.members) if group else [name]

    def members_map(self) -> dict[str, list[str]]:
        """Each group's members by name, for loops that expand many names: `expand` looks
        the group up in a list, and a province has as many groups as tasks name units.
        `members_map().get(name, [name])` is `expand(name)`, without the copy: the lists
        are the groups' own."""
        members: dict[str, list[str]] = {}
        for group in self.groups:
            members.setdefault(group.name, group.members)
        return members

    def unit_counts(self) -> tuple[int, int]:
        """How many units and how many 单位类别 the plan names, for summaries: a group is
        listed among `units` too (kind `group`), and counts only as a group."""
        groups = {g.name for g in self.groups} | {u.name for u in self.units if u.kind == "group"}
        return sum(u.name not in groups for u in self.units), len(groups)

    def reporting_units(self) -> list[str]:
        """Every unit that gets a form: named in some task directly or through a group."""
        members = self.members_map()
        seen: dict[str, None] = {}
        for task in self.tasks:
            for name in (*task.lead_units, *task.responsible_units):
                for member in members.get(name, (name,)):
                    seen.setdefault(member, None)
        order = {u.name: i for i, u in enumerate(self.units)}
        return sorted(seen, key=lambda n: (order.get(n, len(order)), n))

    def assignments(self, unit: str) -> list[Assignment]:
        """The tasks `unit` leads or supports, in task order; lead wins over responsible."""
        members = self.members_map()
        result = []
        for task in sorted(self.tasks, key=lambda t: t.number):
            if any(unit in members.get(n, (n,)) for n in task.lead_units):
                result.append(Assignment(task, "lead"))
            elif any(unit in members.get(n, (n,)) for n in task.responsible_units):
                result.append(Assignment(task, "responsible"))
        return result

    def assignment_index(self) -> dict[str, list[Assignment]]:
        """`assignments` for every unit from one pass over the tasks.

        Asking `assignments` unit by unit would expand every group once per unit, which is
        quadratic over a province's thousands of units; callers that handle many units
        build this index once and look units up in it.
        """
        members = self.members_map()
        index: dict[str, list[Assignment]] = {}
        for task in sorted(self.tasks, key=lambda t: t.number):
            roles: dict[str, Role] = {}
            for role, names in (("responsible", task.responsible_units), ("lead", task.lead_units)):
                for name in names:
                    for member in members.get(name, (name,)):
                        roles[member] = role
            for unit, role in roles.items():
                index.setdefault(unit, []).append(Assignment(task, role))
        return index

    # -- identity ------------------------------------------------------------

    @property
    def plan_id(self) -> str:
        """Stable for one notice: names the plan in forms and the ledger."""
        key = f"{self.plan.title}|{self.plan.doc_number}"
        return hashlib.sha256(key.encode("utf-8")).hexdigest()[:12]

    def fingerprint(self) -> str:
        """Changes when tasks, targets or assignments change (not contacts or aliases)."""
        content = {
            "plan": asdict(self.plan),
            "tasks": [asdict(t) for t in self.tasks],
            "groups": [asdict(g) for g in self.groups],
        }
        text = json.dumps(content, ensure_ascii=False, sort_keys=True)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]

    # -- JSON contract -------------------------------------------------------

    def to_dict(self) -> dict:
        return {
            "plan": asdict(self.plan),
            "goals": [asdict(i) for i in self.goals],
            "categories": [asdict(c) for c in self.categories],
            "tasks": [asdict(t) for t in self.tasks],
            "units": [asdict(u) for u in self.units],
            "groups": [asdict(g) for g in self.groups],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2) + "\n"

    @classmethod
    def from_dict(cls, data: dict) -> Registry:
        return cls(
            plan=PlanInfo(**data["plan"]),
            goals=[_indicator(i) for i in data.get("goals", [])],
            categories=[Category(**c) for c in data.get("categories", [])],
            tasks=[_task(t) for t in data.get("tasks", [])],
            units=[_unit(u) for u in data.get("units", [])],
            groups=[Group(**g) for g in data.get("groups", [])],
        )

    @classmethod
    def from_json(cls, text: str) -> Registry:
        return cls.from_dict(json.loads(text))


def _indicator(data: dict) -> Indicator:
    fields = dict(data)
    fields["changes"] = [Change(**c) for c in data.get("changes", [])]
    return Indicator(**fields)


def _task(data: dict) -> Task:
    fields = dict(data)
    fields["indicators"] = [_indicator(i) for i in data.get("indicators", [])]
    return Task(**fields)


def _unit(data: dict) -> Unit:
    fields = dict(data)
    contact = data.get("contact")
    fields["contact"] = Contact(**contact) if contact else None
    return Unit(**fields)
