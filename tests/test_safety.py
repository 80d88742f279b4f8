"""safety.inspect on real hostile files: each yields a stable code before any parser runs."""

from __future__ import annotations

import hashlib
import io

import hostile
import openpyxl
import openpyxl.xml
import pytest
from defusedxml import DefusedXmlException

from ecoxl.config import Limits
from ecoxl.safety import MAX_SHEET_CELLS, inspect

LIMITS = Limits()


def codes(data: bytes, name: str = "x.xlsx", limits: Limits = LIMITS) -> list[str]:
    return [f.code for f in inspect(data, name, limits).findings]


@pytest.mark.parametrize(
    ("build", "fmt", "code"),
    [
        (hostile.not_a_zip, "binary", "file.not_spreadsheet"),
        (hostile.docx, "docx", "file.not_spreadsheet"),
        (hostile.html_table, "html", "file.not_spreadsheet"),
        (hostile.csv_text, "csv", "file.not_spreadsheet"),
        (hostile.pdf, "pdf", "file.not_spreadsheet"),
        (hostile.word_97, "doc", "file.not_spreadsheet"),
        (hostile.zip_bomb, "zip", "file.zip_bomb"),
        (hostile.lying_member, "xlsx", "file.size_mismatch"),
        (hostile.duplicate_members, "zip", "file.duplicate_member"),
        (hostile.billion_laughs, "xlsx", "file.xml_entities"),
        (hostile.strict_ooxml, "xlsx", "file.strict_ooxml"),
        (hostile.encrypted_ooxml, "xlsx", "file.encrypted"),
        (hostile.xls_with_password, "xls", "file.encrypted"),
        (lambda: b"", "empty", "file.empty"),
    ],
)
def test_hostile_file_is_refused_with_its_code(build, fmt, code):
    result = inspect(build(), "退回.xlsx", LIMITS)
    assert result.format == fmt
    assert [f.code for f in result.findings] == [code]
    assert not result.readable
    finding = result.findings[0]
    assert finding.severity == "error" and finding.file == "退回.xlsx"
    assert "\n" not in finding.message and "退回.xlsx" in finding.message


def test_the_kind_of_a_wrong_file_is_named_in_words():
    message = inspect(hostile.docx(), "表.xlsx", LIMITS).findings[0].message
    assert "Word" in message
    assert "网页" in inspect(hostile.html_table(), "表.xls", LIMITS).findings[0].message


def test_value_far_outside_the_form_names_the_cell():
    data = hostile.far_cell("XFD1048576")
    assert len(data) < 5000
    [finding] = inspect(data, "far.xlsx", LIMITS).findings
    assert (finding.code, finding.sheet, finding.cell) == (
        "sheet.far_outside",
        "填报表",
        "XFD1048576",
    )


def test_cells_without_a_reference_still_count_towards_the_extent():
    cells = "<c><v>1</v></c>" * 20
    rows = f'<row r="1048576">{cells}</row>'
    assert codes(hostile.minimal_xlsx(rows=rows)) == ["sheet.far_outside"]


def test_text_that_looks_like_a_reference_does_not_hide_cells_without_one():
    decoy = '<c t="inlineStr"><is><t>r="A1"</t></is></c>'
    rows = f'<row r="1048576">{decoy * 20}</row>'
    assert codes(hostile.minimal_xlsx(rows=rows)) == ["sheet.far_outside"]


@pytest.mark.parametrize(
    "cell",
    ['<c s="1" r="XFD1048576"><v>1</v></c>', '<x:c r="XFD1048576"><x:v>1</x:v></x:c>'],
)
def test_a_far_cell_is_found_whatever_its_attribute_order_or_prefix(cell):
    rows = f'<row r="1"><c r="A1"><v>1</v></c>{cell}</row>'
    assert codes(hostile.minimal_xlsx(rows=rows)) == ["sheet.far_outside"]


def test_an_ordinary_form_and_a_wide_but_honest_extent_pass():
    assert codes(hostile.simple_form()) == []
    rows = '<row r="1"><c r="A1"><v>1</v></c></row><row r="9999"><c r="ZZ9999"><v>2</v></c></row>'
    assert MAX_SHEET_CELLS >= 702 * 9999
    assert codes(hostile.minimal_xlsx(rows=rows)) == []


def test_macros_and_external_links_are_warnings_not_refusals():
    macro = inspect(hostile.with_macros(), "m.xlsm", LIMITS)
    assert macro.format == "xlsm" and macro.readable
    assert [(f.code, f.severity) for f in macro.findings] == [("file.macros", "warning")]
    links = inspect(hostile.with_external_links(), "l.xlsx", LIMITS)
    assert links.readable
    assert [(f.code, f.severity) for f in links.findings] == [("file.external_links", "warning")]


def test_member_count_and_unpacked_size_are_capped_from_the_directory():
    many = hostile.package({f"m{i}.xml": "<a/>" for i in range(2100)})
    assert codes(many) == ["file.too_many_members"]
    noise = b"".join(hashlib.sha256(str(i).encode()).digest() for i in range(20000))
    honest = hostile.simple_form(extra_members={"xl/media/photo.bin": noise})
    assert codes(honest) == []
    assert codes(honest, limits=Limits(max_unzipped_mb=0.5)) == ["file.too_large_unzipped"]
    assert codes(honest, limits=Limits(max_file_mb=0.5)) == ["file.too_large"]


def test_xlsb_is_refused_clearly(realworld):
    assert codes((realworld / "issue_666_panic.xlsb").read_bytes(), "a.xlsb") == ["file.xlsb"]
    assert codes((realworld / "date.xlsb").read_bytes(), "renamed.xlsx") == ["file.xlsb"]


@pytest.mark.parametrize(
    "name", ["pass_protected.xlsx", "pass_protected.ods", "pass_protected.xlsb"]
)
def test_password_protected_files_say_encrypted_not_broken(realworld, name):
    assert codes((realworld / name).read_bytes(), name) == ["file.encrypted"]


def test_ods_dos_with_repeated_rows_is_refused(realworld):
    data = (realworld / "issue_594_dos.ods").read_bytes()
    [finding] = inspect(data, "dos.ods", LIMITS).findings
    assert finding.code == "sheet.far_outside" and finding.sheet == "Sheet1"


def test_real_xls_and_ods_are_recognised(realworld):
    assert inspect((realworld / "issues.xls").read_bytes(), "a.xls", LIMITS).format == "xls"
    assert inspect((realworld / "issues.ods").read_bytes(), "a.ods", LIMITS).readable


def test_openpyxl_runs_with_defusedxml_and_refuses_the_billion_laughs():
    assert openpyxl.xml.DEFUSEDXML is True
    with pytest.raises(ValueError) as refused:
        openpyxl.load_workbook(io.BytesIO(hostile.billion_laughs()))
    cause = refused.value.__cause__ or refused.value.__context__
    assert isinstance(cause, DefusedXmlException)


def test_a_truncated_zip_is_corrupt_not_a_crash():
    data = hostile.simple_form()
    assert codes(data[: len(data) - 40]) == ["file.corrupt"]
    assert codes(data[: len(data) // 2]) == ["file.corrupt"]
