"""contacts.xlsx: who fills in each unit's form, and where to mail it.

`ecoxl init` writes one row per unit that reports (every unit a task names,
groups expanded) and every department, prefilled with the unit's member of the
leading group; the office fills in e-mail addresses and phones.

For the mail stage, `load_contacts(path, registry)` gives a `ContactBook`: one
`UnitContact` per unit, by canonical name (an alias in the sheet is accepted).
A unit without an address is kept with `email == ""` so it can be listed, never
dropped. Problems are findings with their cell; they do not stop the reading.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from .atomic import atomic_target
from .findings import Finding
from .model import Registry
from .sheet_table import (
    Problems,
    Styles,
    TableColumn,
    TableRow,
    TableSpec,
    clean_text,
    name_key,
    open_book,
    read_table,
    write_table,
)
from .xlsx import new_workbook

CONTACTS = TableSpec(
    "联系人",
    (
        TableColumn(
            "unit", "单位", 30, required=True, note="方案登记册“单位”表中的名称（别名也可）"
        ),
        TableColumn("person", "联系人", 12, optional=True),
        TableColumn("title", "职务", 24, optional=True),
        TableColumn(
            "email", "电子邮箱", 36, "email", note="可填多个地址，用分号（；）分隔；填报表发到这里"
        ),
        TableColumn("phone", "联系电话", 16, optional=True),
        TableColumn("remark", "备注", 24, "long", optional=True),
    ),
)
_ADDRESS = re.compile(r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_ADDRESS_SEPARATORS = re.compile(r"[;,、\s]+")


@dataclass(frozen=True)
class UnitContact:
    """One unit's contact; `email` holds its addresses joined by ", " (a To: header), or ""."""

    unit: str
    person: str = ""
    email: str = ""
    phone: str = ""
    title: str = ""

    @property
    def addresses(self) -> tuple[str, ...]:
        return tuple(a for a in self.email.split(", ") if a)


@dataclass
class ContactBook:
    """Every unit's contact, by canonical unit name, and what was wrong in the sheet."""

    contacts: dict[str, UnitContact] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)

    def get(self, unit: str) -> UnitContact | None:
        return self.contacts.get(unit)

    def without_email(self) -> list[str]:
        """Units that cannot be mailed: no address, or none that was valid."""
        return [c.unit for c in self if not c.email]

    def __iter__(self) -> Iterator[UnitContact]:
        return iter(self.contacts.values())

    def __len__(self) -> int:
        return len(self.contacts)


def contact_units(registry: Registry) -> list[str]:
    """The units contacts.xlsx lists: reporting units and all departments, in registry order."""
    names = dict.fromkeys(registry.reporting_units())
    names.update(dict.fromkeys(u.name for u in registry.units if u.kind == "department"))
    order = {u.name: i for i, u in enumerate(registry.units)}
    return sorted(names, key=lambda n: (order.get(n, len(order)), n))


def write_contacts(registry: Registry, path: Path) -> None:
    """contacts.xlsx with one row per unit, prefilled with its leading-group member."""
    rows = []
    for name in contact_units(registry):
        unit = registry.unit(name)
        contact = unit.contact if unit else None
        rows.append([name, contact.person if contact else "", contact.title if contact else ""])
    with atomic_target(path) as temp:
        workbook = new_workbook(temp)
        write_table(workbook, Styles.of(workbook), CONTACTS, [[*r, "", "", ""] for r in rows])
        workbook.close()


def load_contacts(path: Path, registry: Registry) -> ContactBook:
    """Read contacts.xlsx; every unit of `contact_units(registry)` is in the book."""
    book = open_book(path, "contacts.unreadable")
    problems = Problems(path.name)
    try:
        sheet = CONTACTS.sheet if CONTACTS.sheet in book.sheetnames else book.sheetnames[0]
        rows = read_table(book, CONTACTS, problems, sheet)
    finally:
        book.close()
    known = {name_key(n): n for n in contact_units(registry)}
    known.update({name_key(a): u.name for u in registry.units for a in (u.name, *u.aliases)})
    result = ContactBook(findings=problems.findings)
    first_row: dict[str, int] = {}
    for row in rows:
        contact = _row_contact(row, known, sheet, problems)
        if contact is None:
            continue
        unit = contact.unit
        if unit in first_row:
            problems.add(
                sheet,
                row.cells["unit"],
                "contacts.duplicate_unit",
                "warning",
                name=unit,
                first=first_row[unit],
            )
            contact = _merge(result.contacts[unit], contact)
        first_row.setdefault(unit, row.number)
        result.contacts[unit] = contact
    for unit in contact_units(registry):
        if unit not in result.contacts:
            problems.add(sheet, None, "contacts.unit_missing", "warning", name=unit)
            result.contacts[unit] = UnitContact(unit)
    return result


def _row_contact(
    row: TableRow, known: dict[str, str], sheet: str, problems: Problems
) -> UnitContact | None:
    """One row's contact, its unit by canonical name; None (with a finding) without a known unit."""
    unit_text = clean_text(row.values["unit"])
    unit = known.get(name_key(unit_text))
    if unit is None:
        code = "contacts.unknown_unit" if unit_text else "contacts.no_unit"
        problems.add(sheet, row.cells["unit"], code, name=unit_text)
        return None
    tokens = _address_tokens(row.values["email"])
    addresses = dict.fromkeys(t for t in tokens if _ADDRESS.fullmatch(t))
    wrong = [t for t in tokens if t not in addresses]
    if wrong:
        problems.add(sheet, row.cells["email"], "contacts.bad_email", value=" ".join(wrong))
    return UnitContact(
        unit=unit,
        person=clean_text(row.values.get("person")),
        email=", ".join(addresses),
        phone=clean_text(row.values.get("phone")),
        title=clean_text(row.values.get("title")),
    )


def _address_tokens(value: object) -> list[str]:
    """The addresses in one cell: full-width ＠ and letters folded, mailto: and <> dropped."""
    text = unicodedata.normalize("NFKC", clean_text(value))
    tokens = (t.strip("<>()\"'").removeprefix("mailto:") for t in _ADDRESS_SEPARATORS.split(text))
    return [t.rstrip(".") for t in tokens if t]


def _merge(earlier: UnitContact, later: UnitContact) -> UnitContact:
    """Two rows for one unit: all addresses, and the first non-empty of everything else."""
    addresses = dict.fromkeys((*earlier.addresses, *later.addresses))
    return replace(
        earlier,
        person=earlier.person or later.person,
        email=", ".join(addresses),
        phone=earlier.phone or later.phone,
        title=earlier.title or later.title,
    )
