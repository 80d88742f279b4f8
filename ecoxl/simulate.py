"""Simulated returns: a unit's form filled in the way a clerk does it, at the byte level.

A form is never re-saved through a spreadsheet library here (that would drop the very
hidden identity sheet's state, the validation lists and the protection, which a real
client keeps). Cell values are written straight into the worksheet XML inside the .xlsx
zip, as Excel stores them: numbers in `<v>`, new text appended to the shared strings
(control characters escaped as `_x000B_`), formulas in `<f>`. Row and column edits (sort,
delete, blank rows, rows inserted above the header, two columns swapped) move whole
`<row>` elements and renumber their cells, formulas, merged cells and validation ranges,
as a spreadsheet program does. Re-saved variants (.xls, .ods) come from LibreOffice
(`libreoffice.convert`), never from here.

On top of that: what a clerk plausibly answers (`answers`, values derived from the target
and 序时进度 with a seeded generator), the mistakes clerks make (`with_mistakes`), and a
return sent as an e-mail (`as_mail`). `ecoxl demo` and the tests both use this module.
The Chinese phrases below are what fictional clerks type, not ecoxl's own messages, so
they live here rather than in texts.py.
"""

from __future__ import annotations

import hashlib
import io
import os
import random
import re
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from html import escape, unescape
from pathlib import Path

import python_calamine
from xlsxwriter.utility import xl_cell_to_rowcol, xl_rowcol_to_cell

from . import layout
from .layout import FormRow
from .mail import MIME_TYPES, POLICY
from .model import Indicator
from .period import Period
from .scoring_rules import rate_kind, value_rate

Answers = dict[str, dict[str, object]]  # row key → column key → what the clerk typed


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

ROW_XML = re.compile(r'<row r="(\d+)"([^>]*?)(?:/>|>(.*?)</row>)', re.S)
CELL_XML = re.compile(r'<c r="([A-Z]+)(\d+)"([^>]*?)(?:/>|>(.*?)</c>)', re.S)


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
    for match in ROW_XML.finditer(xml):
        number = int(match.group(1))
        if number == row_number:
            body = match.group(3) or ""
            cells = list(CELL_XML.finditer(body))
            at = next((c.start() for c in cells if _col(c.group(1)) > col), len(body))
            body = body[:at] + cell + body[at:]
            return xml[: match.start()] + row_xml(number, match.group(2), body) + xml[match.end() :]
        if number > row_number:
            return xml[: match.start()] + row_xml(row_number, "", cell) + xml[match.start() :]
    end = xml.index("</sheetData>")
    return xml[:end] + row_xml(row_number, "", cell) + xml[end:]


def row_xml(number: int, attributes: str, body: str) -> str:
    """A `<row>` element (its `spans` dropped: they would be stale after an edit)."""
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
    raise ValueError("no header row in the form")


def cell_of(data: bytes, key: str, column: str) -> str:
    """`I8`: where the form holds `column` (a `layout.COLUMNS` key) of the row `key`."""
    rows, columns = form_positions(data)
    return xl_rowcol_to_cell(rows[key], columns[column])


def fill_form(data: bytes, rows: Answers, signature: dict[str, object] | None = None) -> bytes:
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


# -- whole rows and columns -------------------------------------------------------------------


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
    return move_rows(
        data, lambda n: n if n < first else mapping.get(n, n - last + new_last), blanks
    )


def insert_rows_above(data: bytes, before: int, count: int) -> bytes:
    """Insert `count` empty rows above one-based row `before` (e.g. above the header)."""
    return move_rows(data, lambda n: n if n < before else n + count, [])


def move_rows(data: bytes, move: Callable[[int], int | None], blanks: list[int]) -> bytes:
    """Every row of the form sheet moved to `move(row)` (None deletes it), with empty rows
    at `blanks`; cell references in formulas and ranges follow their rows."""
    package = Package(data)
    member = package.sheet_member(layout.FORM_SHEET)
    xml = package.text(member)
    start, end = xml.index("<sheetData>") + len("<sheetData>"), xml.index("</sheetData>")
    rows: dict[int, str] = {}
    for match in ROW_XML.finditer(xml[start:end]):
        old = int(match.group(1))
        new = move(old)
        if new is None:
            continue
        body = CELL_XML.sub(lambda c, o=old, n=new: _renumber_cell(c, o, n), match.group(3) or "")
        rows[new] = row_xml(new, match.group(2), body)
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
        for cell in CELL_XML.finditer(match.group(3) or ""):
            letters = swap.get(cell.group(1), cell.group(1))
            text = cell.group(0).replace(
                f'r="{cell.group(1)}{cell.group(2)}"', f'r="{letters}{cell.group(2)}"', 1
            )
            cells.append((_col(letters), text))
        body = "".join(text for _, text in sorted(cells, key=lambda c: c[0]))
        return row_xml(int(match.group(1)), match.group(2), body)

    package.put(member, ROW_XML.sub(row, xml))
    return package.bytes()


# -- what a clerk answers ------------------------------------------------------------------

PROGRESS = (
    "已召开专题推进会议",
    "完成年度实施方案编制",
    "项目前期手续基本办结",
    "已完成招投标并进场施工",
    "已拨付专项资金",
    "组织开展了现场督导检查",
    "建立了月调度、季通报工作机制",
    "配套设施同步推进",
    "开展宣传活动三次，发放资料两千余份",
)
PROBLEMS = (
    "资金未能及时到位",
    "征地拆迁进度滞后",
    "受雨季影响施工进度放缓",
    "部门间协调难度较大",
)
NEXT_STEPS = (
    "加大资金筹措力度",
    "倒排工期、挂图作战",
    "加强督导，确保按期完成",
    "强化部门协作",
)
COUNTED = ("个", "条", "辆", "座", "处", "家", "项")  # measures a clerk reports as whole numbers
LEVEL = "%"  # a rate or share: reported as this year's level, not as progress made
ON_PACE = 0.05  # a rate this close to 序时进度 is 达进度
SILENT_SHARE = 0.15  # how often a supporting unit leaves one of its rows blank
NOT_A_NUMBER = "待统计"  # typed into 本期完成值 by the clerk who makes mistakes
NOT_A_STATUS = "基本完成"  # a status that is not in the list


@dataclass(frozen=True)
class Clerk:
    """Who fills in one unit's form, and how far along the unit is: `pace` is its progress
    as a share of 序时进度 (1.0 on pace, above ahead, below behind)."""

    name: str
    phone: str
    pace: float

    def signature(self, day: date) -> dict[str, object]:
        """The signature cells; the date as Excel stores a typed date (a serial number)."""
        return {"filled_by": self.name, "phone": self.phone, "fill_date": excel_date(day)}


def excel_date(day: date) -> float:
    return float((day - date(1899, 12, 30)).days)


def answers(
    rows: list[FormRow],
    indicators: dict[str, Indicator],
    period: Period,
    clerk: Clerk,
    rng: random.Random,
) -> Answers:
    """What `clerk` types into each row: a value where the unit leads a numeric target,
    the status that value means against 序时进度, and a line of narrative."""
    result: Answers = {}
    for row in rows:
        lead = row.role == "lead"
        if not lead and rng.random() < SILENT_SHARE:
            continue
        share = period.elapsed * clerk.pace * rng.uniform(0.85, 1.15)
        indicator = indicators.get(row.indicator_id or "")
        kind = rate_kind(indicator)
        answer: dict[str, object] = {}
        if lead and kind is not None:
            value = plausible_value(row, indicator, share, rng)
            answer["value"] = value
            share = value_rate(kind, indicator, value, 1.0)
        answer["status"] = status_for(share, period.elapsed)
        answer["progress"] = _sentence(rng, PROGRESS, 1, 3)
        if answer["status"] == "欠进度":
            answer["problems"] = _sentence(rng, PROBLEMS, 1, 2)
        if rng.random() < 0.6:
            answer["next_steps"] = _sentence(rng, NEXT_STEPS, 1, 2)
        result[row.key] = answer
    return result


def plausible_value(row: FormRow, indicator: Indicator, share: float, rng: random.Random) -> float:
    """A value for this period: a quantity grows with the year (target × share), a rate or
    share sits near its target, a lower-is-better figure around it, a range within reach."""
    target = indicator.target
    if indicator.requirement == "区间":
        return float(rng.randint(0, int(indicator.target_max or target)))
    if rate_kind(indicator) == "down":
        value = target * rng.uniform(0.88, 1.06)
    elif row.measure == LEVEL:
        value = min(100.0, target * rng.uniform(0.93, 1.02))
    else:
        value = target * min(share, 1.1)
    if row.measure in COUNTED:
        return float(round(value))
    return round(value, 2 if abs(target) >= 10 else 3)


def status_for(rate: float, elapsed: float) -> str:
    """进展状态 as a clerk picks it, comparing the unit's progress with 序时进度."""
    if rate >= 1:
        return "已完成"
    if rate >= elapsed + ON_PACE:
        return "超进度"
    if rate >= elapsed - ON_PACE:
        return "达进度"
    return "欠进度"


def _sentence(rng: random.Random, phrases: tuple[str, ...], low: int, high: int) -> str:
    return "，".join(rng.sample(phrases, rng.randint(low, high))) + "。"


# -- mistakes ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Mistake:
    """A wrong answer in one row and column, and the finding code collection gives it."""

    key: str
    column: str
    code: str


def with_mistakes(rows: list[FormRow], given: Answers) -> tuple[Answers, list[Mistake]]:
    """Three classic mistakes in lead rows: text in 本期完成值, a status outside the list,
    欠进度 without 存在问题. Needs three lead rows, the first with a numeric target."""
    numeric = [r.key for r in rows if r.role == "lead" and r.target is not None]
    others = [r.key for r in rows if r.role == "lead" and r.key != numeric[0]]
    text_row, status_row, behind_row = numeric[0], others[0], others[1]
    changed = {key: dict(values) for key, values in given.items()}
    changed[text_row] = {**changed.get(text_row, {}), "value": NOT_A_NUMBER}
    changed[status_row] = {**changed.get(status_row, {}), "status": NOT_A_STATUS}
    behind = {**changed.get(behind_row, {}), "status": "欠进度"}
    behind.pop("problems", None)
    changed[behind_row] = behind
    mistakes = [
        Mistake(text_row, "value", "value.not_number"),
        Mistake(status_row, "status", "status.invalid"),
        Mistake(behind_row, "problems", "problems.missing"),
    ]
    return changed, mistakes


# -- delivery ---------------------------------------------------------------------------------


def drop(folder: Path, name: str, data: bytes, when: datetime | None = None) -> Path:
    """Put a returned file in a folder, dated `when` (default: an hour ago, i.e. settled)."""
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    moment = when.timestamp() if when else time.time() - 3600
    os.utime(path, (moment, moment))
    return path


def as_mail(
    data: bytes,
    file_name: str,
    *,
    sender: str,
    to: str,
    subject: str,
    body: str,
    sent: datetime,
    message_id: str,
) -> bytes:
    """A return as the unit's mail client sends it: a short note and the file attached
    (the MIME boundary comes from the Message-ID, so the same message gives the same bytes)."""
    msg = EmailMessage(policy=POLICY)
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(sent)
    msg["Message-ID"] = message_id
    msg.set_content(body)
    maintype, subtype = MIME_TYPES[Path(file_name).suffix.lower()].split("/")
    msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=file_name)
    msg.set_boundary(f"==ecoxl-{hashlib.sha256(message_id.encode()).hexdigest()[:24]}==")
    return msg.as_bytes()
