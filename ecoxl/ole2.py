"""A minimal, bounded reader of OLE2 compound files (.xls, encrypted OOXML, .doc).

`safety` uses it to tell an .xls from a Word file or an encrypted workbook before any
parser runs, `biff` to read its workbook stream; `xls_properties` here reads an .xls's
custom document properties (where the form's hidden identity also lives).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


class Ole2Error(ValueError):
    """The OLE2 container is damaged."""


class Ole2:
    """A minimal, bounded reader of an OLE2 compound file: its stream names and small reads.

    Written here rather than taken from olefile because little is needed (stream names,
    the first bytes of one stream, one small property stream, the workbook stream),
    and every loop must stay bounded by the file's own size on hostile input.
    """

    FREE = 0xFFFFFFFF
    END = 0xFFFFFFFE

    def __init__(self, data: bytes):
        if len(data) < 512 or not data.startswith(OLE2_MAGIC):
            raise Ole2Error("header")
        shift, mini_shift = struct.unpack_from("<HH", data, 0x1E)
        if shift not in (9, 12) or mini_shift != 6:
            raise Ole2Error("sector size")
        self.data = data
        self.size = 1 << shift
        (n_fat, dir_start, _, self.cutoff, minifat_start, n_minifat, difat_start, n_difat) = (
            struct.unpack_from("<8I", data, 0x2C)
        )
        self.sectors = max(0, (len(data) - self.size) // self.size + 1)
        fat_sectors = list(struct.unpack_from("<109I", data, 0x4C))
        per_sector = self.size // 4
        for sector in self._walk(difat_start, lambda s: self._u32s(s)[-1], n_difat):
            fat_sectors.extend(self._u32s(sector)[: per_sector - 1])
        self.fat: list[int] = []
        for sector in fat_sectors[:n_fat]:
            if sector < self.sectors:
                self.fat.extend(self._u32s(sector))
        directory = b"".join(self._sector(s) for s in self._chain(dir_start))
        self.entries = [
            _DirEntry.parse(directory[i : i + 128]) for i in range(0, len(directory), 128)
        ]
        root = self.entries[0] if self.entries else None
        self.ministream = (
            b"".join(self._sector(s) for s in self._chain(root.start)) if root else b""
        )
        self.minifat: list[int] = []
        for sector in self._chain(minifat_start, n_minifat):
            self.minifat.extend(self._u32s(sector))

    def names(self) -> list[str]:
        """Names of every stream and storage (type 1 or 2), as written."""
        return [e.name for e in self.entries if e.kind in (1, 2)]

    def find(self, *names: str) -> _DirEntry | None:
        wanted = {n.lower() for n in names}
        return next((e for e in self.entries if e.kind == 2 and e.name.lower() in wanted), None)

    def read(self, entry: _DirEntry, limit: int) -> bytes:
        """Up to `limit` bytes of a stream."""
        size = min(entry.size, limit)
        if entry.size < self.cutoff:
            chunks = []
            minis = len(self.ministream) // 64
            for sector in self._walk(entry.start, self._next_mini, count=minis):
                chunks.append(self.ministream[sector * 64 : sector * 64 + 64])
                if len(chunks) * 64 >= size:
                    break
            return b"".join(chunks)[:size]
        chunks = []
        for sector in self._chain(entry.start):
            chunks.append(self._sector(sector))
            if len(chunks) * self.size >= size:
                break
        return b"".join(chunks)[:size]

    def _next_mini(self, sector: int) -> int:
        return self.minifat[sector] if sector < len(self.minifat) else self.END

    def _sector(self, index: int) -> bytes:
        start = (index + 1) * self.size
        return self.data[start : start + self.size]

    def _u32s(self, index: int) -> list[int]:
        block = self._sector(index)
        return list(struct.unpack(f"<{len(block) // 4}I", block[: len(block) // 4 * 4]))

    def _chain(self, start: int, limit: int | None = None) -> list[int]:
        return self._walk(start, lambda s: self.fat[s] if s < len(self.fat) else self.END, limit)

    def _walk(
        self, start: int, follow, limit: int | None = None, count: int | None = None
    ) -> list[int]:
        """A sector chain, stopped at its end, at a loop, or past the `count` sectors there are."""
        count = self.sectors if count is None else count
        seen: list[int] = []
        visited: set[int] = set()
        bound = count if limit is None else min(limit, count)
        current = start
        while current < count and current not in visited and len(seen) < bound + 1:
            visited.add(current)
            seen.append(current)
            current = follow(current)
        return seen


@dataclass(frozen=True)
class _DirEntry:
    name: str
    kind: int  # 1 storage, 2 stream, 5 root
    start: int
    size: int

    @classmethod
    def parse(cls, raw: bytes) -> _DirEntry:
        if len(raw) < 128:
            return cls("", 0, Ole2.END, 0)
        length = min(struct.unpack_from("<H", raw, 0x40)[0], 64)
        name = raw[: max(0, length - 2)].decode("utf-16-le", "replace")
        start, size = struct.unpack_from("<II", raw, 0x74)
        return cls(name, raw[0x42], start, size)


# -- custom document properties -----------------------------------------------------


USER_PROPERTIES = bytes.fromhex("05d5cdd59c2e1b10939708002b2cf9ae")  # FMTID_UserDefinedProperties
_VT_LPSTR, _VT_LPWSTR, _VT_I4, _VT_R8, _VT_BOOL, _VT_I2 = 0x1E, 0x1F, 3, 5, 0x0B, 2


def xls_properties(data: bytes) -> dict[str, str]:
    """Custom (user-defined) properties of an .xls, from its DocumentSummaryInformation stream.

    Strings, integers, reals and booleans; anything else, or a damaged stream, is skipped.
    """
    try:
        ole = Ole2(data)
        entry = ole.find("\x05DocumentSummaryInformation")
        stream = ole.read(entry, 1 << 20) if entry else b""
        return _user_properties(stream)
    except (Ole2Error, struct.error, IndexError, UnicodeDecodeError, LookupError):
        return {}


def _user_properties(stream: bytes) -> dict[str, str]:
    if len(stream) < 48:
        return {}
    (count,) = struct.unpack_from("<I", stream, 24)
    offset = next(
        (
            struct.unpack_from("<I", stream, 28 + i * 20 + 16)[0]
            for i in range(min(count, 4))
            if stream[28 + i * 20 : 28 + i * 20 + 16] == USER_PROPERTIES
        ),
        None,
    )
    if offset is None:
        return {}
    _, n_props = struct.unpack_from("<II", stream, offset)
    pairs = [
        struct.unpack_from("<II", stream, offset + 8 + i * 8) for i in range(min(n_props, 1000))
    ]
    codepage = 1252
    for pid, at in pairs:
        if pid == 1 and struct.unpack_from("<H", stream, offset + at)[0] == _VT_I2:
            codepage = struct.unpack_from("<h", stream, offset + at + 4)[0] & 0xFFFF
    encoding = "utf-16-le" if codepage == 1200 else f"cp{codepage}"
    names: dict[int, str] = {}
    for pid, at in pairs:
        if pid == 0:
            names = _dictionary(stream, offset + at, encoding)
    values: dict[str, str] = {}
    for pid, at in pairs:
        if pid in names:
            value = _typed_value(stream, offset + at, encoding)
            if value is not None:
                values[names[pid]] = value
    return values


def _dictionary(stream: bytes, at: int, encoding: str) -> dict[int, str]:
    (count,) = struct.unpack_from("<I", stream, at)
    names: dict[int, str] = {}
    pos = at + 4
    for _ in range(min(count, 1000)):
        pid, length = struct.unpack_from("<II", stream, pos)
        pos += 8
        if encoding == "utf-16-le":
            raw = stream[pos : pos + length * 2]
            pos += length * 2
            pos += (4 - pos % 4) % 4
        else:
            raw = stream[pos : pos + length]
            pos += length
        names[pid] = raw.decode(encoding).rstrip("\x00")
    return names


def _typed_value(stream: bytes, at: int, encoding: str) -> str | None:
    (kind,) = struct.unpack_from("<H", stream, at)
    if kind == _VT_LPSTR:
        (length,) = struct.unpack_from("<I", stream, at + 4)
        return stream[at + 8 : at + 8 + length].decode(encoding).rstrip("\x00")
    if kind == _VT_LPWSTR:
        (length,) = struct.unpack_from("<I", stream, at + 4)
        return stream[at + 8 : at + 8 + length * 2].decode("utf-16-le").rstrip("\x00")
    if kind == _VT_I4:
        return str(struct.unpack_from("<i", stream, at + 4)[0])
    if kind == _VT_R8:
        return f"{struct.unpack_from('<d', stream, at + 4)[0]:g}"
    if kind == _VT_BOOL:
        return "true" if struct.unpack_from("<h", stream, at + 4)[0] else "false"
    return None
