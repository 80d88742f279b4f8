"""Registry input and output: every stage gets its registry from `load_registry`.

A registry comes from a notice (.txt/.docx, parsed), its JSON (`plan.json`) or
the workbook the office edits (`plan.xlsx`, see docs/REGISTRY_WORKBOOK.md).
Saving writes .json or .xlsx through a temporary file, so a failed write never
leaves half a file.
"""

from __future__ import annotations

import json
from pathlib import Path

from .atomic import atomic_target
from .exceptions import InputError, RegistryError
from .findings import Finding
from .model import Registry
from .texts import say

NOTICE_SUFFIXES = (".txt", ".docx")
KNOWN_OTHERS = {
    ".pdf": "notice.pdf",
    ".doc": "notice.doc",
    ".wps": "notice.doc",
    ".rtf": "notice.rtf",
}


class RegistryBookError(RegistryError):
    """The registry workbook holds edits that cannot be used; `findings` names each cell."""

    def __init__(self, file: str, findings: list[Finding]) -> None:
        self.findings = findings
        lines = [say("registry.invalid", file=file, count=len(findings)), *map(str, findings)]
        super().__init__("\n".join(lines))


def load_registry(path: Path) -> Registry:
    """The registry in `path`: a notice, plan.json or plan.xlsx, chosen by the suffix."""
    suffix = path.suffix.lower()
    if suffix in KNOWN_OTHERS:  # say what to do with it, as for such a file named .txt
        raise InputError(say(KNOWN_OTHERS[suffix], file=path.name))
    if suffix not in (*NOTICE_SUFFIXES, ".json", ".xlsx"):
        raise InputError(say("registry.bad_suffix", file=path.name))
    if not path.is_file():
        raise InputError(say("registry.missing", file=path))
    if suffix in NOTICE_SUFFIXES:
        from .parse import parse_notice  # the parser is only needed for a notice

        return parse_notice(path)
    if suffix == ".json":
        return _load_json(path)
    # openpyxl (and numpy through it) only for the workbook: ~0.2 s off every other command
    from .registry_read import read_registry_book

    reading = read_registry_book(path)
    if reading.registry is None:
        raise RegistryBookError(path.name, reading.findings)
    return reading.registry


def save_registry(registry: Registry, path: Path) -> None:
    """Write `registry` as .json or .xlsx, replacing `path` only once the new file is complete."""
    suffix = path.suffix.lower()
    if suffix not in (".json", ".xlsx"):
        raise InputError(say("registry.bad_output", file=path.name))
    with atomic_target(path) as temp:
        if suffix == ".json":
            temp.write_text(registry.to_json(), encoding="utf-8")
        else:
            from .registry_book import write_registry_book  # xlsxwriter's workbook, on demand

            write_registry_book(registry, temp)


def _load_json(path: Path) -> Registry:
    try:
        return Registry.from_json(path.read_text(encoding="utf-8-sig"))
    except json.JSONDecodeError as exc:
        reason = say("registry.json.syntax", line=exc.lineno, column=exc.colno)
    except KeyError as exc:
        reason = say("registry.json.missing", key=exc.args[0] if exc.args else "")
    except (ValueError, TypeError, AttributeError):
        reason = say("registry.json.shape")
    raise RegistryError(say("registry.bad_json", file=path.name, reason=reason))
