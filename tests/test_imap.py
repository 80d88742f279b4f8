"""IMAP intake (`ecoxl fetch`) against a real IMAP server: pymap on 127.0.0.1, started by
the test with a known user, STARTTLS with a certificate from the test's private CA.

Returns are uploaded with APPEND as units' mail clients would send them; the intake must
collect their attachments, flag a message \\Seen only once its attachments are recorded,
leave a message without one unread, and take nothing twice on a rerun, even after the
server rebuilt the folder (a new UIDVALIDITY). If pymap cannot start, the tests are
skipped with its reason; nothing is faked.
"""

from __future__ import annotations

import imaplib
import re
import ssl
from email import policy
from email.message import EmailMessage

import pytest
from click.testing import CliRunner
from fill import fill_form, signed
from fixtures import small_registry
from mailserver import (
    IMAP_PASSWORD,
    PERIOD,
    USER,
    Certificates,
    ImapServer,
    TlsFront,
    make_workspace,
)

from ecoxl.cli import main
from ecoxl.layout import expected_rows
from ecoxl.ledger import Ledger

PASSWORD_ENV = "ECOXL_TEST_IMAP_PASSWORD"
XLSX = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")


@pytest.fixture(scope="module")
def certificates(tmp_path_factory) -> Certificates:
    return Certificates(tmp_path_factory.mktemp("ca"))


@pytest.fixture
def server(certificates):
    imap = ImapServer(certificates)
    reason = imap.start()
    if reason:
        pytest.skip(reason)
    yield imap
    imap.stop()


def imap_workspace(root, monkeypatch, certificates, port: int, security: str):
    """A workspace whose `[imap]` reads the test server, its certificate checked by the CA."""
    monkeypatch.setenv(PASSWORD_ENV, IMAP_PASSWORD)
    imap = {
        "host": "127.0.0.1",
        "port": port,
        "security": security,
        "username": USER,
        "password_env": PASSWORD_ENV,
        "cafile": str(certificates.cafile),
        "timeout": 20.0,
    }
    workspace = make_workspace(root, imap=imap)
    monkeypatch.chdir(workspace.root)
    return workspace


@pytest.fixture
def ws(tmp_path, monkeypatch, certificates, server):
    return imap_workspace(tmp_path / "ws", monkeypatch, certificates, server.port, "starttls")


def connect(server: ImapServer, certificates: Certificates) -> imaplib.IMAP4:
    """The test's own session: to upload returns and look at their flags."""
    client = imaplib.IMAP4("127.0.0.1", server.port, timeout=20)
    client.starttls(ssl_context=ssl.create_default_context(cafile=str(certificates.cafile)))
    client.login(USER, IMAP_PASSWORD)
    return client


def filled(ws, unit: str) -> bytes:
    """The unit's form filled in completely, as a clerk would: accepted when collected."""
    form = ws.forms_dir(PERIOD) / f"{PERIOD}_{unit}_填报表.xlsx"
    answers = {}
    for row in expected_rows(small_registry(), unit):
        answers[row.key] = {"status": "达进度", "progress": "按计划推进"}
        if row.target is not None:
            answers[row.key]["value"] = row.target
    return fill_form(form.read_bytes(), answers, signed())


def returned(ws, unit: str, address: str, *, attach: bool = True) -> bytes:
    """A unit's reply as its mail client sends it, its filled form attached (or not)."""
    msg = EmailMessage()
    msg["From"] = f"{unit} <{address}>"
    msg["To"] = USER
    msg["Subject"] = f"{unit}报送{PERIOD}填报表"
    msg["Message-ID"] = f"<{address.split('@')[0]}.{attach}@xz.example.gov.cn>"
    msg["Date"] = "Thu, 08 Oct 2015 09:30:00 +0800"
    msg.set_content("附件是我单位的填报表，请查收。")
    if attach:
        msg.add_attachment(filled(ws, unit), *XLSX, filename=f"{PERIOD}_{unit}_填报表.xlsx")
    return msg.as_bytes(policy=policy.SMTP)


def upload(client: imaplib.IMAP4, raw: bytes) -> int:
    kind, data = client.append("INBOX", None, None, raw)  # no flags: unseen
    assert kind == "OK"
    return int(re.search(rb"APPENDUID \d+ (\d+)", data[0]).group(1))


def seen(client: imaplib.IMAP4) -> dict[int, bool]:
    client.select("INBOX", readonly=True)
    _, data = client.uid("FETCH", "1:*", "(FLAGS)")
    flags = {}
    for line in data:
        if line:
            uid = int(re.search(rb"UID (\d+)", line).group(1))
            flags[uid] = b"\\Seen" in line
    return flags


def fetch():
    return CliRunner().invoke(main, ["fetch"])


def ledger_rows(ws) -> tuple[list[tuple], int, int]:
    with Ledger(ws.ledger_path) as ledger:
        subs = ledger.db.execute(
            "SELECT unit, sender, source FROM submissions ORDER BY id"
        ).fetchall()
        intake = ledger.db.execute("SELECT COUNT(*) FROM intake").fetchone()[0]
        taken = ledger.db.execute("SELECT COUNT(*) FROM imap_seen").fetchone()[0]
    return subs, intake, taken


def test_fetch_collects_attachments_and_flags_only_what_was_recorded(ws, server, certificates):
    client = connect(server, certificates)
    fgw = upload(client, returned(ws, "市发展改革委", "fgw@xz.example.gov.cn"))
    cgx = upload(client, returned(ws, "城关乡", "cgx@xz.example.gov.cn"))
    chat = upload(client, returned(ws, "市住建局", "zjj@xz.example.gov.cn", attach=False))
    result = fetch()
    assert "Traceback" not in result.output
    assert result.exit_code == 0, result.output  # both returns accepted
    subs, _, taken = ledger_rows(ws)
    assert sorted(s[0] for s in subs) == ["城关乡", "市发展改革委"]
    assert {s[1] for s in subs} == {"fgw@xz.example.gov.cn", "cgx@xz.example.gov.cn"}
    assert all(s[2].startswith(f"mail:imap://{USER}@127.0.0.1/INBOX;UIDVALIDITY=") for s in subs)
    flags = seen(client)
    assert flags[fgw] and flags[cgx]
    assert not flags[chat]  # fetched in full (BODY.PEEK), no attachment: still unread
    assert taken == 3
    assert "没有附件" in result.output
    client.logout()


def test_a_second_run_takes_nothing(ws, server, certificates):
    client = connect(server, certificates)
    upload(client, returned(ws, "市发展改革委", "fgw@xz.example.gov.cn"))
    upload(client, returned(ws, "市住建局", "zjj@xz.example.gov.cn", attach=False))
    fetch()
    before = ledger_rows(ws)
    again = fetch()
    assert ledger_rows(ws) == before  # no submission, no intake line, nothing taken
    assert "回收 0 封" in again.output
    client.logout()


def test_nothing_is_flagged_when_collection_fails(ws, server, certificates):
    client = connect(server, certificates)
    uid = upload(client, returned(ws, "城关乡", "cgx@xz.example.gov.cn"))
    (ws.root / "plan.json").unlink()  # collection cannot start without the registry
    result = fetch()
    assert result.exit_code != 0
    assert seen(client)[uid] is False
    assert ledger_rows(ws)[2] == 0
    client.logout()


def test_a_rebuilt_folder_takes_nothing_twice(ws, server, certificates, tmp_path):
    client = connect(server, certificates)
    raw = returned(ws, "城关乡", "cgx@xz.example.gov.cn")
    upload(client, raw)
    fetch()
    client.logout()
    server.stop()  # the in-memory server forgets its folder: a new one, a new UIDVALIDITY
    assert server.start() == ""
    client = connect(server, certificates)
    uid = upload(client, raw)
    result = fetch()
    assert "UIDVALIDITY" in result.output
    subs, _, _ = ledger_rows(ws)
    assert [s[0] for s in subs] == ["城关乡"]  # recognised by content: recorded once
    assert seen(client)[uid]  # a duplicate is safely recorded: the message is flagged
    client.logout()


def test_wrong_password_is_one_line(ws, monkeypatch):
    monkeypatch.setenv(PASSWORD_ENV, "not-the-password-77")
    result = fetch()
    assert result.exit_code == 1
    assert "127.0.0.1" in result.output and "not-the-password-77" not in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_untrusted_certificate_fails_closed(ws, tmp_path, monkeypatch):
    stranger = Certificates(tmp_path / "other-ca")
    toml = ws.config_path.read_text(encoding="utf-8")
    ws.config_path.write_text(toml.replace(str(ws.settings.imap.cafile), str(stranger.cafile)))
    result = fetch()
    assert result.exit_code == 1, result.output
    assert "证书" in result.output and "cafile" in result.output


def test_fetch_over_implicit_tls(tmp_path, monkeypatch, certificates):
    """`security = "ssl"` (IMAPS), certificate checked against the private CA."""
    plain = ImapServer(certificates, tls=False)
    reason = plain.start()
    if reason:
        pytest.skip(reason)
    try:
        with TlsFront(certificates, plain.port) as front:
            ws = imap_workspace(tmp_path / "ws", monkeypatch, certificates, front.port, "ssl")
            client = imaplib.IMAP4("127.0.0.1", plain.port, timeout=20)
            client.login(USER, IMAP_PASSWORD)
            uid = upload(client, returned(ws, "市发展改革委", "fgw@xz.example.gov.cn"))
            result = fetch()
            assert result.exit_code == 0, result.output
            subs, _, taken = ledger_rows(ws)
            assert [s[0] for s in subs] == ["市发展改革委"] and taken == 1
            assert seen(client)[uid]
            client.logout()
    finally:
        plain.stop()
