"""The ledger on a real SQLite file: submissions, supersession, history, sent mail."""

from __future__ import annotations

import sqlite3
from datetime import date

from ecoxl.findings import Finding
from ecoxl.ledger import Ledger, ReportedRow, Submission, return_state


def _submission(sha: str, unit: str, received: str, state: str = "accepted") -> Submission:
    return Submission(
        sha256=sha,
        file_name=f"{unit}.xlsx",
        source=f"/in/{unit}.xlsx",
        received_at=received,
        identified_by="identity",
        state=state,
        unit=unit,
        period="2015-Q3",
    )


def test_ledger_is_wal_and_records_a_submission_once(tmp_path):
    path = tmp_path / "ledger.sqlite"
    rows = [ReportedRow("1-1", 8, 1, "1-1", "lead", 130.0, 120.0, status="欠进度")]
    finding = Finding("a.xlsx", "填报表", "I8", "value.low", "偏低", "warning")
    with Ledger(path) as ledger:
        first = ledger.record_submission(
            _submission("aa", "市林业局", "2015-10-01T09:00:00"),
            rows,
            [finding],
            size=10,
            archive_path="archive/aa.xlsx",
        )
        again = ledger.record_submission(
            _submission("aa", "市林业局", "2015-10-01T09:00:00"),
            rows,
            [],
            size=10,
            archive_path="archive/aa.xlsx",
        )
        assert first is not None and again is None
        assert ledger.rows(first) == rows
        assert ledger.problems(first) == [finding]
        assert ledger.archive_path("aa") == "archive/aa.xlsx"
        assert ledger.archive_path("bb") == ""
    mode = sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"


def test_newer_accepted_submission_supersedes_and_history_stays(tmp_path):
    with Ledger(tmp_path / "l.sqlite") as ledger:
        old = ledger.record_submission(
            _submission("a1", "市林业局", "2015-10-01T09:00:00"), [], [], size=1, archive_path="x"
        )
        new = ledger.record_submission(
            _submission("a2", "市林业局", "2015-10-05T09:00:00"), [], [], size=1, archive_path="y"
        )
        bad = ledger.record_submission(
            _submission("a3", "市林业局", "2015-10-06T09:00:00", "rejected"),
            [],
            [],
            size=1,
            archive_path="z",
        )
        history = ledger.submissions("2015-Q3", "市林业局")
        assert [r.id for r in history] == [bad, new, old]
        assert [r.current for r in history] == [False, True, False]
        assert ledger.current("2015-Q3")["市林业局"].id == new


def test_rejected_only_unit_shows_its_rejection(tmp_path):
    with Ledger(tmp_path / "l.sqlite") as ledger:
        bad = ledger.record_submission(
            _submission("b1", "市水务局", "2015-10-06T09:00:00", "rejected"),
            [],
            [Finding("b.xlsx", "填报表", "I9", "value.not_number", "不是数字")],
            size=1,
            archive_path="z",
        )
        record = ledger.current("2015-Q3")["市水务局"]
        assert record.id == bad and not record.current and record.problem_count == 1


def test_sent_mail_is_remembered_only_when_sent(tmp_path):
    with Ledger(tmp_path / "l.sqlite") as ledger:
        common = dict(kind="forms", period="2015-Q3", recipients="a@x.cn", subject="s")
        ledger.record_sent(key="k1", message_id="<1>", transport="smtp", status="failed", **common)
        assert not ledger.was_sent("k1")
        ledger.record_sent(key="k1", message_id="<2>", transport="smtp", status="sent", **common)
        assert ledger.was_sent("k1")


def test_units_sent_counts_each_unit_once_and_only_when_sent(tmp_path):
    with Ledger(tmp_path / "l.sqlite") as ledger:
        common = dict(kind="forms", period="2015-Q3", recipients="a@x.cn", subject="s")
        ledger.record_sent(
            key="a", message_id="<1>", transport="eml", status="sent", unit="甲", **common
        )
        ledger.record_sent(
            key="b", message_id="<2>", transport="eml", status="sent", unit="甲", **common
        )
        ledger.record_sent(
            key="c", message_id="<3>", transport="eml", status="failed", unit="乙", **common
        )
        assert ledger.units_sent("forms", "2015-Q3") == 1
        assert ledger.units_sent("forms", "2015-Q4") == 0
        assert ledger.units_sent("reminders", "2015-Q3") == 0


def test_imap_validities_are_per_mailbox(tmp_path):
    with Ledger(tmp_path / "l.sqlite") as ledger:
        ledger.record_imap("INBOX", 7, 1)
        ledger.record_imap("INBOX", 9, 1)
        ledger.record_imap("报表", 3, 5)
        assert ledger.imap_validities("INBOX") == {7, 9}
        assert ledger.imap_validities("其他") == set()


def test_return_state_by_the_deadlines_day(tmp_path):
    with Ledger(tmp_path / "l.sqlite") as ledger:
        for sha, unit, received, state in [
            ("a", "甲", "2015-10-10T23:59:00", "accepted"),  # on the deadline's day
            ("b", "乙", "2015-10-11T00:01:00", "accepted"),
            ("c", "丙", "2015-10-01T09:00:00", "rejected"),
        ]:
            ledger.record_submission(
                _submission(sha, unit, received, state), [], [], size=1, archive_path=""
            )
        current = ledger.current("2015-Q3")
    deadline = date(2015, 10, 10)
    states = {u: return_state(current.get(u), deadline) for u in ("甲", "乙", "丙", "丁")}
    assert states == {"甲": "received", "乙": "late", "丙": "rejected", "丁": "missing"}
