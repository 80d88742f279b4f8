"""Composing ecoxl's e-mails: which messages each `ecoxl send` kind produces, their bodies
from the office's templates, and attachments whose Chinese names every client shows.

Composition only reads the workspace (registry, contacts, forms, ledger, scorecard) and
returns data: a `Batch` of `Outgoing` messages and of `Unreachable` units. Writing them to
the outbox or sending them, and the ledger's bookkeeping, is `transport.py`'s job.

Attachment names (docs/MAIL.md): `Content-Disposition` carries the RFC 2231 `filename*`
that standard readers use; `Content-Type` also carries an RFC 2047 encoded `name`, the
form Outlook (over IMAP/POP), Foxmail and QQ Mail fall back to. Both headers are folded
here by hand, so the bytes on the wire are exactly the ones the tests check.
"""

from __future__ import annotations

import base64
import hashlib
import re
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage, MIMEPart
from email.parser import BytesParser
from email.utils import format_datetime, getaddresses, make_msgid
from pathlib import Path
from urllib.parse import quote

import jinja2

from .config import Settings
from .contacts import ContactBook, UnitContact, load_contacts
from .exceptions import ConfigError, MailError
from .findings import Finding
from .forms import form_file_name, safe_file_name
from .ledger import Ledger, SubmissionRecord, now
from .model import Registry
from .period import Period, chinese_date, chinese_time
from .problems import ProblemLine, write_problems
from .registry import load_registry
from .scorecard import forms_sent, read_returns
from .scorecard_overview import BEHIND
from .scoring import compute
from .templating import render
from .texts import inner_quotes, say
from .workspace import Workspace

KINDS = ("forms", "reminders", "receipts", "scorecard")

# SMTP line endings; headers parsed from text we folded ourselves (the attachments') are
# written exactly as they are, the others are folded by the standard library.
POLICY = policy.SMTP.clone(refold_source="none")
MAX_LINE = 78  # RFC 5322's recommended header line length
_WORD_BYTES = 42  # 56 base64 characters: `name="` plus one encoded word stays within 78

MIME_TYPES = {
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".xls": "application/vnd.ms-excel",
    ".ods": "application/vnd.oasis.opendocument.spreadsheet",
    ".pdf": "application/pdf",
}
_SEPARATORS = re.compile(r"[;；，、]")
_ADDRESS = re.compile(r"[^@\s<>()\[\],;:\"]+@[^@\s<>()\[\],;:\"]+\.[^@\s<>()\[\],;:\".]+")


# -- what a run sends ------------------------------------------------------------------


@dataclass(frozen=True)
class Attachment:
    """A file to attach: the name the recipient sees and its bytes."""

    name: str
    data: bytes

    @property
    def mimetype(self) -> str:
        return MIME_TYPES.get(Path(self.name).suffix.lower(), "application/octet-stream")

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


@dataclass(frozen=True)
class Outgoing:
    """One message to send: who gets it, what it says, what it carries.

    `basis` names what is being sent (a form's or scorecard's hash, a submission's hash,
    `missing`): with kind, period, unit, recipients and transport it makes the ledger key
    that stops a rerun from sending the same thing twice.
    """

    kind: str
    period: str
    unit: str
    to: tuple[Address, ...]
    subject: str
    text: str
    html: str
    basis: str
    attachments: tuple[Attachment, ...] = ()
    in_reply_to: str = ""  # the Message-ID a receipt answers, so it threads with the return

    @property
    def recipients(self) -> str:
        return ", ".join(a.addr_spec for a in self.to)

    @property
    def who(self) -> str:
        """How output lines name the recipient: unit (or name) and address."""
        label = self.unit or self.to[0].display_name
        return f"{label} <{self.recipients}>" if label else f"<{self.recipients}>"

    def key(self, transport: str) -> str:
        """Stable across runs; differs per transport, so writing a draft is not sending."""
        addresses = ",".join(sorted(a.addr_spec.lower() for a in self.to))
        parts = (self.kind, self.period, self.unit, addresses, self.basis, transport)
        return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:32]


@dataclass(frozen=True)
class Unreachable:
    """A unit (or file) that should get a message but cannot: listed, never skipped silently."""

    unit: str
    reason: str


@dataclass
class Batch:
    """Everything one `ecoxl send KIND` would send."""

    kind: str
    period: str
    messages: list[Outgoing] = field(default_factory=list)
    unreachable: list[Unreachable] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # contacts.xlsx cells that need fixing


# -- MIME ----------------------------------------------------------------------------------


def encoded_words(text: str) -> list[str]:
    """RFC 2047 B-encoded words of `text`, split between characters, each fitting one line."""
    words, chunk = [], b""
    for char in text:
        data = char.encode("utf-8")
        if chunk and len(chunk) + len(data) > _WORD_BYTES:
            words.append(_encoded_word(chunk))
            chunk = b""
        chunk += data
    if chunk:
        words.append(_encoded_word(chunk))
    return words


def _encoded_word(data: bytes) -> str:
    return f"=?utf-8?b?{base64.b64encode(data).decode('ascii')}?="


def filename_params(name: str) -> list[str]:
    """RFC 2231 `filename*=utf-8''…` lines; continuations `filename*0*=` … when one is too long.

    Split between characters (never inside one), as Thunderbird and Python's own folder do.
    """
    pieces = [quote(char.encode("utf-8"), safe="") for char in name]
    single = " filename*=utf-8''" + "".join(pieces)
    if len(single) <= MAX_LINE:
        return [single]
    segments: list[str] = []
    current = ""
    for piece in pieces:
        head = f" filename*{len(segments)}*=" + ("" if segments else "utf-8''")
        if current and len(head) + len(current) + len(piece) + 1 > MAX_LINE:
            segments.append(current)
            current = ""
        current += piece
    segments.append(current)
    lines = []
    for i, text in enumerate(segments):
        charset = "" if i else "utf-8''"
        end = ";" if i < len(segments) - 1 else ""
        lines.append(f" filename*{i}*={charset}{text}{end}")
    return lines


def attachment_headers(name: str, mimetype: str) -> str:
    """The attachment part's header block, folded, CRLF-terminated."""
    lines = [
        f"Content-Type: {mimetype};",
        ' name="' + "\r\n ".join(encoded_words(name)) + '"',
        "Content-Disposition: attachment;",
        *filename_params(name),
        "Content-Transfer-Encoding: base64",
    ]
    return "\r\n".join(lines) + "\r\n"


def attachment_part(attachment: Attachment) -> MIMEPart:
    """The MIME part of one attachment, its headers exactly as `attachment_headers` folds them."""
    body = base64.encodebytes(attachment.data).decode("ascii").replace("\n", "\r\n")
    raw = attachment_headers(attachment.name, attachment.mimetype) + "\r\n" + body
    return BytesParser(MIMEPart, policy=POLICY).parsebytes(raw.encode("ascii"))


def build_message(out: Outgoing, sender: Address, *, draft: bool = False) -> EmailMessage:
    """The message: text and HTML alternatives, then the attachments.

    `draft` adds `X-Unsent: 1`, which makes Outlook open an .eml as a message ready to send.
    """
    msg = EmailMessage(policy=POLICY)
    msg["From"] = sender
    msg["To"] = out.to
    msg["Subject"] = out.subject
    msg["Date"] = format_datetime(datetime.now().astimezone())
    msg["Message-ID"] = make_msgid(domain=sender.domain or "ecoxl.invalid")
    if out.in_reply_to:
        msg["In-Reply-To"] = out.in_reply_to
        msg["References"] = out.in_reply_to
    if out.kind == "receipts":
        msg["Auto-Submitted"] = "auto-replied"  # RFC 3834: no out-of-office reply to a receipt
    if draft:
        msg["X-Unsent"] = "1"
    msg.set_content(out.text, cte="base64")
    msg.add_alternative(out.html, subtype="html", cte="base64")
    if out.attachments:
        msg.make_mixed()
        for attachment in out.attachments:
            msg.attach(attachment_part(attachment))
    return msg


# -- addresses -----------------------------------------------------------------------------


def parse_addresses(text: str) -> list[tuple[str, str]] | None:
    """(display name, address) pairs from `张三 <a@x.cn>`, `a@x.cn；b@y.cn` and the like;
    None when any part is not an address."""
    pairs = getaddresses([_SEPARATORS.sub(",", text)])
    if not pairs or any(not _ADDRESS.fullmatch(address) for _, address in pairs):
        return None
    return pairs


def mailbox(name: str, address: str) -> Address:
    local, _, domain = address.rpartition("@")
    return Address(display_name=name, username=local, domain=domain)


def sender_mailbox(settings: Settings) -> Address:
    """From: the office's name and the configured sender address."""
    text = (settings.smtp.sender if settings.smtp else "") or settings.sender
    text = text or settings.office.email
    if not text:
        raise ConfigError(say("mail.no_sender"))
    found = parse_addresses(text)
    if found is None or len(found) != 1:
        if settings.smtp and settings.smtp.sender:
            key = ("smtp", "sender")
        else:
            key = ("mail", "sender") if settings.sender else ("office", "email")
        setting = settings.origin.setting(*key)
        raise ConfigError(say("mail.bad_sender", setting=setting, text=text))
    name, address = found[0]
    return mailbox(name or settings.office.name, address)


def leader_mailboxes(settings: Settings) -> list[Address]:
    """`[mail] leaders`: one address per entry, `张市长 <zhang@x.gov.cn>` or bare."""
    result = []
    for text in settings.leaders:
        found = parse_addresses(text)
        if found is None or len(found) != 1:
            setting = settings.origin.setting("mail", "leaders")
            raise ConfigError(say("mail.bad_leader", setting=setting, text=text))
        name, address = found[0]
        result.append(mailbox(name or say("mail.leader"), address))
    if not result:
        raise ConfigError(say("mail.no_leaders"))
    return result


def unit_mailboxes(contact: UnitContact | None) -> tuple[Address, ...]:
    """A unit contact's addresses, named `张三（市林业局）`; empty when it has none."""
    if contact is None:
        return ()
    name = f"{contact.person}（{contact.unit}）" if contact.person else contact.unit
    return tuple(mailbox(name, address) for address in contact.addresses)


# -- bodies --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Context:
    """What every message of one run shares, and how its subjects and bodies are written."""

    settings: Settings
    period: Period
    deadline: date
    plan: str
    templates: Path
    contacts_file: str

    @property
    def code(self) -> str:
        return self.period.code

    def values(self) -> dict[str, object]:
        """The variables every template gets (docs/MAIL.md lists them)."""
        return {
            "office": self.settings.office,
            "period": self.period.label,
            "period_code": self.period.code,
            "deadline": chinese_date(self.deadline),
            "plan": self.plan,
            "today": chinese_date(date.today()),
        }

    def subject(self, key: str, **values: object) -> str:
        return say(key, **{**self.values(), **values})

    def bodies(self, template: str, **values: object) -> tuple[str, str]:
        """The plain-text and HTML bodies from `mail/<template>.txt` and `mail/<template>.html`."""
        merged = {**self.values(), **values}
        return self._render(f"mail/{template}.txt", merged), self._render(
            f"mail/{template}.html", merged
        )

    def _render(self, name: str, values: dict[str, object]) -> str:
        try:
            return render(name, override=self.templates, **values)
        except jinja2.TemplateError as exc:
            raise MailError(say("mail.template", name=name, reason=exc)) from exc


def percent(value: float) -> str:
    return f"{value:.1%}"


def listed(findings: Iterable[Finding]) -> list[Finding]:
    """Findings as a message lists them: errors first, each kind in the order found."""
    return sorted(findings, key=lambda f: f.severity != "error")


def problems_attachment(
    ctx: Context, unit: str, file_name: str, findings: list[Finding]
) -> Attachment:
    """One return's problems as a workbook (collection's problem list, for this file only)."""
    lines = sorted((ProblemLine(unit, f) for f in findings), key=lambda line: line.sort_key)
    name = say("mail.problems_file", stem=Path(file_name).stem or ctx.code)
    when = chinese_time(now())
    title = say("problems.title", period=ctx.period.label, count=len(lines), when=when)
    with tempfile.TemporaryDirectory(prefix="ecoxl-mail-") as folder:
        path = write_problems(Path(folder, safe_file_name(name)), lines, title)
        return Attachment(name, path.read_bytes())


# -- the kinds -----------------------------------------------------------------------------


def compose(ws: Workspace, kind: str, period: str | None = None) -> Batch:
    """The messages `ecoxl send KIND` would send for the period, and the units it cannot reach."""
    if kind not in KINDS:
        raise MailError(say("mail.bad_kind", kind=kind))
    settings = ws.settings
    chosen = settings.period_obj(period)
    registry = load_registry(ws.registry_path)
    ctx = Context(
        settings=settings,
        period=chosen,
        deadline=settings.deadline_for(chosen),
        plan=registry.plan.title,
        templates=ws.templates_dir,
        contacts_file=ws.contacts_path.name,
    )
    if kind == "scorecard":
        with Ledger(ws.ledger_path) as ledger:
            return scorecard_batch(ws, ctx, registry, ledger)
    contacts = load_contacts(ws.contacts_path, registry)
    if kind == "forms":
        batch = forms_batch(ws, ctx, registry, contacts)
    else:
        with Ledger(ws.ledger_path) as ledger:
            if kind == "reminders":
                batch = reminders_batch(ws, ctx, registry, contacts, ledger)
            else:
                batch = receipts_batch(ctx, contacts, ledger)
    # every cell to fix; a unit with no row at all is listed among the unreachable anyway
    batch.notes = [str(f) for f in contacts.findings if f.code != "contacts.unit_missing"]
    return batch


def forms_batch(ws: Workspace, ctx: Context, registry: Registry, contacts: ContactBook) -> Batch:
    """Each reporting unit's form to its contact, with the deadline and how to fill it in."""
    batch = Batch("forms", ctx.code)
    folder = ws.forms_dir(ctx.code)
    if not folder.is_dir() or not any(folder.glob("*.xlsx")):
        raise MailError(say("mail.no_forms", folder=folder, period=ctx.code))
    for unit in registry.reporting_units():
        path = folder / form_file_name(ctx.period, unit)
        contact = contacts.get(unit)
        to = unit_mailboxes(contact)
        if not path.is_file():
            reason = say("mail.no_form", file=path.name, period=ctx.code)
            batch.unreachable.append(Unreachable(unit, reason))
        elif not to:
            batch.unreachable.append(
                Unreachable(unit, say("mail.no_address", file=ctx.contacts_file))
            )
        else:
            form = Attachment(path.name, path.read_bytes())
            person = contact.person if contact else ""
            text, html = ctx.bodies("forms", unit=unit, person=person, file=form.name)
            subject = ctx.subject("mail.subject.forms", unit=unit)
            batch.messages.append(
                Outgoing("forms", ctx.code, unit, to, subject, text, html, form.sha256, (form,))
            )
    return batch


def reminders_batch(
    ws: Workspace, ctx: Context, registry: Registry, contacts: ContactBook, ledger: Ledger
) -> Batch:
    """Units whose valid return is missing, with their form again, or whose return was
    rejected, with its problems listed and attached."""
    batch = Batch("reminders", ctx.code)
    current = ledger.current(ctx.code)
    for unit in registry.reporting_units():
        record = current.get(unit)
        if record is not None and record.current:
            continue
        contact = contacts.get(unit)
        to = unit_mailboxes(contact)
        if not to:
            batch.unreachable.append(
                Unreachable(unit, say("mail.no_address", file=ctx.contacts_file))
            )
            continue
        person = contact.person if contact else ""
        if record is None:
            form = ws.forms_dir(ctx.code) / form_file_name(ctx.period, unit)
            attachments = (Attachment(form.name, form.read_bytes()),) if form.is_file() else ()
            text, html = ctx.bodies(
                "reminder_missing", unit=unit, person=person, attached=bool(attachments)
            )
            subject = ctx.subject("mail.subject.reminder_missing", unit=unit)
            basis = "missing"
        else:
            sub = record.submission
            findings = ledger.problems(submission_id=record.id)
            attachments = (problems_attachment(ctx, unit, sub.file_name, findings),)
            text, html = ctx.bodies(
                "reminder_rejected",
                unit=unit,
                person=person,
                file=sub.file_name,
                received=chinese_time(sub.received_at),
                problems=listed(findings),
            )
            subject = ctx.subject("mail.subject.reminder_rejected", unit=unit)
            basis = sub.sha256
        batch.messages.append(
            Outgoing("reminders", ctx.code, unit, to, subject, text, html, basis, attachments)
        )
    return batch


def receipts_batch(ctx: Context, contacts: ContactBook, ledger: Ledger) -> Batch:
    """A receipt for each return of the period (and each file no period was found for):
    to whoever mailed it, else to the unit's contact."""
    batch = Batch("receipts", ctx.code)
    for record in reversed(ledger.submissions()):
        sub = record.submission
        if sub.period not in (ctx.code, None):
            continue
        unit = sub.unit or ""
        to = _sender_mailboxes(sub.sender, unit) or unit_mailboxes(contacts.get(unit))
        if not to:
            reason = say("mail.no_receipt_address", file=sub.file_name)
            batch.unreachable.append(Unreachable(unit or sub.file_name, reason))
            continue
        batch.messages.append(receipt(ctx, record, to, ledger))
    return batch


def receipt(
    ctx: Context, record: SubmissionRecord, to: tuple[Address, ...], ledger: Ledger
) -> Outgoing:
    """Accepted: what was recorded. Rejected: what to correct, listed and attached."""
    sub = record.submission
    findings = ledger.problems(submission_id=record.id)
    values = {
        "unit": sub.unit or "",
        "file": sub.file_name,
        "received": chinese_time(sub.received_at),
        "problems": listed(findings),
    }
    attachments: tuple[Attachment, ...] = ()
    if sub.state == "accepted":
        rows = ledger.rows(record.id)
        late = sub.received_at[:10] > ctx.deadline.isoformat()
        filled = sum(1 for r in rows if r.value is not None or r.value_text or r.status)
        text, html = ctx.bodies(
            "receipt_accepted", rows=len(rows), filled=filled, late=late, **values
        )
        subject = ctx.subject("mail.subject.receipt_accepted", unit=values["unit"])
    else:
        attachments = (problems_attachment(ctx, sub.unit or "", sub.file_name, findings),)
        text, html = ctx.bodies("receipt_rejected", **values)
        subject = ctx.subject("mail.subject.receipt_rejected", file=sub.file_name)
    return Outgoing(
        "receipts",
        sub.period or "",
        sub.unit or "",
        to,
        subject,
        text,
        html,
        f"{sub.sha256}:{sub.state}",
        attachments,
        in_reply_to=_message_id(sub.source),
    )


def _sender_mailboxes(sender: str, unit: str) -> tuple[Address, ...]:
    found = parse_addresses(sender) if sender else None
    if not found:
        return ()
    name, address = found[0]
    return (mailbox(name or unit, address),)


def _message_id(source: str) -> str:
    """The Message-ID in a mail source (`mail:<where>#<message-id>`), bracketed, or ""."""
    if not source.startswith("mail:") or "#" not in source:
        return ""
    found = source.rpartition("#")[2].strip("<>")
    return f"<{found}>" if "@" in found and " " not in found else ""


def scorecard_batch(ws: Workspace, ctx: Context, registry: Registry, ledger: Ledger) -> Batch:
    """The period's scorecard to each leader, with the headline figures in the body."""
    path = ws.scorecard_path(ctx.code)
    if not path.is_file():
        raise MailError(say("mail.no_scorecard", path=path, period=ctx.code))
    leaders = leader_mailboxes(ctx.settings)
    written = datetime.fromtimestamp(path.stat().st_mtime).astimezone()
    newer = [
        r for r in ledger.submissions(ctx.code) if datetime.fromisoformat(r.collected_at) > written
    ]
    if newer:
        raise MailError(say("mail.stale_scorecard", path=path, count=len(newer), period=ctx.code))
    returns = read_returns(ledger, registry, ctx.period, ctx.deadline, ws.root, path.parent)
    card = compute(
        registry,
        ctx.period,
        ctx.deadline,
        ctx.settings.scoring,
        returns,
        forms_sent(ledger, ctx.period),
    )
    book = Attachment(path.name, path.read_bytes())
    figures = {
        "headline": card.headline,
        "categories": card.categories,
        # 总览's 完成率最低的任务: lowest rate first; the template puts each title in “ ”
        "behind": [
            replace(t, title=inner_quotes(t.title))
            for t in sorted(card.tasks, key=lambda t: t.order)[:BEHIND]
        ],
        "not_returned": [u.name for u in card.units if u.state in ("missing", "rejected")],
        "file": book.name,
        "elapsed": ctx.period.elapsed,
        "percent": percent,
    }
    batch = Batch("scorecard", ctx.code)
    subject = ctx.subject("mail.subject.scorecard")
    for leader in leaders:
        text, html = ctx.bodies("scorecard", leader=leader.display_name, **figures)
        batch.messages.append(
            Outgoing(
                "scorecard", ctx.code, "", (leader,), subject, text, html, book.sha256, (book,)
            )
        )
    return batch
