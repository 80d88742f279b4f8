"""The registry model: lookups, assignments, identity and the JSON contract."""

from __future__ import annotations

from fixtures import small_registry

from ecoxl.model import Group, Registry


def test_assignment_index_is_assignments_for_every_unit():
    registry = small_registry()
    index = registry.assignment_index()
    for unit in registry.reporting_units():
        expected = [(a.task.number, a.role) for a in registry.assignments(unit)]
        assert [(a.task.number, a.role) for a in index[unit]] == expected
    assert set(index) == set(registry.reporting_units())


def test_lead_wins_over_responsible_through_a_group():
    registry = small_registry()
    for unit, assignments in registry.assignment_index().items():
        for assignment in assignments:
            task = assignment.task
            leads = {m for n in task.lead_units for m in registry.expand(n)}
            assert (assignment.role == "lead") == (unit in leads)


def test_members_map_expands_every_name_as_expand_does():
    registry = small_registry()
    registry.groups.append(Group(registry.groups[0].name, ["后来的同名组"]))  # the first wins
    members = registry.members_map()
    names = {n for t in registry.tasks for n in (*t.lead_units, *t.responsible_units)}
    assert any(registry.group(n) for n in names) and any(not registry.group(n) for n in names)
    for name in names:
        assert list(members.get(name, [name])) == registry.expand(name)
    assert set(members) == {g.name for g in registry.groups}


def test_json_round_trip_is_equal_and_keeps_the_fingerprint():
    registry = small_registry()
    again = Registry.from_json(registry.to_json())
    assert again.to_dict() == registry.to_dict()
    assert again.fingerprint() == registry.fingerprint()
    assert again.plan_id == registry.plan_id


def test_fingerprint_follows_targets_not_contacts():
    registry = small_registry()
    before = registry.fingerprint()
    registry.units[0].aliases.append("别名")
    assert registry.fingerprint() == before
    indicator = next(i for t in registry.tasks for i in t.indicators if i.target is not None)
    indicator.target += 1
    assert registry.fingerprint() != before


def test_unit_lookup_by_alias():
    registry = small_registry()
    unit = next(u for u in registry.units if u.aliases)
    assert registry.unit(unit.aliases[0]) is unit
    assert registry.unit("没有这个单位") is None
