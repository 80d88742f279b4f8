"""IMAP intake (`ecoxl fetch`): returned forms straight from the office's mailbox.

Unseen messages in the `[imap]` folder are fetched with BODY.PEEK (which, unlike BODY,
leaves them unseen), their attachments become candidates the way `sources` reads any
.eml, and `collect` records them. A message is marked \\Seen only once every attachment
is in the ledger, and its UIDVALIDITY and UID are recorded, so a rerun takes nothing
twice. A message without a spreadsheet attached stays unread for a person to read.

If the server rebuilds the folder (a new UIDVALIDITY), old UIDs mean nothing: unseen
messages are simply checked again, and collection recognises files it already has by
their SHA-256, so nothing is recorded twice.
"""

from __future__ import annotations

import base64
import contextlib
import imaplib
import ssl
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from email import policy
from email.parser import BytesHeaderParser
from pathlib import Path

from .collect import CollectResult, Handled, collect_candidates
from .config import Imap, Limits
from .exceptions import ConfigError, MailError
from .ledger import Ledger
from .sources import Candidate, Skipped, find_candidates
from .texts import say
from .transport import connection_error, password_for, tls_context
from .workspace import Workspace


@dataclass(eq=False)
class Message:
    """One unseen message being taken, and what collection made of its attachments."""

    uid: int
    subject: str
    sender: str
    message_id: str
    expected: int = 0  # attachments (candidates and skipped files) handed to collection
    handled: list[Handled] = field(default_factory=list)

    @classmethod
    def parse(cls, uid: int, raw: bytes) -> Message:
        head = BytesHeaderParser(policy=policy.default).parsebytes(raw)
        return cls(
            uid, _header(head, "Subject"), _header(head, "From"), _header(head, "Message-ID")
        )

    @property
    def recorded(self) -> bool:
        """Every attachment is in the ledger: the message may be flagged \\Seen."""
        return len(self.handled) == self.expected and all(h.recorded for h in self.handled)

    @property
    def shown(self) -> dict[str, str]:
        """How an output line names it."""
        return {"subject": self.subject, "sender": self.sender}


def _header(head, name: str) -> str:
    try:
        return str(head.get(name, "") or "").strip()
    except (ValueError, TypeError, IndexError):  # a header too broken to decode
        return ""


@dataclass
class FetchReport:
    """What `ecoxl fetch` did: a line per message, then collection's own summary."""

    server: str
    folder: str
    unseen: int = 0
    earlier: int = 0  # unseen, but looked at on an earlier run (no attachment)
    lines: list[str] = field(default_factory=list)
    taken: int = 0
    files: int = 0
    kept: int = 0
    collected: CollectResult | None = None

    @property
    def exit_code(self) -> int:
        """Like `ecoxl collect`: 1 when a file was rejected."""
        return 1 if self.collected is not None and self.collected.rejected else 0

    def summary(self) -> str:
        values = {"unseen": self.unseen, "taken": self.taken, "files": self.files}
        values["earlier"] = self.earlier
        head = say("imap.summary", server=self.server, folder=self.folder, kept=self.kept, **values)
        parts = [*self.lines, head]
        if self.collected is not None:
            parts.append(self.collected.summary())
        return "\n".join(parts)


def imap_utf7(name: str) -> str:
    """A folder name in IMAP's modified UTF-7 (RFC 3501 5.1.3): `收件箱` → `&ZTZO9nux-`."""
    out: list[str] = []
    pending: list[str] = []

    def flush() -> None:
        if pending:
            data = base64.b64encode("".join(pending).encode("utf-16-be")).decode("ascii")
            out.append("&" + data.rstrip("=").replace("/", ",") + "-")
            pending.clear()

    for char in name:
        if " " <= char <= "~":
            flush()
            out.append("&-" if char == "&" else char)
        else:
            pending.append(char)
    flush()
    return "".join(out)


def _quoted(name: str) -> str:
    return '"' + imap_utf7(name).replace("\\", "\\\\").replace('"', '\\"') + '"'


class Mailbox:
    """An IMAP connection to one folder: connect, log in, select, search, fetch, flag."""

    def __init__(self, settings: Imap, password: str, context: ssl.SSLContext) -> None:
        self.settings = settings
        self.password = password
        self.context = context
        self.client: imaplib.IMAP4 | None = None

    @property
    def server(self) -> str:
        return f"{self.settings.host}:{self.settings.port}"

    def __enter__(self) -> Mailbox:
        try:
            self.client = self._open()
            self._login()
        except (imaplib.IMAP4.error, OSError, MailError) as exc:
            reason = str(exc) if isinstance(exc, MailError) else self.reason(exc, connecting=True)
            self._drop()
            raise MailError(reason) from exc
        return self

    def _open(self) -> imaplib.IMAP4:
        s = self.settings
        if s.security == "ssl":
            return imaplib.IMAP4_SSL(s.host, s.port, ssl_context=self.context, timeout=s.timeout)
        self.client = imaplib.IMAP4(s.host, s.port, timeout=s.timeout)
        if s.security == "starttls":
            if "STARTTLS" not in self.client.capabilities:
                raise MailError(say("mail.error.no_starttls", server=self.server))
            self.client.starttls(ssl_context=self.context)
        return self.client

    def _login(self) -> None:
        user, password = self.settings.username, self.password
        if user.isascii() and password.isascii():
            self.client.login(user, password)
        else:  # LOGIN is ASCII only; AUTHENTICATE PLAIN carries UTF-8 (RFC 4616)
            plain = f"\0{user}\0{password}".encode()
            self.client.authenticate("PLAIN", lambda _: plain)

    def __exit__(self, *exc: object) -> None:
        if self.client is None:
            return
        try:
            if self.client.state == "SELECTED":
                self.client.close()
            self.client.logout()
            self.client = None
        except (imaplib.IMAP4.error, OSError):
            self._drop()

    def _drop(self) -> None:
        """Close the connection without a word to the server (it failed, or TLS did)."""
        if self.client is not None:
            with contextlib.suppress(OSError):
                self.client.shutdown()
            self.client = None

    def reason(self, exc: Exception, connecting: bool = False) -> str:
        """One Chinese line for an IMAP failure (the password never appears in it)."""
        if isinstance(exc, imaplib.IMAP4.error):
            if connecting:  # the server answered, and said no to the login
                return say("mail.error.auth", server=self.server, reply=_text(exc))
            return say("imap.failed", server=self.server, reason=_text(exc))
        return connection_error("imap", self.server, exc)

    def command(self, name: str, *args: str) -> list:
        """`UID <name> …`; a NO/BAD answer or a broken connection is one `MailError` line."""
        try:
            kind, data = self.client.uid(name, *args)
        except (imaplib.IMAP4.error, OSError) as exc:
            raise MailError(self.reason(exc)) from exc
        if kind != "OK":
            raise MailError(say("imap.failed", server=self.server, reason=_text(data)))
        return data

    def select(self, folder: str) -> int:
        """Open `folder` for reading and flagging; its UIDVALIDITY."""
        try:
            kind, data = self.client.select(_quoted(folder))
            if kind != "OK":
                raise MailError(say("imap.no_folder", folder=folder, reply=_text(data)))
            _, validity = self.client.response("UIDVALIDITY")
        except (imaplib.IMAP4.error, OSError) as exc:
            raise MailError(self.reason(exc)) from exc
        return int(validity[0])

    def unseen(self) -> list[int]:
        data = self.command("SEARCH", "UNSEEN")
        return [int(uid) for uid in b" ".join(d for d in data if d).split()]

    def fetch(self, uid: int) -> bytes:
        """The whole message, without setting \\Seen: BODY.PEEK, not BODY."""
        for item in self.command("FETCH", str(uid), "(BODY.PEEK[])"):
            if isinstance(item, tuple):
                return item[1]
        raise MailError(say("imap.failed", server=self.server, reason=f"UID {uid}"))

    def mark_seen(self, uid: int) -> None:
        self.command("STORE", str(uid), "+FLAGS.SILENT", "(\\Seen)")


def _text(value: object) -> str:
    if isinstance(value, Exception):
        value = value.args[0] if value.args else type(value).__name__
    if isinstance(value, list):
        value = b" ".join(v for v in value if isinstance(v, bytes))
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    return " ".join(str(value).split())


def fetch(ws: Workspace, period: str | None = None) -> FetchReport:
    """`ecoxl fetch`: collect the attachments of the `[imap]` folder's unseen messages."""
    settings = ws.settings
    s = settings.imap
    if s is None:
        raise ConfigError(say("imap.no_settings"))
    password = password_for("imap", s.host, s.security, s.username, s.password_env)
    context = tls_context("imap", s.cafile, ws.root)
    report = FetchReport(f"{s.host}:{s.port}", s.folder)
    with (
        Mailbox(s, password, context) as box,
        Ledger(ws.ledger_path) as ledger,
        tempfile.TemporaryDirectory(prefix="ecoxl-imap-") as scratch,
    ):
        intake = _Intake(box, ledger, report, f"{s.username}@{s.host}/{s.folder}", Path(scratch))
        intake.open(s.folder, settings.limits)
        report.collected = collect_candidates(ws, intake.items(), period, settings, intake.handled)
        intake.finish()
    return report


class _Intake:
    """One run over a folder: hands each unseen message's attachments to collection and
    flags the message once all of them are recorded."""

    def __init__(
        self, box: Mailbox, ledger: Ledger, report: FetchReport, mailbox: str, scratch: Path
    ):
        self.box = box
        self.ledger = ledger
        self.report = report
        self.mailbox = mailbox  # the ledger's name for this account and folder
        self.scratch = scratch
        self.limits = Limits()
        self.validity = 0
        self.url = ""
        self.uids: list[int] = []
        self.messages: dict[str, Message] = {}  # by the source of each of its attachments

    def open(self, folder: str, limits: Limits) -> None:
        """Select the folder, notice a rebuilt one, and list its unseen messages."""
        self.limits = limits
        self.validity = self.box.select(folder)
        known = self.ledger.imap_validities(self.mailbox)
        if known and self.validity not in known:
            line = say("imap.uidvalidity", folder=folder, old=max(known), new=self.validity)
            self.report.lines.append(line)
        self.url = f"imap://{self.mailbox};UIDVALIDITY={self.validity}"
        self.uids = self.box.unseen()
        self.report.unseen = len(self.uids)

    def items(self) -> Iterator[Candidate | Skipped]:
        for uid in self.uids:
            if self.ledger.imap_seen(self.mailbox, self.validity, uid):
                self.report.earlier += 1  # looked at before and left unread on purpose
                continue
            raw = self.box.fetch(uid)
            message = Message.parse(uid, raw)
            found = self.attachments(uid, raw)
            if all(isinstance(item, Skipped) and item.kind == "ignored" for item in found):
                self.ledger.record_imap(self.mailbox, self.validity, uid, message.message_id)
                self.report.kept += 1
                self.report.lines.append(say("imap.line.no_attachment", **message.shown))
                continue
            message.expected = len(found)
            for item in found:
                self.messages[item.source] = message
            yield from found

    def attachments(self, uid: int, raw: bytes) -> list[Candidate | Skipped]:
        """The message's attachments, read exactly as `ecoxl collect` reads an .eml file,
        with the message's IMAP URL as their source."""
        path = self.scratch / f"{uid}.eml"
        path.write_bytes(raw)
        url = f"{self.url}/;UID={uid}"
        found = find_candidates([path], self.limits, settle_seconds=0)
        return [replace(item, source=item.source.replace(str(path), url)) for item in found]

    def handled(self, handled: Handled) -> None:
        """Collection recorded one attachment: flag its message once all of them are."""
        message = self.messages[handled.source]
        message.handled.append(handled)
        if message.recorded:
            # flagged first: a message still unseen but in the ledger was left unread on purpose
            self.box.mark_seen(message.uid)
            self.ledger.record_imap(self.mailbox, self.validity, message.uid, message.message_id)
            self.report.taken += 1
            self.report.files += message.expected
            names = "、".join(h.name for h in message.handled)
            self.report.lines.append(say("imap.line.taken", files=names, **message.shown))

    def finish(self) -> None:
        """Messages with an attachment not yet recorded stay unseen for the next run."""
        for message in dict.fromkeys(self.messages.values()):
            if not message.recorded:
                waiting = [h.reason for h in message.handled if not h.recorded]
                reason = waiting[0] if waiting else say("collect.outcome.waiting")
                self.report.kept += 1
                self.report.lines.append(say("imap.line.kept", reason=reason, **message.shown))
