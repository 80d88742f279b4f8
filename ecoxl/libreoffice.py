"""LibreOffice headless as a real spreadsheet engine: open, re-save, recalculate.

Used by the demo (a unit that re-saves its form as .xls) and by the tests that
prove forms and scorecards survive a real client. Each call uses a private
profile, so runs never share state with a desktop LibreOffice or with each
other; with `recalc=True` the profile tells Calc to recalculate every formula
on load (by default it trusts the results stored in an .xlsx).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from .exceptions import EcoxlError
from .texts import say

FILTERS = {
    "xlsx": "xlsx:Calc MS Excel 2007 XML",
    "xls": "xls:MS Excel 97",
    "ods": "ods:calc8",
    "csv": "csv:Text - txt - csv (StarCalc):44,34,76,1",
    "pdf": "pdf:calc_pdf_Export",
}

_RECALC_PROFILE = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry"
 xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load">
<prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>{mode}</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load">
<prop oor:name="ODFRecalcMode" oor:op="fuse"><value>{mode}</value></prop></item>
</oor:items>
"""


def find_soffice() -> str | None:
    """The LibreOffice binary, or None when it is not installed."""
    for name in ("soffice", "libreoffice"):
        path = shutil.which(name)
        if path:
            return path
    return None


def convert(
    source: Path, fmt: str, outdir: Path, *, recalc: bool = False, timeout: float = 180
) -> Path:
    """Open `source` in LibreOffice and save it as `fmt` (xlsx, xls, ods, csv, pdf) in `outdir`.

    Returns the new file's path (same stem, new suffix).
    """
    soffice = find_soffice()
    if soffice is None:
        raise EcoxlError(say("libreoffice.missing"))
    outdir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="ecoxl-lo-") as profile:
        user = Path(profile) / "user"
        user.mkdir()
        mode = 0 if recalc else 1
        (user / "registrymodifications.xcu").write_text(
            _RECALC_PROFILE.format(mode=mode), encoding="utf-8"
        )
        command = [
            soffice,
            f"-env:UserInstallation={Path(profile).as_uri()}",
            "--headless",
            "--norestore",
            "--nologo",
            "--convert-to",
            FILTERS.get(fmt, fmt),
            "--outdir",
            str(outdir),
            str(source),
        ]
        env = {**os.environ, "HOME": profile}
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=timeout, env=env, check=False
        )
    target = outdir / f"{source.stem}.{fmt}"
    if done.returncode != 0 or not target.exists():
        detail = (done.stderr or done.stdout).strip().splitlines()
        raise EcoxlError(
            say(
                "libreoffice.failed", file=source.name, fmt=fmt, reason=detail[-1] if detail else ""
            )
        )
    return target
