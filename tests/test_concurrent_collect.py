"""Two `ecoxl collect` processes at once on overlapping folders, on one real ledger: nothing is
corrupted, nothing lost, nothing recorded twice."""

from __future__ import annotations

import hashlib
import sqlite3
import subprocess
import sys
import time
from datetime import date

import fill
from fixtures import small_registry

from ecoxl.config import Office
from ecoxl.forms import build_form
from ecoxl.period import Period

Q3 = Period.parse("2015-Q3")


def returns(count: int) -> list[tuple[str, bytes, int]]:
    """`count` different returns (each unit again and again, with other values), with the
    number of rows each holds."""
    registry = small_registry()
    units = registry.reporting_units()
    blanks = {u: build_form(registry, u, Q3, date(2015, 10, 10), Office()) for u in units}
    made = []
    for i in range(count):
        unit = units[i % len(units)]
        rows, _ = fill.form_positions(blanks[unit])
        answers = {key: {"value": float(i), "status": "达进度"} for key in rows}
        data = fill.fill_form(blanks[unit], answers, fill.signed())
        made.append((f"{i:03d}_{unit}.xlsx", data, len(rows)))
    return made


def test_two_collect_runs_at_once_lose_nothing_and_record_nothing_twice(tmp_path):
    ws = fill.new_workspace(tmp_path / "ws", small_registry())
    made = returns(40)
    first, second = ws.root / "first", ws.root / "second"
    for name, data, _ in made[:28]:
        fill.drop(first, name, data)
    for name, data, _ in made[12:]:
        fill.drop(second, name, data)  # 16 files in both folders
    command = [sys.executable, "-m", "ecoxl", "collect"]
    runs = [
        subprocess.Popen([*command, str(folder)], cwd=ws.root, stdout=subprocess.PIPE, text=True)
        for folder in (first, second)
    ]
    outputs = [run.communicate(timeout=600)[0] for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs

    db = sqlite3.connect(ws.ledger_path)
    assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    hashes = {hashlib.sha256(data).hexdigest(): rows for _, data, rows in made}
    recorded = [row[0] for row in db.execute("SELECT sha256 FROM submissions")]
    assert sorted(recorded) == sorted(hashes)  # each once, none lost
    assert {row[0] for row in db.execute("SELECT state FROM submissions")} == {"accepted"}
    query = "SELECT s.sha256, COUNT(*) FROM rows r JOIN submissions s ON s.id=r.submission_id"
    assert dict(db.execute(query + " GROUP BY 1").fetchall()) == hashes
    seen = {(row[0], row[1]) for row in db.execute("SELECT source, outcome FROM intake")}
    sources = {str(first / name) for name, _, _ in made[:28]} | {
        str(second / name) for name, _, _ in made[12:]
    }
    assert {source for source, _ in seen} == sources  # every file seen is in the intake log
    assert len([s for s, outcome in seen if outcome == "duplicate"]) == 16
    for sha, path in db.execute("SELECT sha256, archive_path FROM files"):
        assert hashlib.sha256((ws.root / path).read_bytes()).hexdigest() == sha
    assert db.execute("SELECT COUNT(*) FROM files").fetchone() == (40,)
    db.close()
    assert not list(ws.archive_dir.rglob(".tmp-*"))


def test_runs_opening_a_new_ledger_at_the_same_moment_all_get_it(tmp_path):
    """Switching a new SQLite file to WAL takes a lock SQLite does not wait for: without the
    retry in `Ledger`, one of two runs started together failed with "database is locked"."""
    script = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from ecoxl.ledger import Ledger\n"
        "start = float(sys.argv[2])\n"
        "while time.time() < start: pass\n"
        "with Ledger(Path(sys.argv[1])) as ledger:\n"
        "    ledger.log_intake(sys.argv[3], 'x.xlsx', 'skipped', 'test')\n"
    )
    for attempt in range(8):
        path = tmp_path / f"ledger{attempt}.sqlite"
        start = time.time() + 1.0
        runs = [
            subprocess.Popen([sys.executable, "-c", script, str(path), str(start), f"run{n}"])
            for n in range(4)
        ]
        assert [run.wait(timeout=120) for run in runs] == [0, 0, 0, 0]
        db = sqlite3.connect(path)
        assert db.execute("SELECT COUNT(*) FROM intake").fetchone() == (4,)
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        db.close()
