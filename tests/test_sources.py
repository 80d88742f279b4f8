"""Finding candidates in real folders and real mail files (built with the stdlib)."""

from __future__ import annotations

import mailbox
import os
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

import hostile
import pytest

from ecoxl.config import Limits
from ecoxl.sources import Candidate, Skipped, find_candidates, safe_name

LIMITS = Limits()
FORM = hostile.simple_form()
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SENT = datetime(2015, 10, 8, 9, 30, tzinfo=timezone(timedelta(hours=8)))


def found(*paths, limits: Limits = LIMITS, settle: float = 5.0) -> dict[str, Candidate | Skipped]:
    return {r.name: r for r in find_candidates(list(paths), limits, settle_seconds=settle)}


def code(record: Candidate | Skipped) -> str:
    return record.code if isinstance(record, Skipped) else "candidate"


def test_a_folder_is_walked_in_order_and_every_file_is_accounted_for(tmp_path):
    hostile.write(tmp_path, "b.xlsx", FORM)
    hostile.write(tmp_path, "a.xls", b"x")
    hostile.write(tmp_path, "sub/c.ods", b"y")
    hostile.write(tmp_path, "~$b.xlsx", b"owner")
    hostile.write(tmp_path, ".~lock.a.xls#", b"lock")
    hostile.write(tmp_path, ".hidden.xlsx", FORM)
    hostile.write(tmp_path, ".git/config.xlsx", FORM)
    hostile.write(tmp_path, "notes.txt", b"hello")
    hostile.write(tmp_path, "form.zip", b"PK")
    hostile.write(tmp_path, "Thumbs.db", b"")
    records = list(find_candidates([tmp_path], LIMITS))
    assert [(r.name, code(r)) for r in records] == [
        (".git", "source.hidden"),
        (".hidden.xlsx", "source.hidden"),
        (".~lock.a.xls#", "source.lock_file"),
        ("Thumbs.db", "source.hidden"),
        ("a.xls", "source.locked"),
        ("b.xlsx", "source.locked"),
        ("form.zip", "source.archive"),
        ("notes.txt", "source.not_spreadsheet"),
        ("c.ods", "candidate"),
        ("~$b.xlsx", "source.lock_file"),
    ]
    kinds = {r.name: r.kind for r in records if isinstance(r, Skipped)}
    assert kinds["b.xlsx"] == "waiting" and kinds["form.zip"] == "refused"
    assert kinds[".hidden.xlsx"] == "ignored"


def test_a_candidate_carries_the_bytes_read_once_and_its_time(tmp_path):
    path = hostile.write(tmp_path, "环保局.xlsx", FORM)
    [candidate] = list(find_candidates([path], LIMITS))
    assert candidate.data == FORM
    assert candidate.source == str(path)
    assert datetime.fromisoformat(candidate.received_at).timestamp() == pytest.approx(
        path.stat().st_mtime, abs=1
    )


def test_excel_shortens_the_lock_file_of_a_long_name(tmp_path):
    hostile.write(tmp_path, "市发展改革委填报表.xlsx", FORM)
    hostile.write(tmp_path, "~$展改革委填报表.xlsx", b"owner")
    assert code(found(tmp_path)["市发展改革委填报表.xlsx"]) == "source.locked"


def test_a_file_being_copied_waits_and_is_taken_once_settled(tmp_path):
    hostile.write(tmp_path, "new.xlsx", FORM, age_seconds=0)
    record = found(tmp_path)["new.xlsx"]
    assert code(record) == "source.copying" and record.waiting
    assert code(found(tmp_path, settle=0)["new.xlsx"]) == "candidate"


def test_an_empty_file_is_a_candidate_with_no_bytes(tmp_path):
    hostile.write(tmp_path, "empty.xlsx", b"")
    candidate = found(tmp_path)["empty.xlsx"]
    assert isinstance(candidate, Candidate) and candidate.data == b""


def test_a_file_over_the_size_cap_is_not_read(tmp_path):
    hostile.write(tmp_path, "big.xlsx", b"x" * 200_000)
    record = found(tmp_path, limits=Limits(max_file_mb=0.1))["big.xlsx"]
    assert (code(record), record.kind) == ("source.too_large", "refused")


def test_links_and_devices_are_not_followed(tmp_path):
    target = hostile.write(tmp_path / "elsewhere", "secret.xlsx", FORM)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "link.xlsx").symlink_to(target)
    os.mkfifo(inbox / "pipe.xlsx")
    records = found(inbox)
    assert code(records["link.xlsx"]) == "source.not_regular"
    assert code(records["pipe.xlsx"]) == "source.not_regular"


def mail(
    attachments: list[tuple[str, bytes, str]], sender="环保局 <hbj@example.cn>"
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "office@example.cn"
    message["Subject"] = "2015年第三季度填报表"
    message["Date"] = format_datetime(SENT)
    message["Message-ID"] = make_msgid(domain="example.cn")
    message.set_content("请查收。")
    for name, data, mime in attachments:
        maintype, subtype = mime.split("/")
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return message


def test_each_spreadsheet_attachment_of_an_eml_is_a_candidate(tmp_path):
    message = mail([("环保局2015-Q3.xlsx", FORM, XLSX), ("logo.png", b"\x89PNG", "image/png")])
    path = hostile.write(tmp_path, "reply.eml", message.as_bytes())
    records = found(path)
    candidate = records["环保局2015-Q3.xlsx"]
    assert isinstance(candidate, Candidate) and candidate.data == FORM
    assert candidate.sender == "hbj@example.cn"
    assert datetime.fromisoformat(candidate.received_at) == SENT
    message_id = message["Message-ID"].strip("<>")
    assert candidate.source == f"mail:{path}#{message_id}"
    assert code(records["logo.png"]) == "source.not_spreadsheet"


def test_a_foxmail_style_encoded_gb2312_name_is_decoded(tmp_path):
    encoded = (
        "=?GB2312?B?"
        + __import__("base64").b64encode("填报表.xlsx".encode("gb2312")).decode()
        + "?="
    )
    raw = (
        "From: a@example.cn\r\nTo: b@example.cn\r\nSubject: x\r\nMessage-ID: <m1@example.cn>\r\n"
        "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=XX\r\n\r\n"
        "--XX\r\nContent-Type: text/plain\r\n\r\nhi\r\n"
        f'--XX\r\nContent-Type: application/octet-stream; name="{encoded}"\r\n'
        f'Content-Disposition: attachment; filename="{encoded}"\r\n'
        "Content-Transfer-Encoding: base64\r\n\r\n"
        + __import__("base64").encodebytes(FORM).decode().replace("\n", "\r\n")
        + "--XX--\r\n"
    ).encode()
    path = hostile.write(tmp_path, "foxmail.eml", raw)
    candidate = found(path)["填报表.xlsx"]
    assert isinstance(candidate, Candidate) and candidate.data == FORM


def test_mbox_files_are_read_by_suffix_or_by_content(tmp_path):
    box = mailbox.mbox(tmp_path / "Inbox", create=True)
    box.add(mail([("a.xlsx", FORM, XLSX)], sender="a@example.cn"))
    box.add(mail([("b.xls", b"\xd0\xcf", "application/vnd.ms-excel")], sender="b@example.cn"))
    box.flush()
    box.close()
    records = list(find_candidates([tmp_path], LIMITS))
    assert [(r.name, getattr(r, "sender", "")) for r in records] == [
        ("a.xlsx", "a@example.cn"),
        ("b.xls", "b@example.cn"),
    ]
    assert all(r.source.startswith(f"mail:{tmp_path / 'Inbox'}#") for r in records)


def test_maildir_messages_are_read_and_deliveries_in_progress_are_not(tmp_path):
    box = mailbox.Maildir(tmp_path / "Maildir", create=True)
    box.add(mail([("c.xlsx", FORM, XLSX)]))
    (tmp_path / "Maildir" / "tmp" / "123.partial").write_bytes(b"From: x\r\n")
    for sub in ("new", "cur"):
        for entry in (tmp_path / "Maildir" / sub).iterdir():
            os.utime(entry, (0, 0))
    [candidate] = list(find_candidates([tmp_path / "Maildir"], LIMITS))
    assert candidate.name == "c.xlsx" and candidate.data == FORM
    assert candidate.source.startswith(f"mail:{tmp_path / 'Maildir'}#")


def test_an_attachment_name_keeps_its_original_and_gets_a_safe_archive_name(tmp_path):
    message = mail([("../../etc/x.xlsx", FORM, XLSX)])
    path = hostile.write(tmp_path, "escape.eml", message.as_bytes())
    [candidate] = list(find_candidates([path], LIMITS))
    assert candidate.name == "../../etc/x.xlsx"
    assert safe_name(candidate.name) == "x.xlsx"


@pytest.mark.parametrize(
    ("name", "safe"),
    [
        ("../../x.xlsx", "x.xlsx"),
        ("/etc/passwd.xlsx", "passwd.xlsx"),
        ("C:\\Users\\a\\表.xlsx", "表.xlsx"),
        ("CON.xlsx", "_CON.xlsx"),
        ("lpt1.tar.xlsx", "_lpt1.tar.xlsx"),
        ("a\x00b\x1f\u202ec.xlsx", "abc.xlsx"),
        ('a<b>:"|?*.xlsx', "a_b______.xlsx"),
        (".hidden.xlsx", "_hidden.xlsx"),
        ("..", "unnamed"),
        ("name. . ", "name"),
        ("填" * 200 + ".xlsx", "填" * 65 + ".xlsx"),  # 200 bytes of UTF-8
    ],
)
def test_safe_name(name, safe):
    assert safe_name(name) == safe
