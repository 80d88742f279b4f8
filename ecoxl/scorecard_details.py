"""The scorecard's record sheets: 明细 (every reported row, as plain values) and 问题.

明细 is what every formula of 指标, 任务 and 单位 reads, through workbook-level names
over its whole columns (明细完成值, 明细定位键 …), so it holds values only: no formula
per reported row. Text units typed is written as text, never as a formula or a link.
"""

from __future__ import annotations

from .findings import Finding
from .layout import requirement_label
from .model import ROLE_LABELS
from .scorecard_book import Book, Col, Table, form_header, state_labels
from .scoring_results import Detail
from .texts import say

DETAILS, PROBLEMS = "明细", "问题"

# Excel keeps at most this many hyperlinks on one sheet.
MAX_LINKS = 65_530


DETAIL_COLS = (
    Col("unit", "填报单位", 18),
    Col("role", form_header("role"), 8),
    Col("task", form_header("task"), 7, "int"),
    Col("key", form_header("row_key"), 7),
    Col("indicator", form_header("indicator"), 26),
    Col("measure", form_header("measure"), 9),
    Col("requirement", form_header("requirement"), 8),
    Col("target", form_header("target"), 10, "number"),
    Col("value", form_header("value"), 11, "number"),
    Col("status", form_header("status"), 9),
    Col("progress", form_header("progress"), 30),
    Col("problems", form_header("problems"), 20),
    Col("next_steps", form_header("next_steps"), 20),
    Col("remark", form_header("remark"), 12),
    Col("value_text", "原填内容", 10),
    Col("state", "报送状态", 9),
    Col("received", "报送时间", 17),
    Col("file", "来源文件", 24, "link"),
    Col("seq", "指标序号", 7, "helper_number"),
    Col("lookup", "定位键", 16, "helper"),
    Col("weight", "计分权重", 8, "helper_number"),
)

PROBLEM_COLS = (
    Col("unit", say("problems.col.unit"), 18),
    Col("file", say("problems.col.file"), 28, "wrap"),
    Col("sheet", say("problems.col.sheet"), 10),
    Col("cell", say("problems.col.cell"), 8),
    Col("severity", say("problems.col.severity"), 9),
    Col("message", say("problems.col.message"), 60, "wrap"),
    Col("code", say("problems.col.code"), 20, "helper"),
)  # the problem list's (problems.py) column names


# -- 明细 ----------------------------------------------------------------------


def write_details(book: Book) -> Table:
    """Every reported row of every counted return, as plain values, linked to its file."""
    details = book.card.details
    table = Table(book, DETAILS, "填报明细", DETAIL_COLS, len(details), plain=True)
    states = state_labels()
    link_all = len(details) <= MAX_LINKS
    previous = None
    for i, d in enumerate(details):
        _detail_values(table, i, d, states)
        first_of_file = d.unit != previous
        previous = d.unit
        _detail_file(table, i, d, link_all or first_of_file)
    names = {
        "明细填报单位": "unit",
        "明细角色": "role",
        "明细完成值": "value",
        "明细进展状态": "status",
        "明细指标序号": "seq",
        "明细定位键": "lookup",
        "明细计分权重": "weight",
    }
    for name, key in names.items():
        table.define(name, key, whole=True)
    return table


def _detail_values(table: Table, i: int, d: Detail, states: dict[str, str]) -> None:
    row, ind = d.row, d.indicator
    table.text(i, "unit", d.unit)
    table.text(i, "role", ROLE_LABELS[d.role] if d.role else "")
    table.number(i, "task", d.task)
    table.text(i, "key", row.row_key)
    if ind is not None:
        name, measure = ind.name, ind.unit
        requirement = requirement_label(ind.requirement, ind.target, ind.target_max)
        target = ind.target
    else:
        name = say("scorecard.no_indicator") if d.seq else ""
        measure, requirement, target = "", "", row.target
    table.text(i, "indicator", name)
    table.text(i, "measure", measure)
    table.text(i, "requirement", requirement)
    table.number(i, "target", target)
    table.number(i, "value", row.value)
    for key in ("status", "progress", "problems", "next_steps", "remark", "value_text"):
        table.text(i, key, getattr(row, key))
    table.text(i, "state", states[d.state])
    table.text(i, "received", d.received_at.replace("T", " ")[:16])
    table.number(i, "seq", d.seq)
    table.text(i, "lookup", d.key)
    table.number(i, "weight", d.weight)


def _detail_file(table: Table, i: int, d: Detail, linked: bool) -> None:
    """The source file's name, linked (relatively) to its archived original."""
    if linked and d.link and len(d.link) < 2000:
        table.sheet.write_url(
            table.row(i),
            table.index["file"],
            "external:" + d.link,
            table.formats["link"],
            d.file_name or d.link,
        )
    else:
        table.text(i, "file", d.file_name, "text")


# -- 问题 ----------------------------------------------------------------------


def write_problems(book: Book, problems: list[tuple[str, Finding]]) -> Table:
    """What collection found, per file and cell, as the ledger recorded it."""
    table = Table(book, PROBLEMS, "回收问题清单", PROBLEM_COLS, len(problems))
    for i, (unit, f) in enumerate(problems):
        table.text(i, "unit", unit)
        table.text(i, "file", f.file)
        table.text(i, "sheet", f.sheet or "")
        table.text(i, "cell", f.cell or "")
        table.text(i, "severity", say(f"scorecard.severity.{f.severity}"))
        table.text(i, "message", f.message)
        table.text(i, "code", f.code)
    colours = {"red": say("scorecard.severity.error"), "amber": say("scorecard.severity.warning")}
    book.colour_by_label(table.sheet, table.area("severity"), table.cell(0, "severity"), colours)
    table.define("问题单位", "unit")  # 单位!问题数 counts its errors here
    table.define("问题级别", "severity")
    return table
