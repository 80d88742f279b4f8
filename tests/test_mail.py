"""Composing e-mails, and the outbox `ecoxl send` writes when no SMTP server is set.

The attachment headers are checked byte for byte; every message is parsed back with
Python's own parser (both its APIs) and with the intake's reader, so what we write is what
a mail client reads. The outbox tests run the real command in a real workspace: real
forms, a real contacts.xlsx, real submissions in a real ledger, a real scorecard.
"""

from __future__ import annotations

import email
import os
import re
import time
from email import policy
from email.header import decode_header, make_header
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from mailserver import CONTACTS, LEADERS, OFFICE, PERIOD, SENDER, make_workspace, submit

from ecoxl.cli import main
from ecoxl.findings import Finding
from ecoxl.ledger import Ledger
from ecoxl.mail import (
    MIME_TYPES,
    POLICY,
    Attachment,
    Outgoing,
    attachment_headers,
    build_message,
    encoded_words,
    mailbox,
)
from ecoxl.scorecard import make_scorecard
from ecoxl.scorecard_overview import BEHIND
from ecoxl.sources import attachment_name
from ecoxl.texts import inner_quotes

XLSX = MIME_TYPES[".xlsx"]
FORM = "2015-Q3_市林业局_填报表.xlsx"
DATA = b"PK\x03\x04 the bytes of a workbook \x00\xff\r\n."


def message(name: str = FORM, *, draft: bool = True, data: bytes = DATA):
    out = Outgoing(
        "forms",
        PERIOD,
        "市林业局",
        (mailbox("张三（市林业局）", "lyj@xz.example.gov.cn"),),
        "2015年第3季度工作进展填报表（市林业局）",
        "市林业局张三同志：\n\n　　正文。\n",
        "<p>市林业局张三同志：</p>",
        "basis",
        (Attachment(name, data),),
    )
    return build_message(out, mailbox(OFFICE, SENDER), draft=draft)


def attachments(msg) -> list:
    return [p for p in msg.walk() if p.get_content_disposition() == "attachment"]


# -- attachment names ----------------------------------------------------------------------


def test_attachment_headers_exact_bytes():
    """RFC 2047 `name=` on Content-Type for Outlook/Foxmail/QQ Mail, RFC 2231 `filename*=`
    on Content-Disposition (continued past 78 columns, as Thunderbird writes it)."""
    assert attachment_headers(FORM, XLSX) == (
        "Content-Type: application/vnd.openxmlformats-officedocument.spreadsheetml.sheet;\r\n"
        ' name="=?utf-8?b?MjAxNS1RM1/luILmnpfkuJrlsYBf5aGr5oql6KGoLnhsc3g=?="\r\n'
        "Content-Disposition: attachment;\r\n"
        " filename*0*=utf-8''2015-Q3_%E5%B8%82%E6%9E%97%E4%B8%9A%E5%B1%80_%E5%A1%AB;\r\n"
        " filename*1*=%E6%8A%A5%E8%A1%A8.xlsx\r\n"
        "Content-Transfer-Encoding: base64\r\n"
    )
    assert attachment_headers("2015-Q3_考核汇总.xlsx", XLSX) == (
        "Content-Type: application/vnd.openxmlformats-officedocument.spreadsheetml.sheet;\r\n"
        ' name="=?utf-8?b?MjAxNS1RM1/ogIPmoLjmsYfmgLsueGxzeA==?="\r\n'
        "Content-Disposition: attachment;\r\n"
        " filename*=utf-8''2015-Q3_%E8%80%83%E6%A0%B8%E6%B1%87%E6%80%BB.xlsx\r\n"
        "Content-Transfer-Encoding: base64\r\n"
    )


def test_the_exact_headers_reach_the_message_bytes():
    """The standard library must not refold them on the way out."""
    raw = message().as_bytes(policy=POLICY)
    assert attachment_headers(FORM, XLSX).encode("ascii") in raw
    raw.decode("ascii")  # headers encoded, bodies base64: nothing 8-bit anywhere


NAMES = [
    FORM,
    "2015-Q3_考核汇总.xlsx",
    "plain-ascii.xlsx",
    "2015-Q3_新郑市城市管理和综合执法局（城市管理行政执法大队）_填报表.xlsx",
    '名字里有 空格、"引号"、分号;和%号.xlsx',
    "长" * 150 + ".xlsx",
]


@pytest.mark.parametrize("name", NAMES)
def test_attachment_name_reads_back(name):
    raw = message(name).as_bytes(policy=POLICY)
    for parser_policy in (policy.default, policy.compat32):
        parsed = email.message_from_bytes(raw, policy=parser_policy)
        (part,) = attachments(parsed)
        assert part.get_filename() == name
        assert part.get_payload(decode=True) == DATA
    parsed = email.message_from_bytes(raw, policy=policy.default)
    (part,) = attachments(parsed)
    assert attachment_name(part) == name  # ecoxl's own intake reads it back too
    # what an RFC 2047 reader (Outlook over IMAP, Foxmail, QQ Mail) takes from Content-Type
    legacy = email.message_from_bytes(raw, policy=policy.compat32)
    (part,) = attachments(legacy)
    assert str(make_header(decode_header(part.get_param("name")))) == name


@pytest.mark.parametrize("name", NAMES)
def test_attachment_header_lines_stay_within_the_limits(name):
    block = attachment_headers(name, XLSX)
    lines = block.split("\r\n")
    assert all(len(line) <= 80 for line in lines)  # 78, and Content-Type's own first line
    words = re.findall(r"=\?utf-8\?b\?[^?]*\?=", block)
    assert words == encoded_words(name)
    assert all(len(w) <= 75 for w in words)  # RFC 2047's limit for one encoded word


def test_message_headers_and_structure():
    raw = message().as_bytes(policy=POLICY)
    parsed = email.message_from_bytes(raw, policy=policy.default)
    assert parsed["From"].addresses[0].addr_spec == SENDER
    # the office's name, RFC 2047 encoded in two words; decoded as RFC 2047 6.2 says (the
    # space between the words ignored: Python's newer parser keeps it in a display name)
    assert b"From: =?utf-8?b?" in raw
    legacy = email.message_from_bytes(raw, policy=policy.compat32)
    assert str(make_header(decode_header(legacy["From"]))) == f"{OFFICE} <{SENDER}>"
    to = parsed["To"].addresses[0]
    assert (to.display_name, to.addr_spec) == ("张三（市林业局）", "lyj@xz.example.gov.cn")
    assert parsed["Subject"] == "2015年第3季度工作进展填报表（市林业局）"
    assert re.fullmatch(r"<[^<>@\s]+@example\.gov\.cn>", parsed["Message-ID"])
    assert parsed["Date"].datetime is not None
    assert parsed["X-Unsent"] == "1"
    assert parsed.get_content_type() == "multipart/mixed"
    kinds = [p.get_content_type() for p in parsed.iter_parts()]
    assert kinds == ["multipart/alternative", XLSX]
    alternative = next(parsed.iter_parts())
    assert [p.get_content_type() for p in alternative.iter_parts()] == ["text/plain", "text/html"]
    assert parsed.get_body(("plain",)).get_content_charset() == "utf-8"
    assert "正文" in parsed.get_body(("plain",)).get_content()
    assert "张三同志" in parsed.get_body(("html",)).get_content()
    sent = email.message_from_bytes(message(draft=False).as_bytes(), policy=policy.default)
    assert sent["X-Unsent"] is None


# -- the outbox, through the command -------------------------------------------------------


@pytest.fixture
def ws(tmp_path, monkeypatch):
    workspace = make_workspace(tmp_path / "ws")
    monkeypatch.chdir(workspace.root)
    return workspace


def send(*args: str):
    return CliRunner().invoke(main, ["send", *args])


def drafts(ws) -> dict[str, email.message.EmailMessage]:
    folder = ws.outbox_dir(PERIOD)
    return {
        p.name: email.message_from_bytes(p.read_bytes(), policy=policy.default)
        for p in sorted(folder.glob("*.eml"))
    }


def recipients(msg) -> list[str]:
    return [a.addr_spec for a in msg["To"].addresses]


def addresses(unit: str) -> list[str]:
    return re.split(r"[；;]", CONTACTS[unit][1])


def sent_rows(ws) -> list[tuple]:
    with Ledger(ws.ledger_path) as ledger:
        query = "SELECT kind, unit, recipients, transport, status FROM sent ORDER BY id"
        return ledger.db.execute(query).fetchall()


def test_send_forms_writes_drafts_with_the_forms(ws):
    result = send("forms")
    assert result.exit_code == 1, result.output  # 新建路街道 has no address
    written = drafts(ws)
    units = ["市发展改革委", "市住建局", "市文广新局", "城关乡"]
    assert sorted(written) == sorted(f"填报表_{u}.eml" for u in units)
    for unit in units:
        msg = written[f"填报表_{unit}.eml"]
        assert msg["X-Unsent"] == "1"
        assert recipients(msg) == addresses(unit)
        assert msg["To"].addresses[0].display_name == f"{CONTACTS[unit][0]}（{unit}）"
        (part,) = attachments(msg)
        form = ws.forms_dir(PERIOD) / f"{PERIOD}_{unit}_填报表.xlsx"
        assert part.get_filename() == form.name
        assert part.get_payload(decode=True) == form.read_bytes()
        text = msg.get_body(("plain",)).get_content()
        assert unit in text and "2015年10月12日" in text and form.name in text
    assert "新建路街道" in result.output
    assert not any("新建路街道" in name for name in written)
    assert [row[4] for row in sent_rows(ws)] == ["sent"] * 4
    assert {row[3] for row in sent_rows(ws)} == {"outbox"}


def test_rerun_writes_nothing_new_and_resend_does(ws):
    send("forms")
    before = sorted(drafts(ws))
    again = send("forms")
    assert sorted(drafts(ws)) == before
    assert len(sent_rows(ws)) == 4
    assert "--resend" in again.output
    send("forms", "--resend")
    after = drafts(ws)
    assert len(after) == 8  # the first drafts stay: the office may have edited them
    assert "填报表_市住建局_2.eml" in after
    assert len(sent_rows(ws)) == 8


def test_dry_run_writes_and_records_nothing(ws):
    result = send("forms", "--dry-run")
    assert drafts(ws) == {}
    assert sent_rows(ws) == []
    for unit in ["市发展改革委", "市住建局", "市文广新局", "城关乡", "新建路街道"]:
        assert unit in result.output
    assert f"{PERIOD}_市住建局_填报表.xlsx" in result.output  # the attachment it would carry


def test_reminders_go_only_to_missing_and_rejected_units(ws):
    submit(ws, "市发展改革委", "accepted", sender="liu@fgw.example.gov.cn")
    problem = Finding(
        f"{PERIOD}_市住建局_填报表.xlsx",
        "填报表",
        "K12",
        "value.not_number",
        "本期完成值填的是“约九成”，不是数字；应只填数字",
    )
    submit(ws, "市住建局", "rejected", findings=(problem,))
    result = send("reminders")
    assert result.exit_code == 1  # 新建路街道 cannot be reached
    written = drafts(ws)
    assert sorted(written) == sorted(f"催报_{u}.eml" for u in ["市住建局", "市文广新局", "城关乡"])
    rejected = written["催报_市住建局.eml"]
    text = rejected.get_body(("plain",)).get_content()
    assert "填报表!K12" in text and "约九成" in text
    (part,) = attachments(rejected)
    assert part.get_filename() == f"{PERIOD}_市住建局_填报表_问题清单.xlsx"
    book = openpyxl.load_workbook(_saved(ws, part), read_only=True)
    cells = [c for row in book.active.iter_rows(values_only=True) for c in row if c]
    assert "K12" in cells and "value.not_number" in cells
    missing = written["催报_城关乡.eml"]
    (form,) = attachments(missing)
    assert (
        form.get_payload(decode=True) == (ws.forms_dir(PERIOD) / form.get_filename()).read_bytes()
    )
    assert "新建路街道" in result.output


def _saved(ws, part) -> Path:
    path = ws.root / "attachment.xlsx"
    path.write_bytes(part.get_payload(decode=True))
    return path


def test_receipts_go_to_each_sender(ws):
    submit(
        ws,
        "市发展改革委",
        "accepted",
        sender="liu@fgw.example.gov.cn",
        source="mail:inbox/7.eml#return-7@fgw.example.gov.cn",
    )
    problem = Finding(
        "住建局.xlsx", "填报表", "M9", "status.not_in_list", "进展状态“差不多”不在列表中"
    )
    submit(ws, "市住建局", "rejected", sender="qi@zjj.example.gov.cn", findings=(problem,))
    submit(ws, "城关乡", "accepted", source="/inbox/城关乡.xlsx")  # from a folder: its contact
    submit(ws, None, "rejected", sender="who@else.example.com", name="随便什么.xlsx")
    submit(ws, None, "rejected", name="来路不明.xlsx", source="/inbox/来路不明.xlsx")
    result = send("receipts")
    assert result.exit_code == 1  # the last file has nobody to answer
    by_address = {recipients(m)[0]: m for m in drafts(ws).values()}
    assert sorted(by_address) == sorted(
        [
            "liu@fgw.example.gov.cn",
            "qi@zjj.example.gov.cn",
            "cgx@xz.example.gov.cn",
            "who@else.example.com",
        ]
    )
    accepted = by_address["liu@fgw.example.gov.cn"]
    assert accepted["In-Reply-To"] == "<return-7@fgw.example.gov.cn>"
    assert accepted["Auto-Submitted"] == "auto-replied"
    assert attachments(accepted) == []
    assert "共 1 行" in accepted.get_body(("plain",)).get_content()
    rejected = by_address["qi@zjj.example.gov.cn"]
    assert "填报表!M9" in rejected.get_body(("plain",)).get_content()
    assert [p.get_filename() for p in attachments(rejected)] == [
        f"{PERIOD}_市住建局_填报表_问题清单.xlsx"
    ]
    assert "来路不明.xlsx" in result.output


def test_scorecard_goes_to_each_leader_with_the_headline(ws):
    submit(ws, "市发展改革委", "accepted")
    scorecard = make_scorecard(ws, PERIOD).path
    result = send("scorecard")
    assert result.exit_code == 0, result.output
    written = drafts(ws)
    assert sorted(recipients(m)[0] for m in written.values()) == [
        "deputy@example.gov.cn",
        "mayor@example.gov.cn",
    ]
    mayor = next(m for m in written.values() if recipients(m) == ["mayor@example.gov.cn"])
    assert mayor["To"].addresses[0].display_name == LEADERS[0].split(" <")[0]
    (part,) = attachments(mayor)
    assert part.get_filename() == scorecard.name
    assert part.get_payload(decode=True) == scorecard.read_bytes()
    text = mayor.get_body(("plain",)).get_content()
    assert "应报送单位 5 个，已报送 1 个" in text
    assert "市住建局" in text  # among the units that have not returned a valid form


def test_scorecard_lists_the_tasks_furthest_behind_as_its_overview_does(ws):
    # 总览's 完成率最低的任务: lowest rate first, tasks nobody has reported on (0%) included
    submit(ws, "市发展改革委", "accepted")
    card = make_scorecard(ws, PERIOD).card
    assert send("scorecard").exit_code == 0
    mayor = next(m for m in drafts(ws).values() if recipients(m) == ["mayor@example.gov.cn"])
    lowest = sorted(card.tasks, key=lambda t: t.order)[:BEHIND]
    for part in (mayor.get_body(("plain",)), mayor.get_body(("html",))):
        listed = [int(n) for n in re.findall(r"任务(\d+)“", part.get_content())]
        assert listed == [t.number for t in lowest]


def test_a_quoted_title_inside_quotes_gets_single_quotes():
    assert inner_quotes("实施“生态建设”工程") == "实施‘生态建设’工程"
    assert inner_quotes('实施"生态建设"工程,"三年"行动') == "实施‘生态建设’工程,‘三年’行动"
    assert inner_quotes("构建绿色生态安全格局") == "构建绿色生态安全格局"


def test_scorecard_older_than_the_ledger_is_not_sent(ws):
    scorecard = make_scorecard(ws, PERIOD).path
    _age(scorecard)
    submit(ws, "市发展改革委", "accepted")
    result = send("scorecard")
    assert result.exit_code == 1
    assert "ecoxl scorecard" in result.output
    assert drafts(ws) == {}


def _age(path: Path) -> None:
    """Date the file a minute back, so a submission recorded now is clearly newer."""
    past = time.time() - 60
    os.utime(path, (past, past))


def test_office_edited_template_wins(ws):
    folder = ws.templates_dir / "mail"
    folder.mkdir(parents=True)
    (folder / "forms.txt").write_text("{{ unit }}：请于{{ deadline }}前报送。自定义\n", "utf-8")
    send("forms")
    msg = drafts(ws)["填报表_城关乡.eml"]
    assert (
        msg.get_body(("plain",)).get_content().strip() == "城关乡：请于2015年10月12日前报送。自定义"
    )


def test_broken_template_is_one_line_naming_it(ws):
    folder = ws.templates_dir / "mail"
    folder.mkdir(parents=True)
    (folder / "forms.html").write_text("{% if %}", "utf-8")
    result = send("forms")
    assert result.exit_code == 1
    assert "mail/forms.html" in result.output
    assert drafts(ws) == {}


def test_a_period_without_forms_says_what_to_run(ws):
    result = send("forms", "--period", "2015-Q4")
    assert result.exit_code == 1
    assert "ecoxl forms --period 2015-Q4" in result.output
    assert sent_rows(ws) == []


def test_contacts_cells_that_cannot_be_read_are_listed_first(ws):
    book = openpyxl.load_workbook(ws.contacts_path)
    sheet = book.active
    row = next(r for r in sheet.iter_rows(min_row=2) if r[0].value == "新建路街道")
    row[3].value = "xjl-at-example"
    cell = row[3].coordinate
    book.save(ws.contacts_path)
    result = send("forms")
    lines = result.output.splitlines()
    assert "xjl-at-example" in lines[0] and cell in lines[0]  # the cell to fix, first
    assert any(line.startswith("无法发送") and "新建路街道" in line for line in lines)


def test_a_unit_written_twice_in_contacts_is_named_by_its_cell(ws):
    book = openpyxl.load_workbook(ws.contacts_path)
    sheet = book.active
    first = next(r for r in sheet.iter_rows(min_row=2) if r[0].value)
    row = next(r for r in sheet.iter_rows(min_row=2) if r[0].value == "新建路街道")
    row[0].value = first[0].value  # a typo: another unit's name
    cell = row[0].coordinate
    book.save(ws.contacts_path)
    lines = send("forms").output.splitlines()
    assert any(f"联系人!{cell}" in line for line in lines)  # the cell to fix
    assert any(line.startswith("无法发送") and "新建路街道" in line for line in lines)


def test_what_a_unit_typed_is_escaped_in_html_bodies(ws):
    typed = '<img src=x onerror="alert(1)">&amp;'
    problem = Finding(
        f"{PERIOD}_市住建局_填报表.xlsx",
        "填报表",
        "K12",
        "value.not_number",
        f"本期完成值填的是“{typed}”，不是数字",
    )
    submit(ws, "市住建局", "rejected", findings=(problem,))
    send("reminders")
    html = drafts(ws)["催报_市住建局.eml"].get_body(("html",)).get_content()
    assert typed not in html and "<img" not in html
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;&amp;amp;" in html
    text = drafts(ws)["催报_市住建局.eml"].get_body(("plain",)).get_content()
    assert typed in text  # plain text keeps it as typed
