"""Builders for the bad returned files of issue 4: each returns the bytes of one real file.

Packages are written by hand with `zipfile` (and OLE2 containers byte by byte) so each
file is exactly the trick it tests and nothing else. `simple_form` is a small
xlsxwriter workbook laid out like a unit form (header row, identity sheet, custom
properties) for the tests that need a readable file to start from.
"""

from __future__ import annotations

import io
import os
import struct
import time
import warnings
import zipfile
import zlib
from pathlib import Path

from ecoxl import layout
from ecoxl.xlsx import new_workbook

CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    "</Types>"
)
RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="{ns}/officeDocument" Target="{target}"/></Relationships>'
)
TRANSITIONAL_RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
STRICT_RELS = "http://purl.oclc.org/ooxml/officeDocument/relationships"
WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<workbook xmlns="{ns}" xmlns:r="{rels}"><sheets>'
    '<sheet name="{sheet}" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
TRANSITIONAL_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
STRICT_NS = "http://purl.oclc.org/ooxml/spreadsheetml/main"
WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="{rels}/worksheet" Target="worksheets/sheet1.xml"/>'
    "</Relationships>"
)
SHEET = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<worksheet xmlns="{ns}"><sheetData>{rows}</sheetData></worksheet>'
)
BILLION_LAUGHS = (
    '<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'
        for i in range(1, 10)
    )
    + "]>\n"
    '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/custom-properties"'
    ' xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes">'
    '<property fmtid="{D5CDD505-2E9C-101B-9397-08002B2CF9AE}" pid="2" name="ecoxl.unit">'
    "<vt:lpwstr>&lol9;</vt:lpwstr></property></Properties>"
)


def package(
    members: dict[str, bytes | str], duplicates: dict[str, bytes | str] | None = None
) -> bytes:
    """A zip with these members (deflated), then any `duplicates` under names already used."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "Duplicate name": that is the point
            for name, content in (duplicates or {}).items():
                archive.writestr(name, content)
    return buffer.getvalue()


def xlsx_members(
    rows: str = '<row r="1"><c r="A1" t="inlineStr"><is><t>任务编号</t></is></c></row>',
    sheet: str = layout.FORM_SHEET,
    strict: bool = False,
) -> dict[str, bytes | str]:
    """The members of a minimal hand-written workbook with one sheet."""
    ns, rels = (STRICT_NS, STRICT_RELS) if strict else (TRANSITIONAL_NS, TRANSITIONAL_RELS)
    return {
        "[Content_Types].xml": CONTENT_TYPES,
        "_rels/.rels": RELS.format(ns=rels, target="xl/workbook.xml"),
        "xl/workbook.xml": WORKBOOK.format(ns=ns, rels=rels, sheet=sheet),
        "xl/_rels/workbook.xml.rels": WORKBOOK_RELS.format(rels=rels),
        "xl/worksheets/sheet1.xml": SHEET.format(ns=ns, rows=rows),
    }


def minimal_xlsx(**options: object) -> bytes:
    return package(xlsx_members(**options))


def simple_form(
    rows: int = 3,
    formula_in_value: bool = False,
    extra_members: dict[str, bytes | str] | None = None,
    sheet: str = layout.FORM_SHEET,
) -> bytes:
    """A small workbook laid out like a unit form: headers, rows, identity sheet, properties."""
    buffer = io.BytesIO()
    workbook = new_workbook(buffer, in_memory=True)
    form = workbook.add_worksheet(sheet)
    form.write(0, 0, "测试单位 2015-Q3 填报表")
    for col, column in enumerate(layout.COLUMNS):
        form.write(layout.HEADER_ROW, col, column.header)
    value_col = layout.column_index("value")
    rate_col = layout.column_index("rate")
    for i in range(rows):
        row = layout.FIRST_DATA_ROW + i
        form.write_number(row, layout.column_index("seq"), i + 1)
        form.write_number(row, layout.column_index("task"), i + 1)
        form.write_number(row, layout.column_index("target"), 100)
        form.write_number(row, value_col, 50 + i)
        form.write_formula(row, rate_col, f"=I{row + 1}/H{row + 1}", None, (50 + i) / 100)
        form.write_string(row, layout.column_index("status"), "达进度")
        form.write_string(row, layout.column_index("row_key"), f"{i + 1}-0")
    if formula_in_value:
        form.write_formula(layout.FIRST_DATA_ROW, value_col, "=1+2", None, 3)
    identity = workbook.add_worksheet(layout.IDENTITY_SHEET)
    table = layout.identity_table(IDENTITY)
    for r, line in enumerate(table):
        for c, value in enumerate(line):
            identity.write(r, c, value)
    identity.very_hidden()
    for key, value in layout.identity_properties(IDENTITY).items():
        workbook.set_custom_property(key, value)
    workbook.close()
    data = buffer.getvalue()
    return add_members(data, extra_members) if extra_members else data


IDENTITY = layout.FormIdentity(
    plan_id="xinzheng-2015",
    fingerprint="abc123",
    unit="市环保局",
    period="2015-Q3",
    form_version=layout.FORM_VERSION,
    row_keys=("1-0", "2-0", "3-0"),
)


def add_members(data: bytes, members: dict[str, bytes | str]) -> bytes:
    """The same package with more members."""
    with zipfile.ZipFile(io.BytesIO(data)) as source:
        existing = {i.filename: source.read(i) for i in source.infolist()}
    return package({**existing, **members})


# -- the hostile files ----------------------------------------------------------------------


def not_a_zip() -> bytes:
    """Binary noise under an .xlsx name."""
    return bytes((i * 37 + 11) % 256 for i in range(3000))


def docx() -> bytes:
    """A real minimal Word document (renamed .xlsx by the test)."""
    return package(
        {
            "[Content_Types].xml": CONTENT_TYPES.replace("/xl/workbook.xml", "/word/document.xml"),
            "_rels/.rels": RELS.format(ns=TRANSITIONAL_RELS, target="word/document.xml"),
            "word/document.xml": (
                '<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w='
                '"http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p>'
                "<w:r><w:t>关于报送工作进展的函</w:t></w:r></w:p></w:body></w:document>"
            ),
        }
    )


def html_table() -> bytes:
    return (
        "<html><head><meta charset='utf-8'></head><body><table><tr><td>任务编号</td>"
        "<td>本期完成值</td></tr><tr><td>1</td><td>12</td></tr></table></body></html>"
    ).encode()


def csv_text() -> bytes:
    return "任务编号,目标值,本期完成值,进展状态\n1,100,50,达进度\n2,30,12,欠进度\n".encode(
        "gb18030"
    )


def pdf() -> bytes:
    return b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def zip_bomb(unpacked_mb: int = 400) -> bytes:
    """An xlsx whose sheet inflates from ~400 KB to `unpacked_mb` MB of XML whitespace."""
    members = xlsx_members()
    sheet = members.pop("xl/worksheets/sheet1.xml")
    data = package(members)
    head = str(sheet).encode()
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    chunk = b" " * (1 << 20)
    compressed = [compressor.compress(head)]
    for _ in range(unpacked_mb):
        compressed.append(compressor.compress(chunk))
    compressed.append(compressor.flush())
    return append_raw_member(
        data, "xl/worksheets/sheet1.xml", b"".join(compressed), len(head) + unpacked_mb * (1 << 20)
    )


def append_raw_member(data: bytes, name: str, raw: bytes, size: int, crc: int = 0) -> bytes:
    """Add a member whose deflated bytes and declared size are given as they are."""
    with zipfile.ZipFile(io.BytesIO(data)) as source:
        members = [(i, source.read(i)) for i in source.infolist()]
    out = io.BytesIO()
    central = []
    entries = [
        (i.filename, zlib_raw(content), len(content), zlib.crc32(content)) for i, content in members
    ]
    entries.append((name, raw, size, crc))
    for filename, payload, length, checksum in entries:
        offset = out.tell()
        encoded = filename.encode()
        header = struct.pack(
            "<IHHHHHIIIHH",
            0x04034B50,
            20,
            0x800,
            8,
            0,
            0,
            checksum,
            len(payload),
            length,
            len(encoded),
            0,
        )
        out.write(header + encoded + payload)
        central.append(
            struct.pack(
                "<IHHHHHHIIIHHHHHII",
                0x02014B50,
                20,
                20,
                0x800,
                8,
                0,
                0,
                checksum,
                len(payload),
                length,
                len(encoded),
                0,
                0,
                0,
                0,
                0,
                offset,
            )
            + encoded
        )
    start = out.tell()
    directory = b"".join(central)
    out.write(directory)
    out.write(
        struct.pack(
            "<IHHHHIIH", 0x06054B50, 0, 0, len(central), len(central), len(directory), start, 0
        )
    )
    return out.getvalue()


def zlib_raw(content: bytes) -> bytes:
    compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
    return compressor.compress(content) + compressor.flush()


def lying_member() -> bytes:
    """A sheet that declares 2,000 bytes but inflates to 5 MB (the CRC matches the lie's cut)."""
    members = xlsx_members()
    members.pop("xl/worksheets/sheet1.xml")
    real = SHEET.format(ns=TRANSITIONAL_NS, rows="").encode() + b" " * (5 << 20)
    return append_raw_member(
        package(members), "xl/worksheets/sheet1.xml", zlib_raw(real), 2000, zlib.crc32(real[:2000])
    )


def duplicate_members() -> bytes:
    """Two `xl/worksheets/sheet1.xml`: one reader sees the first, another the last."""
    members = xlsx_members()
    other = SHEET.format(ns=TRANSITIONAL_NS, rows='<row r="1"><c r="A1"><v>666</v></c></row>')
    return package(members, {"xl/worksheets/sheet1.xml": other})


def billion_laughs() -> bytes:
    """A readable form whose `docProps/custom.xml` is the billion-laughs entity bomb."""
    return simple_form(extra_members={"docProps/custom.xml": BILLION_LAUGHS})


def far_cell(ref: str = "XFD1048576") -> bytes:
    """~1.5 KB: A1 and one value at `ref` (python-calamine aborts the interpreter on it)."""
    row = int("".join(c for c in ref if c.isdigit()))
    rows = f'<row r="1"><c r="A1"><v>1</v></c></row><row r="{row}"><c r="{ref}"><v>2</v></c></row>'
    return minimal_xlsx(rows=rows)


def strict_ooxml() -> bytes:
    return minimal_xlsx(strict=True)


def with_macros() -> bytes:
    """A form with `xl/vbaProject.bin` (an OLE2 container, as Excel writes it)."""
    return simple_form(extra_members={"xl/vbaProject.bin": ole2({"VBA": b"Attribute VB_Name"})})


def with_external_links() -> bytes:
    link = (
        '<?xml version="1.0" encoding="UTF-8"?><externalLink xmlns="'
        + TRANSITIONAL_NS
        + '"><externalBook><sheetNames><sheetName val="Sheet1"/></sheetNames></externalBook>'
        "</externalLink>"
    )
    return simple_form(extra_members={"xl/externalLinks/externalLink1.xml": link})


def many_sheets(count: int, rows: str) -> bytes:
    """`count` visible sheets with the same cells and no form: a reader searching for the
    form opens every one (slow when each has a large extent)."""
    members = xlsx_members(rows=rows, sheet="S1")
    sheets = "".join(
        f'<sheet name="S{i}" sheetId="{i}" r:id="rId{i}"/>' for i in range(1, count + 1)
    )
    members["xl/workbook.xml"] = WORKBOOK.format(
        ns=TRANSITIONAL_NS, rels=TRANSITIONAL_RELS, sheet="S1"
    ).replace('<sheet name="S1" sheetId="1" r:id="rId1"/>', sheets)
    rels = "".join(
        f'<Relationship Id="rId{i}" Type="{TRANSITIONAL_RELS}/worksheet" Target="worksheets/sheet{i}.xml"/>'
        for i in range(1, count + 1)
    )
    members["xl/_rels/workbook.xml.rels"] = WORKBOOK_RELS.format(rels=TRANSITIONAL_RELS).replace(
        f'<Relationship Id="rId1" Type="{TRANSITIONAL_RELS}/worksheet" Target="worksheets/sheet1.xml"/>',
        rels,
    )
    for i in range(2, count + 1):
        members[f"xl/worksheets/sheet{i}.xml"] = members["xl/worksheets/sheet1.xml"]
    return package(members)


# -- OLE2 containers ------------------------------------------------------------------------

END, FREE, FATSECT, NOSTREAM = 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFD, 0xFFFFFFFF


def ole2(streams: dict[str, bytes]) -> bytes:
    """A version-3 compound file with these streams (each padded to ≥ 4096 bytes, so no
    mini stream): header, one FAT sector, one directory sector, then the stream sectors.
    At most three streams."""
    padded = {name: data.ljust(4096, b"\x00") for name, data in streams.items()}
    fat = [FATSECT, END]
    starts = []
    for data in padded.values():
        count = -(-len(data) // 512)
        first = len(fat)
        starts.append(first)
        fat.extend(range(first + 1, first + count))
        fat.append(END)
    if len(fat) > 128:
        raise ValueError("too much data for one FAT sector")
    header = bytearray(512)
    header[0:8] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    struct.pack_into("<HHHHH", header, 0x18, 0x3E, 3, 0xFFFE, 9, 6)
    struct.pack_into("<IIIIIIIII", header, 0x28, 0, 1, 1, 0, 4096, END, 0, END, 0)
    struct.pack_into("<109I", header, 0x4C, 0, *([FREE] * 108))
    directory = _dir_entry("Root Entry", 5, END, 0, child=1 if padded else NOSTREAM)
    names = list(padded)
    for i, (name, start) in enumerate(zip(names, starts, strict=True)):
        right = i + 2 if i + 1 < len(names) else NOSTREAM
        directory += _dir_entry(name, 2, start, len(padded[name]), right=right)
    directory = directory.ljust(512, b"\x00")
    fat_sector = struct.pack(f"<{len(fat)}I", *fat) + struct.pack(
        f"<{128 - len(fat)}I", *([FREE] * (128 - len(fat)))
    )
    body = b"".join(data.ljust(-(-len(data) // 512) * 512, b"\x00") for data in padded.values())
    return bytes(header) + fat_sector + directory + body


def _dir_entry(
    name: str, kind: int, start: int, size: int, child=NOSTREAM, right=NOSTREAM
) -> bytes:
    encoded = (name + "\x00").encode("utf-16-le")
    entry = bytearray(128)
    entry[: len(encoded)] = encoded
    struct.pack_into("<HBB", entry, 0x40, len(encoded), kind, 1)
    struct.pack_into("<III", entry, 0x44, NOSTREAM, right, child)
    struct.pack_into("<II", entry, 0x74, start, size)
    return bytes(entry)


def word_97() -> bytes:
    """An OLE2 file holding a Word document, as a .doc renamed .xls would."""
    return ole2({"WordDocument": b"\xec\xa5" + b"\x00" * 510, "1Table": b"\x00" * 10})


def xls_with_password() -> bytes:
    """An .xls whose workbook globals begin BOF, FILEPASS: a password-protected BIFF8 file."""
    bof = struct.pack("<HH", 0x0809, 16) + struct.pack("<HHHHII", 0x0600, 0x0005, 0, 0, 0, 0)
    filepass = struct.pack("<HH", 0x002F, 54) + struct.pack("<HH", 1, 1) + b"\x11" * 50
    eof = struct.pack("<HH", 0x000A, 0)
    return ole2({"Workbook": bof + filepass + eof})


def encrypted_ooxml() -> bytes:
    """An OLE2 container with EncryptionInfo/EncryptedPackage: what Excel writes with a password."""
    return ole2(
        {"EncryptionInfo": b"\x04\x00\x04\x00\x40\x00\x00\x00", "EncryptedPackage": b"\x00" * 64}
    )


# -- files on disk ----------------------------------------------------------------------------


def write(folder: Path, name: str, data: bytes, age_seconds: float = 3600) -> Path:
    """Write a file and date it `age_seconds` ago (so it is not taken for one being copied)."""
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    moment = time.time() - age_seconds
    os.utime(path, (moment, moment))
    return path
