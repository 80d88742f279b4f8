"""The ledger: one SQLite file (WAL mode) recording every file seen, every submission,
its reported rows and problems, and every e-mail sent. Schema: docs/LEDGER.md.

Each submission is written in one transaction, so two `ecoxl collect` runs at
once, or a crash half-way, never leave half a submission. Nothing is deleted:
a newer accepted submission from a unit supersedes the older one, and history
stays queryable.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields
from datetime import date, datetime
from operator import attrgetter
from pathlib import Path
from typing import Literal

from .exceptions import LedgerError
from .findings import Finding
from .texts import say

SCHEMA_VERSION = 1
BUSY_SECONDS = 60  # how long a writer waits for another one (two `ecoxl collect` runs at once)

SCHEMA = """
CREATE TABLE IF NOT EXISTS files (
    sha256 TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    archive_path TEXT NOT NULL,
    first_seen TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS intake (
    id INTEGER PRIMARY KEY,
    seen_at TEXT NOT NULL,
    source TEXT NOT NULL,
    file_name TEXT NOT NULL,
    sha256 TEXT,
    outcome TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    submission_id INTEGER REFERENCES submissions(id)
);
CREATE INDEX IF NOT EXISTS intake_source ON intake(source, sha256);
CREATE TABLE IF NOT EXISTS submissions (
    id INTEGER PRIMARY KEY,
    sha256 TEXT NOT NULL REFERENCES files(sha256),
    file_name TEXT NOT NULL,
    source TEXT NOT NULL,
    sender TEXT NOT NULL DEFAULT '',
    received_at TEXT NOT NULL,
    collected_at TEXT NOT NULL,
    unit TEXT,
    period TEXT,
    plan_id TEXT,
    form_version INTEGER,
    identified_by TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('accepted', 'rejected')),
    filled_by TEXT NOT NULL DEFAULT '',
    phone TEXT NOT NULL DEFAULT '',
    fill_date TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS submissions_unit_period ON submissions(period, unit);
CREATE INDEX IF NOT EXISTS submissions_sha ON submissions(sha256);
CREATE TABLE IF NOT EXISTS rows (
    submission_id INTEGER NOT NULL REFERENCES submissions(id),
    row_key TEXT NOT NULL,
    sheet_row INTEGER NOT NULL,
    task INTEGER,
    indicator_id TEXT,
    role TEXT NOT NULL DEFAULT '',
    target REAL,
    value REAL,
    value_text TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT '',
    progress TEXT NOT NULL DEFAULT '',
    problems TEXT NOT NULL DEFAULT '',
    next_steps TEXT NOT NULL DEFAULT '',
    remark TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (submission_id, row_key)
);
CREATE TABLE IF NOT EXISTS problems (
    id INTEGER PRIMARY KEY,
    submission_id INTEGER REFERENCES submissions(id),
    intake_id INTEGER REFERENCES intake(id),
    file TEXT NOT NULL,
    sheet TEXT,
    cell TEXT,
    code TEXT NOT NULL,
    severity TEXT NOT NULL,
    message TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS problems_submission ON problems(submission_id);
CREATE TABLE IF NOT EXISTS sent (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL,
    kind TEXT NOT NULL,
    period TEXT NOT NULL,
    unit TEXT NOT NULL DEFAULT '',
    recipients TEXT NOT NULL,
    subject TEXT NOT NULL,
    message_id TEXT NOT NULL,
    transport TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('sent', 'failed')),
    error TEXT NOT NULL DEFAULT '',
    sent_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS sent_key ON sent(key, status);
CREATE TABLE IF NOT EXISTS imap_seen (
    mailbox TEXT NOT NULL,
    uidvalidity INTEGER NOT NULL,
    uid INTEGER NOT NULL,
    message_id TEXT NOT NULL DEFAULT '',
    recorded_at TEXT NOT NULL,
    PRIMARY KEY (mailbox, uidvalidity, uid)
);
"""


@dataclass(frozen=True)
class Submission:
    """One returned file as recorded: where it came from, whose it is, accepted or not."""

    sha256: str
    file_name: str
    source: str
    received_at: str  # ISO datetime: the mail's Date, or the file's modification time
    identified_by: str  # identity | filename | none
    state: str  # accepted | rejected
    unit: str | None = None
    period: str | None = None
    plan_id: str | None = None
    form_version: int | None = None
    sender: str = ""
    filled_by: str = ""
    phone: str = ""
    fill_date: str = ""


ReturnState = Literal["received", "late", "rejected", "missing"]


def return_state(record: SubmissionRecord | None, deadline: date) -> ReturnState:
    """A unit's return for a period, from its current record (`Ledger.current`): missing
    (nothing), rejected (only rejected files so far), late (its accepted file arrived after
    the deadline's day) or received. `status` and the scorecard both say it this way."""
    if record is None:
        return "missing"
    if not record.current:
        return "rejected"
    late = date.fromisoformat(record.submission.received_at[:10]) > deadline
    return "late" if late else "received"


@dataclass(frozen=True)
class SubmissionRecord:
    """A submission read back from the ledger, with its id and whether it is the current one."""

    id: int
    collected_at: str
    current: bool
    submission: Submission
    problem_count: int = 0


@dataclass(frozen=True)
class ReportedRow:
    """One form row as a unit filled it in, matched by key."""

    row_key: str
    sheet_row: int  # one-based row number in the returned sheet, for cell addresses
    task: int | None
    indicator_id: str | None
    role: str = ""
    target: float | None = None
    value: float | None = None
    value_text: str = ""  # what was in 本期完成值 when it was not a clean number (or a formula)
    status: str = ""
    progress: str = ""
    problems: str = ""
    next_steps: str = ""
    remark: str = ""


_ROW_FIELDS = [f.name for f in fields(ReportedRow)]
_SUB_FIELDS = [f.name for f in fields(Submission)]
# a flat record's fields in order (`dataclasses.astuple` deep-copies: 20× slower)
_row_values = attrgetter(*_ROW_FIELDS)
_sub_values = attrgetter(*_SUB_FIELDS)

# the statements of `record_submission`, written once (sqlite3 caches them prepared)
_INSERT_FILE = (
    "INSERT OR IGNORE INTO files(sha256, size, archive_path, first_seen) VALUES (?,?,?,?)"
)
_INSERT_SUBMISSION = (
    f"INSERT INTO submissions({', '.join(_SUB_FIELDS)}, collected_at)"
    f" VALUES ({', '.join('?' * (len(_SUB_FIELDS) + 1))})"
)
_INSERT_ROW = (
    f"INSERT OR REPLACE INTO rows(submission_id, {', '.join(_ROW_FIELDS)})"
    f" VALUES (?, {', '.join('?' * len(_ROW_FIELDS))})"
)
_INSERT_PROBLEM = (
    "INSERT INTO problems(submission_id, intake_id, file, sheet, cell, code, severity,"
    " message) VALUES (?,?,?,?,?,?,?,?)"
)
_INSERT_INTAKE = (
    "INSERT INTO intake(seen_at, source, file_name, sha256, outcome, reason, submission_id)"
    " VALUES (?,?,?,?,?,?,?)"
)


def now() -> str:
    return datetime.now().astimezone().isoformat(timespec="seconds")


class Ledger:
    """The SQLite ledger of one workspace. Use as a context manager."""

    def __init__(self, path: Path):
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.db = sqlite3.connect(path, timeout=BUSY_SECONDS, isolation_level=None)
            self._set_up(time.monotonic() + BUSY_SECONDS)
        except sqlite3.DatabaseError as exc:
            raise LedgerError(say("ledger.unusable", path=path, reason=exc)) from exc

    def _set_up(self, deadline: float) -> None:
        """WAL mode and the schema. Switching a new file to WAL takes a lock that SQLite does
        not wait for (no busy handler), so two runs opening a new ledger at once retry here."""
        while True:
            try:
                self.db.execute("PRAGMA journal_mode=WAL")
                self.db.execute("PRAGMA synchronous=NORMAL")
                self.db.execute("PRAGMA foreign_keys=ON")
                self._migrate()
                return
            except sqlite3.OperationalError as exc:
                busy = getattr(exc, "sqlite_errorcode", None) in (
                    sqlite3.SQLITE_BUSY,
                    sqlite3.SQLITE_LOCKED,
                )
                if not busy or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def _migrate(self) -> None:
        version = self.db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise LedgerError(say("ledger.too_new", path=self.path, version=version))
        with self.transaction():
            for statement in SCHEMA.split(";"):
                if statement.strip():
                    self.db.execute(statement)
            self.db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE … COMMIT: writers queue up instead of failing on a busy database."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    # -- intake ----------------------------------------------------------------

    def _insert_file(self, sha256: str, size: int, archive_path: str, stamp: str = "") -> None:
        self.db.execute(_INSERT_FILE, (sha256, size, archive_path, stamp or now()))

    def log_intake(
        self,
        source: str,
        file_name: str,
        outcome: str,
        reason: str = "",
        sha256: str | None = None,
        findings: list[Finding] = (),
    ) -> int:
        """Record a candidate that did not become a submission (skipped, duplicate, unreadable).

        Seen once is enough: the same bytes from the same source (or, without bytes, the
        same file with the same outcome and reason) are not logged again, so collecting a
        folder twice leaves the ledger as it was. Returns the intake row's id.
        """
        with self.transaction():
            if sha256 is not None:
                query = "SELECT id FROM intake WHERE source=? AND sha256=? ORDER BY id LIMIT 1"
                seen = self.db.execute(query, (source, sha256)).fetchone()
            else:
                query = (
                    "SELECT id FROM intake WHERE source=? AND file_name=? AND sha256 IS NULL"
                    " AND outcome=? AND reason=? ORDER BY id LIMIT 1"
                )
                seen = self.db.execute(query, (source, file_name, outcome, reason)).fetchone()
            if seen:
                return seen[0]
            intake_id = self._insert_intake(source, file_name, outcome, reason, sha256, None)
            self._insert_problems(findings, None, intake_id)
        return intake_id

    def _insert_intake(
        self, source, file_name, outcome, reason, sha256, submission_id, stamp=""
    ) -> int:
        values = (stamp or now(), source, file_name, sha256, outcome, reason, submission_id)
        return self.db.execute(_INSERT_INTAKE, values).lastrowid

    def _insert_problems(self, findings, submission_id, intake_id) -> None:
        if findings:
            self.db.executemany(
                _INSERT_PROBLEM,
                [
                    (
                        submission_id,
                        intake_id,
                        f.file,
                        f.sheet,
                        f.cell,
                        f.code,
                        f.severity,
                        f.message,
                    )
                    for f in findings
                ],
            )

    def record_submission(
        self,
        submission: Submission,
        rows: list[ReportedRow],
        findings: list[Finding],
        *,
        size: int,
        archive_path: str,
    ) -> int | None:
        """Record one submission in one transaction; None if these bytes were recorded before.

        The statements are prepared once (sqlite3's statement cache) and the rows go in with
        one `executemany`: this is the ledger's cost per returned file.
        """
        with self.transaction() as db:
            seen = db.execute(
                "SELECT id FROM submissions WHERE sha256=?", (submission.sha256,)
            ).fetchone()
            if seen:
                return None
            stamp = now()  # one time for its files, submissions and intake lines
            self._insert_file(submission.sha256, size, archive_path, stamp)
            sub_id = db.execute(_INSERT_SUBMISSION, (*_sub_values(submission), stamp)).lastrowid
            db.executemany(_INSERT_ROW, [(sub_id, *_row_values(r)) for r in rows])
            self._insert_problems(findings, sub_id, None)
            self._insert_intake(
                submission.source,
                submission.file_name,
                submission.state,
                "",
                submission.sha256,
                sub_id,
                stamp,
            )
        return sub_id

    # -- queries ---------------------------------------------------------------

    def submissions(self, period: str | None = None, unit: str | None = None):
        """Every submission (history included), newest first, as SubmissionRecord."""
        where, args = ["1=1"], []
        if period:
            where.append("s.period=?")
            args.append(period)
        if unit:
            where.append("s.unit=?")
            args.append(unit)
        query = (
            f"SELECT s.id, s.collected_at, {', '.join('s.' + f for f in _SUB_FIELDS)},"
            " (SELECT COUNT(*) FROM problems p WHERE p.submission_id=s.id AND p.severity='error')"
            f" FROM submissions s WHERE {' AND '.join(where)}"
            " ORDER BY s.received_at DESC, s.id DESC"
        )
        current = self._current_ids(period)
        result = []
        for row in self.db.execute(query, args):
            sub = Submission(**dict(zip(_SUB_FIELDS, row[2:-1], strict=True)))
            result.append(SubmissionRecord(row[0], row[1], row[0] in current, sub, row[-1]))
        return result

    def submission_by_sha(self, sha256: str) -> SubmissionRecord | None:
        """The submission these bytes were recorded as (the first, if a race recorded two)."""
        query = (
            f"SELECT s.id, s.collected_at, {', '.join('s.' + f for f in _SUB_FIELDS)},"
            " (SELECT COUNT(*) FROM problems p WHERE p.submission_id=s.id AND p.severity='error')"
            " FROM submissions s WHERE s.sha256=? ORDER BY s.id LIMIT 1"
        )
        row = self.db.execute(query, (sha256,)).fetchone()
        if row is None:
            return None
        sub = Submission(**dict(zip(_SUB_FIELDS, row[2:-1], strict=True)))
        newest = self.db.execute(
            "SELECT id FROM submissions WHERE period=? AND unit=? AND state='accepted'"
            " ORDER BY received_at DESC, id DESC LIMIT 1",
            (sub.period, sub.unit),
        ).fetchone()
        return SubmissionRecord(row[0], row[1], newest == (row[0],), sub, row[-1])

    def _current_ids(self, period: str | None) -> set[int]:
        """The newest accepted submission of each unit and period."""
        query = (
            "SELECT id FROM (SELECT id, ROW_NUMBER() OVER (PARTITION BY unit, period"
            " ORDER BY received_at DESC, id DESC) AS n FROM submissions"
            " WHERE state='accepted' AND unit IS NOT NULL"
            + (" AND period=?" if period else "")
            + ") WHERE n=1"
        )
        return {r[0] for r in self.db.execute(query, (period,) if period else ())}

    def current(self, period: str) -> dict[str, SubmissionRecord]:
        """Per unit: its current accepted submission, or else its newest rejected one."""
        result: dict[str, SubmissionRecord] = {}
        for record in self.submissions(period):
            unit = record.submission.unit
            if not unit:
                continue
            held = result.get(unit)
            if held is None or (record.current and not held.current):
                result[unit] = record
        return result

    def rows(self, submission_id: int) -> list[ReportedRow]:
        query = (
            f"SELECT {', '.join(_ROW_FIELDS)} FROM rows WHERE submission_id=? ORDER BY sheet_row"
        )
        return [ReportedRow(*r) for r in self.db.execute(query, (submission_id,))]

    def problems(self, submission_id: int) -> list[Finding]:
        """The findings of one submission."""
        query = (
            "SELECT p.file, p.sheet, p.cell, p.code, p.message, p.severity FROM problems p"
            " WHERE p.submission_id=? ORDER BY p.id"
        )
        return [Finding(*r) for r in self.db.execute(query, (submission_id,))]

    def intake_problems(self, period: str) -> list[Finding]:
        """Findings about files that never became a submission (not a form, refused, the
        same bytes from another sender …): those whose bytes were a submission of `period`,
        and those of no period at all."""
        query = (
            "SELECT p.file, p.sheet, p.cell, p.code, p.message, p.severity FROM problems p"
            " JOIN intake i ON i.id=p.intake_id LEFT JOIN submissions s ON s.sha256=i.sha256"
            " WHERE p.submission_id IS NULL AND (s.period IS NULL OR s.period=?) ORDER BY p.id"
        )
        return [Finding(*r) for r in self.db.execute(query, (period,))]

    def archive_path(self, sha256: str) -> str:
        """Where the original with these bytes was archived ("" if it never was)."""
        found = self.db.execute("SELECT archive_path FROM files WHERE sha256=?", (sha256,))
        row = found.fetchone()
        return (row[0] or "") if row else ""

    def intake(self) -> list[tuple]:
        """The intake log: (seen_at, source, file_name, sha256, outcome, reason)."""
        query = "SELECT seen_at, source, file_name, sha256, outcome, reason FROM intake ORDER BY id"
        return self.db.execute(query).fetchall()

    # -- mail --------------------------------------------------------------------

    def was_sent(self, key: str) -> bool:
        query = "SELECT 1 FROM sent WHERE key=? AND status='sent'"
        return self.db.execute(query, (key,)).fetchone() is not None

    def units_sent(self, kind: str, period: str) -> int:
        """How many units were sent a message of this kind for the period."""
        query = "SELECT COUNT(DISTINCT unit) FROM sent WHERE kind=? AND period=? AND status='sent'"
        return self.db.execute(query, (kind, period)).fetchone()[0]

    def record_sent(self, **values: str) -> None:
        """Record one attempt to send (status 'sent' or 'failed')."""
        values.setdefault("error", "")
        values.setdefault("unit", "")
        values["sent_at"] = now()
        names = ", ".join(values)
        with self.transaction():
            self.db.execute(
                f"INSERT INTO sent({names}) VALUES ({', '.join('?' * len(values))})",
                tuple(values.values()),
            )

    def imap_seen(self, mailbox: str, uidvalidity: int, uid: int) -> bool:
        query = "SELECT 1 FROM imap_seen WHERE mailbox=? AND uidvalidity=? AND uid=?"
        return self.db.execute(query, (mailbox, uidvalidity, uid)).fetchone() is not None

    def imap_validities(self, mailbox: str) -> set[int]:
        """The UIDVALIDITY values recorded for this mailbox on earlier runs."""
        query = "SELECT DISTINCT uidvalidity FROM imap_seen WHERE mailbox=?"
        return {row[0] for row in self.db.execute(query, (mailbox,))}

    def record_imap(self, mailbox: str, uidvalidity: int, uid: int, message_id: str = "") -> None:
        with self.transaction():
            self.db.execute(
                "INSERT OR IGNORE INTO imap_seen VALUES (?,?,?,?,?)",
                (mailbox, uidvalidity, uid, message_id, now()),
            )
