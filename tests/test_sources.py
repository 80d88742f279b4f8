"""Finding candidates in real folders and real mail files (built with the stdlib)."""

from __future__ import annotations

import base64
import mailbox
import os
import shutil
import signal
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

import hostile
import pytest

from ecoxl.config import Limits
from ecoxl.sources import Candidate, Skipped, find_candidates, safe_name
from ecoxl.texts import megabytes

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
    # 0.19 MB rounds up, never down to the limit; the limit as configured
    assert "0.2 MB" in record.message and "0.1 MB" in record.message
    assert megabytes(21_000_000) == "20.1"  # over a 20 MB limit: never shown as 20.0
    assert megabytes(20 * 1048576) == "20"


def test_links_and_devices_are_not_followed(tmp_path):
    target = hostile.write(tmp_path / "elsewhere", "secret.xlsx", FORM)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "link.xlsx").symlink_to(target)
    (inbox / "loop").symlink_to(inbox)  # a folder linked inside itself
    os.mkfifo(inbox / "pipe.xlsx")
    os.mkfifo(inbox / "pipe")  # no suffix: once opened (blocking) to see if it was an mbox
    signal.signal(signal.SIGALRM, lambda *_: pytest.fail("the walk blocked on a FIFO"))
    signal.alarm(10)
    try:
        records = found(inbox)
    finally:
        signal.alarm(0)
    assert {name: (code(r), r.kind) for name, r in records.items()} == {
        "link.xlsx": ("source.symlink", "ignored"),
        "loop": ("source.symlink", "ignored"),
        "pipe.xlsx": ("source.not_regular", "ignored"),
        "pipe": ("source.not_regular", "ignored"),
    }
    assert "link.xlsx" in records["link.xlsx"].message


def test_a_path_the_user_names_is_followed_even_when_it_is_a_symlink(tmp_path):
    elsewhere = tmp_path / "elsewhere"
    hostile.write(elsewhere, "a.xlsx", FORM)
    hostile.write(elsewhere, "sub/b.xlsx", FORM)
    (elsewhere / "sub" / "back").symlink_to(elsewhere)  # inside the walk: never followed
    (tmp_path / "inbox").symlink_to(elsewhere)
    (tmp_path / "form.xlsx").symlink_to(elsewhere / "a.xlsx")
    (tmp_path / "dangling").symlink_to(tmp_path / "gone")
    (tmp_path / "circle").symlink_to(tmp_path / "circle")
    paths = [tmp_path / n for n in ("inbox", "form.xlsx", "dangling", "circle")]
    records = list(find_candidates(paths, LIMITS))
    assert [(r.source, code(r)) for r in records] == [
        (str(tmp_path / "inbox" / "a.xlsx"), "candidate"),
        (str(tmp_path / "inbox" / "sub" / "b.xlsx"), "candidate"),
        (str(tmp_path / "inbox" / "sub" / "back"), "source.symlink"),
        (str(tmp_path / "form.xlsx"), "candidate"),
        (str(tmp_path / "dangling"), "source.unreadable"),
        (str(tmp_path / "circle"), "source.unreadable"),
    ]
    assert records[3].data == FORM
    # this computer's problem, not the unit's: retried on the next run, never refused
    assert [r.kind for r in records[4:]] == ["waiting", "waiting"]
    assert all(str(r.source) in r.message for r in records[4:])


def deep_folder(top: Path, length: int) -> None:
    """Folders under `top` down to one whose absolute path is `length` characters long, made
    relative to open folders (a path of PATH_MAX characters cannot be made otherwise)."""
    names, left = [], length - len(str(top)) - 1
    while left > 0:
        size = min(250, left) if left - 250 != 1 else 249  # each name needs its "/" after it
        names.append("d" * size)
        left -= size + 1
    fd = os.open(top, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for name in names:
            os.mkdir(name, dir_fd=fd)
            inner = os.open(name, os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
            os.close(fd)
            fd = inner
        form = os.open("form.xlsx", os.O_WRONLY | os.O_CREAT, dir_fd=fd)
        os.write(form, FORM)
        os.close(form)
    finally:
        os.close(fd)


def test_a_folder_that_cannot_be_looked_into_is_one_line_and_the_rest_is_found(tmp_path):
    """A folder whose path is so long that looking for its `cur/` (is it a Maildir?) fails
    with ENAMETOOLONG — an OSError even root gets, like a folder without permission."""
    inbox = tmp_path / "inbox"
    hostile.write(inbox, "a.xlsx", FORM)
    hostile.write(inbox, "z.xlsx", FORM)
    # 4093 characters: the folder itself can be listed, `<folder>/cur` (4097) cannot
    deep_folder(inbox, 4093)
    try:
        records = list(find_candidates([inbox], LIMITS))
    finally:
        shutil.rmtree(inbox / ("d" * 250))
    assert [(r.name, code(r), getattr(r, "kind", "")) for r in records] == [
        ("a.xlsx", "candidate", ""),
        (records[1].name, "source.unreadable", "waiting"),
        ("z.xlsx", "candidate", ""),
    ]
    assert len(records[1].source) == 4093 and records[1].name.startswith("d")


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


def test_broken_mail_files_and_mail_without_attachments_each_have_their_line(tmp_path):
    noise = bytes(range(256)) * 12  # no "From " line, no header, no blank line: not mail
    hostile.write(tmp_path, "noise.mbox", noise)
    hostile.write(tmp_path, "empty.mbox", b"")
    hostile.write(tmp_path, "empty.eml", b"")
    hostile.write(tmp_path, "noise.eml", noise)
    letter = b"From the office of the mayor, greetings.\nPlease find the forms below.\n"
    hostile.write(tmp_path, "letter.txt", letter)
    hostile.write(tmp_path, "letter", letter)
    hostile.write(tmp_path, "letter.mbox", letter)  # a From_ line of sorts, then no header
    hostile.write(tmp_path, "reply.eml", mail([]).as_bytes())  # "will send it tomorrow"
    records = found(tmp_path)
    assert {name: (code(r), r.kind) for name, r in records.items()} == {
        "noise.mbox": ("source.mail_unreadable", "refused"),
        "empty.mbox": ("source.mail_unreadable", "refused"),
        "empty.eml": ("source.mail_unreadable", "refused"),
        "noise.eml": ("source.mail_unreadable", "refused"),
        "letter.txt": ("source.not_spreadsheet", "ignored"),
        "letter": ("source.not_spreadsheet", "ignored"),
        "letter.mbox#1": ("source.mail_unreadable", "refused"),
        "reply.eml": ("source.no_attachment", "ignored"),
    }
    assert all(name.split("#")[0] in r.message for name, r in records.items())


def attached(encoded: bytes) -> bytes:
    """A mail with FORM attached as 2015-Q3_辛店镇_填报表.xlsx, its base64 text replaced."""
    raw = mail([("2015-Q3_辛店镇_填报表.xlsx", FORM, XLSX)]).as_bytes()
    good = base64.encodebytes(FORM)
    assert good in raw
    return raw.replace(good, encoded)


def wrapped(text: bytes) -> bytes:
    return b"".join(text[i : i + 76] + b"\n" for i in range(0, len(text), 76))


def test_a_damaged_attachment_is_refused_naming_its_mail(tmp_path):
    text = base64.b64encode(FORM)
    hostile.write(tmp_path, "bad.eml", attached(wrapped(text[:100] + b"!*" + text[102:])))
    # 4n+1 characters: the email package gives up and hands back the base64 text itself
    short = text[: len(text) // 4 * 4 - 3]
    hostile.write(tmp_path, "short.eml", attached(wrapped(short)))
    # spaces at line ends, as some mailers write: still the file
    hostile.write(tmp_path, "spaces.eml", attached(wrapped(text).replace(b"\n", b" \n")))
    # the mail cut off in the attachment, at a whole base64 line: it decodes, but is not whole
    whole = attached(wrapped(text))
    hostile.write(tmp_path, "cut.eml", whole[: whole.index(text[:76]) + 77 * 3])
    records = {r.source.split("#")[0]: r for r in find_candidates([tmp_path], LIMITS)}
    spaces = records[f"mail:{tmp_path / 'spaces.eml'}"]
    assert isinstance(spaces, Candidate) and spaces.data == FORM
    for mail_name in ("bad.eml", "short.eml", "cut.eml"):
        record = records[f"mail:{tmp_path / mail_name}"]
        assert (code(record), record.kind) == ("source.attachment_damaged", "refused"), mail_name
        assert record.name == "2015-Q3_辛店镇_填报表.xlsx"
        assert mail_name in record.message and record.name in record.message
