"""Validation findings as data (not exceptions), in the manner of frictionless and csvkit.

Each finding names the file, sheet and cell, carries a stable `code` (tests and
the ledger use it) and a message in Chinese for the clerk (from `texts`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Finding:
    """One problem: where it is, what kind it is, and what to do about it."""

    file: str
    sheet: str | None
    cell: str | None
    code: str
    message: str
    severity: Severity = "error"

    @property
    def where(self) -> str:
        """`文件名 填报表!K12`, or as much of it as is known."""
        place = f"{self.sheet}!{self.cell}" if self.sheet and self.cell else (self.sheet or "")
        return f"{self.file} {place}".strip()

    def __str__(self) -> str:
        return f"{self.where}：{self.message}"


@dataclass
class Report:
    """The findings about one thing (a file, a plan)."""

    findings: list[Finding] = field(default_factory=list)

    def add(self, finding: Finding) -> None:
        self.findings.append(finding)

    def extend(self, findings: Iterable[Finding]) -> None:
        self.findings.extend(findings)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "warning"]

    def codes(self) -> list[str]:
        return [f.code for f in self.findings]

    def __iter__(self) -> Iterator[Finding]:
        return iter(self.findings)

    def __len__(self) -> int:
        return len(self.findings)
