"""Fill a real form the way a clerk does, by editing the sheet XML inside the .xlsx zip.

A form from `forms.build_form` is never re-saved with openpyxl (ecoxl never does
that to a form: it would drop the very hidden sheet's state, the validation lists
and the protection). Here cell values are written straight into the worksheet XML,
as Excel stores them: numbers in `<v>`, new text appended to the shared strings
(control characters escaped as `_x000B_`, as Excel writes them), formulas in `<f>`.
Row operations (sort, delete, add blank rows, insert rows above the header) move
whole `<row>` elements and renumber their cells, formulas, merged cells and
validation ranges, as a spreadsheet program does. Re-saved variants come from
LibreOffice (`ecoxl.libreoffice.convert`), not from here.
"""

from __future__ import annotations

import io
import os
import re
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from html import escape, unescape
from pathlib import Path

import python_calamine
from xlsxwriter.utility import xl_cell_to_rowcol, xl_rowcol_to_cell

from ecoxl import layout
from ecoxl.model import Registry

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


@dataclass(frozen=True)
class Formula:
    """A formula typed into a cell (`=SUM(1,2)`), with the result Excel would have stored."""

    text: str
    cached: float | None = None


# -- the package ----------------------------------------------------------------------


class Package:
    """The members of an .xlsx, edited in memory and written back as a new zip."""

    def __init__(self, data: bytes):
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            self.infos = archive.infolist()
            self.members = {i.filename: archive.read(i.filename) for i in self.infos}

    def text(self, member: str) -> str:
        return self.members[member].decode("utf-8")

    def put(self, member: str, text: str) -> None:
        self.members[member] = text.encode("utf-8")

    def sheet_member(self, sheet: str) -> str:
        """The worksheet part of a sheet, via workbook.xml and its relationships."""
        workbook = self.text("xl/workbook.xml")
        rels = self.text("xl/_rels/workbook.xml.rels")
        for match in re.finditer(r"<sheet\b[^>]*>", workbook):
            tag = match.group(0)
            if unescape(re.search(r'name="([^"]*)"', tag).group(1)) == sheet:
                rel_id = re.search(r'r:id="([^"]*)"', tag).group(1)
                target = re.search(rf'Id="{rel_id}"[^>]*Target="([^"]*)"', rels) or re.search(
                    rf'Target="([^"]*)"[^>]*Id="{rel_id}"', rels
                )
                path = target.group(1).lstrip("/")
                return path if path.startswith("xl/") else f"xl/{path}"
        raise KeyError(sheet)

    def shared_string(self, text: str) -> int:
        """Append `text` to the shared strings; its index."""
        sst = self.text("xl/sharedStrings.xml")
        count = len(re.findall(r"<si>", sst))
        space = ' xml:space="preserve"' if text != text.strip() or "\n" in text else ""
        item = f"<si><t{space}>{_xml_text(text)}</t></si>"
        sst = sst.replace("</sst>", item + "</sst>")
        sst = re.sub(r'count="\d+"', lambda m: f'count="{count + 1}"', sst, count=1)
        sst = re.sub(r'uniqueCount="\d+"', f'uniqueCount="{count + 1}"', sst, count=1)
        self.put("xl/sharedStrings.xml", sst)
        return count

    def bytes(self) -> bytes:
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
            for info in self.infos:
                archive.writestr(info, self.members[info.filename], zipfile.ZIP_DEFLATED)
        return out.getvalue()


def _xml_text(text: str) -> str:
    """Text as Excel stores it in XML: escaped, control characters as `_xHHHH_`."""
    escaped = escape(text, quote=False)
    return re.sub("[\x00-\x08\x0b\x0c\x0e-\x1f]", lambda m: f"_x{ord(m.group(0)):04X}_", escaped)


# -- cells ------------------------------------------------------------------------------

_ROW = re.compile(r'<row r="(\d+)"([^>]*?)(?:/>|>(.*?)</row>)', re.S)
_CELL = re.compile(r'<c r="([A-Z]+)(\d+)"([^>]*?)(?:/>|>(.*?)</c>)', re.S)


def set_cells(data: bytes, cells: dict[str, object], sheet: str = layout.FORM_SHEET) -> bytes:
    """Type values into cells (`{"I8": 120, "K8": "达进度"}`); None clears a cell."""
    package = Package(data)
    member = package.sheet_member(sheet)
    xml = package.text(member)
    for ref, value in cells.items():
        xml = _set_cell(package, xml, ref, value)
    package.put(member, xml)
    return package.bytes()


def _set_cell(package: Package, xml: str, ref: str, value: object) -> str:
    row, col = xl_cell_to_rowcol(ref)
    ref = xl_rowcol_to_cell(row, col)
    style = ""
    old = re.search(rf'<c r="{ref}"([^>]*?)(?:/>|>(.*?)</c>)', xml, re.S)
    if old:
        found = re.search(r'\ss="(\d+)"', old.group(1))
        style = f' s="{found.group(1)}"' if found else ""
    if value is None:
        new = f'<c r="{ref}"{style}/>'
    elif isinstance(value, Formula):
        cached = "" if value.cached is None else f"<v>{value.cached!r}</v>"
        new = (
            f'<c r="{ref}"{style}><f>{escape(value.text.lstrip("="), quote=False)}</f>{cached}</c>'
        )
    elif isinstance(value, bool):
        new = f'<c r="{ref}"{style} t="b"><v>{int(value)}</v></c>'
    elif isinstance(value, int | float):
        new = f'<c r="{ref}"{style}><v>{value!r}</v></c>'
    else:
        index = package.shared_string(str(value))
        new = f'<c r="{ref}"{style} t="s"><v>{index}</v></c>'
    if old:
        return xml[: old.start()] + new + xml[old.end() :]
    return _insert_cell(xml, row + 1, col, new)


def _insert_cell(xml: str, row_number: int, col: int, cell: str) -> str:
    """Put a new cell into its row, in column order (creating the row if needed)."""
    for match in _ROW.finditer(xml):
        number = int(match.group(1))
        if number == row_number:
            body = match.group(3) or ""
            cells = list(_CELL.finditer(body))
            at = next((c.start() for c in cells if _col(c.group(1)) > col), len(body))
            body = body[:at] + cell + body[at:]
            return (
                xml[: match.start()] + _row_xml(number, match.group(2), body) + xml[match.end() :]
            )
        if number > row_number:
            return xml[: match.start()] + _row_xml(row_number, "", cell) + xml[match.start() :]
    end = xml.index("</sheetData>")
    return xml[:end] + _row_xml(row_number, "", cell) + xml[end:]


def _row_xml(number: int, attributes: str, body: str) -> str:
    attributes = re.sub(r'\s*spans="[^"]*"', "", attributes)
    return (
        f'<row r="{number}"{attributes}>{body}</row>'
        if body
        else f'<row r="{number}"{attributes}/>'
    )


def _col(letters: str) -> int:
    return xl_cell_to_rowcol(f"{letters}1")[1]


# -- a form by row key ----------------------------------------------------------------------


def form_positions(data: bytes) -> tuple[dict[str, int], dict[str, int]]:
    """Each row key's zero-based row and each column key's position, as the form has them."""
    book = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
    cells = book.get_sheet_by_name(layout.FORM_SHEET).to_python(skip_empty_area=False)
    headers = {c.header: c.key for c in layout.COLUMNS}
    for r, row in enumerate(cells):
        columns = {headers[v]: c for c, v in enumerate(row) if isinstance(v, str) and v in headers}
        if set(layout.REQUIRED_HEADERS) <= {c.header for c in layout.COLUMNS if c.key in columns}:
            key_col = columns["row_key"]
            rows = {
                str(line[key_col]): i for i, line in enumerate(cells) if i > r and line[key_col]
            }
            return rows, columns
    raise AssertionError("no header row in the form")


def cell_of(data: bytes, key: str, column: str) -> str:
    """`I8`: where the form holds `column` (a `layout.COLUMNS` key) of the row `key`."""
    rows, columns = form_positions(data)
    return xl_rowcol_to_cell(rows[key], columns[column])


def fill_form(
    data: bytes,
    rows: dict[str, dict[str, object]],
    signature: dict[str, object] | None = None,
) -> bytes:
    """Answer rows by key (`{"1-1": {"value": 120, "status": "达进度"}}`) and sign the form."""
    positions, columns = form_positions(data)
    cells: dict[str, object] = {}
    for key, answers in rows.items():
        for column, value in answers.items():
            cells[xl_rowcol_to_cell(positions[key], columns[column])] = value
    for field in layout.SIGNATURE:
        if signature and field.key in signature:
            cells[xl_rowcol_to_cell(field.row, field.input_col)] = signature[field.key]
    return set_cells(data, cells)


def signed(**values: object) -> dict[str, object]:
    return {"filled_by": "张丽", "phone": "0371-62691234", "fill_date": "2015-10-08", **values}


# -- whole rows ----------------------------------------------------------------------------


def reorder_rows(data: bytes, order: list[str | None]) -> bytes:
    """The data rows in a new order, by key: sorted, some deleted (left out), blank ones
    added (None) — as a clerk's sort, delete-row and insert-row leave them."""
    positions, _ = form_positions(data)
    first = min(positions.values()) + 1  # one-based
    last = max(positions.values()) + 1
    moved: dict[int, int | None] = {}
    for offset, key in enumerate(order):
        if key is not None:
            moved[positions[key] + 1] = first + offset
    new_last = first + len(order) - 1
    mapping = {old: moved.get(old) for old in range(first, last + 1)}  # rows left out are deleted
    blanks = [first + i for i, key in enumerate(order) if key is None]
    return _move_rows(
        data, lambda n: n if n < first else mapping.get(n, n - last + new_last), blanks
    )


def insert_rows_above(data: bytes, before: int, count: int) -> bytes:
    """Insert `count` empty rows above one-based row `before` (e.g. above the header)."""
    return _move_rows(data, lambda n: n if n < before else n + count, [])


def _move_rows(data: bytes, move: Callable[[int], int | None], blanks: list[int]) -> bytes:
    package = Package(data)
    member = package.sheet_member(layout.FORM_SHEET)
    xml = package.text(member)
    start, end = xml.index("<sheetData>") + len("<sheetData>"), xml.index("</sheetData>")
    rows: dict[int, str] = {}
    for match in _ROW.finditer(xml[start:end]):
        old = int(match.group(1))
        new = move(old)
        if new is None:
            continue
        body = _CELL.sub(lambda c, o=old, n=new: _renumber_cell(c, o, n), match.group(3) or "")
        rows[new] = _row_xml(new, match.group(2), body)
    for number in blanks:
        rows[number] = f'<row r="{number}"/>'
    data_xml = "".join(rows[n] for n in sorted(rows))
    tail = re.sub(r'(ref|sqref)="([^"]*)"', lambda m: _move_refs(m, move), xml[end:])
    head = re.sub(r'<dimension ref="[^"]*"/>', "", xml[:start])
    package.put(member, head + data_xml + tail)
    return package.bytes()


def _renumber_cell(match: re.Match[str], old: int, new: int) -> str:
    letters, attributes, body = match.group(1), match.group(3), match.group(4)
    if body is None:
        return f'<c r="{letters}{new}"{attributes}/>'
    body = re.sub(
        r"<f>(.*?)</f>",
        lambda f: (
            "<f>"
            + re.sub(rf"(?<![A-Z0-9])([A-Z]{{1,3}}){old}(?!\d)", rf"\g<1>{new}", f.group(1))
            + "</f>"
        ),
        body,
    )
    return f'<c r="{letters}{new}"{attributes}>{body}</c>'


def _move_refs(match: re.Match[str], move: Callable[[int], int | None]) -> str:
    def one(ref: re.Match[str]) -> str:
        number = int(ref.group(2))
        moved = move(number)
        return f"{ref.group(1)}{moved if moved is not None else number}"

    refs = re.sub(r"([A-Z]{1,3})(\d+)", one, match.group(2))
    return f'{match.group(1)}="{refs}"'


def swap_columns(data: bytes, first: str, second: str) -> bytes:
    """Two whole columns of the form sheet swapped (`"L"`, `"O"`): as cut-and-insert leaves them."""
    package = Package(data)
    member = package.sheet_member(layout.FORM_SHEET)
    xml = package.text(member)
    swap = {first: second, second: first}

    def row(match: re.Match[str]) -> str:
        cells = []
        for cell in _CELL.finditer(match.group(3) or ""):
            letters = swap.get(cell.group(1), cell.group(1))
            text = cell.group(0).replace(
                f'r="{cell.group(1)}{cell.group(2)}"', f'r="{letters}{cell.group(2)}"', 1
            )
            cells.append((_col(letters), text))
        body = "".join(text for _, text in sorted(cells, key=lambda c: c[0]))
        return _row_xml(int(match.group(1)), match.group(2), body)

    package.put(member, _ROW.sub(row, xml))
    return package.bytes()


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


def drop(folder: Path, name: str, data: bytes, when: datetime | None = None) -> Path:
    """Put a returned file in a folder, dated `when` (default: an hour ago, i.e. settled)."""
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    moment = when.timestamp() if when else time.time() - 3600
    os.utime(path, (moment, moment))
    return path
