"""The scorecard workbook: the worked example written from a real SQLite ledger, read back
with openpyxl. (test_scorecard_libreoffice.py recalculates it in a real spreadsheet.)"""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

import openpyxl
import pytest
from classic import formulas, functions, rewritten
from click.testing import CliRunner
from fixtures import small_registry
from golden import check_golden, dump_workbook
from test_scoring import DEADLINE, Q3, RECEIVED, example_registry, example_rows

from ecoxl.cli import main
from ecoxl.config import Scoring
from ecoxl.findings import Finding
from ecoxl.layout import FIRST_DATA_ROW, expected_rows
from ecoxl.ledger import Ledger, ReportedRow, Submission
from ecoxl.model import Registry
from ecoxl.scorecard import Scorecard, build_scorecard, read_problems
from ecoxl.scorecard_book import Book, RowOrderError

ALLOWED = {
    "SUMIFS",
    "COUNTIFS",
    "AVERAGEIFS",
    "INDEX",
    "MATCH",
    "IFERROR",
    "RANK",
    "SUMPRODUCT",
    "IF",
    "MIN",
    "MAX",
    "AND",
    "OR",
}
SHEETS = ["总览", "指标", "任务", "单位", "明细", "问题", "评分规则"]


def fill_ledger(
    ledger: Ledger, rows: dict[str, list[ReportedRow]], *, rejected: tuple[str, ...] = ()
) -> None:
    """Record each unit's return as collection would: accepted rows, or a rejected file."""
    for n, (unit, unit_rows) in enumerate(rows.items()):
        sha = f"{n:02d}" + "ab" * 31
        ledger.record_submission(
            Submission(
                sha,
                f"{unit}-三季度.xlsx",
                f"/inbox/{unit}.xlsx",
                RECEIVED[unit],
                "identity",
                "accepted",
                unit,
                Q3.code,
            ),
            unit_rows,
            [],
            size=100,
            archive_path=f"archive/{sha[:2]}/{sha}.xlsx",
        )
    for unit in rejected:
        ledger.record_submission(
            Submission(
                "ff" * 32,
                f"{unit}.xls",
                f"/inbox/{unit}.xls",
                "2015-10-09T08:00:00",
                "filename",
                "rejected",
                unit,
                Q3.code,
            ),
            [],
            [Finding(f"{unit}.xls", "填报表", "I9", "value.not_number", "本期完成值应为数字")],
            size=100,
            archive_path="archive/ff/rejected.xls",
        )


def build(
    root: Path,
    rows: dict[str, list[ReportedRow]] | None = None,
    *,
    rejected: tuple[str, ...] = ("辛店镇",),
    scoring: Scoring | None = None,
    sent: int = 0,
) -> Scorecard:
    """The worked example as a workspace would hold it: ledger, archive, scorecards/."""
    with Ledger(root / "ledger.sqlite") as ledger:
        fill_ledger(ledger, example_rows() if rows is None else rows, rejected=rejected)
        for unit in example_registry().reporting_units()[:sent]:
            ledger.record_sent(
                key=f"forms:{unit}",
                kind="forms",
                period=Q3.code,
                unit=unit,
                recipients="a@b.cn",
                subject="s",
                message_id="m",
                transport="outbox",
                status="sent",
            )
        path = root / "scorecards" / "2015-Q3_考核汇总.xlsx"
        return build_scorecard(
            example_registry(), ledger, Q3, DEADLINE, scoring or Scoring(), path, root
        )


@pytest.fixture(scope="module")
def written(tmp_path_factory) -> Scorecard:
    return build(tmp_path_factory.mktemp("ws"), sent=4)


@pytest.fixture(scope="module")
def book(written):
    return openpyxl.load_workbook(written.path)


@pytest.fixture(scope="module")
def stored(written):
    """The results stored with each formula, as a preview that never recalculates sees them."""
    return openpyxl.load_workbook(written.path, data_only=True)


def records(sheet, key_header: str) -> dict[str, dict[str, object]]:
    """A table sheet's records by the value in column `key_header` (headers on row 2)."""
    headers = [c.value for c in sheet[2]]
    result = {}
    for values in sheet.iter_rows(min_row=3, values_only=True):
        record = dict(zip(headers, values, strict=False))
        result[record[key_header]] = record
    return result


def test_sheets_headers_and_formats_keep_the_forms_words(book):
    assert book.sheetnames == SHEETS
    assert book.active.title == "总览"
    indicators = [c.value for c in book["指标"][2]]
    assert {"任务编号", "目标值", "本期完成值", "完成率"} <= set(indicators)
    details = [c.value for c in book["明细"][2]]
    assert {"填报单位", "任务编号", "目标值", "本期完成值"} <= set(details)
    rate = indicators.index("完成率") + 1
    assert book["指标"].cell(3, rate).number_format == "0.0%"


def test_stored_results_are_the_computed_ones(written, stored):
    units = records(stored["单位"], "单位")
    for unit in written.card.units:
        assert units[unit.name]["得分"] == pytest.approx(unit.score)
        assert units[unit.name]["排名"] == unit.rank
    assert units["市环保局"]["报送状态"] == "逾期报送"
    assert units["城关乡"]["报送状态"] == "按时报送"  # on the deadline's day
    indicators = records(stored["指标"], "行键")
    assert indicators["1-1"]["完成率"] == pytest.approx(0.9)
    assert indicators["1-2"]["本期完成值"] == pytest.approx(1.8)
    assert indicators["3-0"]["进展状态"] == "欠进度"
    assert indicators["3-0"]["状态"] == "略低于序时进度"
    tasks = records(stored["任务"], "任务编号")
    assert tasks[2]["完成率"] == pytest.approx((100 / 110 + 1) / 2)
    overview = stored["总览"]
    headline = [overview.cell(6, col).value for col in range(1, 9)]
    assert headline[:6] == [5, 4, 4, 1, 1, 0]  # units, sent, returned, late, rejected, missing
    assert headline[7] == pytest.approx(written.card.headline.overall)


def test_formulas_use_only_classic_functions(book):
    """Cells, conditional formats and validations alike: `ClassicSheet` adds no `_xlfn.`."""
    used = functions(book)
    assert used <= ALLOWED, used - ALLOWED
    assert {"SUMIFS", "COUNTIFS", "AVERAGEIFS", "INDEX", "MATCH", "RANK", "SUMPRODUCT"} <= used
    assert not rewritten(book)


def test_details_are_values_and_formulas_do_not_grow_with_them(tmp_path, book):
    assert not [f for f in formulas(book) if f[0] == "明细"]
    few = build(tmp_path, {"城关乡": example_rows()["城关乡"]})
    sparse = openpyxl.load_workbook(few.path)
    assert sparse["明细"].max_row == 2 + 2 and book["明细"].max_row == 2 + 12
    assert len(formulas(sparse)) == len(formulas(book))


def test_a_write_behind_the_current_row_is_an_error_not_a_lost_cell(tmp_path, written):
    """The book streams rows to disk (constant_memory), where xlsxwriter would drop it."""
    book = Book(tmp_path / "rows.xlsx", written.card)
    sheet = book.add_sheet("行序")
    sheet.write_string(4, 0, "第5行")
    sheet.set_row(5, 30)  # ahead of the current row: fine
    sheet.write_string(5, 1, "第6行")
    with pytest.raises(RowOrderError):
        sheet.write_number(4, 1, 1)
    with pytest.raises(RowOrderError):
        sheet.set_row(4, 30)
    book.close()
    cells = openpyxl.load_workbook(tmp_path / "rows.xlsx")["行序"]
    assert (cells["A5"].value, cells["B6"].value, cells["B5"].value) == ("第5行", "第6行", None)


def test_text_units_typed_stays_text(book):
    details = book["明细"]
    typed = {"=1+1", "http://x.cn", "@SUM(A1)", "+86 123"}
    found = {
        cell.value: cell
        for line in details.iter_rows(min_row=3)
        for cell in line
        if cell.value in typed
    }
    assert set(found) == typed
    for cell in found.values():
        assert cell.data_type == "s" and cell.hyperlink is None
    progress = records(book["任务"], "任务编号")[1]["工作进展"]  # the lead unit's words, copied
    assert progress == "=1+1\nhttp://x.cn"
    line = next(r for r in book["任务"].iter_rows(min_row=3) if r[0].value == 1)
    assert all(c.data_type != "f" or c.column_letter in "GHNO" for c in line)


def test_each_detail_links_to_its_archived_file_relatively(written, book):
    details = book["明细"]
    headers = [c.value for c in details[2]]
    column = headers.index("来源文件") + 1
    cell = details.cell(3, column)
    assert cell.value == "市林业局-三季度.xlsx"
    target = cell.hyperlink.target.replace("\\", "/")
    assert target == "../archive/00/00" + "ab" * 31 + ".xlsx"
    assert (written.path.parent / target).resolve() == (
        written.path.parents[1] / "archive" / "00" / ("00" + "ab" * 31 + ".xlsx")
    )


def test_missing_and_rejected_units_score_zero_visibly(stored):
    units = records(stored["单位"], "单位")
    assert (units["辛店镇"]["报送状态"], units["辛店镇"]["得分"]) == ("被退回", 0)
    problems = records(stored["问题"], "单元格")
    assert problems["I9"]["单位"] == "辛店镇"
    assert problems["I9"]["问题代码"] == "value.not_number"


def test_a_unit_that_sent_nothing_is_missing(tmp_path):
    written = build(tmp_path, rejected=())
    units = records(openpyxl.load_workbook(written.path, data_only=True)["单位"], "单位")
    assert (units["辛店镇"]["报送状态"], units["辛店镇"]["得分"], units["辛店镇"]["排名"]) == (
        "未报送",
        0,
        5,
    )


def test_sheets_are_set_up_for_reading_and_printing(book, written):
    overview = book["总览"]
    assert overview.max_column <= 8  # readable without scrolling sideways
    for name in SHEETS[1:6]:
        sheet = book[name]
        assert sheet.freeze_panes is not None and sheet.freeze_panes.endswith("3")
        assert sheet.auto_filter.ref.startswith("A2:")
        assert sheet.page_setup.orientation == "landscape"
        assert sheet.page_setup.paperSize == 9
        assert sheet.sheet_properties.pageSetUpPr.fitToPage  # one page wide (fitToWidth 1)
        assert sheet.page_setup.fitToHeight == 0
        assert sheet.print_title_rows == "$1:$2"
    for name in ("指标", "任务", "单位"):
        assert len(book[name].conditional_formatting) > 0
    with zipfile.ZipFile(written.path) as package:
        charts = [n for n in package.namelist() if n.startswith("xl/charts/chart")]
    assert len(charts) == 2


def test_defined_names_make_formulas_readable(book):
    names = set(book.defined_names)
    assert {
        "明细完成值",
        "明细定位键",
        "指标完成率",
        "任务完成率",
        "单位得分",
        "封顶",
        "序时进度",
    } <= names
    rate = records(book["指标"], "行键")["1-1"]["完成率"]
    assert rate == '=IF($L3="",IFERROR(INDEX(状态分,MATCH($M3,状态,0)),0),MAX(0,MIN(封顶,$L3/$H3)))'


def test_scoring_settings_reach_the_workbook(tmp_path):
    rows = example_rows()
    rows["市林业局"][0] = ReportedRow("1-1", 8, 1, "1-1", value=36, status="超进度")
    written = build(tmp_path, rows, scoring=Scoring(cap=1.2))
    stored = openpyxl.load_workbook(written.path, data_only=True)
    assert records(stored["指标"], "行键")["1-1"]["完成率"] == pytest.approx(1.2)
    rules = records(stored["评分规则"], "参数")
    assert rules["封顶"]["取值"] == 1.2


# -- any registry, and the command line --------------------------------------------


def synthetic_rows(registry: Registry, skip: int = 5) -> dict[str, list[ReportedRow]]:
    """Every form row of every unit filled in, values and statuses varying (every `skip`-th
    unit sends nothing), as `layout.expected_rows` lays the forms out."""
    factors = (0.5, 0.8, 1.0, 1.3, None, 0.7)
    statuses = ("已完成", "超进度", "达进度", "欠进度", "未启动", "")
    result = {}
    for u, unit in enumerate(registry.reporting_units()):
        if u % skip == skip - 1:
            continue
        lines = []
        for r, line in enumerate(expected_rows(registry, unit)):
            factor = factors[(u + r) % len(factors)]
            value = line.target * factor if line.target is not None and factor else None
            lines.append(
                ReportedRow(
                    line.key,
                    FIRST_DATA_ROW + r + 1,
                    line.task,
                    line.indicator_id,
                    line.role,
                    line.target,
                    value,
                    status=statuses[(u * 2 + r) % len(statuses)],
                )
            )
        result[unit] = lines
    return result


def build_for(registry: Registry, root: Path, rows: dict[str, list[ReportedRow]]) -> Scorecard:
    """`registry`'s scorecard from `rows`, every third return arriving after the deadline."""
    with Ledger(root / "ledger.sqlite") as ledger:
        for n, (unit, unit_rows) in enumerate(rows.items()):
            received = "2015-10-12T09:00:00" if n % 3 == 2 else "2015-10-09T09:00:00"
            ledger.record_submission(
                Submission(
                    f"{n:064x}",
                    f"{n}.xlsx",
                    "inbox",
                    received,
                    "identity",
                    "accepted",
                    unit,
                    Q3.code,
                ),
                unit_rows,
                [],
                size=1,
                archive_path=f"archive/{n}.xlsx",
            )
        path = root / "scorecards" / "scorecard.xlsx"
        return build_scorecard(registry, ledger, Q3, DEADLINE, Scoring(), path, root)


def test_the_shared_small_registry_scores_every_kind_of_row(tmp_path):
    registry = small_registry()
    written = build_for(registry, tmp_path, synthetic_rows(registry))
    card = written.card
    assert {r.kind for r in card.rows} == {"up", "range_up", None}
    assert [u.name for u in card.units if u.state == "missing"] == ["新建路街道"]
    stored = openpyxl.load_workbook(written.path, data_only=True)
    units = records(stored["单位"], "单位")
    assert {name: units[name]["得分"] for name in units} == pytest.approx(
        {u.name: u.score for u in card.units}
    )


def workspace(root: Path) -> Path:
    """A workspace holding the worked example: settings, plan.json and the ledger."""
    (root / "ecoxl.toml").write_text(
        '[plan]\nregistry = "plan.json"\n\n[period]\ncurrent = "2015-Q3"\ndeadline = "2015-10-10"\n',
        encoding="utf-8",
    )
    (root / "plan.json").write_text(example_registry().to_json(), encoding="utf-8")
    with Ledger(root / "ledger.sqlite") as ledger:
        fill_ledger(ledger, example_rows(), rejected=("辛店镇",))
    return root


def test_the_scorecard_command_writes_the_workbook_and_says_so(tmp_path, monkeypatch):
    monkeypatch.chdir(workspace(tmp_path))
    result = CliRunner().invoke(main, ["scorecard"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "scorecards" / "2015-Q3_考核汇总.xlsx").is_file()
    assert "scorecards/2015-Q3_考核汇总.xlsx" in result.output


def test_the_scorecard_command_prints_the_computation_as_json(tmp_path, monkeypatch):
    monkeypatch.chdir(workspace(tmp_path))
    result = CliRunner().invoke(main, ["scorecard", "--json", "-o", "out/季度.xlsx"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["workbook"] == "out/季度.xlsx" and (tmp_path / "out" / "季度.xlsx").is_file()
    assert data["headline"]["returned"] == 4 and data["headline"]["rejected"] == 1
    assert {u["name"]: u["rank"] for u in data["units"]}["市环保局"] == 1
    assert len(data["indicators"]) == 5 and len(data["tasks"]) == 3


def test_a_period_that_cannot_be_read_is_one_line_and_exit_code_2(tmp_path, monkeypatch):
    monkeypatch.chdir(workspace(tmp_path))
    result = CliRunner().invoke(main, ["scorecard", "--period", "2015-Q5"])
    assert result.exit_code == 2
    assert len(result.output.strip().splitlines()) == 1


def test_whole_scorecard_matches_golden(tmp_path, update_golden):
    written = build(tmp_path, sent=4)
    check_golden(dump_workbook(written.path), "scorecard_example.txt", update_golden)


def test_problems_sheet_lists_what_still_stands_for_the_period(tmp_path):
    def submission(sha: str, unit: str, state: str, day: int, period="2015-Q3") -> Submission:
        received = f"2015-10-{day:02d}T09:00:00"
        return Submission(
            sha, f"{sha}.xlsx", f"/in/{sha}.xlsx", received, "identity", state, unit, period
        )

    def finding(sha: str, cell: str | None, code: str) -> Finding:
        return Finding(f"{sha}.xlsx", "填报表" if cell else None, cell, code, "…")

    with Ledger(tmp_path / "l.sqlite") as ledger:
        for sub, problems in [
            (
                submission("fixed-bad", "市水务局", "rejected", 1),
                [finding("fixed-bad", "I9", "value.not_number")],
            ),
            (submission("fixed-good", "市水务局", "accepted", 2), []),
            (
                submission("only-bad", "市林业局", "rejected", 3),
                [finding("only-bad", "I8", "status.invalid")],
            ),
            (
                submission("nobody", "", "rejected", 4),
                [finding("nobody", None, "identity.unknown_unit")],
            ),
            (submission("q4", "市林业局", "accepted", 5, "2015-Q4"), []),
            (submission("ok", "市环保局", "accepted", 6), []),
            (
                submission("fix-failed", "市环保局", "rejected", 7),  # newer than its accepted one
                [finding("fix-failed", "I10", "value.not_number")],
            ),
        ]:
            ledger.record_submission(sub, [], problems, size=1, archive_path="")
        ledger.log_intake(
            "/in/x.pdf", "x.pdf", "skipped", "", None, [finding("x", None, "file.not_spreadsheet")]
        )
        ledger.log_intake(
            "/in/c.xlsx", "c.xlsx", "duplicate", "", "q4", [finding("c", None, "file.duplicate")]
        )
        shown = [(unit, f.file, f.cell, f.code) for unit, f in read_problems(ledger, Q3)]
    assert shown == [
        ("市林业局", "only-bad.xlsx", "I8", "status.invalid"),
        ("", "nobody.xlsx", None, "identity.unknown_unit"),
        ("市环保局", "fix-failed.xlsx", "I10", "value.not_number"),
        ("", "x.xlsx", None, "file.not_spreadsheet"),
    ]


def test_overview_charts_end_within_the_printed_columns(written):
    with zipfile.ZipFile(written.path) as book:
        drawing = book.read("xl/drawings/drawing1.xml").decode()
    ends = re.findall(r"<xdr:to><xdr:col>(\d+)</xdr:col><xdr:colOff>(\d+)</xdr:colOff>", drawing)
    assert len(ends) == 2  # completion by category, unit ranking
    assert all((int(col), int(offset)) <= (8, 0) for col, offset in ends)  # A–H only
