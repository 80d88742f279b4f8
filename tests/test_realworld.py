"""Every file of the real-world corpus (calamine's own test files, many hostile) ends with a
ReturnedBook or a one-line reason, in bounded time and memory, and the test process lives."""

from __future__ import annotations

import resource

from ecoxl.config import Limits
from ecoxl.readback import ReadFailure, ReturnedBook, read_many
from ecoxl.sources import Candidate, Skipped, find_candidates

LIMITS = Limits(memory_mb=1024, timeout_seconds=120)


def test_the_whole_corpus_is_read_or_refused(realworld):
    spreadsheets = sorted(
        p.name
        for p in realworld.iterdir()
        if p.suffix in (".xlsx", ".xlsm", ".xls", ".xlsb", ".ods")
    )
    assert len(spreadsheets) == 133
    records = list(find_candidates([realworld], LIMITS, settle_seconds=0))
    skipped = {r.name: r.code for r in records if isinstance(r, Skipped)}
    assert skipped == {"LICENSE-MIT.md": "source.not_spreadsheet"}
    candidates = [r for r in records if isinstance(r, Candidate)]
    assert sorted(c.name for c in candidates) == spreadsheets

    results = dict((item.name, result) for item, result in read_many(candidates, LIMITS))
    assert sorted(results) == spreadsheets

    for name, result in results.items():
        if isinstance(result, ReadFailure):
            assert result.code and result.findings[0].severity == "error", name
            assert name in result.message and "\n" not in result.message, name
        else:
            assert isinstance(result, ReturnedBook), name
            # none of them is an ecoxl form: reading itself says so, as an error
            assert "form.no_form_sheet" in [f.code for f in result.findings], name

    codes = {name: getattr(r, "code", "book") for name, r in results.items()}
    assert codes["adhocallbabynames1996to2016.xls"] == "file.empty"
    for name in ("pass_protected.xlsx", "pass_protected.ods", "pass_protected.xlsb"):
        assert codes[name] == "file.encrypted"
    assert codes["issue_594_dos.ods"] == "sheet.far_outside"
    assert codes["issue_666_panic.xlsb"] == "file.xlsb"
    assert codes["strict_iso_paths.xlsx"] == "file.strict_ooxml"
    assert codes["issues.xlsx"] == codes["issues.xls"] == codes["issues.ods"] == "book"

    # the parent never parsed a file: its own peak memory stays far below the children's cap
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    assert peak_mb < LIMITS.memory_mb
