"""Shared xlsxwriter set-up for every workbook ecoxl writes (forms, registry, scorecard, problems).

Units type things like `=SUM(...)`, `http://…` or `001`; written with a stock
xlsxwriter `write()` these would become formulas, links or numbers. Every
workbook here is opened with those conversions off, so text stays text.
"""

from __future__ import annotations

from pathlib import Path
from typing import IO

import xlsxwriter

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
