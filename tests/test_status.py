"""`ecoxl status`: per unit received / late / rejected / missing, and the `--json` contract
(docs/LEDGER.md), from a real ledger filled by a real collection."""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime

import fill
import pytest
from click.testing import CliRunner
from fixtures import small_registry

from ecoxl.cli import main
from ecoxl.collect import collect
from ecoxl.config import Office
from ecoxl.forms import build_form
from ecoxl.period import Period
from ecoxl.status import STATES, status, unit_history

Q3 = Period.parse("2015-Q3")
CONTRACT = {"unit", "state", "file", "sha256", "problems", "received_at", "submission_id"}


def return_of(unit: str, **overrides) -> bytes:
    data = build_form(small_registry(), unit, Q3, date(2015, 10, 10), Office())
    rows, _ = fill.form_positions(data)
    answers = {key: {"value": 10.0, "status": "达进度"} for key in rows}
    for key, values in overrides.items():
        answers[key] = {**answers[key], **values}
    return fill.fill_form(data, answers, fill.signed())


@pytest.fixture
def ws(tmp_path):
    """市发展改革委 on the deadline day, 市住建局 two days late, 市文广新局 rejected (two errors),
    城关乡 rejected first and accepted later, 新建路街道 missing."""
    ws = fill.new_workspace(tmp_path / "ws", small_registry(), deadline="2015-10-10")
    inbox = ws.inbox_dir
    fill.drop(inbox, "发改委.xlsx", return_of("市发展改革委"), datetime(2015, 10, 10, 23, 50))
    fill.drop(inbox, "住建局.xlsx", return_of("市住建局"), datetime(2015, 10, 12, 8, 0))
    bad = return_of("市文广新局", **{"4-0": {"status": "完成"}, "2-1": {"value": "很多"}})
    fill.drop(inbox, "文广新局.xlsx", bad, datetime(2015, 10, 9, 8, 0))
    township = return_of("城关乡", **{"1-1": {"value": -1.0}})
    fill.drop(inbox, "城关乡.xlsx", township, datetime(2015, 10, 6, 8, 0))
    fill.drop(inbox, "城关乡(改).xlsx", return_of("城关乡"), datetime(2015, 10, 7, 8, 0))
    collect(ws, [inbox])
    return ws


def test_each_reporting_unit_has_one_state(ws):
    report = status(ws, "2015-Q3")
    assert [(u.unit, u.state, u.file, u.problems) for u in report.units] == [
        ("市发展改革委", "received", "发改委.xlsx", 0),
        ("市住建局", "late", "住建局.xlsx", 0),
        ("市文广新局", "rejected", "文广新局.xlsx", 2),
        ("城关乡", "received", "城关乡(改).xlsx", 0),
        ("新建路街道", "missing", "", 0),
    ]
    assert report.deadline == date(2015, 10, 10)
    assert {s: report.count(s) for s in STATES} == {
        "received": 2,
        "late": 1,
        "rejected": 1,
        "missing": 1,
    }
    first = report.units[0]
    expected_sha = hashlib.sha256((ws.inbox_dir / "发改委.xlsx").read_bytes()).hexdigest()
    assert first.sha256 == expected_sha and first.received_at.startswith("2015-10-10T23:50")


def test_the_json_contract(ws, monkeypatch):
    monkeypatch.chdir(ws.root)
    result = CliRunner().invoke(main, ["status", "--json"])
    assert result.exit_code == 0, result.output
    units = json.loads(result.output)
    assert isinstance(units, list) and len(units) == 5
    for item in units:
        assert set(item) >= CONTRACT
        assert item["state"] in STATES
        assert isinstance(item["problems"], int)
    by_unit = {item["unit"]: item for item in units}
    assert by_unit["市文广新局"]["state"] == "rejected" and by_unit["市文广新局"]["problems"] == 2
    missing = by_unit["新建路街道"]
    assert (missing["state"], missing["file"], missing["sha256"], missing["submission_id"]) == (
        "missing",
        "",
        "",
        None,
    )
    late = by_unit["市住建局"]
    assert late["state"] == "late" and len(late["sha256"]) == 64
    assert isinstance(late["submission_id"], int)


def test_the_table_names_every_unit(ws, monkeypatch):
    monkeypatch.chdir(ws.root)
    result = CliRunner().invoke(main, ["status", "--period", "2015-Q3"])
    assert result.exit_code == 0, result.output
    for unit in small_registry().reporting_units():
        assert unit in result.output


def test_another_period_has_every_unit_missing(ws):
    report = status(ws, "2015-Q4")
    assert {u.state for u in report.units} == {"missing"}
    assert report.deadline == date(2016, 1, 10)  # 10 days after the period when not configured


def test_a_units_history_lists_every_file_it_sent_newest_first(ws, monkeypatch):
    history = unit_history(ws, "城关乡", "2015-Q3")
    assert [(h.file, h.state, h.current, h.problems) for h in history.lines] == [
        ("城关乡(改).xlsx", "accepted", True, 0),
        ("城关乡.xlsx", "rejected", False, 1),
    ]
    assert unit_history(ws, "新建路街道", "2015-Q3").lines == []
    monkeypatch.chdir(ws.root)
    shown = CliRunner().invoke(main, ["status", "--unit", "城关乡", "--json"])
    assert shown.exit_code == 0
    assert [(o["file"], o["current"]) for o in json.loads(shown.stdout)] == [
        ("城关乡(改).xlsx", True),
        ("城关乡.xlsx", False),
    ]
    group = CliRunner().invoke(main, ["status", "--unit", "各乡镇（街道、管委会）"])
    assert group.exit_code == 2
