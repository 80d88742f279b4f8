"""Forms re-saved by a real spreadsheet program (LibreOffice headless) as .xlsx, .xls and .ods
are collected with the right values; a copy that lost its identity falls back to its name."""

from __future__ import annotations

from datetime import date

import fill
import pytest
from fixtures import small_registry

from ecoxl.collect import collect
from ecoxl.config import Office
from ecoxl.forms import build_form
from ecoxl.ledger import Ledger
from ecoxl.libreoffice import convert
from ecoxl.period import Period

pytestmark = pytest.mark.libreoffice

Q3 = Period.parse("2015-Q3")
ANSWERS = {
    "1-1": {"value": 120.5, "status": "达进度", "progress": "=不是公式,是文字"},
    "1-2": {"value": 1.25, "status": "欠进度", "problems": "资金未到位"},
    "2-1": {"value": 40, "status": "超进度", "remark": "统计快报"},
    "2-2": {"value": 13, "status": "已完成"},
}
EXPECTED = [
    ("1-1", 120.5, "达进度", "=不是公式,是文字", "", ""),
    ("1-2", 1.25, "欠进度", "", "资金未到位", ""),
    ("2-1", 40.0, "超进度", "", "", "统计快报"),
    ("2-2", 13.0, "已完成", "", "", ""),
]


def lead_return() -> bytes:
    data = build_form(small_registry(), "市发展改革委", Q3, date(2015, 10, 10), Office())
    return fill.fill_form(data, ANSWERS, fill.signed())


@pytest.mark.parametrize("fmt", ["xlsx", "xls", "ods"])
def test_a_form_re_saved_by_libreoffice_is_accepted_with_its_values(soffice, tmp_path, fmt):
    ws = fill.new_workspace(tmp_path / "ws", small_registry())
    source = fill.drop(tmp_path / "filled", "2015-Q3_市发展改革委_填报表.xlsx", lead_return())
    saved = convert(source, fmt, tmp_path / "saved")
    fill.drop(ws.inbox_dir, f"发改委三季度.{fmt}", saved.read_bytes())
    result = collect(ws, [ws.inbox_dir])
    handled = result.handled[0]
    assert (handled.outcome, [f.code for f in handled.findings]) == ("accepted", [])
    with Ledger(ws.ledger_path) as ledger:
        record = ledger.current("2015-Q3")["市发展改革委"]
        assert record.submission.identified_by == "identity"
        assert record.submission.filled_by == "张丽"
        rows = [
            (r.row_key, r.value, r.status, r.progress, r.problems, r.remark)
            for r in ledger.rows(record.id)
        ]
    assert rows == EXPECTED


def test_a_copy_without_its_identity_re_saved_as_xls_is_identified_by_its_name(soffice, tmp_path):
    ws = fill.new_workspace(tmp_path / "ws", small_registry())
    copy = fill.strip_identity(lead_return())
    source = fill.drop(tmp_path / "filled", "市发展改革委2015年第三季度.xlsx", copy)
    saved = convert(source, "xls", tmp_path / "saved")
    fill.drop(ws.inbox_dir, saved.name, saved.read_bytes())
    result = collect(ws, [ws.inbox_dir])
    handled = result.handled[0]
    assert (handled.outcome, [f.code for f in handled.findings]) == (
        "accepted",
        ["identity.from_filename"],
    )
    with Ledger(ws.ledger_path) as ledger:
        record = ledger.current("2015-Q3")["市发展改革委"]
        assert record.submission.identified_by == "filename"
        assert [(r.row_key, r.value) for r in ledger.rows(record.id)] == [
            (key, value) for key, value, *_ in EXPECTED
        ]
