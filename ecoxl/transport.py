"""Delivering composed messages: as .eml drafts in the outbox (the default) or through SMTP,
with the ledger's bookkeeping, so a rerun sends nothing twice (docs/MAIL.md).

Each message succeeds or fails on its own: a refused recipient, a rejected login or a
server that is down is one clear line for each message it stops, the others still go,
and the report's exit code says that something failed. A connection that cannot be made
(server down, certificate not trusted, login refused) is tried once per run, not once per
message: mail servers lock an account after a few failed logins.

TLS always verifies the server's certificate: smtplib and imaplib do not unless they are
given a context, so every connection here gets `ssl.create_default_context` (with the
`cafile` setting for a private CA). Passwords come only from the environment variable
that `password_env` names; they are never printed, logged or written anywhere.
"""

from __future__ import annotations

import base64
import os
import smtplib
import ssl
from dataclasses import dataclass, field
from email.headerregistry import Address
from email.message import EmailMessage
from pathlib import Path
from typing import Literal

from .atomic import atomic_target
from .config import Smtp
from .exceptions import ConfigError, EcoxlError
from .forms import safe_file_name
from .ledger import Ledger
from .mail import POLICY, Batch, Outgoing, Unreachable, build_message, compose, sender_mailbox
from .texts import say
from .workspace import Workspace

SECURITY = ("ssl", "starttls", "none")
LOOPBACK = ("127.0.0.1", "::1", "localhost")

Status = Literal["sent", "written", "skipped", "dry", "failed"]


class DeliveryError(Exception):
    """One message could not be delivered; the text is the Chinese reason."""


# -- settings shared by SMTP and IMAP -------------------------------------------------------


def check_security(table: str, security: str) -> None:
    if security not in SECURITY:
        raise ConfigError(say("mail.error.security", table=table, value=security))


def password_for(table: str, host: str, security: str, username: str, password_env: str) -> str:
    """The password from the environment variable `password_env` names ("" without a login).

    Refused over an unencrypted connection to anything but this machine.
    """
    check_security(table, security)
    if not username:
        return ""
    if not password_env:
        raise ConfigError(say("mail.error.no_password_env", table=table))
    if security == "none" and host not in LOOPBACK:
        raise ConfigError(say("mail.error.plaintext", table=table))
    password = os.environ.get(password_env, "")
    if not password:
        raise ConfigError(say("mail.error.password_env_unset", table=table, name=password_env))
    return password


def tls_context(table: str, cafile: str, root: Path) -> ssl.SSLContext:
    """A context that verifies the server's certificate and name; `cafile` adds a private CA
    (a relative path is taken from the workspace folder)."""
    path = Path(root, cafile) if cafile else None
    try:
        return ssl.create_default_context(cafile=str(path) if path else None)
    except (OSError, ssl.SSLError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise ConfigError(say("mail.error.cafile", table=table, path=path, reason=reason)) from exc


def connection_error(table: str, server: str, exc: Exception) -> str:
    """One Chinese line for a failed connection, TLS handshake or login."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        reason = exc.verify_message or exc.reason or str(exc)
        return say("mail.error.certificate", server=server, reason=reason, table=table)
    if isinstance(exc, ssl.SSLError):
        return say("mail.error.tls", server=server, reason=exc.reason or exc)
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return say("mail.error.auth", server=server, reply=reply_text(exc))
    if isinstance(exc, smtplib.SMTPResponseException):
        return say("mail.error.connect", server=server, reason=reply_text(exc))
    if isinstance(exc, OSError) and exc.strerror:
        return say("mail.error.connect", server=server, reason=exc.strerror)
    return say("mail.error.connect", server=server, reason=exc or type(exc).__name__)


def reply_text(exc: smtplib.SMTPResponseException) -> str:
    return _reply(exc.smtp_code, exc.smtp_error)


def _reply(code: int, text: bytes | str) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return f"{code} {' '.join(text.split())}"


# -- transports -----------------------------------------------------------------------------


class Outbox:
    """Writes each message as an .eml draft (`X-Unsent: 1`) into the period's outbox folder."""

    name = "outbox"
    draft = True

    def __init__(self, folder: Path, root: Path) -> None:
        self.folder = folder
        self.root = root

    def __enter__(self) -> Outbox:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def deliver(self, msg: EmailMessage, out: Outgoing) -> str:
        """Never overwrites: a draft already there may have been edited by the office."""
        label = out.unit or out.to[0].display_name or out.to[0].username
        stem = safe_file_name(f"{say(f'mail.kind.{out.kind}')}_{label}")
        path = self.folder / f"{stem}.eml"
        n = 1
        while path.exists():
            n += 1
            path = self.folder / f"{stem}_{n}.eml"
        try:
            with atomic_target(path) as temp:
                temp.write_bytes(msg.as_bytes(policy=POLICY))
        except (OSError, EcoxlError) as exc:
            reason = getattr(exc, "strerror", None) or str(exc)
            raise DeliveryError(say("mail.error.outbox", path=path, reason=reason)) from exc
        return str(path.relative_to(self.root)) if path.is_relative_to(self.root) else str(path)


class SmtpSender:
    """Sends through the `[smtp]` server: one connection for the run, opened on first use."""

    name = "smtp"
    draft = False
    table = "smtp"

    def __init__(self, settings: Smtp, password: str, context: ssl.SSLContext, sender: Address):
        self.settings = settings
        self.password = password
        self.context = context
        self.sender = sender
        self.client: smtplib.SMTP | None = None
        self.broken: str = ""  # why the connection cannot be made, once it failed

    @property
    def server(self) -> str:
        return f"{self.settings.host}:{self.settings.port}"

    def __enter__(self) -> SmtpSender:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.client is not None:
            try:
                self.client.quit()
            except (smtplib.SMTPException, OSError):
                self.client.close()
            self.client = None

    def connect(self) -> smtplib.SMTP:
        s = self.settings
        client: smtplib.SMTP | None = None
        try:
            if s.security == "ssl":
                client = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout, context=self.context)
            else:
                client = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
                if s.security == "starttls":
                    client.ehlo()
                    if not client.has_extn("starttls"):
                        raise DeliveryError(say("mail.error.no_starttls", server=self.server))
                    client.starttls(context=self.context)
                    client.ehlo()
            if s.username:
                login(client, s.username, self.password)
        except DeliveryError:
            _close(client)
            raise
        except (smtplib.SMTPException, OSError) as exc:
            _close(client)
            raise DeliveryError(connection_error(self.table, self.server, exc)) from exc
        return client

    def deliver(self, msg: EmailMessage, out: Outgoing) -> str:
        if self.broken:
            raise DeliveryError(self.broken)
        if self.client is None:
            try:
                self.client = self.connect()
            except DeliveryError as exc:
                self.broken = str(exc)  # the rest of the run fails with it, without retrying
                raise
        recipients = [a.addr_spec for a in out.to]
        try:
            refused = self.client.sendmail(
                self.sender.addr_spec, recipients, msg.as_bytes(policy=POLICY)
            )
        except smtplib.SMTPRecipientsRefused as exc:
            address, (code, text) = next(iter(exc.recipients.items()))
            reason = say("mail.error.recipient", address=address, reply=_reply(code, text))
            raise DeliveryError(reason) from exc
        except smtplib.SMTPSenderRefused as exc:
            reply = _reply(exc.smtp_code, exc.smtp_error)
            raise DeliveryError(say("mail.error.sender", address=exc.sender, reply=reply)) from exc
        except smtplib.SMTPDataError as exc:
            raise DeliveryError(say("mail.error.data", reply=reply_text(exc))) from exc
        except (smtplib.SMTPException, OSError) as exc:
            _close(self.client)
            self.client = None  # the next message reconnects
            reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
            raise DeliveryError(
                say("mail.error.disconnected", server=self.server, reason=reason)
            ) from exc
        if refused:  # some recipients took it, some did not: fix the address, then resend
            address, (code, text) = next(iter(refused.items()))
            raise DeliveryError(
                say("mail.error.recipient", address=address, reply=_reply(code, text))
            )
        return ""


def login(client: smtplib.SMTP, username: str, password: str) -> None:
    """AUTH; smtplib sends credentials as ASCII only, so a password with other characters
    goes as RFC 4616 PLAIN, which carries UTF-8."""
    if username.isascii() and password.isascii():
        client.login(username, password)
        return
    client.ehlo_or_helo_if_needed()
    token = base64.b64encode(f"\0{username}\0{password}".encode()).decode("ascii")
    code, reply = client.docmd("AUTH", f"PLAIN {token}")
    if code != 235:
        raise smtplib.SMTPAuthenticationError(code, reply)


def _close(client: smtplib.SMTP | None) -> None:
    if client is not None:
        client.close()


# -- a run ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Result:
    """What happened to one message: sent, written (outbox), skipped, dry (would send), failed."""

    out: Outgoing
    status: Status
    detail: str = ""  # the .eml written, or why it failed


@dataclass
class SendReport:
    """The outcome of one `ecoxl send KIND`, line by line."""

    kind: str
    transport: str
    folder: str
    dry_run: bool
    results: list[Result] = field(default_factory=list)
    unreachable: list[Unreachable] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def count(self, *statuses: Status) -> int:
        return sum(r.status in statuses for r in self.results)

    @property
    def exit_code(self) -> int:
        """1 when a message failed or a unit could not be reached, else 0."""
        return 1 if self.count("failed") or self.unreachable else 0

    def lines(self) -> list[str]:
        """A line per message (those already sent only in a dry run), per unreachable unit,
        then the counts."""
        shown = [r for r in self.results if r.status != "skipped" or self.dry_run]
        lines = [*self.notes, *(_line(r, self.transport) for r in shown)]
        lines += [
            say("mail.line.unreachable", unit=u.unit, reason=u.reason) for u in self.unreachable
        ]
        values = {
            "kind": say(f"mail.kind.{self.kind}"),
            "total": len(self.results),
            "sent": self.count("sent", "written"),
            "skipped": self.count("skipped"),
            "failed": self.count("failed"),
            "unreachable": len(self.unreachable),
        }
        if self.dry_run:
            lines.append(say("mail.summary_dry", would=self.count("dry"), **values))
        elif self.transport == "outbox":
            lines.append(say("mail.summary_outbox", folder=self.folder, **values))
        else:
            lines.append(say("mail.summary", **values))
        if self.count("skipped"):
            lines.append(say("mail.hint_resend"))
        return lines


def _line(result: Result, transport: str) -> str:
    out = result.out
    if result.status == "sent":
        return say("mail.line.sent", who=out.who, subject=out.subject)
    if result.status == "written":
        return say("mail.line.written", path=result.detail, who=out.who)
    if result.status == "skipped":
        key = "mail.line.already_written" if transport == "outbox" else "mail.line.already"
        return say(key, who=out.who, subject=out.subject)
    if result.status == "failed":
        return say("mail.line.failed", who=out.who, subject=out.subject, reason=result.detail)
    names = "、".join(a.name for a in out.attachments)
    attachments = say("mail.line.attachments", names=names) if names else ""
    return say("mail.line.would_send", who=out.who, subject=out.subject, attachments=attachments)


def send(
    ws: Workspace,
    kind: str,
    period: str | None = None,
    *,
    dry_run: bool = False,
    resend: bool = False,
) -> SendReport:
    """`ecoxl send KIND`: compose the kind's messages and deliver those not yet sent."""
    batch = compose(ws, kind, period)
    return deliver(ws, batch, dry_run=dry_run, resend=resend)


def deliver(
    ws: Workspace, batch: Batch, *, dry_run: bool = False, resend: bool = False
) -> SendReport:
    """Write or send each message of `batch`, recording every attempt in the ledger.

    A message already sent (same key, same transport) is skipped unless `resend`; one that
    failed is recorded as failed, never as sent, so the next run tries it again. A dry run
    opens no connection, reads no password and records nothing.
    """
    settings = ws.settings
    sender = sender_mailbox(settings)
    outbox = ws.outbox_dir(batch.period)
    name = "smtp" if settings.smtp else "outbox"
    folder = str(outbox.relative_to(ws.root))
    report = SendReport(
        batch.kind, name, folder, dry_run, unreachable=batch.unreachable, notes=batch.notes
    )
    with Ledger(ws.ledger_path) as ledger:
        pending = []
        for out in batch.messages:
            if not resend and ledger.was_sent(out.key(name)):
                report.results.append(Result(out, "skipped"))
            elif dry_run:
                report.results.append(Result(out, "dry"))
            else:
                pending.append(out)
        if not pending:
            return report
        with _transport(ws, sender, outbox) as transport:
            for out in pending:
                report.results.append(_deliver_one(ledger, transport, out, sender))
    return report


def _transport(ws: Workspace, sender: Address, outbox: Path) -> Outbox | SmtpSender:
    s = ws.settings.smtp
    if s is None:
        return Outbox(outbox, ws.root)
    password = password_for("smtp", s.host, s.security, s.username, s.password_env)
    return SmtpSender(s, password, tls_context("smtp", s.cafile, ws.root), sender)


def _deliver_one(
    ledger: Ledger, transport: Outbox | SmtpSender, out: Outgoing, sender: Address
) -> Result:
    msg = build_message(out, sender, draft=transport.draft)
    record = {
        "key": out.key(transport.name),
        "kind": out.kind,
        "period": out.period,
        "unit": out.unit,
        "recipients": out.recipients,
        "subject": out.subject,
        "message_id": msg["Message-ID"],
        "transport": transport.name,
    }
    try:
        detail = transport.deliver(msg, out)
    except DeliveryError as exc:
        ledger.record_sent(**record, status="failed", error=str(exc))
        return Result(out, "failed", str(exc))
    ledger.record_sent(**record, status="sent")
    return Result(out, "written" if transport.draft else "sent", detail)
