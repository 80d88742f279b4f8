"""Reading a returned workbook, whatever program saved it, into plain cell values.

Contract between reading (this module) and validation (`validate.py`):
a `ReturnedBook` holds only plain Python values, so it crosses a process
boundary (untrusted files are read in a child process with memory and time
limits; see `read_many`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .findings import Finding


@dataclass(frozen=True)
class SheetInfo:
    """A sheet's name and visibility: visible, hidden or veryhidden."""

    name: str
    visible: str


@dataclass
class ReturnedBook:
    """What a returned file holds, as far as ecoxl cares."""

    file: str  # the name it arrived under (for findings)
    format: str  # xlsx | xlsm | xls | ods
    sheets: list[SheetInfo] = field(default_factory=list)
    form_sheet: str | None = None  # the sheet holding the form table
    cells: list[list[object]] = field(default_factory=list)  # form sheet values from A1
    identity_rows: list[list[object]] | None = None  # the identity sheet's values, if present
    properties: dict[str, str] = field(default_factory=dict)  # custom document properties
    formulas: dict[tuple[int, int], str] = field(default_factory=dict)  # (row, col) → formula
    findings: list[Finding] = field(default_factory=list)  # what reading itself noticed
