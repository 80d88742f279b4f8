"""Writing a file so that a failed write never leaves half of it: a temporary file, then a rename.

The office keeps `plan.xlsx` and `contacts.xlsx` for months and edits them by
hand; a crash or a full disk while ecoxl rewrites one must leave the old file
whole. On Windows a file open in Excel cannot be replaced: that is one clear line.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .exceptions import WorkspaceError
from .texts import say


@contextmanager
def atomic_target(path: Path) -> Iterator[Path]:
    """A temporary path beside `path` to write to; it replaces `path` only if the block succeeds."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # Named, not created: the writer creates it, with the same permissions as any new file.
    temp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    try:
        yield temp
        try:
            os.replace(temp, path)
        except PermissionError as exc:
            raise WorkspaceError(say("file.locked", file=path.name)) from exc
    finally:
        temp.unlink(missing_ok=True)
