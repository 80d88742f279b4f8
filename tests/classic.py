"""Every formula a workbook holds, and the proof that each uses classic functions only.

ecoxl writes its formula sheets as `xlsx.ClassicSheet`s, which skip xlsxwriter's pass that
prefixes functions newer than Excel 2010 with `_xlfn.`. That is only right while no formula
needs the prefix: `rewritten` runs stock xlsxwriter's pass over every formula read back.

    book = openpyxl.load_workbook(path)
    assert not rewritten(book)
    assert functions(book) <= {"IF", "MIN", "MAX"}
"""

from __future__ import annotations

import re

from xlsxwriter.worksheet import Worksheet

FUNCTION = re.compile(r"([A-Z][A-Z0-9.]*)\(")


def formulas(book) -> list[tuple[str, str, str]]:
    """(sheet, cell, formula) for every formula cell."""
    return [
        (sheet.title, cell.coordinate, cell.value)
        for sheet in book.worksheets
        for line in sheet.iter_rows()
        for cell in line
        if cell.data_type == "f"
    ]


def rule_formulas(book) -> list[tuple[str, str, str]]:
    """(sheet, range, formula) for every data validation and conditional format formula."""
    found = []
    for sheet in book.worksheets:
        for rule in sheet.data_validations.dataValidation:
            found += [
                (sheet.title, str(rule.sqref), f) for f in (rule.formula1, rule.formula2) if f
            ]
        for area in sheet.conditional_formatting:
            for rule in area.rules:
                found += [(sheet.title, str(area.sqref), f) for f in rule.formula or ()]
    return found


def every_formula(book) -> list[tuple[str, str, str]]:
    return formulas(book) + rule_formulas(book)


def functions(book) -> set[str]:
    """The names of the functions every formula of `book` calls."""
    return {name for *_, formula in every_formula(book) for name in FUNCTION.findall(formula)}


def rewritten(book) -> list[tuple[str, str, str]]:
    """The formulas stock xlsxwriter would have changed (given an `_xlfn.` prefix)."""
    stock = Worksheet()
    return [
        (sheet, where, formula)
        for sheet, where, formula in every_formula(book)
        if stock._prepare_formula(formula, expand_future_functions=True)
        != formula.removeprefix("=")
    ]
