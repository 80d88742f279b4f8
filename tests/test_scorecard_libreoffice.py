"""Proof that the scorecard's formulas are real: LibreOffice recalculates every one of them
and gets the results stored with them, and a changed reported value moves rate, task score,
unit score and rank exactly as scoring.py says."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import openpyxl
import pytest
from fixtures import small_registry
from test_scorecard import build, build_for, records, synthetic_rows
from test_scoring import example_rows, row

from ecoxl.libreoffice import convert
from ecoxl.registry import load_registry

pytestmark = pytest.mark.libreoffice

ERRORS = ("#DIV/0!", "#NAME?", "#REF!", "#VALUE!", "#N/A", "#NUM!", "#NULL!", "Err:")


def recalculate(path: Path, outdir: Path) -> Path:
    """LibreOffice opens the file recalculating every formula, and saves what it computed."""
    return convert(path, "xlsx", outdir, recalc=True)


def disagreements(expected: Path, recalculated: Path) -> tuple[int, list[str]]:
    """Every formula cell of `expected` against LibreOffice's result for the same cell."""
    book = openpyxl.load_workbook(expected)
    stored = openpyxl.load_workbook(expected, data_only=True)
    computed = openpyxl.load_workbook(recalculated, data_only=True)
    count, wrong = 0, []
    for sheet in book.worksheets:
        for line in sheet.iter_rows():
            for cell in line:
                if cell.data_type != "f":
                    continue
                count += 1
                ours = stored[sheet.title][cell.coordinate].value
                theirs = computed[sheet.title][cell.coordinate].value
                if not _same(ours, theirs):
                    wrong.append(f"{sheet.title}!{cell.coordinate} {ours!r} ≠ {theirs!r}")
    return count, wrong


def _same(ours: object, theirs: object) -> bool:
    ours, theirs = ("" if v is None else v for v in (ours, theirs))
    if isinstance(ours, int | float) and isinstance(theirs, int | float):
        return theirs == pytest.approx(ours, rel=1e-9, abs=1e-12)
    return ours == theirs


def errors(path: Path) -> list[str]:
    book = openpyxl.load_workbook(path, data_only=True)
    return [
        f"{sheet.title}!{cell.coordinate} {cell.value}"
        for sheet in book.worksheets
        for line in sheet.iter_rows()
        for cell in line
        if isinstance(cell.value, str) and cell.value.startswith(ERRORS)
    ]


def tied() -> dict:
    """辛店镇 reports exactly what 城关乡 reports: two units share rank 2."""
    rows = example_rows()
    rows["辛店镇"] = list(rows["城关乡"])
    return rows


@pytest.mark.parametrize(
    ("case", "rows", "rejected"),
    [("example", None, ("辛店镇",)), ("tie", tied(), ()), ("nothing", {}, ())],
)
def test_libreoffice_recalculates_every_formula_to_the_stored_result(
    soffice, tmp_path, case, rows, rejected
):
    written = build(tmp_path, rows, rejected=rejected)
    recalculated = recalculate(written.path, tmp_path / "recalculated")
    count, wrong = disagreements(written.path, recalculated)
    assert count > 100
    assert wrong == []
    assert errors(recalculated) == [] and errors(written.path) == []
    if case == "tie":
        units = records(openpyxl.load_workbook(recalculated, data_only=True)["单位"], "单位")
        assert units["城关乡"]["排名"] == units["辛店镇"]["排名"] == 2


def patch_value(path: Path, sheet_name: str, cell: str, value: float, out: Path) -> Path:
    """Change one number in one sheet's XML, leaving every other byte of the package alone."""
    with zipfile.ZipFile(path) as package:
        names = package.namelist()
        workbook = package.read("xl/workbook.xml").decode()
        rels = package.read("xl/_rels/workbook.xml.rels").decode()
        rid = re.search(rf'<sheet name="{sheet_name}" sheetId="\d+" r:id="(rId\d+)"', workbook)[1]
        target = "xl/" + re.search(rf'Id="{rid}"[^>]*Target="([^"]+)"', rels)[1]
        contents = {name: package.read(name) for name in names}
    xml = contents[target].decode()
    xml, replaced = re.subn(
        rf'(<c r="{cell}"[^>]*>)<v>[^<]*</v>(</c>)', rf"\g<1><v>{value}</v>\g<2>", xml
    )
    assert replaced == 1
    contents[target] = xml.encode()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as package:
        for name in names:
            package.writestr(name, contents[name])
    return out


def test_a_changed_detail_moves_rate_task_score_unit_score_and_rank(soffice, tmp_path):
    before = build(tmp_path / "before")
    details = openpyxl.load_workbook(before.path)["明细"]
    headers = [c.value for c in details[2]]
    line = next(
        r
        for r in range(3, details.max_row + 1)
        if details.cell(r, 1).value == "市林业局" and details.cell(r, 4).value == "1-1"
    )
    cell = details.cell(line, headers.index("本期完成值") + 1)
    assert cell.value == 27
    patched = patch_value(before.path, "明细", cell.coordinate, 3, tmp_path / "patched.xlsx")
    recalculated = recalculate(patched, tmp_path / "recalculated")

    # The same change made in the ledger, computed by scoring.py and written with its results.
    rows = example_rows()
    rows["市林业局"][0] = row("1-1", 3, "达进度", progress="=1+1")
    after = build(tmp_path / "after", rows)
    count, wrong = disagreements(after.path, recalculated)
    assert count > 100 and wrong == []

    result = openpyxl.load_workbook(recalculated, data_only=True)
    indicator = records(result["指标"], "行键")["1-1"]
    assert indicator["完成率"] == pytest.approx(0.1)  # 3 ÷ 30, was 0.9
    assert indicator["状态"] == "滞后"
    task = records(result["任务"], "任务编号")[1]
    assert task["完成率"] == pytest.approx(0.5)  # (0.1 + 0.9) ÷ 2, was 0.9
    units = records(result["单位"], "单位")
    assert units["市林业局"]["得分"] == pytest.approx(100 * (0.7 * 0.5 + 0.3 * 2 * 0.75) / 1.3)
    assert (units["市林业局"]["排名"], units["市水务局"]["排名"]) == (4, 3)  # was 3 and 4
    old = {u.name: u for u in before.card.units}
    assert (old["市林业局"].rank, old["市水务局"].rank) == (3, 4)


def test_libreoffice_agrees_on_the_shared_small_registry(soffice, tmp_path):
    registry = small_registry()
    written = build_for(registry, tmp_path, synthetic_rows(registry, skip=3))
    recalculated = recalculate(written.path, tmp_path / "recalculated")
    count, wrong = disagreements(written.path, recalculated)
    assert count > 50 and wrong == []
    assert errors(recalculated) == []


def test_libreoffice_agrees_on_the_sample_notice(soffice, tmp_path, sample_notice):
    """The bundled notice as parsed (32 tasks, 45 units), every unit's form filled in
    with varied values: many tasks end with equal rates reached by different sums."""
    registry = load_registry(sample_notice)
    written = build_for(registry, tmp_path, synthetic_rows(registry, skip=7))
    assert len(written.card.units) > 40 and len(written.card.details) > 500
    recalculated = recalculate(written.path, tmp_path / "recalculated")
    count, wrong = disagreements(written.path, recalculated)
    assert count > 1000 and wrong == []
    assert errors(recalculated) == []
