"""Real mail servers on 127.0.0.1 for the mail tests, started and stopped by the tests.

SMTP: aiosmtpd with AUTH (PLAIN, LOGIN) checked against a test password, either STARTTLS
or implicit TLS, its certificate issued by a private CA that `trustme` makes in the test
(the client trusts it through the `cafile` setting). A second CA makes a certificate the
client must refuse. IMAP: pymap, a pure-Python IMAP server, with its in-memory backend and
one known user, run as a child process (STARTTLS, same private CA).
"""

from __future__ import annotations

import asyncio
import email
import hashlib
import json
import os
import socket
import ssl
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from pathlib import Path

import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from fixtures import small_registry

from ecoxl.contacts import CONTACTS as CONTACTS_SHEET
from ecoxl.findings import Finding
from ecoxl.forms import write_forms
from ecoxl.ledger import Ledger, ReportedRow, Submission
from ecoxl.period import Period
from ecoxl.registry import save_registry
from ecoxl.sheet_table import Styles, write_table
from ecoxl.workspace import Workspace
from ecoxl.xlsx import new_workbook

USER = "office@example.gov.cn"
PASSWORD = "s3cret-Pw-4821"
UNICODE_USER = "unicode@example.gov.cn"
UNICODE_PASSWORD = "密码-Zx9-测试"  # smtplib and imaplib cannot send it with LOGIN
ACCOUNTS = {USER: PASSWORD, UNICODE_USER: UNICODE_PASSWORD}
IMAP_PASSWORD = "imap-s3cret-Pw-1903"


def free_port() -> int:
    """A TCP port nothing listens on right now (closed again at once)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Certificates:
    """A private CA, a server certificate for 127.0.0.1 it issued, and the files for both."""

    folder: Path
    ca: trustme.CA = field(default_factory=trustme.CA)

    def __post_init__(self) -> None:
        self.server = self.ca.issue_cert("127.0.0.1", "localhost")
        self.folder.mkdir(parents=True, exist_ok=True)
        self.cafile = self.folder / "ca.pem"
        self.ca.cert_pem.write_to_path(str(self.cafile))
        self.server_pem = self.folder / "server.pem"
        self.server.private_key_and_cert_chain_pem.write_to_path(str(self.server_pem))

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.server.configure_cert(context)
        return context


@dataclass(frozen=True)
class Received:
    """One message as the server got it: the envelope and the bytes after DATA."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    data: bytes
    login: str

    @property
    def message(self) -> EmailMessage:
        return email.message_from_bytes(self.data, policy=policy.default)


class Recorder:
    """The SMTP handler: checks logins, keeps what arrives, refuses the recipients it is told
    to refuse."""

    def __init__(self, refuse: tuple[str, ...] = ()) -> None:
        self.refuse = set(refuse)
        self.received: list[Received] = []
        self.logins = 0  # AUTH attempts, right or wrong

    def authenticate(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        """Accepts exactly the test ACCOUNTS (LOGIN or PLAIN, UTF-8); anything else gets 535."""
        self.logins += 1
        ok = isinstance(auth_data, LoginPassword) and any(
            auth_data.login == user.encode() and auth_data.password == password.encode()
            for user, password in ACCOUNTS.items()
        )
        return AuthResult(success=ok, handled=False, auth_data=auth_data)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        login = session.login_data.decode() if session.login_data else ""
        self.received.append(
            Received(envelope.mail_from, tuple(envelope.rcpt_tos), envelope.content, login)
        )
        return "250 Message accepted for delivery"


class SmtpServer:
    """An aiosmtpd server on 127.0.0.1 requiring AUTH: `starttls` or implicit `ssl`."""

    def __init__(self, certificates: Certificates, security: str, refuse=()) -> None:
        self.port = free_port()
        self.security = security
        self.handler = Recorder(tuple(refuse))
        tls = {"tls_context": certificates.server_context(), "require_starttls": True}
        if security == "ssl":
            # implicit TLS: aiosmtpd cannot tell, so AUTH must not wait for STARTTLS
            tls = {"ssl_context": certificates.server_context(), "auth_require_tls": False}
        self.controller = Controller(
            self.handler,
            hostname="127.0.0.1",
            port=self.port,
            authenticator=self.handler.authenticate,
            auth_required=True,
            **tls,
        )

    @property
    def received(self) -> list[Received]:
        return self.handler.received

    def __enter__(self) -> SmtpServer:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()


class ImapServer:
    """pymap (dict backend, one user) as a child process on 127.0.0.1, STARTTLS with the test
    CA's certificate (or no TLS, behind a `TlsFront`). `start()` returns the reason when it
    cannot run, so tests skip with it."""

    def __init__(self, certificates: Certificates, user: str = USER, tls: bool = True) -> None:
        self.port = free_port()
        self.user = user
        self.certificates = certificates
        self.tls = tls
        self.process: subprocess.Popen | None = None

    def start(self) -> str:
        pem = str(self.certificates.server_pem)
        tls = ["--cert", pem, "--key", pem] if self.tls else ["--no-tls"]
        command = [
            str(Path(sys.executable).with_name("pymap")),
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            *tls,
            "dict",
            "--demo-user",
            self.user,
            "--demo-password",
            IMAP_PASSWORD,
        ]
        try:
            self.process = subprocess.Popen(
                command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=dict(os.environ)
            )
        except OSError as exc:
            return f"pymap cannot be started: {exc}"
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                output = self.process.stdout.read().decode("utf-8", "replace")
                return f"pymap exited at start-up: {output.strip()[-500:]}"
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return ""
            except OSError:
                time.sleep(0.1)
        self.stop()
        return "pymap did not listen on 127.0.0.1 within 20 seconds"

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.process.stdout.close()
            self.process = None


class TlsFront:
    """Implicit TLS (as IMAPS on port 993) in front of a plain port on 127.0.0.1, with the
    test CA's certificate: what `security = "ssl"` connects to. pymap offers only STARTTLS."""

    def __init__(self, certificates: Certificates, target_port: int) -> None:
        self.port = free_port()
        self.target_port = target_port
        self.context = certificates.server_context()
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def __enter__(self) -> TlsFront:
        self.thread.start()
        serving = self.loop.create_server(
            lambda: _Relay(self.target_port), "127.0.0.1", self.port, ssl=self.context
        )
        self.server = asyncio.run_coroutine_threadsafe(serving, self.loop).result(10)
        return self

    def __exit__(self, *exc: object) -> None:
        self.loop.call_soon_threadsafe(self.server.close)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


class _Relay(asyncio.Protocol):
    """One client's bytes to the plain port and back."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.pending: list[bytes] = []
        self.upstream: asyncio.Transport | None = None

    def connection_made(self, transport) -> None:
        self.client = transport
        loop = asyncio.get_running_loop()
        self.connecting = loop.create_task(self._connect(loop))

    async def _connect(self, loop) -> None:
        back = _Back(self.client)
        self.upstream, _ = await loop.create_connection(lambda: back, "127.0.0.1", self.target_port)
        for data in self.pending:
            self.upstream.write(data)

    def data_received(self, data: bytes) -> None:
        if self.upstream is None:
            self.pending.append(data)
        else:
            self.upstream.write(data)

    def connection_lost(self, exc) -> None:
        if self.upstream is not None:
            self.upstream.close()


class _Back(asyncio.Protocol):
    def __init__(self, client) -> None:
        self.client = client

    def data_received(self, data: bytes) -> None:
        self.client.write(data)

    def connection_lost(self, exc) -> None:
        self.client.close()


# -- the workspace the mail tests send from ------------------------------------------------

PERIOD = "2015-Q3"
DEADLINE = "2015-10-12"
SENDER = "office@example.gov.cn"
OFFICE = "新郑市生态文明建设领导小组办公室"
LEADERS = ("张市长 <mayor@example.gov.cn>", "deputy@example.gov.cn")
# unit → (person, addresses as typed in contacts.xlsx); 新建路街道 has no address
CONTACTS = {
    "市发展改革委": ("刘红军", "fgw@xz.example.gov.cn"),
    "市住建局": ("齐光辉", "zjj@xz.example.gov.cn"),
    "市文广新局": ("刘学敏", "wgx@xz.example.gov.cn；wgx-office@xz.example.gov.cn"),
    "城关乡": ("马东亮", "cgx@xz.example.gov.cn"),
    "新建路街道": ("", ""),
}


def toml_table(name: str, values: dict[str, object]) -> str:
    lines = [f"[{name}]"]
    for key, value in values.items():
        lines.append(f"{key} = {json.dumps(value, ensure_ascii=False)}")
    return "\n".join(lines) + "\n"


def make_workspace(root: Path, **tables: dict[str, object]) -> Workspace:
    """A workspace for the small test plan: plan.json, contacts.xlsx, the 2015-Q3 forms,
    and `ecoxl.toml` with the office, the sender, two leaders and any extra `tables`
    (`smtp={...}`, `imap={...}`)."""
    registry = small_registry()
    root.mkdir(parents=True, exist_ok=True)
    save_registry(registry, root / "plan.json")
    settings = [
        toml_table("plan", {"registry": "plan.json", "contacts": "contacts.xlsx"}),
        toml_table("period", {"current": PERIOD, "deadline": DEADLINE}),
        toml_table("office", {"name": OFFICE, "person": "王敏", "phone": "0371-62600000"}),
        toml_table("mail", {"sender": SENDER, "leaders": list(LEADERS)}),
        *(toml_table(name, values) for name, values in tables.items()),
    ]
    (root / "ecoxl.toml").write_text("\n".join(settings), encoding="utf-8")
    rows = [[unit, person, "", address, "", ""] for unit, (person, address) in CONTACTS.items()]
    workbook = new_workbook(root / "contacts.xlsx")
    write_table(workbook, Styles.of(workbook), CONTACTS_SHEET, rows)
    workbook.close()
    ws = Workspace(root)
    period = Period.parse(PERIOD)
    office = ws.settings.office
    write_forms(registry, period, ws.settings.deadline_for(period), office, ws.forms_dir(PERIOD))
    return ws


def submit(
    ws: Workspace,
    unit: str | None,
    state: str,
    *,
    sender: str = "",
    findings: tuple[Finding, ...] = (),
    name: str = "",
    received_at: str = "2015-10-08T09:30:00+08:00",
    source: str = "mail:inbox/1.eml#return-1@xz.example.gov.cn",
) -> int:
    """Record a returned form in the ledger the way collection does, with one reported row."""
    name = name or f"{PERIOD}_{unit or '无名'}_填报表.xlsx"
    data = f"{unit}|{state}|{sender}|{received_at}|{name}".encode()
    submission = Submission(
        sha256=hashlib.sha256(data).hexdigest(),
        file_name=name,
        source=source,
        received_at=received_at,
        identified_by="identity" if unit else "none",
        state=state,
        unit=unit,
        period=PERIOD if unit else None,
        sender=sender,
    )
    rows = [ReportedRow("1-1", 8, 1, "1-1", "lead", 130.0, 98.0, status="达进度")]
    with Ledger(ws.ledger_path) as ledger:
        return ledger.record_submission(
            submission, rows, list(findings), size=len(data), archive_path=f"archive/{name}"
        )
