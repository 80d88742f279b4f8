"""Which cells of an .xls sheet hold formulas, from the FORMULA records of its BIFF stream.

calamine gives an .xls's cached values but not which cells are formulas, and validation must
know (`value.formula`). Only positions are read: a formula's text is stored as RPN tokens,
so every formula cell gets one placeholder (`read.formula.xls` in `texts.py`). The bytes are
untrusted: every read is guarded, each walk is bounded, and damage ends the walk with what
was found so far, or {}.
"""

from __future__ import annotations

import codecs
import struct
from collections.abc import Iterator

from .ole2 import Ole2
from .texts import say

BOF, EOF, FORMULA, BOUNDSHEET, CODEPAGE, FILEPASS = 0x0809, 0x000A, 0x0006, 0x0085, 0x0042, 0x002F
BIFF8 = 0x0600
MAX_RECORDS = 1_000_000  # per walk; a form sheet has a few thousand


def xls_formulas(data: bytes, sheet: str) -> dict[tuple[int, int], str]:
    """(row, col) → placeholder for each formula cell of `sheet` in an .xls file's bytes."""
    try:
        ole = Ole2(data)
        entry = ole.find("Workbook") or ole.find("Book")  # as calamine: BIFF8 before BIFF5
        stream = ole.read(entry, len(data)) if entry else b""
    except (ValueError, struct.error, IndexError):  # Ole2Error is a ValueError
        return {}
    return stream_formulas(stream, sheet)


def stream_formulas(stream: bytes, sheet: str) -> dict[tuple[int, int], str]:
    """(row, col) → placeholder for each FORMULA record between the sheet's BOF and its EOF.

    Shared and array formulas still have a FORMULA record per cell. An embedded chart
    nests its own BOF … EOF inside the sheet's, hence the depth.
    """
    start = _sheet_start(stream, sheet)
    if start is None:
        return {}
    placeholder = say("read.formula.xls")
    formulas: dict[tuple[int, int], str] = {}
    depth = 0
    for kind, at, length in _records(stream, start):
        if kind == BOF:
            depth += 1
        elif depth == 0:  # the offset did not point at a BOF
            break
        elif kind == EOF:
            depth -= 1
            if depth == 0:
                break
        elif kind == FORMULA and length >= 4:
            formulas[struct.unpack_from("<HH", stream, at)] = placeholder
    return formulas


def _sheet_start(stream: bytes, sheet: str) -> int | None:
    """The stream offset of the named sheet's BOF, from its BOUNDSHEET record in the globals.

    None when the globals are damaged or encrypted (FILEPASS: the records' bodies are
    ciphertext) or no sheet has that name.
    """
    records = _records(stream, 0)
    first = next(records, None)
    if first is None or first[0] != BOF or first[2] < 2:
        return None
    biff8 = struct.unpack_from("<H", stream, first[1])[0] == BIFF8
    encoding = "latin-1"  # BIFF5 names are in the workbook's code page
    for kind, at, length in records:
        if kind in (EOF, FILEPASS):
            return None
        if kind == CODEPAGE and length >= 2:
            encoding = _codec(struct.unpack_from("<H", stream, at)[0])
        elif kind == BOUNDSHEET and length >= 7:
            name = _sheet_name(stream[at + 6 : at + length], biff8, encoding)
            if name == sheet:
                return struct.unpack_from("<I", stream, at)[0]
    return None


def _sheet_name(raw: bytes, biff8: bool, encoding: str) -> str | None:
    """A BOUNDSHEET's name: BIFF8 length, flags (bit 0: UTF-16LE, else Latin-1), characters;
    BIFF5 length, then bytes in the code page. None when the record is too short for it."""
    count = raw[0]
    if not biff8:
        text = raw[1 : 1 + count]
        return text.decode(encoding, "replace") if len(text) == count else None
    if len(raw) < 2:
        return None
    wide = raw[1] & 1
    size = count * 2 if wide else count
    text = raw[2 : 2 + size]
    if len(text) != size:
        return None
    return text.decode("utf-16-le" if wide else "latin-1", "replace")


def _codec(codepage: int) -> str:
    """Python's name for a Windows code page (936 → cp936); Latin-1 when it has none."""
    try:
        return codecs.lookup(f"cp{codepage}").name
    except LookupError:
        return "latin-1"


def has_filepass(stream: bytes) -> bool:
    """A FILEPASS record in the workbook globals: the .xls is password-protected."""
    for kind, _, _ in _records(stream, 0):
        if kind in (FILEPASS, EOF):
            return kind == FILEPASS
    return False


def _records(stream: bytes, at: int) -> Iterator[tuple[int, int, int]]:
    """(type, body offset, body length) of each record from `at`: at most MAX_RECORDS, and
    none past the end (a length running past it ends the walk; each record moves ≥ 4 bytes)."""
    end = len(stream)
    for _ in range(MAX_RECORDS):
        if at + 4 > end:
            return
        kind, length = struct.unpack_from("<HH", stream, at)
        at += 4
        if at + length > end:
            return
        yield kind, at, length
        at += length
