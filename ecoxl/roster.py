"""The notice's units and groups, built from the names its tasks use and its member list.

Every spelling found is mapped to one canonical name (`unitnames.canonical_names`);
each unit keeps its other spellings as aliases, its kind, and the contact the leading
group's list gives it. Groups keep their own name and list the units they stand for.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from .members import Member, is_head, split_post
from .model import Contact, Group, Unit
from .unitnames import (
    Spelling,
    abbreviates,
    canonical_names,
    group_members,
    kind_of,
    own_prefix,
    with_prefix,
)


@dataclass(frozen=True)
class Roster:
    """Units and groups, and the canonical name of every spelling seen."""

    units: list[Unit]
    groups: list[Group]
    canonical: dict[str, str]


def build_roster(task_names: list[str], members: list[Member], city: str) -> Roster:
    """Units from the names tasks use (in order, repeats counted) and the member list."""
    prefix = own_prefix(n for n in task_names if kind_of(n) == "department")
    written = set(task_names)
    known = {with_prefix(n, prefix, city) for n in written}

    def is_known(name: str) -> bool:
        name = with_prefix(name, prefix, city)
        return name in known or any(abbreviates(k, name) or abbreviates(name, k) for k in known)

    posts = [
        (m, post) for m in members if not m.is_leader and (post := split_post(m.post, is_known))
    ]
    uses = Counter(task_names)
    member_units = [unit for _, (unit, _) in posts]
    spellings = [Spelling(n, uses[n]) for n in dict.fromkeys([*task_names, *member_units])]
    canonical = canonical_names(spellings, prefix or own_prefix(member_units), city)

    names = list(dict.fromkeys(canonical[n] for n in [*task_names, *member_units]))
    departments = [n for n in names if kind_of(n) == "department"]
    from_list = [canonical[u] for u in member_units]
    townships = [n for n in dict.fromkeys([*from_list, *names]) if kind_of(n) == "township"]
    group_names = [n for n in names if kind_of(n) == "group"]

    contacts: dict[str, Contact] = {}
    for member, (unit, title) in posts:
        name = canonical[unit]
        current = contacts.get(name)
        if current is None or (is_head(title) and not is_head(current.title)):
            contacts[name] = Contact(member.person, title)

    def unit(name: str) -> Unit:
        aliases = [s for s, c in canonical.items() if c == name and s != name]
        return Unit(name, aliases, kind_of(name), contacts.get(name))

    units = [unit(n) for n in [*departments, *townships, *group_names]]
    groups = [Group(n, group_members(n, townships, departments)) for n in group_names]
    return Roster(units, groups, canonical)
