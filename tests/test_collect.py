"""Collection end to end on a real workspace: real forms filled as clerks do, a real SQLite
ledger, a real archive folder, the real readers in worker processes. No mocks."""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import subprocess
import sys
import zipfile
from dataclasses import replace
from datetime import date, datetime
from email.message import EmailMessage
from pathlib import Path

import fill
import hostile
import pytest
from click.testing import CliRunner
from fixtures import small_registry
from python_calamine import CalamineWorkbook

from ecoxl import layout
from ecoxl.cli import main
from ecoxl.collect import collect, collect_candidates
from ecoxl.config import Office
from ecoxl.forms import build_form
from ecoxl.ledger import Ledger
from ecoxl.period import Period
from ecoxl.problems import COLUMNS, HEADER_ROW
from ecoxl.simulate import as_mail
from ecoxl.sources import Candidate, Skipped, safe_name
from ecoxl.status import status
from ecoxl.texts import say

Q3 = Period.parse("2015-Q3")
LEAD = "市发展改革委"
BUILDER = "市住建局"
CULTURE = "市文广新局"


@pytest.fixture
def ws(tmp_path):
    return fill.new_workspace(tmp_path / "ws", small_registry())


def return_of(
    unit: str, value: float = 10.0, period: Period = Q3, registry=None, **overrides
) -> bytes:
    """`unit`'s form with every row answered (`value`, 达进度), then the overrides by key."""
    registry = registry or small_registry()
    data = build_form(registry, unit, period, date(2015, 10, 10), Office())
    rows, _ = fill.form_positions(data)
    answers = {key: {"value": value, "status": "达进度"} for key in rows}
    for key, values in overrides.items():
        answers[key] = {**answers[key], **values}
    return fill.fill_form(data, answers, fill.signed())


def outcomes(result) -> dict[str, str]:
    return {h.name: h.outcome for h in result.handled}


def codes(handled) -> list[str]:
    return [f.code for f in handled.findings]


def snapshot(ws) -> dict:
    """Everything the ledger and the archive hold, to compare before and after a run."""
    db = sqlite3.connect(ws.ledger_path)
    tables = {
        name: db.execute(f"SELECT * FROM {name} ORDER BY rowid").fetchall()
        for name in ("files", "intake", "submissions", "rows", "problems")
    }
    db.close()
    files = {
        p.relative_to(ws.archive_dir).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(ws.archive_dir.rglob("*"))
        if p.is_file()
    }
    return {"tables": tables, "archive": files}


# -- a good return ------------------------------------------------------------------------


def test_a_good_return_is_archived_recorded_and_logged(ws):
    data = return_of(LEAD, 12.5, **{"1-2": {"status": "欠进度", "problems": "资金未到位"}})
    fill.drop(ws.inbox_dir, "2015-Q3_市发展改革委_填报表.xlsx", data, datetime(2015, 10, 8, 9, 30))
    result = collect(ws, [ws.inbox_dir])
    assert outcomes(result) == {"2015-Q3_市发展改革委_填报表.xlsx": "accepted"}
    handled = result.handled[0]
    assert handled.recorded and handled.findings == () and not result.rejected
    sha = hashlib.sha256(data).hexdigest()
    assert handled.sha256 == sha
    with Ledger(ws.ledger_path) as ledger:
        record = ledger.current("2015-Q3")[LEAD]
        sub = record.submission
        assert record.current and record.id == handled.submission_id
        assert (sub.sha256, sub.unit, sub.period, sub.state, sub.identified_by) == (
            sha,
            LEAD,
            "2015-Q3",
            "accepted",
            "identity",
        )
        assert sub.received_at.startswith("2015-10-08T09:30")
        assert (sub.filled_by, sub.phone, sub.fill_date) == ("张丽", "0371-62691234", "2015-10-08")
        assert [(r.row_key, r.value, r.status, r.problems) for r in ledger.rows(record.id)] == [
            ("1-1", 12.5, "达进度", ""),
            ("1-2", 12.5, "欠进度", "资金未到位"),
            ("2-1", 12.5, "达进度", ""),
            ("2-2", 12.5, "达进度", ""),
        ]
        archived = ledger.db.execute(
            "SELECT archive_path, size FROM files WHERE sha256=?", (sha,)
        ).fetchone()
        assert [row[4] for row in ledger.intake()] == ["accepted"]
    path = ws.root / archived[0]
    assert path.read_bytes() == data and archived[1] == len(data)
    assert path.parent.name == sha and path.name == safe_name("2015-Q3_市发展改革委_填报表.xlsx")
    assert result.problem_files == [ws.problems_path("2015-Q3")]
    assert not list(ws.archive_dir.rglob(".tmp-*"))


def test_a_rerun_changes_neither_the_ledger_nor_the_archive(ws, monkeypatch):
    fill.drop(ws.inbox_dir, "发改委.xlsx", return_of(LEAD))
    fill.drop(ws.inbox_dir, "住建局.xlsx", return_of(BUILDER, **{"1-1": {"value": "很多"}}))
    fill.drop(ws.inbox_dir, "坏文件.xlsx", hostile.not_a_zip())
    fill.drop(ws.inbox_dir, "~$发改委旧.xlsx", b"lock")
    fill.drop(ws.inbox_dir, "说明.txt", "请查收".encode())
    fill.drop(ws.inbox_dir, "正在复制.xlsx", return_of(CULTURE), datetime.now())
    first = collect(ws, [ws.inbox_dir])
    assert sorted(outcomes(first).values()) == [
        "accepted",
        "rejected",
        "rejected",
        "skipped",
        "skipped",
        "waiting",
    ]
    before = snapshot(ws)
    monkeypatch.chdir(ws.root)
    second = collect(ws, [Path("inbox")])  # the same folder, written another way
    assert outcomes(second) == {
        "发改委.xlsx": "duplicate",
        "住建局.xlsx": "duplicate",
        "坏文件.xlsx": "duplicate",
        "~$发改委旧.xlsx": "skipped",
        "说明.txt": "skipped",
        "正在复制.xlsx": "waiting",
    }
    assert not second.rejected
    assert snapshot(ws) == before
    assert second.problems == first.problems  # the period's problem list is the same


def test_the_same_bytes_from_two_units_are_recorded_once_naming_the_first(ws):
    data = return_of(LEAD)
    fill.drop(ws.inbox_dir / "a", "市发展改革委.xlsx", data, datetime(2015, 10, 8, 9, 0))
    fill.drop(ws.inbox_dir / "b", "市住建局.xlsx", data, datetime(2015, 10, 8, 10, 0))
    result = collect(ws, [ws.inbox_dir])
    first, second = result.handled
    assert (first.outcome, second.outcome) == ("accepted", "duplicate")
    assert second.submission_id == first.submission_id and second.unit == LEAD
    assert codes(second) == ["file.duplicate"] and second.findings[0].severity == "warning"
    with Ledger(ws.ledger_path) as ledger:
        assert len(ledger.submissions("2015-Q3")) == 1
        assert [(row[2], row[4]) for row in ledger.intake()] == [
            ("市发展改革委.xlsx", "accepted"),
            ("市住建局.xlsx", "duplicate"),
        ]
    lines = result.problems["2015-Q3"]
    assert [(line.finding.code, line.finding.file) for line in lines] == [
        ("file.duplicate", "市住建局.xlsx")
    ]


def test_a_resubmission_supersedes_the_earlier_one_and_history_stays(ws):
    fill.drop(ws.inbox_dir, "v1.xlsx", return_of(LEAD, 10.0), datetime(2015, 10, 5, 9, 0))
    collect(ws, [ws.inbox_dir])
    fill.drop(ws.inbox_dir, "v2.xlsx", return_of(LEAD, 20.0), datetime(2015, 10, 8, 9, 0))
    bad = return_of(LEAD, 30.0, **{"1-1": {"status": "干了"}})
    fill.drop(ws.inbox_dir, "v3.xlsx", bad, datetime(2015, 10, 9, 9, 0))
    result = collect(ws, [ws.inbox_dir])
    assert outcomes(result) == {
        "v1.xlsx": "duplicate",
        "v2.xlsx": "accepted",
        "v3.xlsx": "rejected",
    }
    with Ledger(ws.ledger_path) as ledger:
        history = ledger.submissions("2015-Q3", LEAD)
        assert [(r.submission.file_name, r.submission.state, r.current) for r in history] == [
            ("v3.xlsx", "rejected", False),
            ("v2.xlsx", "accepted", True),
            ("v1.xlsx", "accepted", False),
        ]
        current = ledger.current("2015-Q3")[LEAD]
        assert current.submission.file_name == "v2.xlsx"
        assert {r.value for r in ledger.rows(current.id)} == {20.0}
        assert {r.value for r in ledger.rows(history[2].id)} == {10.0}
    shown = next(u for u in status(ws, "2015-Q3").units if u.unit == LEAD)
    assert (shown.state, shown.file, shown.submission_id) == ("received", "v2.xlsx", current.id)
    listed = [(line.finding.file, line.finding.code) for line in result.problems["2015-Q3"]]
    assert listed == [("v3.xlsx", "status.invalid")]  # the unit's latest attempt failed
    fill.drop(ws.inbox_dir, "v4.xlsx", return_of(LEAD, 40.0), datetime(2015, 10, 10, 9, 0))
    again = collect(ws, [ws.inbox_dir])
    assert again.problems["2015-Q3"] == []  # v3 is history now: v4 supersedes it


# -- a batch of everything ---------------------------------------------------------------


def test_the_batch_goes_on_past_every_bad_file(ws):
    inbox = ws.inbox_dir
    fill.drop(inbox, "good.xlsx", return_of(LEAD))
    fill.drop(inbox, "text.xlsx", return_of(BUILDER, **{"3-1": {"value": "两个"}}))
    fill.drop(inbox, "q2.xlsx", return_of(CULTURE, period=Period.parse("2015-Q2")))
    macros = hostile.add_members(return_of(CULTURE), {"xl/vbaProject.bin": b"\x00" * 64})
    fill.drop(inbox, "macros.xlsm", macros)
    fill.drop(inbox, "not-a-zip.xlsx", hostile.not_a_zip())
    fill.drop(inbox, "word.xlsx", hostile.docx())
    fill.drop(inbox, "secret.xlsx", hostile.encrypted_ooxml())
    fill.drop(inbox, "bomb.xlsx", hostile.zip_bomb(50))
    fill.drop(inbox, "far.xlsx", hostile.far_cell())
    fill.drop(inbox, "empty.xlsx", b"")
    fill.drop(inbox, "forms.zip", b"PK\x05\x06" + b"\x00" * 18)
    fill.drop(inbox, "~$other.xlsx", b"lock")
    fill.drop(inbox, ".hidden.xlsx", return_of(LEAD, 99.0))
    fill.drop(inbox, "readme.txt", b"hello")
    fill.drop(inbox, "copying.xlsx", return_of(BUILDER, 5.0), datetime.now())
    fill.drop(inbox, "lying.xlsx", hostile.lying_member())
    fill.drop(inbox, "twice.xlsx", hostile.duplicate_members())
    fill.drop(inbox, "laughs.xlsx", hostile.billion_laughs())
    fill.drop(inbox, "strict.xlsx", hostile.strict_ooxml())
    fill.drop(inbox, "links.xlsx", hostile.with_external_links())
    other = small_registry()
    other.plan = replace(other.plan, title="新郑市2016年工作方案")
    fill.drop(inbox, "other-plan.xlsx", return_of(LEAD, registry=other))
    wider = small_registry()
    wider.tasks[3].responsible_units.append("市财政局")
    fill.drop(inbox, "outsider.xlsx", return_of("市财政局", registry=wider))
    fill.drop(inbox, "edited.xlsx", fill.set_cells(return_of(BUILDER, 6.0), {"H8": 1}))
    result = collect(ws, [inbox])
    by_name = {h.name: h for h in result.handled}
    expected = {
        "good.xlsx": ("accepted", []),
        "macros.xlsm": ("accepted", ["file.macros"]),
        "text.xlsx": ("rejected", ["value.not_number"]),
        "q2.xlsx": ("rejected", ["identity.other_period"]),
        "not-a-zip.xlsx": ("rejected", ["file.not_spreadsheet"]),
        "word.xlsx": ("rejected", ["file.not_spreadsheet"]),
        "secret.xlsx": ("rejected", ["file.encrypted"]),
        "bomb.xlsx": ("rejected", ["file.zip_bomb"]),
        "far.xlsx": ("rejected", ["sheet.far_outside"]),
        "empty.xlsx": ("rejected", ["file.empty"]),
        "forms.zip": ("rejected", ["source.archive"]),
        "~$other.xlsx": ("skipped", []),
        ".hidden.xlsx": ("skipped", []),
        "readme.txt": ("skipped", []),
        "copying.xlsx": ("waiting", []),
        "lying.xlsx": ("rejected", ["file.size_mismatch"]),
        "twice.xlsx": ("rejected", ["file.duplicate_member"]),
        "laughs.xlsx": ("rejected", ["file.xml_entities"]),
        "strict.xlsx": ("rejected", ["file.strict_ooxml"]),
        "links.xlsx": ("rejected", ["file.external_links", "identity.other_plan"]),
        "other-plan.xlsx": ("rejected", ["identity.other_plan"]),
        "outsider.xlsx": ("rejected", ["identity.unknown_unit"]),
        "edited.xlsx": ("rejected", ["prefilled.edited"]),
    }
    assert {name: (h.outcome, codes(h)) for name, h in by_name.items()} == expected
    assert result.rejected
    text = by_name["text.xlsx"].findings[0]
    assert (text.sheet, text.cell) == (layout.FORM_SHEET, "I10")
    with Ledger(ws.ledger_path) as ledger:
        logged = {row[2]: row[4] for row in ledger.intake()}
        assert logged == {name: outcome for name, (outcome, _) in expected.items()}
        current = ledger.current("2015-Q3")
        assert current[LEAD].current and current[CULTURE].current
        assert current[BUILDER].submission.state == "rejected"
        q2 = next(r for r in ledger.submissions("2015-Q3") if r.submission.file_name == "q2.xlsx")
        assert (q2.submission.unit, q2.submission.state) == (CULTURE, "rejected")
    archived = {p.name for p in ws.archive_dir.rglob("*") if p.is_file()}
    assert archived == {
        "good.xlsx",
        "macros.xlsm",
        "text.xlsx",
        "q2.xlsx",
        "not-a-zip.xlsx",
        "word.xlsx",
        "secret.xlsx",
        "bomb.xlsx",
        "far.xlsx",
        "empty.xlsx",
        *("lying.xlsx", "twice.xlsx", "laughs.xlsx", "strict.xlsx", "links.xlsx"),
        *("other-plan.xlsx", "outsider.xlsx", "edited.xlsx"),
    }  # every file read is kept, good or bad: nothing is lost


def test_mail_files_give_one_candidate_per_attachment_with_the_sender(ws):
    message = EmailMessage()
    message["From"] = "林 <clerk@fgw.example.gov.cn>"
    message["To"] = "office@example.gov.cn"
    message["Subject"] = "报送三季度填报表"
    message["Date"] = "Thu, 08 Oct 2015 09:00:00 +0800"
    message["Message-ID"] = "<q3-fgw@example.gov.cn>"
    message.set_content("见附件")
    xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    maintype, subtype = xlsx.split("/")
    for name, data in (("发改委.xlsx", return_of(LEAD)), ("住建局.xlsx", return_of(BUILDER))):
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    fill.drop(ws.inbox_dir, "报送.eml", message.as_bytes())
    result = collect(ws, [ws.inbox_dir])
    assert outcomes(result) == {"发改委.xlsx": "accepted", "住建局.xlsx": "accepted"}
    with Ledger(ws.ledger_path) as ledger:
        subs = [r.submission for r in ledger.submissions("2015-Q3")]
        assert {s.sender for s in subs} == {"clerk@fgw.example.gov.cn"}
        assert all(s.source.startswith("mail:") for s in subs)
        sent = datetime.fromisoformat("2015-10-08T09:00:00+08:00")
        assert {s.received_at for s in subs} == {sent.astimezone().isoformat(timespec="seconds")}


def test_an_attachment_named_to_escape_is_archived_inside_the_archive(ws):
    message = EmailMessage()
    message["From"] = "clerk@fgw.example.gov.cn"
    message["Subject"] = "报送"
    message.set_content("见附件")
    xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    for name in ("../../发改委.xlsx", "CON.xlsx"):
        data = return_of(LEAD if name.startswith("..") else BUILDER)
        message.add_attachment(
            data, maintype=xlsx.split("/")[0], subtype=xlsx.split("/")[1], filename=name
        )
    fill.drop(ws.inbox_dir, "报送.eml", message.as_bytes())
    result = collect(ws, [ws.inbox_dir])
    assert sorted(h.outcome for h in result.handled) == ["accepted", "accepted"]
    archive = ws.archive_dir.resolve()
    kept = [p.resolve() for p in ws.archive_dir.rglob("*") if p.is_file()]
    assert len(kept) == 2 and all(archive in p.parents for p in kept)
    assert sorted(p.name for p in kept) == ["_CON.xlsx", "发改委.xlsx"]  # no path, no device
    assert not list(ws.root.parent.glob("*.xlsx"))  # nothing written beside the workspace


def test_every_file_seen_has_a_line_in_the_summary_and_in_the_intake_log(ws, tmp_path):
    """The inbox itself a symlink to the folder the forms are in (followed: the office chose
    it); inside, a symlink, broken mail files, a mail without attachments, a text, and a mail
    whose attachment was cut off in transit."""
    returns = tmp_path / "returns"
    fill.drop(returns, "发改委.xlsx", return_of(LEAD))
    (returns / "old").symlink_to(tmp_path)  # inside the walk: never followed (loops)
    fill.drop(returns, "noise.mbox", bytes(range(256)) * 8)
    fill.drop(returns, "empty.eml", b"")
    fill.drop(returns, "letter.txt", b"From the office of the mayor\nPlease find...\n")
    note = EmailMessage()
    note["From"] = "林 <clerk@zjj.example.gov.cn>"
    note["Message-ID"] = "<note@example.gov.cn>"
    note.set_content("明天报送")
    fill.drop(returns, "note.eml", note.as_bytes())
    whole = as_mail(
        return_of(BUILDER),
        "住建局.xlsx",
        sender="clerk@zjj.example.gov.cn",
        to="office@example.gov.cn",
        subject="报送",
        body="见附件",
        sent=datetime(2015, 10, 8, 9, 0),
        message_id="<cut@example.gov.cn>",
    )
    fill.drop(returns, "cut.eml", whole[: len(whole) * 2 // 3])
    ws.inbox_dir.symlink_to(returns)
    result = collect(ws, [ws.inbox_dir])
    assert {h.name: (h.outcome, codes(h)) for h in result.handled} == {
        "发改委.xlsx": ("accepted", []),
        "old": ("skipped", []),
        "noise.mbox": ("rejected", ["source.mail_unreadable"]),
        "empty.eml": ("rejected", ["source.mail_unreadable"]),
        "letter.txt": ("skipped", []),
        "note.eml": ("skipped", []),
        "住建局.xlsx": ("rejected", ["source.attachment_damaged"]),
    }
    summary = result.summary()
    counts = [int(n) for n in summary.splitlines()[3].split()]
    assert counts[0] == len(result.handled) == sum(counts[1:])
    for name in ("old", "noise.mbox", "empty.eml", "letter.txt", "note.eml", "cut.eml"):
        assert name in summary, name
    cut = next(h for h in result.handled if h.name == "住建局.xlsx")
    assert cut.unit == BUILDER and "cut.eml" in cut.findings[0].message  # named, and its mail
    assert [(line.unit, line.finding.code) for line in result.problems["2015-Q3"]] == [
        (BUILDER, "source.attachment_damaged"),
        ("", "source.mail_unreadable"),
        ("", "source.mail_unreadable"),
    ]
    with Ledger(ws.ledger_path) as ledger:
        logged = {row[2]: row[4] for row in ledger.intake()}
    assert logged == {h.name: h.outcome for h in result.handled}


def without_file_permissions(command: list[str]) -> list[str]:
    """`command` run where file permissions apply: as root, without the two capabilities
    that let root read any file or folder (setpriv, as the audit ran it)."""
    if os.geteuid() != 0:
        return command
    setpriv = shutil.which("setpriv")
    drop = [
        "--inh-caps=-dac_override,-dac_read_search",
        "--bounding-set=-dac_override,-dac_read_search",
    ]
    if setpriv is None or subprocess.run([setpriv, *drop, "true"], check=False).returncode:
        pytest.skip("running as root, and setpriv cannot drop root's right to read any file")
    return [setpriv, *drop, *command]


def test_what_this_computer_cannot_read_waits_and_the_rest_is_collected(ws):
    """A folder and a file without read permission: the office's own problem, so they wait
    for the next run, each with a line saying what to fix, and never reach the problem list
    the office forwards to the units."""
    folder = ws.root / "bn"
    fill.drop(folder, "发改委.xlsx", return_of(LEAD))
    fill.drop(folder / "lockeddir", "住建局.xlsx", return_of(BUILDER))
    locked = fill.drop(folder, "文广新局.xlsx", return_of(CULTURE))
    (folder / "lockeddir").chmod(0)
    locked.chmod(0)
    try:
        command = without_file_permissions([sys.executable, "-m", "ecoxl", "collect", "bn"])
        run = subprocess.run(command, cwd=ws.root, capture_output=True, text=True, timeout=300)
    finally:
        (folder / "lockeddir").chmod(0o755)
        locked.chmod(0o644)
    assert run.returncode == 0, run.stdout + run.stderr
    waiting = run.stdout.split(say("collect.waiting"))[1].splitlines()[1:3]
    assert str(folder / "lockeddir") in waiting[0] and str(locked) in waiting[1]
    with Ledger(ws.ledger_path) as ledger:
        logged = {row[2]: row[4] for row in ledger.intake()}
        assert logged == {
            "发改委.xlsx": "accepted",
            "lockeddir": "waiting",
            "文广新局.xlsx": "waiting",
        }
    sheet = CalamineWorkbook.from_path(ws.problems_path("2015-Q3")).get_sheet_by_index(0)
    assert "lockeddir" not in str(sheet.to_python()) and "文广新局" not in str(sheet.to_python())
    again = collect(ws, [folder])  # permissions fixed: taken on the next run
    assert outcomes(again) == {
        "发改委.xlsx": "duplicate",
        "住建局.xlsx": "accepted",
        "文广新局.xlsx": "accepted",
    }


# -- candidates from elsewhere (IMAP) -------------------------------------------------------


def test_collect_candidates_reports_each_one_as_soon_as_it_is_recorded(ws):
    heard = []
    good = Candidate("发改委.xlsx", "mail:INBOX#1", return_of(LEAD), "2015-10-08T09:00:00+08:00")
    broken = Candidate("坏.xlsx", "mail:INBOX#2", b"not a workbook", "2015-10-08T10:00:00+08:00")
    note = Skipped("说明.pdf", "mail:INBOX#2", "source.not_spreadsheet", "ignored", "不是表格")
    result = collect_candidates(ws, [good, broken, note, good], on_handled=heard.append)
    assert [(h.name, h.outcome, h.recorded) for h in result.handled] == [
        ("发改委.xlsx", "accepted", True),
        ("坏.xlsx", "rejected", True),
        ("说明.pdf", "skipped", True),
        ("发改委.xlsx", "duplicate", True),
    ]
    assert sorted(h.name for h in heard) == sorted(h.name for h in result.handled)
    with Ledger(ws.ledger_path) as ledger:
        assert len(ledger.submissions("2015-Q3")) == 2
        assert len(ledger.intake()) == 3  # the second copy came from the same message


# -- the problem list ------------------------------------------------------------------------


def test_problems_are_written_to_a_workbook_as_text(ws):
    formula = fill.Formula("=SUM(60,60)", 120.0)
    data = return_of(LEAD, **{"1-1": {"value": formula}, "1-2": {"progress": "=不是公式"}})
    fill.drop(ws.inbox_dir, "发改委.xlsx", data)
    fill.drop(ws.inbox_dir, "坏.xlsx", hostile.not_a_zip())
    result = collect(ws, [ws.inbox_dir])
    path = ws.problems_path("2015-Q3")
    assert result.problem_files == [path]
    sheet = CalamineWorkbook.from_path(path).get_sheet_by_index(0).to_python()
    assert sheet[0][0].startswith("2015年第3季度回收问题清单")  # the period in words
    header = sheet[HEADER_ROW]
    assert len(header) == len(COLUMNS)
    lines = [
        dict(zip([c.key for c in COLUMNS], row, strict=True)) for row in sheet[HEADER_ROW + 1 :]
    ]
    assert [(line["unit"], line["file"], line["cell"], line["code"]) for line in lines] == [
        (LEAD, "发改委.xlsx", "I8", "value.formula"),
        ("", "坏.xlsx", "", "file.not_spreadsheet"),
    ]
    assert all(isinstance(v, str) and v for v in (lines[0]["message"], lines[0]["advice"]))
    with zipfile.ZipFile(path) as book:
        assert b"<f>" not in book.read("xl/worksheets/sheet1.xml")


# -- the command ----------------------------------------------------------------------------


def test_the_command_prints_a_summary_and_exits_non_zero_when_a_file_is_rejected(ws, monkeypatch):
    monkeypatch.chdir(ws.root)
    fill.drop(ws.inbox_dir, "发改委.xlsx", return_of(LEAD))
    runner = CliRunner()
    clean = runner.invoke(main, ["collect"])
    assert clean.exit_code == 0, clean.output
    other = ws.root / "returns"
    fill.drop(other, "住建局.xlsx", return_of(BUILDER, **{"1-1": {"value": "很多"}}))
    rejected = runner.invoke(main, ["collect", str(other), "--period", "2015-Q3"])
    assert rejected.exit_code == 1
    assert "填报表!I8" in rejected.output and "value.not_number" in rejected.output
    assert str(ws.problems_path("2015-Q3")) in rejected.output


def test_a_file_path_as_argument_is_collected(ws, monkeypatch):
    monkeypatch.chdir(ws.root)
    path = fill.drop(ws.root / "elsewhere", "文广新局.xlsx", return_of(CULTURE))
    result = CliRunner().invoke(main, ["collect", str(path)])
    assert result.exit_code == 0, result.output
    with Ledger(ws.ledger_path) as ledger:
        assert ledger.current("2015-Q3")[CULTURE].submission.source == str(path)


def test_no_period_anywhere_collects_every_period_and_lists_problems_per_period(tmp_path):
    ws = fill.new_workspace(tmp_path / "ws", small_registry(), period="")
    fill.drop(ws.inbox_dir, "q2.xlsx", return_of(LEAD, period=Period.parse("2015-Q2")))
    fill.drop(ws.inbox_dir, "q3.xlsx", return_of(LEAD, **{"1-1": {"status": "完成了"}}))
    result = collect(ws, [ws.inbox_dir])
    assert result.period is None
    assert [(h.outcome, h.period) for h in result.handled] == [
        ("accepted", "2015-Q2"),
        ("rejected", "2015-Q3"),
    ]
    assert sorted(result.problems) == ["2015-Q2", "2015-Q3"]
    assert result.problems["2015-Q2"] == []
    assert [line.finding.code for line in result.problems["2015-Q3"]] == ["status.invalid"]
    assert Path(ws.problems_path("2015-Q2")).exists()
