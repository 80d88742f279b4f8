"""The archive: every returned file's original bytes, kept under their SHA-256, never overwritten.

`archive/<first two hex digits>/<sha256>/<safe name>`: the folder is named by the
content, so the same bytes are stored once however often they arrive; the file
inside keeps the sender's name (made safe by `sources.safe_name`), so the office
opening it sees what the unit sent. A file appears whole or not at all: it is
written to a temporary file in its folder, flushed to disk (fsync), renamed into
place, and the folder flushed too. Two `ecoxl collect` runs storing the same bytes
at once write identical content, so whichever rename lands last changes nothing.
fsync costs milliseconds; `collect` calls `store` from one archive thread
(`collect.ARCHIVE_THREADS`) that runs while the worker processes read the files,
so archiving hides behind reading.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from pathlib import Path

from .sources import safe_name

TEMP_PREFIX = ".tmp-"


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class Archive:
    """The archive folder of one workspace; paths it returns are relative to the workspace."""

    def __init__(self, folder: Path, workspace_root: Path):
        self.folder = folder
        self.root = workspace_root

    def folder_of(self, sha256: str) -> Path:
        return self.folder / sha256[:2] / sha256

    def find(self, sha256: str) -> Path | None:
        """The archived file holding these bytes, if there is one (temporary files skipped)."""
        folder = self.folder_of(sha256)
        with contextlib.suppress(FileNotFoundError, NotADirectoryError):
            for entry in sorted(os.listdir(folder)):
                if not entry.startswith("."):
                    return folder / entry
        return None

    def store(self, sha256: str, name: str, data: bytes) -> str:
        """Keep `data` (whose hash is `sha256`) and return its path relative to the workspace."""
        folder = self.folder_of(sha256)
        try:
            folder.mkdir()  # new bytes, the usual case: nothing to look for
            created = True
        except FileNotFoundError:
            folder.mkdir(parents=True, exist_ok=True)
            created = True
        except FileExistsError:
            created = False
        found = None if created else self.find(sha256)
        if found is None:
            found = self._write(folder, safe_name(name), data, created)
        return self.relative(found)

    def relative(self, path: Path) -> str:
        try:
            return path.relative_to(self.root).as_posix()
        except ValueError:
            return str(path)

    def _write(self, folder: Path, name: str, data: bytes, created: bool) -> Path:
        temp = folder / f"{TEMP_PREFIX}{os.urandom(8).hex()}"
        handle = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temp, folder / name)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp)
        _fsync_dir(folder)
        if created:
            _fsync_dir(folder.parent)
        return folder / name


def _fsync_dir(path: Path) -> None:
    """Make a rename or a new entry durable; not possible (nor needed) on Windows."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    with contextlib.suppress(OSError):
        os.fsync(fd)
    os.close(fd)
