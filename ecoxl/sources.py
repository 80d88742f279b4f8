"""Where returned files come from: folders, mail files (.eml, mbox, Maildir), IMAP.

Contract between sources and collection: each candidate is a `Candidate` with
its bytes already in memory (size-capped), so nothing later re-reads a file
that may have changed meanwhile. Everything that is not a candidate is a
`Skipped` record with a stable code, never silently dropped: lock files, hidden
files, files that are not spreadsheets, files still being written or open in
Excel (`waiting`: taken on the next run), files too large to read.
"""

from __future__ import annotations

import mailbox
import os
import re
import stat
import time
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.header import decode_header
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Literal

from .config import Limits
from .texts import say

SPREADSHEET_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".et", ".ods", ".xlsb")  # .xlsb: refused later
ARCHIVE_SUFFIXES = (".zip", ".rar", ".7z", ".gz")
SETTLE_SECONDS = 5.0  # a file modified more recently than this may still be being copied
MAIL_OVERHEAD = 1.4  # base64 makes an attachment ~4/3 larger inside its mail
IGNORED_NAMES = ("thumbs.db", "desktop.ini")

SkipKind = Literal["ignored", "waiting", "refused"]


@dataclass(frozen=True)
class Candidate:
    """One file to collect: its bytes and where it came from."""

    name: str  # the file name as the sender gave it (never used as a path unsanitised)
    source: str  # where it was found: a path, or `mail:<path or folder>#<message-id>`
    data: bytes
    received_at: str  # ISO datetime: the mail's Date, else the file's modification time
    sender: str = ""  # the mail's From address, if it came by mail


@dataclass(frozen=True)
class Skipped:
    """A file that is not collected this run, and why (a stable code and a message).

    kind: `ignored` (lock files, hidden files, not a spreadsheet), `waiting` (still being
    written or open in Excel: try again next run, never a rejection), `refused` (meant as
    a return but unusable: too large, an archive, an unreadable mail — count it as rejected).
    """

    name: str
    source: str
    code: str
    kind: SkipKind
    message: str

    @property
    def waiting(self) -> bool:
        return self.kind == "waiting"


def find_candidates(
    paths: Iterable[Path], limits: Limits, settle_seconds: float = SETTLE_SECONDS
) -> Iterator[Candidate | Skipped]:
    """Every file under `paths` (files, folders, .eml, mbox, Maildir), in a stable order."""
    finder = _Finder(int(limits.max_file_mb * 1024 * 1024), settle_seconds)
    for path in paths:
        yield from finder.path(Path(path))


def safe_name(name: str) -> str:
    """A file name safe to create in the archive folder, on Linux and on Windows.

    Keeps the last path component only, drops control characters, replaces characters
    Windows forbids, defuses reserved device names (CON, NUL, COM1 …) and leading dots,
    and keeps the name under 200 bytes of UTF-8 with its suffix.
    """
    text = unicodedata.normalize("NFC", name)
    text = re.split(r"[/\\]", text)[-1]
    text = "".join(c for c in text if unicodedata.category(c)[0] != "C")
    text = re.sub(r'[<>:"|?*]', "_", text).strip().rstrip(". ")
    if text in ("", ".", ".."):
        text = "unnamed"
    stem, dot, suffix = text.rpartition(".")
    if not dot:
        stem, suffix = text, ""
    if stem.split(".")[0].upper() in _RESERVED:
        stem = "_" + stem
    if stem.startswith("."):
        stem = "_" + stem[1:]
    suffix = suffix[:16]
    tail = f".{suffix}" if suffix else ""
    while len((stem + tail).encode()) > 200:
        stem = stem[:-1]
    return (stem or "unnamed") + tail


_RESERVED = {
    "CON",
    "PRN",
    "AUX",
    "NUL",
    *(f"COM{i}" for i in range(1, 10)),
    *(f"LPT{i}" for i in range(1, 10)),
}


class _Finder:
    def __init__(self, cap: int, settle_seconds: float):
        self.cap = cap
        self.mail_cap = int(cap * MAIL_OVERHEAD) + (1 << 20)
        self.settle = settle_seconds

    # -- folders and files --------------------------------------------------------

    def path(self, path: Path) -> Iterator[Candidate | Skipped]:
        try:
            info = path.lstat()
        except OSError as exc:
            yield _skip(path.name, str(path), "source.unreadable", "refused", reason=exc.strerror)
            return
        if stat.S_ISDIR(info.st_mode):
            if _is_maildir(path):
                yield from self.maildir(path)
            else:
                yield from self.folder(path)
        elif stat.S_ISREG(info.st_mode):
            siblings = set(os.listdir(path.parent)) if path.parent.is_dir() else set()
            yield from self.file(path, siblings)
        else:
            yield _skip(path.name, str(path), "source.not_regular", "ignored")

    def folder(self, folder: Path) -> Iterator[Candidate | Skipped]:
        try:
            names = sorted(os.listdir(folder))
        except OSError as exc:
            yield _skip(
                folder.name, str(folder), "source.unreadable", "refused", reason=exc.strerror
            )
            return
        siblings = set(names)
        for name in names:
            path = folder / name
            if _is_lock_file(name):
                yield _skip(name, str(path), "source.lock_file", "ignored")
            elif name.startswith(".") or name.lower() in IGNORED_NAMES:
                yield _skip(name, str(path), "source.hidden", "ignored")
            elif path.is_symlink():
                yield _skip(name, str(path), "source.not_regular", "ignored")
            elif path.is_dir():
                yield from self.path(path)
            else:
                yield from self.file(path, siblings)

    def file(self, path: Path, siblings: set[str]) -> Iterator[Candidate | Skipped]:
        name, source = path.name, str(path)
        suffix = path.suffix.lower()
        if _is_lock_file(name):
            yield _skip(name, source, "source.lock_file", "ignored")
        elif suffix in SPREADSHEET_SUFFIXES:
            if _lock_files(name) & siblings:
                yield _skip(name, source, "source.locked", "waiting")
                return
            data, received_at, problem = self.read(path, self.cap)
            if problem is not None:
                yield problem
            else:
                yield Candidate(name, source, data, received_at)
        elif suffix in ARCHIVE_SUFFIXES:
            yield _skip(name, source, "source.archive", "refused")
        elif suffix == ".eml":
            raw, received_at, problem = self.read(path, self.mail_cap)
            yield from [problem] if problem else self.message(raw, source, name, received_at)
        elif suffix == ".mbox" or _starts_like_mbox(path):
            yield from self.mbox(path)
        else:
            yield _skip(name, source, "source.not_spreadsheet", "ignored")

    def read(self, path: Path, cap: int) -> tuple[bytes, str, Skipped | None]:
        """The file's bytes, read once, unless it is too large or still changing."""
        name, source = path.name, str(path)
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        except OSError as exc:
            return b"", "", _skip(name, source, "source.unreadable", "refused", reason=exc.strerror)
        with os.fdopen(fd, "rb") as handle:
            before = os.fstat(fd)
            if not stat.S_ISREG(before.st_mode):
                return b"", "", _skip(name, source, "source.not_regular", "ignored")
            if before.st_size > cap:
                return b"", "", _too_large(name, source, before.st_size, cap)
            if time.time() - before.st_mtime < self.settle:
                return b"", "", _skip(name, source, "source.copying", "waiting")
            data = handle.read(cap + 1)
            after = os.fstat(fd)
        changed = (after.st_size, after.st_mtime_ns) != (before.st_size, before.st_mtime_ns)
        if changed or len(data) != before.st_size:
            return b"", "", _skip(name, source, "source.copying", "waiting")
        return data, _iso(before.st_mtime), None

    # -- mail ---------------------------------------------------------------------------

    def mbox(self, path: Path) -> Iterator[Candidate | Skipped]:
        try:
            box = mailbox.mbox(path, factory=None, create=False)
            keys = list(box.iterkeys())
        except (OSError, mailbox.Error) as exc:
            yield _skip(path.name, str(path), "source.mail_unreadable", "refused", reason=exc)
            return
        fallback = _iso(path.stat().st_mtime)
        for key in keys:
            yield from self.box_message(box, key, path, f"{path.name}#{key + 1}", fallback)

    def maildir(self, folder: Path) -> Iterator[Candidate | Skipped]:
        """Delivered messages in `new/` and `cur/`; `tmp/` holds deliveries in progress."""
        for sub in ("new", "cur"):
            for name in sorted(os.listdir(folder / sub)):
                if name.startswith("."):
                    continue
                path = folder / sub / name
                raw, received_at, problem = self.read(path, self.mail_cap)
                label = name.split(":", 1)[0]
                yield from (
                    [problem] if problem else self.message(raw, str(folder), label, received_at)
                )

    def box_message(
        self, box: mailbox.Mailbox, key, where: Path, label: str, fallback: str
    ) -> Iterator[Candidate | Skipped]:
        try:
            with box.get_file(key) as handle:
                raw = handle.read(self.mail_cap + 1)
        except (OSError, KeyError, mailbox.Error) as exc:
            yield _skip(label, str(where), "source.mail_unreadable", "refused", reason=exc)
            return
        if len(raw) > self.mail_cap:
            yield _too_large(label, str(where), len(raw), self.mail_cap)
            return
        yield from self.message(raw, str(where), label, fallback)

    def message(
        self, raw: bytes, where: str, label: str, fallback: str
    ) -> Iterator[Candidate | Skipped]:
        """Each attachment of one mail: a candidate if it is a spreadsheet, else skipped."""
        try:
            message = BytesParser(policy=policy.default).parsebytes(raw)
        except (ValueError, TypeError, LookupError) as exc:
            yield _skip(label, where, "source.mail_unreadable", "refused", reason=exc)
            return
        message_id = _header(message, "Message-ID").strip().strip("<>") or label
        source = f"mail:{where}#{message_id}"
        received_at = _mail_date(message) or fallback
        sender = _sender(message)
        for part in message.walk():
            if part.is_multipart():
                continue
            name = attachment_name(part)
            if name is None:
                continue
            yield from self.attachment(part, name, source, received_at, sender)

    def attachment(
        self, part: EmailMessage, name: str, source: str, received_at: str, sender: str
    ) -> Iterator[Candidate | Skipped]:
        suffix = os.path.splitext(name)[1].lower()
        if _is_lock_file(safe_name(name)):
            yield _skip(name, source, "source.lock_file", "ignored")
        elif suffix in ARCHIVE_SUFFIXES:
            yield _skip(name, source, "source.archive", "refused")
        elif suffix not in SPREADSHEET_SUFFIXES:
            yield _skip(name, source, "source.not_spreadsheet", "ignored")
        else:
            encoded = part.get_payload()
            if isinstance(encoded, str) and len(encoded) * 3 // 4 > self.cap + 4:
                yield _too_large(name, source, len(encoded) * 3 // 4, self.cap)
                return
            data = part.get_payload(decode=True) or b""
            if len(data) > self.cap:
                yield _too_large(name, source, len(data), self.cap)
                return
            yield Candidate(name, source, data, received_at, sender)


def attachment_name(part: EmailMessage) -> str | None:
    """The attachment's file name, decoded (RFC 2231, and RFC 2047 even where it is not allowed).

    Chinese mail clients often put `=?GB2312?B?…?=` inside the filename parameter; the
    text is decoded with GB18030, which GB2312 and GBK are subsets of.
    """
    try:
        name = part.get_filename()
    except (ValueError, TypeError, LookupError):
        return None
    if name is None:
        return None
    if "=?" in name:
        pieces = []
        try:
            for text, charset in decode_header(name):
                if isinstance(text, bytes):
                    encoding = (charset or "ascii").lower()
                    if encoding in ("gb2312", "gbk", "x-gbk", "cp936"):
                        encoding = "gb18030"
                    text = text.decode(encoding, "replace")
                pieces.append(text)
            name = "".join(pieces)
        except (ValueError, LookupError):
            pass
    name = name.strip()
    return name or None


# -- helpers -----------------------------------------------------------------------------


def _is_lock_file(name: str) -> bool:
    """Excel and WPS write `~$name`, LibreOffice `.~lock.name#`, while a file is open."""
    return name.startswith("~$") or (name.startswith(".~lock.") and name.endswith("#"))


def _lock_files(name: str) -> set[str]:
    """The lock files that mean `name` is open: Excel shortens long names by two characters."""
    return {f"~${name}", f"~${name[2:]}", f".~lock.{name}#"}


def _is_maildir(folder: Path) -> bool:
    return (folder / "cur").is_dir() and (folder / "new").is_dir()


def _starts_like_mbox(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            return handle.read(5) == b"From "
    except OSError:
        return False


def _header(message: EmailMessage, name: str) -> str:
    try:
        return str(message.get(name, "") or "")
    except (ValueError, TypeError, IndexError):
        return ""


def _mail_date(message: EmailMessage) -> str | None:
    try:
        header = message.get("Date")
        moment = getattr(header, "datetime", None)
    except (ValueError, TypeError, IndexError):
        return None
    return moment.isoformat() if moment is not None else None


def _sender(message: EmailMessage) -> str:
    try:
        header = message.get("From")
        addresses = getattr(header, "addresses", ())
        if addresses:
            return addresses[0].addr_spec
    except (ValueError, TypeError, IndexError):
        pass
    return _header(message, "From")


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp).astimezone().isoformat(timespec="seconds")


def _skip(name: str, source: str, code: str, kind: SkipKind, **values: object) -> Skipped:
    return Skipped(name, source, code, kind, say(code, name=name, **values))


def _too_large(name: str, source: str, size: int, cap: int) -> Skipped:
    mb, limit = f"{size / 1048576:.1f}", f"{cap / 1048576:g}"
    return _skip(name, source, "source.too_large", "refused", mb=mb, limit=limit)
