"""contacts.xlsx: written with every unit, filled in by the office, read back tolerantly."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest
from fixtures import small_registry

from ecoxl.contacts import UnitContact, contact_units, load_contacts, write_contacts
from ecoxl.exceptions import InputError

# Rows of the small registry's contacts.xlsx.
ROW = {
    "市发展改革委": 2,
    "市住建局": 3,
    "市文广新局": 4,
    "市财政局": 5,
    "城关乡": 6,
    "新建路街道": 7,
}


@pytest.fixture
def contacts_xlsx(tmp_path: Path) -> Path:
    path = tmp_path / "contacts.xlsx"
    write_contacts(small_registry(), path)
    return path


def fill(path: Path, cells: dict[str, object]) -> None:
    book = openpyxl.load_workbook(path)
    for cell, value in cells.items():
        book.active[cell].value = value
    book.save(path)


def test_every_reporting_unit_and_department_has_a_row(contacts_xlsx: Path) -> None:
    sheet = openpyxl.load_workbook(contacts_xlsx).active
    headers = [c.value for c in sheet[1]]
    assert headers[:4] == ["单位", "联系人", "职务", "电子邮箱"]
    assert {"单位", "联系人", "电子邮箱", "联系电话"} <= set(headers)
    rows = [[c.value for c in row][:4] for row in sheet.iter_rows(min_row=2)]
    assert rows == [
        ["市发展改革委", "刘红军", "市发展和改革委员会主任", None],
        ["市住建局", "齐光辉", "市住建局局长", None],
        ["市文广新局", "刘学敏", "市文广新局局长", None],
        ["市财政局", "貊海森", "市财政局局长", None],
        ["城关乡", "马东亮", "城关乡乡长", None],
        ["新建路街道", None, None, None],
    ]
    assert contact_units(small_registry()) == list(ROW)
    assert sheet.freeze_panes == "A2"


def test_email_cells_carry_an_input_hint(contacts_xlsx: Path) -> None:
    sheet = openpyxl.load_workbook(contacts_xlsx).active
    rule = next(dv for dv in sheet.data_validations.dataValidation if str(dv.sqref).startswith("D"))
    assert rule.type == "custom"
    assert "@" in rule.formula1
    assert rule.prompt


def test_a_freshly_written_book_has_every_unit_without_email(contacts_xlsx: Path) -> None:
    book = load_contacts(contacts_xlsx, small_registry())
    assert book.findings == []
    assert [c.unit for c in book] == list(ROW)
    assert book.without_email() == list(ROW)
    assert book.get("市发展改革委") == UnitContact(
        "市发展改革委", "刘红军", "", "", "市发展和改革委员会主任"
    )


def test_addresses_are_read_as_typed(contacts_xlsx: Path) -> None:
    fill(
        contacts_xlsx,
        {
            "D2": " fgw@xinzheng.gov.cn ",
            "D3": "zjj@xz.gov.cn；office＠xz.gov.cn、 boss@xz.gov.cn",
            "D4": "<wgx@xz.gov.cn>, mailto:wgx2@xz.gov.cn",
            "E2": 13812345678,
            "B2": "张 三",
        },
    )
    book = load_contacts(contacts_xlsx, small_registry())
    assert book.findings == []
    assert book.get("市发展改革委").email == "fgw@xinzheng.gov.cn"
    assert book.get("市发展改革委").phone == "13812345678"
    assert book.get("市住建局").addresses == ("zjj@xz.gov.cn", "office@xz.gov.cn", "boss@xz.gov.cn")
    assert book.get("市文广新局").email == "wgx@xz.gov.cn, wgx2@xz.gov.cn"
    assert book.without_email() == ["市财政局", "城关乡", "新建路街道"]


def test_an_invalid_address_is_named_and_the_valid_ones_kept(contacts_xlsx: Path) -> None:
    fill(contacts_xlsx, {"D3": "zjj@xz.gov.cn; zjj at xz.gov.cn", "D5": "czj@"})
    book = load_contacts(contacts_xlsx, small_registry())
    assert [(f.code, f.sheet, f.cell) for f in book.findings] == [
        ("contacts.bad_email", "联系人", "D3"),
        ("contacts.bad_email", "联系人", "D5"),
    ]
    assert "zjj at xz.gov.cn" in book.findings[0].message
    assert book.get("市住建局").email == "zjj@xz.gov.cn"
    assert book.get("市财政局").email == ""
    assert "市财政局" in book.without_email()


def test_an_alias_is_the_unit_and_an_unknown_name_is_reported(contacts_xlsx: Path) -> None:
    fill(
        contacts_xlsx,
        {"A4": "文广新局 ", "D4": "wgx@xz.gov.cn", "A8": "市不存在局", "D8": "x@xz.gov.cn"},
    )
    fill(contacts_xlsx, {"D9": "y@xz.gov.cn"})  # an address without its unit
    book = load_contacts(contacts_xlsx, small_registry())
    assert book.get("市文广新局").email == "wgx@xz.gov.cn"
    assert [(f.code, f.cell) for f in book.findings] == [
        ("contacts.unknown_unit", "A8"),
        ("contacts.no_unit", "A9"),
    ]
    assert book.get("市不存在局") is None


def test_a_deleted_row_keeps_the_unit_listed_without_email(contacts_xlsx: Path) -> None:
    book = openpyxl.load_workbook(contacts_xlsx)
    book.active.delete_rows(ROW["城关乡"])
    book.save(contacts_xlsx)
    contacts = load_contacts(contacts_xlsx, small_registry())
    assert contacts.get("城关乡") == UnitContact("城关乡")
    assert [(f.code, f.severity) for f in contacts.findings] == [
        ("contacts.unit_missing", "warning")
    ]


def test_two_rows_for_one_unit_are_merged(contacts_xlsx: Path) -> None:
    fill(
        contacts_xlsx,
        {"D2": "a@xz.gov.cn", "A8": "市发展和改革委员会", "D8": "b@xz.gov.cn", "E8": "0371-1"},
    )
    book = load_contacts(contacts_xlsx, small_registry())
    merged = book.get("市发展改革委")
    assert merged.addresses == ("a@xz.gov.cn", "b@xz.gov.cn")
    assert merged.phone == "0371-1"
    assert [(f.code, f.cell, f.severity) for f in book.findings] == [
        ("contacts.duplicate_unit", "A8", "warning")
    ]


def test_renamed_sheet_and_moved_columns_are_still_read(contacts_xlsx: Path) -> None:
    book = openpyxl.load_workbook(contacts_xlsx)
    sheet = book.active
    sheet.title = "Sheet1"
    sheet.insert_rows(1)
    sheet["A1"] = "各单位联系人"
    sheet.move_range("D2:D8", cols=4)  # 电子邮箱 moved to the far right
    sheet["H3"] = "fgw@xz.gov.cn"
    book.save(contacts_xlsx)
    contacts = load_contacts(contacts_xlsx, small_registry())
    assert contacts.findings == []
    assert contacts.get("市发展改革委").email == "fgw@xz.gov.cn"


def test_a_missing_email_column_is_named_and_every_unit_kept(contacts_xlsx: Path) -> None:
    book = openpyxl.load_workbook(contacts_xlsx)
    book.active.delete_cols(4)
    book.save(contacts_xlsx)
    contacts = load_contacts(contacts_xlsx, small_registry())
    assert ("table.missing_column", "联系人") in [(f.code, f.sheet) for f in contacts.findings]
    assert contacts.without_email() == list(ROW)


def test_an_unreadable_file_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "contacts.xlsx"
    path.write_bytes(b"PK\x03\x04 broken")
    with pytest.raises(InputError):
        load_contacts(path, small_registry())
