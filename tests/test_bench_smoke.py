"""The benchmark runs end to end at the smallest size: every stage, its baseline and floor.

A smoke test, not a timed one: it checks the JSON's shape and that each stage did its
work (forms written, returns collected and recorded, scorecard rows written), never how
long anything took. bench/README.md has the real numbers.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
UNITS = 5
FIELDS = {
    "stage",
    "units",
    "seconds",
    "baseline",
    "baseline_seconds",
    "floor_seconds",
    "peak_mb",
    "ratio",
    "per_unit_ms",
    "goals",
}


def test_the_benchmark_runs_every_stage_and_reports_json():
    done = subprocess.run(
        [sys.executable, "bench/run.py", "--units", str(UNITS), "--json"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads(done.stdout)
    assert [r["stage"] for r in results] == ["forms", "collect", "scorecard"]
    by_stage = {r["stage"]: r for r in results}
    for r in results:
        assert r.keys() >= FIELDS
        assert r["units"] == UNITS
        assert r["seconds"] > 0 and r["baseline_seconds"] > 0 and r["peak_mb"] > 0
        assert r["baseline"]
        for goal in r["goals"]:
            assert goal["met"] in (True, False) and isinstance(goal["value"], float)
    assert by_stage["forms"]["floor_seconds"] is None
    assert by_stage["collect"]["floor_seconds"] > 0
    assert by_stage["scorecard"]["floor_seconds"] > 0
    assert by_stage["forms"]["result"] == {"files": UNITS}
    collected = by_stage["collect"]["result"]
    assert collected["files"] == UNITS
    assert collected.get("accepted", 0) + collected.get("rejected", 0) == UNITS
    assert collected.get("accepted", 0) >= 1
    assert by_stage["scorecard"]["result"]["units"] == UNITS
    assert by_stage["scorecard"]["result"]["details"] > 0
    goals = {g["goal"].split(" ")[0] for r in results for g in r["goals"]}
    assert {"forms", "collect", "scorecard"} <= goals
