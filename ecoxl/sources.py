"""Where returned files come from: folders and mail files (.eml, mbox, Maildir); IMAP is imap.py.

Contract between sources and collection: each candidate is a `Candidate` with
its bytes already in memory (size-capped), so nothing later re-reads a file
that may have changed meanwhile. Everything that is not a candidate is a
`Skipped` record with a stable code, never silently dropped: lock files, hidden
files, files that are not spreadsheets, files still being written or open in
Excel (`waiting`: taken on the next run), files too large to read.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import errno
import mailbox
import os
import re
import stat
import time
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from email import errors, policy
from email.header import decode_header
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Literal

from .config import Limits
from .texts import megabytes, say

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
        """A path the user named: followed if it is a symlink (they chose it)."""
        try:
            info = path.stat()
        except OSError as exc:
            yield _unreadable(path, exc)
            return
        siblings: set[str] = set()
        if stat.S_ISREG(info.st_mode):
            with contextlib.suppress(OSError):  # lock files unseen: the file itself still can be
                siblings = set(os.listdir(path.parent))
        yield from self.by_kind(path, info, siblings, follow=True)

    def directory(self, folder: Path) -> Iterator[Candidate | Skipped]:
        try:
            maildir = _is_maildir(folder)
        except OSError as exc:
            yield _unreadable(folder, exc)
            return
        yield from self.maildir(folder) if maildir else self.folder(folder)

    def folder(self, folder: Path) -> Iterator[Candidate | Skipped]:
        try:
            names = sorted(os.listdir(folder))
        except OSError as exc:
            yield _unreadable(folder, exc)
            return
        siblings = set(names)
        for name in names:
            path = folder / name
            if _is_lock_file(name):
                yield _skip(name, str(path), "source.lock_file", "ignored")
            elif name.startswith(".") or name.lower() in IGNORED_NAMES:
                yield _skip(name, str(path), "source.hidden", "ignored")
            else:
                yield from self.entry(path, siblings)

    def entry(self, path: Path, siblings: set[str]) -> Iterator[Candidate | Skipped]:
        """One name inside a folder, by what it is; symlinks are never followed (loops)."""
        try:
            info = path.lstat()
        except OSError as exc:
            yield _unreadable(path, exc)
            return
        if stat.S_ISLNK(info.st_mode):
            yield _skip(path.name, str(path), "source.symlink", "ignored")
        else:
            yield from self.by_kind(path, info, siblings, follow=False)

    def by_kind(
        self, path: Path, info: os.stat_result, siblings: set[str], follow: bool
    ) -> Iterator[Candidate | Skipped]:
        if stat.S_ISDIR(info.st_mode):
            yield from self.directory(path)
        elif stat.S_ISREG(info.st_mode):
            yield from self.file(path, siblings, follow)
        else:
            yield _skip(path.name, str(path), "source.not_regular", "ignored")

    def file(
        self, path: Path, siblings: set[str], follow: bool = False
    ) -> Iterator[Candidate | Skipped]:
        name, source = path.name, str(path)
        suffix = path.suffix.lower()
        if _is_lock_file(name):
            yield _skip(name, source, "source.lock_file", "ignored")
        elif suffix in SPREADSHEET_SUFFIXES:
            if _lock_files(name) & siblings:
                yield _skip(name, source, "source.locked", "waiting")
                return
            data, received_at, problem = self.read(path, self.cap, follow)
            if problem is not None:
                yield problem
            else:
                yield Candidate(name, source, data, received_at)
        elif suffix in ARCHIVE_SUFFIXES:
            yield _skip(name, source, "source.archive", "refused")
        elif suffix == ".eml":
            yield from self.mail_file(path, source, name, follow)
        elif suffix == ".mbox":
            yield from self.mbox(path, follow)
        else:
            try:
                mbox = _starts_like_mbox(path, follow)
            except OSError as exc:
                yield _unreadable(path, exc)
                return
            if mbox:
                yield from self.mbox(path, follow)
            else:
                yield _skip(name, source, "source.not_spreadsheet", "ignored")

    def read(self, path: Path, cap: int, follow: bool = False) -> tuple[bytes, str, Skipped | None]:
        """The file's bytes, read once, unless it is too large or still changing."""
        name, source = path.name, str(path)
        flags = os.O_RDONLY | os.O_NONBLOCK | (0 if follow else os.O_NOFOLLOW)
        try:
            fd = os.open(path, flags)
        except OSError as exc:
            return b"", "", _unreadable(path, exc)
        try:
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
        except OSError as exc:
            return b"", "", _unreadable(path, exc)
        changed = (after.st_size, after.st_mtime_ns) != (before.st_size, before.st_mtime_ns)
        if changed or len(data) != before.st_size:
            return b"", "", _skip(name, source, "source.copying", "waiting")
        return data, _iso(before.st_mtime), None

    # -- mail ---------------------------------------------------------------------------

    def mail_file(
        self, path: Path, source: str, label: str, follow: bool = False
    ) -> Iterator[Candidate | Skipped]:
        """One message in a file of its own (.eml, a Maildir entry)."""
        raw, received_at, problem = self.read(path, self.mail_cap, follow)
        if problem is not None:
            yield problem
        elif not raw:
            yield _mail_unreadable(label, source, "empty")
        else:
            yield from self.message(raw, source, label, received_at)

    def mbox(self, path: Path, follow: bool = False) -> Iterator[Candidate | Skipped]:
        """Each message of an mbox file; a file that holds no message says so."""
        name, source = path.name, str(path)
        try:
            info = path.stat() if follow else path.lstat()
            box = mailbox.mbox(path, factory=None, create=False)
            keys = list(box.iterkeys())
        except OSError as exc:
            yield _unreadable(path, exc)
            return
        except mailbox.Error as exc:
            yield _skip(name, source, "source.mail_unreadable", "refused", reason=exc)
            return
        if not keys:
            yield _mail_unreadable(name, source, "empty" if info.st_size == 0 else "not_mbox")
            return
        fallback = _iso(info.st_mtime)
        for key in keys:
            yield from self.box_message(box, key, path, f"{path.name}#{key + 1}", fallback)

    def maildir(self, folder: Path) -> Iterator[Candidate | Skipped]:
        """Delivered messages in `new/` and `cur/`; `tmp/` holds deliveries in progress."""
        for sub in ("new", "cur"):
            try:
                names = sorted(os.listdir(folder / sub))
            except OSError as exc:
                yield _unreadable(folder / sub, exc)
                continue
            for name in names:
                path = folder / sub / name
                if name.startswith("."):
                    yield _skip(name, str(path), "source.hidden", "ignored")
                    continue
                yield from self.mail_file(path, str(folder), name.split(":", 1)[0])

    def box_message(
        self, box: mailbox.Mailbox, key, where: Path, label: str, fallback: str
    ) -> Iterator[Candidate | Skipped]:
        try:
            with box.get_file(key) as handle:
                raw = handle.read(self.mail_cap + 1)
        except OSError as exc:
            yield _unreadable(where, exc, name=label)
            return
        except (KeyError, mailbox.Error) as exc:
            yield _skip(label, str(where), "source.mail_unreadable", "refused", reason=exc)
            return
        if len(raw) > self.mail_cap:
            yield _too_large(label, str(where), len(raw), self.mail_cap)
            return
        yield from self.message(raw, str(where), label, fallback)

    def message(
        self, raw: bytes, where: str, label: str, fallback: str
    ) -> Iterator[Candidate | Skipped]:
        """Each attachment of one mail: a candidate if it is a spreadsheet, else skipped.
        Something without a single mail header is not a mail; a mail without attachments
        says so."""
        try:
            message = BytesParser(policy=policy.default).parsebytes(raw)
        except (ValueError, TypeError, LookupError) as exc:
            yield _skip(label, where, "source.mail_unreadable", "refused", reason=exc)
            return
        if not message.keys():
            yield _mail_unreadable(label, where, "not_mail")
            return
        message_id = _header(message, "Message-ID").strip().strip("<>") or label
        source = f"mail:{where}#{message_id}"
        received_at = _mail_date(message) or fallback
        sender = _sender(message)
        leaves = [part for part in message.walk() if not part.is_multipart()]
        # a multipart without its closing boundary was cut off in its last part
        cut_short = any(
            isinstance(defect, errors.CloseBoundaryNotFoundDefect)
            for part in message.walk()
            for defect in part.defects
        )
        attachments = 0
        for part in leaves:
            name = attachment_name(part)
            if name is None:
                continue
            attachments += 1
            truncated = cut_short and part is leaves[-1]
            yield from self.attachment(part, name, source, received_at, sender, label, truncated)
        if not attachments:
            yield _skip(label, source, "source.no_attachment", "ignored")

    def attachment(
        self,
        part: EmailMessage,
        name: str,
        source: str,
        received_at: str,
        sender: str,
        mail: str = "",
        truncated: bool = False,
    ) -> Iterator[Candidate | Skipped]:
        """One attachment; `truncated` when the mail was cut off inside it."""
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
            data = _decoded(part)
            if data is None or truncated:
                why = say("source.reason.cut_short" if truncated else "source.reason.bad_base64")
                yield _skip(
                    name, source, "source.attachment_damaged", "refused", mail=mail, reason=why
                )
                return
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
    """A folder with `cur/` and `new/`; an error other than "not there" is raised."""
    return all(_is_folder(folder / sub) for sub in ("cur", "new"))


def _is_folder(path: Path) -> bool:
    try:
        return stat.S_ISDIR(path.stat().st_mode)
    except OSError as exc:
        if exc.errno in (errno.ENOENT, errno.ENOTDIR, errno.ELOOP):
            return False
        raise


# An mbox "From_" line: `From sender Thu Oct  8 09:30:00 2015` (Thunderbird writes `From - …`).
_FROM_LINE = re.compile(
    rb"From \S+ +(Mon|Tue|Wed|Thu|Fri|Sat|Sun) +(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
    rb" +\d{1,2} +\d{1,2}:\d{2}"
)


def _starts_like_mbox(path: Path, follow: bool = False) -> bool:
    """The file starts with an mbox From_ line (a text that starts with "From the office…"
    does not). OSError is raised: a file that cannot be opened cannot be told apart."""
    flags = os.O_RDONLY | os.O_NONBLOCK | (0 if follow else os.O_NOFOLLOW)
    fd = os.open(path, flags)
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return False
        return _FROM_LINE.match(handle.read(200)) is not None


def _decoded(part: EmailMessage) -> bytes | None:
    """The attachment's bytes; None when its base64 is damaged (bad characters, or cut short).

    The email package drops bad characters, pads what is missing, or hands back the encoded
    text itself, so a damaged attachment would reach the reader as some other file."""
    encoding = _header(part, "Content-Transfer-Encoding").strip().lower()
    if encoding != "base64":
        return part.get_payload(decode=True) or b""
    text = part.get_payload()
    if not isinstance(text, str):
        return None
    try:
        return base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError):
        return None


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


def _unreadable(path: Path, exc: OSError, name: str = "") -> Skipped:
    """This computer cannot read `path` (permissions, a path too long …): the office's problem,
    not the unit's, so it waits for the next run instead of being refused."""
    name = name or path.name or str(path)
    return _skip(name, str(path), "source.unreadable", "waiting", path=path, reason=_reason(exc))


_ERRNO_REASONS = {
    errno.EACCES: "permission",
    errno.EPERM: "permission",
    errno.ENAMETOOLONG: "too_long",
    errno.ELOOP: "loop",
    errno.ENOENT: "missing",
    errno.ENOTDIR: "missing",
    errno.EIO: "io",
}


def _reason(exc: OSError) -> str:
    key = _ERRNO_REASONS.get(exc.errno or 0)
    return say(f"source.reason.{key}") if key else (exc.strerror or type(exc).__name__)


def _mail_unreadable(name: str, source: str, reason: str) -> Skipped:
    return _skip(
        name, source, "source.mail_unreadable", "refused", reason=say(f"source.reason.{reason}")
    )


def _skip(name: str, source: str, code: str, kind: SkipKind, **values: object) -> Skipped:
    return Skipped(name, source, code, kind, say(code, name=name, **values))


def _too_large(name: str, source: str, size: int, cap: int) -> Skipped:
    mb, limit = megabytes(size), f"{cap / 1048576:.4g}"
    return _skip(name, source, "source.too_large", "refused", mb=mb, limit=limit)
