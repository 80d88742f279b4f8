"""Where returned files come from: folders, mail files (.eml, mbox, Maildir), IMAP.

Contract between sources and collection: each candidate is a `Candidate` with
its bytes already in memory (size-capped), so nothing later re-reads a file
that may have changed meanwhile.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Candidate:
    """One file to collect: its bytes and where it came from."""

    name: str  # the file name as the sender gave it (never used as a path unsanitised)
    source: str  # where it was found: a path, or `mail:<path or folder>#<message-id>`
    data: bytes
    received_at: str  # ISO datetime: the mail's Date, else the file's modification time
    sender: str = ""  # the mail's From address, if it came by mail
