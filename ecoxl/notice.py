"""Reading a notice file into clean text lines.

A notice reaches the office as a .txt saved by some editor (UTF-8, UTF-8 with BOM,
GB18030/GBK from an older Windows) or as a Word .docx, and often as text pasted from
a web page or converted from a PDF. This module turns the bytes into text (`read_notice`)
and the text into lines the parser can trust (`normalise`, `close_gaps`,
`join_wrapped`), without deciding what any line means.
"""

from __future__ import annotations

import itertools
import re
import zipfile
from collections.abc import Callable
from io import BytesIO
from pathlib import Path

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from .exceptions import InputError
from .texts import say

# Chinese characters: the basic block, extension A (䶮), compatibility, extensions B and on.
HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"

MAX_NOTICE_BYTES = 20 * 1024 * 1024  # a long notice is ~100 KB; a .docx with pictures a few MB
MAX_DOCUMENT_XML = 50 * 1024 * 1024  # word/document.xml, unpacked

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_SIGNATURES = {
    b"%PDF": "notice.pdf",
    b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1": "notice.doc",
    b"{\\rtf": "notice.rtf",
}

# -- bytes → text ----------------------------------------------------------------


def read_notice(path: Path) -> str:
    """The text of a notice file (.txt in any of the usual encodings, or .docx).

    Raises `InputError` with one line when the file cannot be a notice.
    """
    if not path.is_file():
        raise InputError(say("notice.missing", path=path))
    if path.stat().st_size > MAX_NOTICE_BYTES:
        raise InputError(say("notice.too_large", file=path.name))
    data = path.read_bytes()
    if data.startswith(b"PK\x03\x04"):
        return docx_text(data, path.name)
    return decode_text(data, path.name)


def decode_text(data: bytes, name: str) -> str:
    """Decode a text notice: a BOM decides, then UTF-8, then GB18030 (a superset of GBK).

    UTF-8 is tried first because a GB18030 decoder accepts most UTF-8 byte runs and
    would turn them into nonsense; the reverse almost never happens with Chinese text.
    """
    if not data.strip():
        raise InputError(say("notice.empty", file=name))
    for magic, key in _SIGNATURES.items():
        if data.startswith(magic):
            raise InputError(say(key, file=name))
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return _decoded(data, "utf-16", name)
    controls = sum(1 for byte in data if byte < 32 and byte not in b"\t\n\r\f\v")
    if b"\x00" in data or controls > max(2, len(data) // 100):
        raise InputError(say("notice.binary", file=name))
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return _not_blank(data.decode(encoding), name)
        except UnicodeDecodeError:
            continue
    raise InputError(say("notice.encoding", file=name))


def _decoded(data: bytes, encoding: str, name: str) -> str:
    try:
        return _not_blank(data.decode(encoding), name)
    except UnicodeDecodeError:
        raise InputError(say("notice.encoding", file=name)) from None


def _not_blank(text: str, name: str) -> str:
    if not text.strip(" \t\r\n\u3000\ufeff"):
        raise InputError(say("notice.empty", file=name))
    return text


def docx_text(data: bytes, name: str) -> str:
    """The paragraphs of a .docx body, one per line (table cells too, in reading order)."""
    try:
        with zipfile.ZipFile(BytesIO(data)) as archive:
            info = archive.getinfo("word/document.xml")
            if info.file_size > MAX_DOCUMENT_XML:
                raise InputError(say("notice.too_large", file=name))
            with archive.open(info) as member:
                xml = member.read(MAX_DOCUMENT_XML + 1)
    except (zipfile.BadZipFile, KeyError, OSError, EOFError):
        raise InputError(say("notice.bad_docx", file=name)) from None
    if len(xml) > MAX_DOCUMENT_XML:
        raise InputError(say("notice.too_large", file=name))
    try:
        root = SafeET.fromstring(xml)
    except (SafeET.ParseError, DefusedXmlException):
        raise InputError(say("notice.bad_docx", file=name)) from None
    body = root.find(f"{_W}body")
    if body is None:
        raise InputError(say("notice.bad_docx", file=name))
    return _not_blank("\n".join(_paragraphs(body)), name)


def _paragraphs(element) -> list[str]:
    """Paragraph texts in document order; a text box inside a paragraph comes after it,
    and a table row is one line, its cells separated by blanks (成员 | 王强 | 县长)."""
    found: list[str] = []
    for child in element:
        if child.tag == f"{_W}tr":
            cells = [" ".join(_paragraphs(cell)) for cell in child.iter(f"{_W}tc")]
            found.append(" ".join(c for c in cells if c.strip()))
        elif child.tag == f"{_W}p":
            parts: list[str] = []
            nested: list[str] = []
            _runs(child, parts, nested)
            found.append("".join(parts))
            found.extend(nested)
        else:
            found.extend(_paragraphs(child))
    return found


def _runs(element, parts: list[str], nested: list[str]) -> None:
    for child in element:
        tag = child.tag
        if tag == f"{_W}t":
            parts.append(child.text or "")
        elif tag in (f"{_W}tab", f"{_W}ptab"):
            parts.append(" ")
        elif tag in (f"{_W}br", f"{_W}cr"):
            parts.append("\n")
        elif tag == f"{_W}noBreakHyphen":
            parts.append("-")
        elif tag == f"{_W}txbxContent":
            nested.extend(_paragraphs(child))
        elif tag not in (f"{_W}del", f"{_W}instrText", f"{_W}delText"):
            _runs(child, parts, nested)


# -- characters ----------------------------------------------------------------

# Full-width ASCII (，：；（）０-９ Ａ-Ｚ) becomes half-width, so ( and （ are one bracket;
# 、。〔〕【】《》“” have no half-width twin and stay as they are.
_WIDE = {c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)}
_BLANKS = dict.fromkeys(
    map(ord, "\u3000\u00a0\u2002\u2003\u2009\u200a\u202f\u205f\t\f\v"), ord(" ")
)
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)
_TABLE = _WIDE | _BLANKS | _INVISIBLE
_PRIVATE_USE = re.compile("[\ue000-\uf8ff]")  # indents in text copied from some web pages


# Page numbers a PDF conversion leaves between the lines: — 3 —, - 3 -, 第3页 共10页.
_PAGE_NUMBER = re.compile(
    r"^(?:[-—–]\s*\d{1,3}\s*[-—–]|第\s*\d{1,3}\s*页(?:\s*共\s*\d{1,3}\s*页)?)$"
)


def normalise(text: str) -> str:
    """One kind of each character, \\n line ends, trimmed lines, runs of blanks as one,
    no page-number lines."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _PRIVATE_USE.sub(" ", text.translate(_TABLE))
    lines = (re.sub(r" {2,}", " ", line.strip()) for line in text.split("\n"))
    return "\n".join(line for line in lines if not _PAGE_NUMBER.match(line))


# A blank between two ASCII characters separates words (PM 10, ISO 14001); any other
# blank in running Chinese text is left over from a PDF or a padded table cell.
_GAP = re.compile(r"(?<=\S) +(?=\S)")


def close_gaps(line: str) -> str:
    """Remove the blanks inside Chinese words: 市发展 改革委 → 市发展改革委."""
    return _GAP.sub(lambda m: _gap(line, m.start(), m.end()), line)


def _gap(line: str, start: int, end: int) -> str:
    return " " if line[start - 1].isascii() and line[end].isascii() else ""


# -- lines ---------------------------------------------------------------------

_ENDS = tuple("。;:!?")
_OPEN_ENDS = tuple("、,(《“—")
_BAND = 4  # a wrapped line may fall short of the page by two Chinese characters
_MIN_PAGE = 40  # 20 Chinese characters; an A4 page of an official notice holds 28
_WRAPPED_SHARE = 0.2  # at least this share of the lines is full when a text is hard-wrapped


def join_wrapped(
    lines: list[str], starts_block: Callable[[str], bool], alone: Callable[[str], bool]
) -> list[str]:
    """Rejoin lines that a PDF conversion broke inside a sentence.

    A line is glued to the one before it when that one stops mid-sentence (no 。;:!?
    at its end), the line itself does not start a new block (a heading, a numbered
    task, a label), and the one before either ends on 、 , ( or fills the page. Lines
    that `alone` accepts (a date, a document number) are never joined to anything. A text
    is taken as hard-wrapped only when many of its lines fill the same width (counting
    a Chinese character as two); a paragraph-per-line text has no such width, so its
    short title lines are never glued to what follows.
    """
    kept = [line for line in lines if line]
    open_lines = [
        line
        for line, after in itertools.pairwise(kept)
        if not line.endswith(_ENDS) and not starts_block(after) and not alone(line)
    ]
    page = page_width(open_lines, len(kept))
    joined: list[str] = []
    for line in kept:
        previous = joined[-1] if joined else ""
        if previous and not alone(previous) and _continues(previous, line, page, starts_block):
            joined[-1] = previous + line
        else:
            joined.append(line)
    return joined


def visual_width(line: str) -> int:
    return sum(1 if ch.isascii() else 2 for ch in line)


def page_width(open_lines: list[str], total: int) -> int | None:
    """The width that many lines broken mid-sentence fill (a hard-wrapped text), else None.

    `open_lines` are the lines that neither end a sentence nor precede a new block.
    """
    widths = [visual_width(line) for line in open_lines]
    best, count = None, 0
    for width in sorted(set(widths)):
        full = sum(1 for w in widths if width - _BAND <= w <= width)
        if full >= count:
            best, count = width, full
    wrapped = best is not None and best >= _MIN_PAGE
    return best if wrapped and count >= max(3, _WRAPPED_SHARE * total) else None


def _continues(previous: str, line: str, page: int | None, starts_block) -> bool:
    if previous.endswith(_ENDS) or starts_block(line):
        return False
    if previous.endswith(_OPEN_ENDS):
        return True
    return page is not None and visual_width(previous) >= page - _BAND
