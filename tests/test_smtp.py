"""Sending for real: `ecoxl send` against an aiosmtpd server on 127.0.0.1 with AUTH, over
STARTTLS or implicit TLS, its certificate from a private CA trusted through `cafile`.

Checked on what the server received: envelope, headers and attachments decoded and compared
byte for byte with the files on disk; that a rerun sends nothing and `--resend` does; that
a refused recipient, a wrong password, a server that is down and an untrusted certificate
each give a clear line per message, let the others go and end with exit code 1; and that
the password never shows in the output, the log or the ledger.
"""

from __future__ import annotations

import logging
import re

import pytest
from click.testing import CliRunner
from mailserver import (
    CONTACTS,
    LEADERS,
    PASSWORD,
    PERIOD,
    SENDER,
    UNICODE_PASSWORD,
    UNICODE_USER,
    USER,
    Certificates,
    SmtpServer,
    free_port,
    make_workspace,
    submit,
)

from ecoxl.cli import main
from ecoxl.ledger import Ledger
from ecoxl.scorecard import make_scorecard

# implicit TLS: the connection is encrypted, but aiosmtpd cannot tell and warns
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")

PASSWORD_ENV = "ECOXL_TEST_SMTP_PASSWORD"
UNITS = ["市发展改革委", "市住建局", "市文广新局", "城关乡"]  # 新建路街道 has no address


@pytest.fixture(scope="module")
def certificates(tmp_path_factory) -> Certificates:
    return Certificates(tmp_path_factory.mktemp("ca"))


@pytest.fixture
def password(monkeypatch) -> str:
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    return PASSWORD


def workspace(
    tmp_path, monkeypatch, certificates, port: int, security: str = "starttls", user: str = USER
):
    smtp = {
        "host": "127.0.0.1",
        "port": port,
        "security": security,
        "username": user,
        "password_env": PASSWORD_ENV,
        "cafile": str(certificates.cafile),
        "timeout": 10.0,
    }
    ws = make_workspace(tmp_path / "ws", smtp=smtp)
    monkeypatch.chdir(ws.root)
    return ws


def send(*args: str):
    return CliRunner().invoke(main, ["send", *args])


def addresses(unit: str) -> list[str]:
    return re.split(r"[；;]", CONTACTS[unit][1])


def by_recipient(server: SmtpServer) -> dict[str, object]:
    return {r.rcpt_tos[0]: r for r in server.received}


def sent_rows(ws) -> list[tuple]:
    with Ledger(ws.ledger_path) as ledger:
        query = "SELECT unit, recipients, transport, status, error FROM sent ORDER BY id"
        return ledger.db.execute(query).fetchall()


def test_forms_reach_their_units_over_starttls(tmp_path, monkeypatch, certificates, password):
    with SmtpServer(certificates, "starttls") as server:
        ws = workspace(tmp_path, monkeypatch, certificates, server.port)
        result = send("forms")
    assert result.exit_code == 1, result.output  # 新建路街道 has no address: listed, not sent
    assert "新建路街道" in result.output
    received = by_recipient(server)
    assert sorted(received) == sorted(addresses(u)[0] for u in UNITS)
    for unit in UNITS:
        got = received[addresses(unit)[0]]
        assert got.mail_from == SENDER
        assert list(got.rcpt_tos) == addresses(unit)
        assert got.login == USER
        msg = got.message
        assert [a.addr_spec for a in msg["To"].addresses] == addresses(unit)
        assert msg["X-Unsent"] is None
        assert unit in msg["Subject"]
        (part,) = [p for p in msg.walk() if p.get_content_disposition() == "attachment"]
        form = ws.forms_dir(PERIOD) / f"{PERIOD}_{unit}_填报表.xlsx"
        assert part.get_filename() == form.name
        assert part.get_payload(decode=True) == form.read_bytes()
    assert [(row[2], row[3]) for row in sent_rows(ws)] == [("smtp", "sent")] * 4
    assert not ws.outbox_dir(PERIOD).exists()


def test_rerun_sends_nothing_new_and_resend_does(tmp_path, monkeypatch, certificates, password):
    with SmtpServer(certificates, "starttls") as server:
        workspace(tmp_path, monkeypatch, certificates, server.port)
        send("forms")
        assert len(server.received) == 4
        again = send("forms")
        assert len(server.received) == 4
        assert "--resend" in again.output
        send("forms", "--resend")
        assert len(server.received) == 8


def test_scorecard_to_the_leaders_over_implicit_tls(tmp_path, monkeypatch, certificates, password):
    with SmtpServer(certificates, "ssl") as server:
        ws = workspace(tmp_path, monkeypatch, certificates, server.port, "ssl")
        submit(ws, "市发展改革委", "accepted")
        scorecard = make_scorecard(ws, PERIOD).path
        result = send("scorecard")
    assert result.exit_code == 0, result.output
    assert sorted(r.rcpt_tos for r in server.received) == [
        ("deputy@example.gov.cn",),
        ("mayor@example.gov.cn",),
    ]
    mayor = by_recipient(server)["mayor@example.gov.cn"].message
    assert mayor["To"].addresses[0].display_name == LEADERS[0].split(" <")[0]
    (part,) = [p for p in mayor.walk() if p.get_content_disposition() == "attachment"]
    assert part.get_payload(decode=True) == scorecard.read_bytes()
    assert "总体完成率" in mayor.get_body(("plain",)).get_content()


def test_receipts_and_reminders_reach_the_right_people(
    tmp_path, monkeypatch, certificates, password
):
    with SmtpServer(certificates, "starttls") as server:
        ws = workspace(tmp_path, monkeypatch, certificates, server.port)
        submit(ws, "市发展改革委", "accepted", sender="liu@fgw.example.gov.cn")
        submit(ws, "市住建局", "rejected", sender="qi@zjj.example.gov.cn")
        send("receipts")
        receipts = sorted(r.rcpt_tos for r in server.received)
        server.received.clear()
        send("reminders")
        reminders = sorted(r.rcpt_tos for r in server.received)
    assert receipts == [("liu@fgw.example.gov.cn",), ("qi@zjj.example.gov.cn",)]
    expected = sorted(tuple(addresses(u)) for u in ["市住建局", "市文广新局", "城关乡"])
    assert reminders == expected  # not 市发展改革委, whose return is valid


def test_refused_recipient_fails_alone_and_goes_on_the_next_run(
    tmp_path, monkeypatch, certificates, password
):
    refused = addresses("市住建局")[0]
    with SmtpServer(certificates, "starttls", refuse=[refused]) as server:
        ws = workspace(tmp_path, monkeypatch, certificates, server.port)
        result = send("forms")
        assert result.exit_code == 1
        assert len(server.received) == 3  # the others still went
        line = next(line for line in result.output.splitlines() if refused in line)
        assert "市住建局" in line and "550" in line
        statuses = {row[0]: row[3] for row in sent_rows(ws)}
        assert statuses["市住建局"] == "failed"
        server.handler.refuse.clear()
        send("forms")
    assert [r.rcpt_tos[0] for r in server.received[3:]] == [refused]  # only the failed one


def test_wrong_password_is_one_line_per_message(tmp_path, monkeypatch, certificates, caplog):
    wrong = "wrong-密码-Zx9"
    monkeypatch.setenv(PASSWORD_ENV, wrong)
    caplog.set_level(logging.DEBUG)
    with SmtpServer(certificates, "starttls") as server:
        ws = workspace(tmp_path, monkeypatch, certificates, server.port)
        result = send("forms")
    assert result.exit_code == 1
    assert server.received == []
    failed = [line for line in result.output.splitlines() if "535" in line]
    assert len(failed) == 4  # one line for each message
    assert server.handler.logins == 1  # tried once: servers lock accounts after a few
    assert all(row[3] == "failed" for row in sent_rows(ws))
    for text in (result.output, _ledger_text(ws), _our_log(caplog)):
        assert wrong not in text and PASSWORD not in text


def test_password_beyond_ascii_logs_in(tmp_path, monkeypatch, certificates):
    monkeypatch.setenv(PASSWORD_ENV, UNICODE_PASSWORD)
    with SmtpServer(certificates, "starttls") as server:
        workspace(tmp_path, monkeypatch, certificates, server.port, user=UNICODE_USER)
        result = send("forms")
    assert result.exit_code == 1, result.output  # 新建路街道 only
    assert {r.login for r in server.received} == {UNICODE_USER}
    assert len(server.received) == 4


def test_server_down_is_one_line_per_message(tmp_path, monkeypatch, certificates, password):
    ws = workspace(tmp_path, monkeypatch, certificates, free_port())  # nothing listens there
    result = send("forms")
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if "127.0.0.1" in line]
    assert len(lines) == 4
    assert all("无法连接" in line for line in lines)
    assert all(row[3] == "failed" for row in sent_rows(ws))
    retry = send("forms")  # nothing was marked sent: the next run tries them all again
    assert len([line for line in retry.output.splitlines() if "127.0.0.1" in line]) == 4


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_untrusted_certificate_fails_closed(
    tmp_path, monkeypatch, certificates, password, security
):
    stranger = Certificates(tmp_path / "other-ca")  # a CA the client was not told to trust
    with SmtpServer(stranger, security) as server:
        ws = workspace(tmp_path, monkeypatch, certificates, server.port, security)
        result = send("forms")
    assert result.exit_code == 1
    assert server.received == []
    lines = [line for line in result.output.splitlines() if "证书" in line]
    assert len(lines) == 4 and all("cafile" in line for line in lines)
    assert all(row[3] == "failed" for row in sent_rows(ws))


def test_the_password_never_shows(tmp_path, monkeypatch, certificates, password, caplog):
    caplog.set_level(logging.DEBUG)
    with SmtpServer(certificates, "starttls") as server:
        ws = workspace(tmp_path, monkeypatch, certificates, server.port)
        result = send("forms")
        dry = send("reminders", "--dry-run")
    assert len(server.received) == 4
    for text in (result.output, dry.output, _ledger_text(ws), _our_log(caplog)):
        assert PASSWORD not in text


def test_missing_password_variable_stops_before_connecting(tmp_path, monkeypatch, certificates):
    monkeypatch.delenv(PASSWORD_ENV, raising=False)
    with SmtpServer(certificates, "starttls") as server:
        workspace(tmp_path, monkeypatch, certificates, server.port)
        result = send("forms")
    assert result.exit_code == 2
    assert PASSWORD_ENV in result.output
    assert server.received == []


def test_dry_run_needs_no_password_and_opens_no_connection(tmp_path, monkeypatch, certificates):
    monkeypatch.delenv(PASSWORD_ENV, raising=False)
    ws = workspace(tmp_path, monkeypatch, certificates, free_port())
    result = send("forms", "--dry-run")
    assert result.exit_code == 1  # 新建路街道 still cannot be reached
    assert sent_rows(ws) == []
    assert all(unit in result.output for unit in UNITS)


def test_password_over_an_unencrypted_connection_is_refused(tmp_path, monkeypatch, password):
    smtp = {
        "host": "smtp.example.invalid",
        "port": 25,
        "security": "none",
        "username": USER,
        "password_env": PASSWORD_ENV,
    }
    ws = make_workspace(tmp_path / "ws", smtp=smtp)
    monkeypatch.chdir(ws.root)
    result = send("forms")
    assert result.exit_code == 2
    assert "security" in result.output
    assert sent_rows(ws) == []


def _ledger_text(ws) -> str:
    return ws.ledger_path.read_bytes().decode("utf-8", "replace")


def _our_log(caplog) -> str:
    """Everything logged but the test server's own protocol trace."""
    return "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith("mail.log"))
