"""Test helpers for returned forms: the clerk's edits come from `ecoxl.simulate` (one
implementation for the tests and `ecoxl demo`); what is here fakes what no clerk does
on purpose — a form whose hidden identity was changed or stripped — and sets up a
workspace holding a registry.

Cell values are written straight into the sheet XML inside the .xlsx zip, never through
openpyxl; re-saved variants come from LibreOffice (`ecoxl.libreoffice.convert`).
"""

from __future__ import annotations

import io
import re
from html import escape
from pathlib import Path

import python_calamine
from xlsxwriter.utility import xl_rowcol_to_cell

from ecoxl import layout
from ecoxl.model import Registry
from ecoxl.simulate import (
    Formula,
    Package,
    cell_of,
    drop,
    fill_form,
    form_positions,
    insert_rows_above,
    reorder_rows,
    set_cells,
    swap_columns,
)

__all__ = [  # the clerk's edits, re-exported: the tests' vocabulary
    "Formula",
    "Package",
    "cell_of",
    "drop",
    "fill_form",
    "form_positions",
    "insert_rows_above",
    "new_workspace",
    "reorder_rows",
    "set_cells",
    "set_identity",
    "signed",
    "strip_identity",
    "strip_identity_sheet",
    "swap_columns",
]


def signed(**values: object) -> dict[str, object]:
    return {"filled_by": "张丽", "phone": "0371-62691234", "fill_date": "2015-10-08", **values}


# -- identity ------------------------------------------------------------------------------


def set_identity(
    data: bytes, field: str, value: object, where: tuple[str, ...] = ("sheet", "properties")
) -> bytes:
    """Change one identity field (`form_version`, `period`, …) in the hidden sheet and/or the
    document properties, as a form written by another version or run would hold."""
    if "sheet" in where:
        book = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
        rows = book.get_sheet_by_name(layout.IDENTITY_SHEET).to_python(skip_empty_area=False)
        line = next(i for i, row in enumerate(rows) if row and row[0] == field)
        data = set_cells(data, {xl_rowcol_to_cell(line, 1): value}, layout.IDENTITY_SHEET)
    if "properties" in where:
        package = Package(data)
        custom = package.text("docProps/custom.xml")
        name = f"{layout.PROPERTY_PREFIX}{field}"
        custom = re.sub(
            rf'(name="{re.escape(name)}"[^>]*>\s*<vt:\w+>)(.*?)(</vt:\w+>)',
            lambda m: m.group(1) + escape(str(value)) + m.group(3),
            custom,
            flags=re.S,
        )
        package.put("docProps/custom.xml", custom)
        data = package.bytes()
    return data


def strip_identity_sheet(data: bytes) -> bytes:
    """The very hidden identity sheet deleted; the document properties stay."""
    package = Package(data)
    member = package.sheet_member(layout.IDENTITY_SHEET)
    workbook = package.text("xl/workbook.xml")
    package.put("xl/workbook.xml", re.sub(r'<sheet name="_ecoxl"[^>]*/>', "", workbook))
    rels = package.text("xl/_rels/workbook.xml.rels")
    target = re.escape(member.removeprefix("xl/"))
    rels = re.sub(rf'<Relationship [^>]*Target="/?(?:xl/)?{target}"[^>]*/>', "", rels)
    package.put("xl/_rels/workbook.xml.rels", rels)
    return package.bytes()


def strip_identity(data: bytes) -> bytes:
    """The form's table copied into a fresh workbook: no identity sheet, no properties."""
    package = Package(strip_identity_sheet(data))
    custom = package.text("docProps/custom.xml")
    package.put("docProps/custom.xml", custom.split("<property")[0] + "</Properties>")
    return package.bytes()


# -- a workspace with returns in it -----------------------------------------------------------


def new_workspace(
    root: Path, registry: Registry, period: str = "2015-Q3", deadline: str = "2015-10-10"
):
    """A workspace holding `registry` (as plan.json) with `period` as the current period."""
    from ecoxl.registry import save_registry
    from ecoxl.workspace import Workspace

    root.mkdir(parents=True, exist_ok=True)
    settings = (
        f'[plan]\nregistry = "plan.json"\n[period]\ncurrent = "{period}"\ndeadline = "{deadline}"\n'
    )
    (root / "ecoxl.toml").write_text(settings, encoding="utf-8")
    save_registry(registry, root / "plan.json")
    return Workspace(root)
