"""Shared xlsxwriter set-up for every workbook ecoxl writes (forms, registry, scorecard, problems).

Units type things like `=SUM(...)`, `http://…` or `001`; written with a stock
xlsxwriter `write()` these would become formulas, links or numbers. Every
workbook here is opened with those conversions off, so text stays text.

Sheets whose formulas ecoxl writes itself (the form's 完成率, the scorecard) are
`ClassicSheet`s: classic functions only, without xlsxwriter's pass that looks for
newer ones.
"""

from __future__ import annotations

from pathlib import Path
from typing import IO

import xlsxwriter
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

SAFE_OPTIONS = {
    "strings_to_formulas": False,
    "strings_to_urls": False,
    "strings_to_numbers": False,
    "nan_inf_to_errors": True,
}

FONT = "宋体"  # what Excel, WPS and LibreOffice (via Noto CJK) all render for Chinese
MAX_CELL_TEXT = 32767  # Excel's limit on one cell's text


def new_workbook(target: Path | IO[bytes], **options: object) -> xlsxwriter.Workbook:
    """A workbook that never turns text into formulas or links."""
    workbook = xlsxwriter.Workbook(target, {**SAFE_OPTIONS, **options})
    workbook.formats[0].set_font_name(FONT)
    return workbook


class ClassicSheet(Worksheet):
    """A worksheet whose formulas use classic functions only (tests check every formula).

    Stock xlsxwriter runs some thirty regular expressions over each formula to prefix
    functions newer than Excel 2010 with `_xlfn.`; with none of them in ecoxl's formulas
    that pass only costs time: about half of it for a large scorecard, 9 % of a form
    (bench/README.md).
    """

    def _prepare_formula(self, formula: str, expand_future_functions: bool = False) -> str:
        return formula.removeprefix("=")


def add_classic_sheet(workbook: Workbook, name: str) -> ClassicSheet:
    """A new sheet for formulas that use classic functions only (`ClassicSheet`)."""
    return workbook.add_worksheet(name, worksheet_class=ClassicSheet)
