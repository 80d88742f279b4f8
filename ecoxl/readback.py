"""Reading a returned workbook, whatever program saved it, into plain cell values.

Contract between reading (this module) and validation (`validate.py`):
a `ReturnedBook` holds only plain Python values, so it crosses a process
boundary (untrusted files are read in a child process with memory and time
limits; see `read_many`).

A hostile file can crash the reader outright (python-calamine aborts the
interpreter on a cell at XFD1048576; other files exhaust memory or spin), so
every file is first checked by `safety.inspect` and then read in a worker
process with an address-space limit, no core dumps and a per-file deadline.
A worker that dies or overruns costs one file: its other files go back in the
queue, the file it was reading is tried once more alone in a fresh worker, and
only a second death makes it a `ReadFailure(code="file.crashed_reader")`.
"""

from __future__ import annotations

import contextlib
import json
import mmap
import os
import re
import resource
import socket
import struct
import subprocess
import sys
import time
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from html import unescape
from io import BytesIO
from multiprocessing.connection import Connection, wait
from typing import Protocol, TypeVar

import defusedxml.ElementTree as SafeET
import python_calamine
from defusedxml import DefusedXmlException

from . import layout, safety
from .config import Limits
from .findings import Finding
from .texts import say

MAX_ROWS = 5000  # form rows read; a form has a few hundred at most
MAX_COLS = 64  # form columns read; the form has 16
IDENTITY_MAX_ROWS = 20000
IDENTITY_MAX_COLS = 4
BATCH_FILES = 16  # files sent to a worker at once: amortises the pipe round trip
BATCH_BYTES = 4 << 20
WINDOW_BYTES = 64 << 20  # bytes of files taken from the caller and not yet handed back
POLL_SECONDS = 0.2
STARTUP_GRACE = 10.0  # seconds a worker may take to start reading before its clock runs
FILES_PER_WORKER = 2000  # a worker is replaced after this many files, to bound any leak

VISIBILITY = {"SheetVisibleEnum.Hidden": "hidden", "SheetVisibleEnum.VeryHidden": "veryhidden"}


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


@dataclass(frozen=True)
class ReadFailure:
    """A file that could not be read at all; `findings` holds the reason (an error) first."""

    file: str
    code: str
    findings: tuple[Finding, ...]

    @property
    def message(self) -> str:
        return self.findings[0].message


# -- one file -----------------------------------------------------------------------


def read_checked(data: bytes, name: str, limits: Limits) -> ReturnedBook | ReadFailure:
    """Inspect the bytes, then read them if they are safe to read. Never raises on bad input."""
    inspection = safety.inspect(data, name, limits)
    if not inspection.readable:
        looks_like = say("read.kind.unknown")
        errors = inspection.errors or [
            _finding(name, "file.not_spreadsheet", looks_like=looks_like)
        ]
        rest = [f for f in inspection.findings if f not in errors]
        return ReadFailure(name, errors[0].code, (*errors, *rest))
    try:
        book = read_book(data, name, inspection)
    except python_calamine.PasswordError:
        return _failure(name, "file.encrypted")
    except MemoryError:
        return _failure(name, "file.crashed_reader")
    except (python_calamine.CalamineError, OSError, ValueError, KeyError) as exc:
        return _failure(name, "file.unreadable", reason=_short(exc))
    book.findings[:0] = list(inspection.findings)
    return book


def read_book(data: bytes, name: str, inspection: safety.Inspection) -> ReturnedBook:
    """Read a file `safety.inspect` passed: the form sheet, the identity, properties, formulas.

    Runs in a worker process (see `read_many`); calamine errors propagate. The zip members
    the inspection already decompressed (sheets, custom properties) are reused, not re-read.
    """
    fmt = inspection.format
    workbook = python_calamine.CalamineWorkbook.from_filelike(BytesIO(data))
    sheets = [
        SheetInfo(m.name, VISIBILITY.get(str(m.visible), "visible"))
        for m in workbook.sheets_metadata
    ]
    worksheets = [
        m.name for m in workbook.sheets_metadata if m.typ == python_calamine.SheetTypeEnum.WorkSheet
    ]
    book = ReturnedBook(file=name, format=fmt, sheets=sheets)
    book.form_sheet = _find_form_sheet(workbook, sheets, worksheets)
    if book.form_sheet is None:
        book.findings.append(_finding(name, "form.no_form_sheet", expected=layout.FORM_SHEET))
    else:
        book.cells, truncated = _read_cells(workbook, book.form_sheet, MAX_ROWS, MAX_COLS)
        if truncated:
            book.findings.append(
                _finding(
                    name, "form.truncated", "warning", book.form_sheet, rows=MAX_ROWS, cols=MAX_COLS
                )
            )
    if layout.IDENTITY_SHEET in worksheets:
        book.identity_rows, _ = _read_cells(
            workbook, layout.IDENTITY_SHEET, IDENTITY_MAX_ROWS, IDENTITY_MAX_COLS
        )
    workbook.close()
    parts = inspection.parts
    if fmt in ("xlsx", "xlsm"):
        form_member = inspection.sheet_parts.get(book.form_sheet or "", "")
        if form_member in parts:
            book.formulas = xlsx_formulas(parts[form_member])
        if "docProps/custom.xml" in parts:
            book.properties = _xml_properties(parts["docProps/custom.xml"], "property")
    elif fmt == "ods":
        if "meta.xml" in parts:
            book.properties = _xml_properties(parts["meta.xml"], "user-defined")
        if book.form_sheet and "content.xml" in parts:
            book.formulas = ods_formulas(parts["content.xml"], book.form_sheet)
    elif fmt == "xls":
        book.properties = xls_properties(data)
    return book


def _find_form_sheet(workbook, sheets: list[SheetInfo], worksheets: list[str]) -> str | None:
    """`填报表`, or else the first visible sheet whose top rows hold the required headers."""
    if layout.FORM_SHEET in worksheets:
        return layout.FORM_SHEET
    required = set(layout.REQUIRED_HEADERS)
    for info in sheets:
        if info.visible != "visible" or info.name not in worksheets:
            continue
        rows = workbook.get_sheet_by_name(info.name).to_python(
            skip_empty_area=False, nrows=layout.SEARCH_ROWS
        )
        for row in rows:
            if required <= {_header(v) for v in row[:MAX_COLS]}:
                return info.name
    return None


def _header(value: object) -> str:
    return re.sub(r"\s+", "", str(value)) if isinstance(value, str) else ""


def _read_cells(
    workbook, sheet_name: str, max_rows: int, max_cols: int
) -> tuple[list[list[object]], bool]:
    """Values from A1, empty cells as None, at most max_rows × max_cols; and whether cut."""
    sheet = workbook.get_sheet_by_name(sheet_name)
    end = sheet.end
    truncated = end is not None and (end[0] >= max_rows or end[1] >= max_cols)
    rows = sheet.to_python(skip_empty_area=False, nrows=max_rows)
    cells = [[None if v == "" else v for v in row[:max_cols]] for row in rows]
    return cells, truncated


# -- what calamine does not give: formulas and custom properties --------------------------

_PREFIX = rb"(?:[A-Za-z_][\w.-]*:)?"
# <f> is the first child of <c> (the schema's order): one pass finds every formula cell
_FORMULA_CELL = re.compile(
    rb'<c\s[^>]*?\br="([A-Z]{1,3})([0-9]{1,7})"[^>]*>\s*<f\b([^>]*?)(?:/>|>([^<]*)</f>)'
)
_FORMULA_CELL_PREFIXED = re.compile(
    rb"<"
    + _PREFIX
    + rb'c\s[^>]*?\br="([A-Z]{1,3})([0-9]{1,7})"[^>]*>\s*<'
    + _PREFIX
    + rb"f\b([^>]*?)(?:/>|>([^<]*)</"
    + _PREFIX
    + rb"f>)"
)
_SHARED_INDEX = re.compile(rb'\bsi="([0-9]+)"')


def xlsx_formulas(sheet_xml: bytes) -> dict[tuple[int, int], str]:
    """(row, col) → formula text (`=…`) for every cell of a sheet's XML that holds a formula.

    A shared formula's followers carry no text of their own: they get the first cell's text.
    """
    formulas: dict[tuple[int, int], str] = {}
    shared: dict[bytes, str] = {}
    pattern = _FORMULA_CELL_PREFIXED if b":f" in sheet_xml else _FORMULA_CELL
    for letters, digits, attributes, body in pattern.findall(sheet_xml):
        text = unescape(body.decode("utf-8", "replace"))
        index = _SHARED_INDEX.search(attributes) if attributes else None
        if index and text:
            shared[index.group(1)] = text
        elif index:
            text = shared.get(index.group(1), "")
        formulas[(int(digits) - 1, _col_index(letters.decode()))] = "=" + text
    return formulas


def _col_index(letters: str) -> int:
    number = 0
    for char in letters:
        number = number * 26 + (ord(char) - 64)
    return number - 1


def _xml_properties(content: bytes, tag: str) -> dict[str, str]:
    """name → text of custom properties: xlsx `<property name=…><vt:lpwstr>…` or ods meta."""
    try:
        root = SafeET.fromstring(content)
    except (DefusedXmlException, SafeET.ParseError):
        return {}
    properties: dict[str, str] = {}
    for element in root.iter():
        if element.tag.rsplit("}", 1)[-1] != tag:
            continue
        name = next((v for k, v in element.attrib.items() if k.rsplit("}", 1)[-1] == "name"), "")
        value = "".join(element.itertext()).strip()
        if name:
            properties[name] = value
    return properties


_ODS_TABLE = re.compile(rb"<table:table\s[^>]*>")
_ODS_CELLS = re.compile(
    rb"</table:table>|</table:table-row>|<table:table-row\b(?P<row>[^>]*)>"
    rb"|<table:(?:covered-)?table-cell\b(?P<cell>[^>]*?)/?>"
)
_ODS_FORMULA = re.compile(rb'table:formula="([^"]*)"')
_ODS_REPEAT = re.compile(rb'table:number-(?:rows|columns)-repeated="([0-9]{1,9})"')


def ods_formulas(content: bytes, sheet: str) -> dict[tuple[int, int], str]:
    """(row, col) → formula (`=…`, OpenFormula syntax) for the cells of one ODS table."""
    target = f'table:name="{sheet}"'.encode()
    start = next((m.end() for m in _ODS_TABLE.finditer(content) if target in m.group(0)), None)
    formulas: dict[tuple[int, int], str] = {}
    if start is None or b"table:formula" not in content:
        return formulas
    row = col = 0
    row_repeat = 1
    for match in _ODS_CELLS.finditer(content, start):
        token = match.group(0)
        if token == b"</table:table>":
            break
        if match.group("row") is not None:
            row_repeat = _ods_repeat(match.group("row"))
            col = 0
        elif match.group("cell") is not None:
            formula = _ODS_FORMULA.search(match.group("cell"))
            if formula and row < MAX_ROWS and col < MAX_COLS:
                text = unescape(formula.group(1).decode("utf-8", "replace"))
                formulas[(row, col)] = "=" + text.split(":", 1)[-1].lstrip("=")
            col += _ods_repeat(match.group("cell"))
        else:
            row += row_repeat
            if row >= MAX_ROWS:
                break
    return formulas


def _ods_repeat(attributes: bytes) -> int:
    found = _ODS_REPEAT.search(attributes)
    return max(1, int(found.group(1))) if found else 1


USER_PROPERTIES = bytes.fromhex("05d5cdd59c2e1b10939708002b2cf9ae")  # FMTID_UserDefinedProperties
_VT_LPSTR, _VT_LPWSTR, _VT_I4, _VT_R8, _VT_BOOL, _VT_I2 = 0x1E, 0x1F, 3, 5, 0x0B, 2


def xls_properties(data: bytes) -> dict[str, str]:
    """Custom (user-defined) properties of an .xls, from its DocumentSummaryInformation stream.

    Strings, integers, reals and booleans; anything else, or a damaged stream, is skipped.
    """
    try:
        ole = safety.Ole2(data)
        entry = ole.find("\x05DocumentSummaryInformation")
        stream = ole.read(entry, 1 << 20) if entry else b""
        return _user_properties(stream)
    except (safety.Ole2Error, struct.error, IndexError, UnicodeDecodeError, LookupError):
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


# -- many files, in worker processes ---------------------------------------------------


class _Readable(Protocol):
    name: str
    data: bytes


T = TypeVar("T", bound=_Readable)


def read_many(
    items: Iterable[T], limits: Limits, workers: int = 2
) -> Iterator[tuple[T, ReturnedBook | ReadFailure]]:
    """Read each item (anything with `.name` and `.data`, e.g. a `Candidate`) in worker processes.

    Yields `(item, ReturnedBook | ReadFailure)` in input order; items are taken lazily
    from `items`, with a bounded look-ahead, so a long stream never sits in memory at once.
    """
    pool = _Pool(limits, max(1, workers))
    try:
        yield from pool.run(items)
    finally:
        pool.close()


@dataclass
class _Job:
    index: int
    name: str
    data: bytes
    alone: bool = False  # already crashed a worker once: read it alone in a fresh worker


@dataclass
class _Worker:
    process: subprocess.Popen
    conn: Connection  # its end closes when the worker dies: EOF is the death notice
    progress: mmap.mmap  # shared with it: (index of the file being read, since when)
    jobs: list[_Job] = field(default_factory=list)  # the batch it is reading
    sent: float = 0.0  # when the batch was sent
    served: int = 0

    def current(self) -> tuple[int, float]:
        """Which job it is reading (position in `jobs`) and since when."""
        index, started = PROGRESS.unpack_from(self.progress)
        for position, job in enumerate(self.jobs):
            if job.index == index:
                return position, started
        return 0, self.sent + STARTUP_GRACE  # not started on this batch yet


class _Pool:
    """Worker processes, each given a batch of files and answering with the batch's results.

    Not a `ProcessPoolExecutor`: on Python 3.11 it cannot kill one hung worker without
    private attributes, and one dead worker breaks every in-flight task of the pool. Here
    each worker publishes which file it is reading in shared memory, so a dead or overdue
    worker is replaced and only that file is in question; the rest of its batch is re-read.

    Each worker is a fresh interpreter (`python -c`), not a fork: it maps only the reader
    (~40 MB, so the memory limit means what it says), never re-imports the caller's main
    module, and does not inherit the caller's threads or open files. Measured: a fork from a
    process that has imported pandas took 0.2–0.4 s to start; a fresh interpreter ~0.1 s.
    """

    def __init__(self, limits: Limits, size: int):
        self.limits = limits
        self.size = size
        self.workers: list[_Worker] = []

    def run(self, items: Iterable[T]) -> Iterator[tuple[T, ReturnedBook | ReadFailure]]:
        source = iter(items)
        waiting: dict[int, T] = {}
        results: dict[int, ReturnedBook | ReadFailure] = {}
        queue: deque[_Job] = deque()
        window = self.size * BATCH_FILES * 4
        taken = done = held = 0  # held: bytes of the items taken and not yet yielded
        exhausted = False
        while True:
            while (
                not exhausted and taken - done < window and (held < WINDOW_BYTES or taken == done)
            ):
                item = next(source, None)
                if item is None:
                    exhausted = True
                    break
                waiting[taken] = item
                queue.append(_Job(taken, item.name, item.data))
                held += len(item.data)
                taken += 1
            while done in results:
                item = waiting.pop(done)
                held -= len(item.data)
                yield item, results.pop(done)
                done += 1
            if exhausted and done == taken:
                return
            self._dispatch(queue)
            self._collect(queue, results)

    def _dispatch(self, queue: deque[_Job]) -> None:
        """Give every idle worker a batch; a job that crashed once goes alone to a fresh one."""
        while len(self.workers) < self.size:
            self.workers.append(self._spawn())
        share = max(1, min(BATCH_FILES, -(-len(queue) // self.size)))
        for number, worker in enumerate(self.workers):
            if worker.jobs or not queue:
                continue
            if worker.served >= FILES_PER_WORKER or (queue[0].alone and worker.served):
                self._retire(worker)
                worker = self.workers[number] = self._spawn()
            batch = [queue.popleft()]
            size = len(batch[0].data)
            while (
                not batch[0].alone
                and queue
                and not queue[0].alone
                and len(batch) < share
                and size + len(queue[0].data) <= BATCH_BYTES
            ):
                size += len(queue[0].data)
                batch.append(queue.popleft())
            worker.jobs = batch
            worker.sent = time.monotonic()
            # if it died meanwhile, `_collect` sees its sentinel
            with contextlib.suppress(BrokenPipeError, ConnectionResetError, EOFError):
                worker.conn.send([(job.index, job.name, job.data) for job in batch])

    def _collect(self, queue: deque[_Job], results: dict) -> None:
        busy = [w for w in self.workers if w.jobs]
        if not busy:
            return
        timeout = self.limits.timeout_seconds
        deadline = min(w.current()[1] for w in busy) + timeout
        # wake at least every POLL_SECONDS: a worker's clock starts only when it says so
        ready = wait(
            [w.conn for w in busy],
            timeout=max(0.0, min(deadline - time.monotonic(), POLL_SECONDS)),
        )
        for worker in busy:
            if worker.conn in ready:
                if not self._receive(worker, results):
                    self._lost(worker, queue, results, "file.crashed_reader")
            elif time.monotonic() - worker.current()[1] >= timeout:
                self._lost(worker, queue, results, "file.timeout")

    def _receive(self, worker: _Worker, results: dict) -> bool:
        """Take the batch's results; False if the worker died instead of answering."""
        try:
            answers = worker.conn.recv()
        except (EOFError, OSError):
            return False
        results.update(answers)
        worker.served += len(worker.jobs)
        worker.jobs = []
        return True

    def _lost(self, worker: _Worker, queue: deque[_Job], results: dict, code: str) -> None:
        """A worker died or overran: its file is retried alone once (a crash) or given up
        (a timeout); the rest of its batch goes back to the front of the queue."""
        position, _ = worker.current()
        job = worker.jobs.pop(position)
        if code == "file.timeout":
            seconds = f"{self.limits.timeout_seconds:g}"
            results[job.index] = _failure(job.name, code, seconds=seconds)
        elif job.alone:
            results[job.index] = _failure(job.name, code)
        else:
            job.alone = True
            worker.jobs.insert(position, job)
        queue.extendleft(reversed(worker.jobs))
        worker.jobs = []
        self._retire(worker, kill=True)
        self.workers[self.workers.index(worker)] = self._spawn()

    def _spawn(self) -> _Worker:
        ours, theirs = socket.socketpair()
        progress_fd = os.memfd_create("ecoxl-progress")
        os.ftruncate(progress_fd, PROGRESS.size)
        progress = mmap.mmap(progress_fd, PROGRESS.size)
        PROGRESS.pack_into(progress, 0, -1.0, 0.0)
        settings = json.dumps(asdict(self.limits))
        # -P: the current directory is not put on the path (a stray zipfile.py there)
        command = [
            sys.executable,
            "-P",
            "-c",
            WORKER_COMMAND,
            str(theirs.fileno()),
            str(progress_fd),
        ]
        process = subprocess.Popen(
            [*command, settings],
            pass_fds=(theirs.fileno(), progress_fd),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,  # a Rust abort prints a backtrace
            env={**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)},
        )
        theirs.close()
        os.close(progress_fd)
        return _Worker(process, Connection(ours.detach()), progress)

    def _retire(self, worker: _Worker, kill: bool = False) -> None:
        if kill:
            worker.process.kill()
        else:
            with contextlib.suppress(OSError, ValueError):
                worker.conn.send(None)
        try:
            worker.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            worker.process.kill()
            worker.process.wait()
        worker.conn.close()
        worker.progress.close()

    def close(self) -> None:
        for worker in self.workers:
            self._retire(worker, kill=bool(worker.jobs))
        self.workers.clear()


PROGRESS = struct.Struct("<dd")  # index of the file being read, time.monotonic() it started
WORKER_COMMAND = "import sys; from ecoxl.readback import serve; serve(sys.argv[1:])"


def serve(argv: list[str]) -> None:
    """A worker's main loop (run by `_Pool` as `python -c`): read batches until told to stop.

    argv: the socket's fd, the progress memory's fd, the limits as JSON. The address-space
    limit is `limits.memory_mb` on top of what the worker maps when it starts.
    """
    conn = Connection(int(argv[0]))
    progress = mmap.mmap(int(argv[1]), PROGRESS.size)
    limits = Limits(**json.loads(argv[2]))
    memory = _mapped_bytes() + limits.memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    while True:
        try:
            batch = conn.recv()
        except (EOFError, OSError):
            return
        if batch is None:
            return
        answers = []
        for index, name, data in batch:
            PROGRESS.pack_into(progress, 0, float(index), time.monotonic())
            try:
                result = read_checked(data, name, limits)
            except Exception as exc:  # a reader bug on odd input costs this file only
                result = _failure(name, "file.unreadable", reason=_short(exc))
            answers.append((index, result))
        conn.send(answers)


def _mapped_bytes() -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


# -- findings ---------------------------------------------------------------------------


def _finding(
    file: str, code: str, severity="error", sheet: str | None = None, **values: object
) -> Finding:
    message = say(f"read.{code}", file=file, sheet=sheet or "", **values)
    return Finding(file, sheet, None, code, message, severity)


def _failure(file: str, code: str, **values: object) -> ReadFailure:
    return ReadFailure(file, code, (_finding(file, code, **values),))


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:160]
