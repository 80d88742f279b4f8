"""Whole-workbook golden tests, in the manner of XlsxWriter's own test suite.

`dump_workbook(path)` reads an .xlsx with openpyxl and writes down, as plain text,
everything a reader of the workbook could notice: per sheet its state, cells
(value or formula, number format, bold/fill/wrap, locked/hidden protection),
comments, sheet protection, data validations, conditional formats, merged ranges, frozen panes,
print settings and column widths; and the custom document properties. Nothing
time-dependent is dumped (no core properties), so the text is stable.

`check_golden(text, name, update)` compares it with `tests/golden/<name>`;
with `pytest --update-golden` (the `update_golden` fixture) it rewrites the file.

    def test_form_golden(tmp_path, update_golden):
        path = tmp_path / "form.xlsx"
        path.write_bytes(build_form(...))
        check_golden(dump_workbook(path), "form_市林业局.txt", update_golden)
"""

from __future__ import annotations

import difflib
from pathlib import Path

import openpyxl
import pytest
from openpyxl.cell.cell import Cell
from openpyxl.worksheet.worksheet import Worksheet

GOLDEN_DIR = Path(__file__).parent / "golden"

PROTECTION_FLAGS = (
    "sheet",
    "objects",
    "scenarios",
    "formatCells",
    "formatColumns",
    "formatRows",
    "insertColumns",
    "insertRows",
    "insertHyperlinks",
    "deleteColumns",
    "deleteRows",
    "selectLockedCells",
    "selectUnlockedCells",
    "sort",
    "autoFilter",
    "pivotTables",
)


def _dump_conditional(ws: Worksheet) -> list[str]:
    """Each rule: the range, its condition and the colours it shows (what a reader sees)."""
    lines = []
    for area in sorted(ws.conditional_formatting, key=lambda a: str(a.sqref)):
        for rule in sorted(area.rules, key=lambda r: r.priority):
            style = rule.dxf
            font = style.font.color.rgb if style and style.font and style.font.color else "-"
            fill = style.fill.bgColor.rgb if style and style.fill and style.fill.bgColor else "-"
            condition = rule.formula or [rule.operator or ""]
            lines.append(
                f"  {area.sqref} #{rule.priority} {rule.type} {' '.join(condition)}"
                f" font={font} fill={fill} stop={int(bool(rule.stopIfTrue))}"
            )
    return lines


def dump_workbook(path: Path) -> str:
    """Everything a reader of `path` could notice, as deterministic text."""
    workbook = openpyxl.load_workbook(path)
    lines = [f"# {path.suffix} workbook, sheets: {', '.join(workbook.sheetnames)}"]
    for sheet in workbook.worksheets:
        lines += _dump_sheet(sheet)
    lines.append("== custom document properties")
    lines += [f"  {p.name} = {p.value!r}" for p in workbook.custom_doc_props.props]
    lines.append("== defined names")
    lines += [f"  {name} = {dn.attr_text}" for name, dn in sorted(workbook.defined_names.items())]
    return "\n".join(lines) + "\n"


def check_golden(text: str, name: str, update: bool) -> None:
    """Compare `text` with `tests/golden/<name>`, or rewrite that file when `update`."""
    path = GOLDEN_DIR / name
    if update:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return
    if not path.exists():
        pytest.fail(f"no golden file {path.name}: run `pytest --update-golden` and review it")
    expected = path.read_text(encoding="utf-8")
    if text != expected:
        diff = difflib.unified_diff(
            expected.splitlines(), text.splitlines(), "golden", "actual", lineterm="", n=1
        )
        pytest.fail(
            f"{path.name} differs (if intended: pytest --update-golden):\n" + "\n".join(diff)
        )


def _dump_sheet(ws: Worksheet) -> list[str]:
    protection = ws.protection
    lines = [
        f"== sheet {ws.title} ({ws.sheet_state})",
        "protection: "
        + " ".join(f"{flag}={int(bool(getattr(protection, flag)))}" for flag in PROTECTION_FLAGS)
        + f" password={protection.password!r}",
        f"freeze: {ws.freeze_panes}",
        f"merged: {' '.join(sorted(str(r) for r in ws.merged_cells.ranges))}",
    ]
    lines += _dump_print(ws)
    lines.append("columns:")
    for key, dim in sorted(ws.column_dimensions.items(), key=lambda kv: kv[1].min or 0):
        lines.append(f"  {key} {dim.min}-{dim.max} width={dim.width:g} hidden={int(dim.hidden)}")
    lines.append("rows with a height:")
    for number, dim in sorted(ws.row_dimensions.items()):
        if dim.height is not None:
            lines.append(f"  {number} height={dim.height:g}")
    lines.append("validations:")
    for dv in sorted(ws.data_validations.dataValidation, key=lambda d: str(d.sqref)):
        lines.append(
            f"  {dv.sqref} type={dv.type} operator={dv.operator} formula1={dv.formula1}"
            f" formula2={dv.formula2} blank={int(bool(dv.allow_blank))}"
            f" prompt={int(bool(dv.showInputMessage))}:{dv.promptTitle}:{dv.prompt}"
            f" error={int(bool(dv.showErrorMessage))}:{dv.errorStyle}:{dv.errorTitle}:{dv.error}"
        )
    lines.append("conditional formats:")
    lines += _dump_conditional(ws)
    lines.append("cells:")
    for row in ws.iter_rows():
        for cell in row:
            if cell.value is not None or cell.has_style:
                lines.append("  " + _dump_cell(cell))
    return lines


def _dump_print(ws: Worksheet) -> list[str]:
    setup, margins, options = ws.page_setup, ws.page_margins, ws.print_options
    fit = ws.sheet_properties.pageSetUpPr
    return [
        f"print: paper={setup.paperSize} orientation={setup.orientation}"
        f" fit_to_page={int(bool(fit and fit.fitToPage))}"
        f" fit={setup.fitToWidth}x{setup.fitToHeight}"
        f" titles={ws.print_title_rows} area={ws.print_area}"
        f" centered={int(bool(options.horizontalCentered))}",
        f"margins: left={margins.left} right={margins.right} top={margins.top}"
        f" bottom={margins.bottom} header={margins.header} footer={margins.footer}",
        f"header: {_header(ws.oddHeader)}",
        f"footer: {_header(ws.oddFooter)}",
    ]


def _header(part) -> str:
    return " | ".join(
        f"{side}={getattr(part, side).text}"
        for side in ("left", "center", "right")
        if getattr(part, side).text
    )


def _dump_cell(cell: Cell) -> str:
    value = cell.value
    shown = f"={value[1:]}" if cell.data_type == "f" else repr(value)
    font, fill, align, prot = cell.font, cell.fill, cell.alignment, cell.protection
    style = [
        f"fmt={cell.number_format}",
        f"font={font.name}/{font.sz:g}{'/bold' if font.b else ''}",
    ]
    if fill.fill_type:
        style.append(f"fill={fill.fgColor.rgb}")
    if align.wrap_text:
        style.append("wrap")
    if align.horizontal:
        style.append(f"align={align.horizontal}")
    style.append(f"locked={int(bool(prot.locked))} hidden={int(bool(prot.hidden))}")
    if cell.border.left.style:
        style.append("border")
    text = f"{cell.coordinate} {shown} [{' '.join(style)}]"
    if cell.comment is not None:
        text += f" comment={cell.comment.text!r} by {cell.comment.author}"
    return text
