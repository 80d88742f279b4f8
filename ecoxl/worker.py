"""Worker processes for untrusted files: a crash, a memory blow-up or a hang costs one file.

A hostile file can crash a reader outright (python-calamine aborts the interpreter on a
cell at XFD1048576; other files exhaust memory or spin), so files are read in worker
processes with an address-space limit, no core dumps and a per-file deadline. A worker
that dies or overruns costs one file: its other files go back in the queue, the file it
was working on is tried once more alone in a fresh worker, and only a second death
makes it a `ReadFailure(code="file.crashed_reader")`; an overrun is `file.timeout`.

What a worker does with each file is a *task*: a picklable callable `task(name, data)`
returning a picklable result (`readback.ReadTask` reads; `validate.CheckTask` reads and
validates, so only the outcome crosses back). The task is sent once per run, not per file.

Workers are forked from a *zygote*: a fresh interpreter (`python -c`, never a fork of the
caller) that imports the task's module, receives the task, and forks a worker whenever
the pool asks. So a worker never re-imports the caller's main module, inherits none of
its threads or open files, and its memory limit (set after the fork, on top of what it
maps then) means what it says; yet the imports and the task's set-up are paid once per
run, not once per worker (measured: ~0.13 s of CPU per fresh interpreter, ~3 ms a fork).
The zygote never touches a file's bytes.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import mmap
import os
import pickle
import resource
import socket
import struct
import subprocess
import sys
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from typing import Protocol, TypeVar

from .config import Limits
from .findings import Finding
from .texts import say

BATCH_FILES = 16  # files sent to a worker at once: amortises the pipe round trip
BATCH_BYTES = 4 << 20
WINDOW_BYTES = 64 << 20  # bytes of files taken from the caller and not yet handed back
POLL_SECONDS = 0.2
STARTUP_GRACE = 10.0  # seconds a worker may take to start reading before its clock runs
FILES_PER_WORKER = 2000  # a worker is replaced after this many files, to bound any leak
STOP_SECONDS = 5.0  # how long a worker told to stop may take before it is killed

Task = Callable[[str, bytes], object]


@dataclass(frozen=True)
class ReadFailure:
    """A file that could not be read at all; `findings` holds the reason (an error) first."""

    file: str
    code: str
    findings: tuple[Finding, ...]

    @property
    def message(self) -> str:
        return self.findings[0].message


def failure(file: str, code: str, **values: object) -> ReadFailure:
    message = say(f"read.{code}", file=file, sheet="", **values)
    return ReadFailure(file, code, (Finding(file, None, None, code, message, "error"),))


def short(exc: BaseException) -> str:
    """An exception as one short line, for a message."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:160]


class _Item(Protocol):
    name: str
    data: bytes


T = TypeVar("T", bound=_Item)


def run_tasks(
    items: Iterable[T], task: Task, limits: Limits, workers: int = 2
) -> Iterator[tuple[T, object]]:
    """`task(item.name, item.data)` for each item, in worker processes.

    Yields `(item, result or ReadFailure)` in input order; items are taken lazily, with a
    bounded look-ahead, so a long stream never sits in memory at once.
    """
    with Pool(type(task).__module__, limits, workers) as pool:
        yield from pool.run(items, task)


# -- the parent side ------------------------------------------------------------------------


@dataclass
class _Job:
    index: int
    name: str
    data: bytes
    alone: bool = False  # already crashed a worker once: read it alone in a fresh worker


@dataclass
class _Worker:
    pid: int
    conn: Connection  # its end closes when the worker dies: EOF is the death notice
    progress: mmap.mmap  # shared with it: (index of the file being read, since when)
    jobs: list[_Job] = field(default_factory=list)  # the batch it is working on
    sent: float = 0.0  # when the batch was sent
    served: int = 0

    def current(self) -> tuple[int, float]:
        """Which job it is working on (position in `jobs`) and since when."""
        index, started = PROGRESS.unpack_from(self.progress)
        for position, job in enumerate(self.jobs):
            if job.index == index:
                return position, started
        return 0, self.sent + STARTUP_GRACE  # not started on this batch yet


class Pool:
    """Workers, each given a batch of files and answering with the batch's results.

    Created before the caller's own set-up (loading the registry, opening the ledger), so
    the zygote's start overlaps with it; `run` then sends the task once and the files.

    Not a `ProcessPoolExecutor`: on Python 3.11 it cannot kill one hung worker without
    private attributes, and one dead worker breaks every in-flight task of the pool. Here
    each worker publishes which file it is on in shared memory, so a dead or overdue
    worker is replaced and only that file is in question; the rest of its batch is redone.
    """

    def __init__(self, module: str, limits: Limits, size: int = 2):
        """`module`: where the task is defined (the zygote imports it while starting)."""
        self.limits = limits
        self.size = max(1, size)
        self.zygote = _Zygote(module)
        self.workers: list[_Worker] = []

    def __enter__(self) -> Pool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def run(self, items: Iterable[T], task: Task) -> Iterator[tuple[T, object]]:
        self.zygote.send_task(task, self.limits)
        source = iter(items)
        waiting: dict[int, T] = {}
        results: dict[int, object] = {}
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
        while len(self.workers) < min(self.size, max(1, len(queue))):
            self.workers.append(self.zygote.spawn())
        share = max(1, min(BATCH_FILES, -(-len(queue) // self.size)))
        for number, worker in enumerate(self.workers):
            if worker.jobs or not queue:
                continue
            if worker.served >= FILES_PER_WORKER or (queue[0].alone and worker.served):
                self._retire(worker)
                worker = self.workers[number] = self.zygote.spawn()
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
            # if it died meanwhile, `_collect` sees its end of the socket close
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
            results[job.index] = failure(job.name, code, seconds=seconds)
        elif job.alone:
            results[job.index] = failure(job.name, code)
        else:
            job.alone = True
            worker.jobs.insert(position, job)
        queue.extendleft(reversed(worker.jobs))
        worker.jobs = []
        self._retire(worker, kill=True)
        self.workers[self.workers.index(worker)] = self.zygote.spawn()

    def _retire(self, worker: _Worker, kill: bool = False) -> None:
        if not kill:
            with contextlib.suppress(OSError, ValueError):
                worker.conn.send(None)
        self.zygote.end(worker.pid, kill)
        worker.conn.close()
        worker.progress.close()

    def close(self) -> None:
        """Stop every worker at once (a busy one is killed) and end the zygote, which
        reaps them: the run does not wait for one worker after the other."""
        for worker in self.workers:
            if worker.jobs:
                self.zygote.end(worker.pid, kill=True)
            else:
                with contextlib.suppress(OSError, ValueError):
                    worker.conn.send(None)
            worker.conn.close()
            worker.progress.close()
        self.workers.clear()
        self.zygote.close()


class _Zygote:
    """The fresh interpreter that forks the workers: started at once, so its imports overlap
    with the caller's own set-up; then told the task, asked to fork a worker or to end one.

    Messages: a command byte and a pid, with file descriptors attached (`socket.send_fds`):
    `T` the task (a memfd holding it pickled: sending never waits for the zygote to be
    ready), `S` fork a worker (its socket and progress memory; answered with its pid), `E`
    end a worker told to stop, `K` kill one (answered when reaped). Closing the socket ends
    the zygote, once every worker is reaped.
    """

    def __init__(self, module: str):
        self.module = module
        self.task = b""
        self.process: subprocess.Popen | None = None
        self.control: socket.socket | None = None
        self._start()

    def send_task(self, task: Task, limits: Limits) -> None:
        """What every worker does with a file: sent once, before the first worker is forked."""
        self.task = pickle.dumps((task, limits), pickle.HIGHEST_PROTOCOL)
        if self.control is not None:
            with contextlib.suppress(OSError):  # if it died, `spawn` starts another
                self._send_task(self.control)

    def _send_task(self, control: socket.socket) -> None:
        held = os.memfd_create("ecoxl-task")
        try:
            with open(held, "wb", closefd=False) as out:
                out.write(self.task)
            socket.send_fds(control, [b"T" + _PID.pack(0)], [held])
        finally:
            os.close(held)

    def _start(self) -> socket.socket:
        ours, theirs = socket.socketpair()
        # -P: the current directory is not put on the path (a stray zipfile.py there)
        self.process = subprocess.Popen(
            [sys.executable, "-P", "-c", ZYGOTE_COMMAND, str(theirs.fileno()), self.module],
            pass_fds=(theirs.fileno(),),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,  # a Rust abort prints a backtrace
            env={**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)},
        )
        theirs.close()
        self.control = ours
        if self.task:
            self._send_task(ours)
        return ours

    def spawn(self) -> _Worker:
        """A new worker, forked by the zygote (started again if it has gone)."""
        ours, theirs = socket.socketpair()
        progress_fd = os.memfd_create("ecoxl-progress")
        os.ftruncate(progress_fd, PROGRESS.size)
        progress = mmap.mmap(progress_fd, PROGRESS.size)
        PROGRESS.pack_into(progress, 0, -1.0, 0.0)
        try:
            pid = self._ask(b"S", 0, (theirs.fileno(), progress_fd))
        except OSError:
            self.close()  # it died: a new one
            pid = self._ask(b"S", 0, (theirs.fileno(), progress_fd))
        finally:
            theirs.close()
            os.close(progress_fd)
        return _Worker(pid, Connection(ours.detach()), progress)

    def end(self, pid: int, kill: bool) -> None:
        """Wait for a worker told to stop (kill it after STOP_SECONDS), or kill it now."""
        if self.control is not None:
            with contextlib.suppress(OSError):
                self._ask(b"K" if kill else b"E", pid)

    def _ask(self, command: bytes, pid: int, fds: tuple[int, ...] = ()) -> int:
        control = self.control or self._start()
        socket.send_fds(control, [command + _PID.pack(pid)], list(fds))
        answer = _recv_exactly(control, _PID.size)
        if len(answer) < _PID.size:
            raise ConnectionResetError("the zygote has gone")
        return _PID.unpack(answer)[0]

    def close(self) -> None:
        """End the zygote (it reaps every worker, killing any that does not stop) and wait."""
        if self.control is not None:
            self.control.close()
            self.control = None
        if self.process is not None:
            try:
                self.process.wait(timeout=STOP_SECONDS * 2)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.process = None


# -- the zygote and the worker side ----------------------------------------------------------

PROGRESS = struct.Struct("<dd")  # index of the file being worked on, time.monotonic() it started
_PID = struct.Struct("<i")
ZYGOTE_COMMAND = "import sys; from ecoxl.worker import zygote; zygote(sys.argv[1:])"


def zygote(argv: list[str]) -> None:
    """The zygote's main loop (run by `_Zygote` as `python -c`): fork workers until the
    caller closes the control socket, then reap every worker still there.

    argv: the control socket's fd, the task's module (imported before the task arrives).
    """
    control = socket.socket(fileno=int(argv[0]))
    importlib.import_module(argv[1])
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    work: tuple[Task, Limits] | None = None
    children: set[int] = set()
    while True:
        try:
            message, fds, _, _ = socket.recv_fds(control, 1 + _PID.size, 2)
        except OSError:
            break
        if len(message) < 1 + _PID.size:
            break
        command, pid = message[:1], _PID.unpack(message[1:])[0]
        if command == b"T" and fds:
            with open(fds[0], "rb") as held:
                work = pickle.loads(os.pread(held.fileno(), os.fstat(held.fileno()).st_size, 0))
            gc.freeze()  # the workers' collector need not scan what they inherit (the registry)
            continue
        if command == b"S" and len(fds) == 2 and work is not None:
            pid = os.fork()
            if pid == 0:
                control.close()
                _worker_main(fds[0], fds[1], *work)
            children.add(pid)
        elif command in (b"E", b"K") and pid in children:
            children.discard(pid)
            _reap({pid}, 0 if command == b"K" else STOP_SECONDS)
        for fd in fds:
            os.close(fd)
        control.sendall(_PID.pack(pid))
    _reap(children, STOP_SECONDS)


def _reap(children: set[int], seconds: float) -> None:
    """Reap workers of this zygote (never any other process), killing those still running
    after `seconds`: workers told to stop exit in a few milliseconds."""
    deadline = time.monotonic() + seconds
    waiting = set(children)
    while waiting and time.monotonic() < deadline:
        waiting = {pid for pid in waiting if not os.waitpid(pid, os.WNOHANG)[0]}
        if waiting:
            time.sleep(0.001)
    for pid in waiting:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, 9)
        os.waitpid(pid, 0)


def _worker_main(conn_fd: int, progress_fd: int, task: Task, limits: Limits) -> None:
    """A forked worker: limit its memory, work through batches until told to stop, exit."""
    try:
        memory = _mapped_bytes() + limits.memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
        serve(Connection(conn_fd), mmap.mmap(progress_fd, PROGRESS.size), task)
    finally:
        os._exit(0)


def serve(conn: Connection, progress: mmap.mmap, task: Task) -> None:
    """Run `task` on every file of every batch received, publishing which file it is on."""
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
                result = task(name, data)
            except Exception as exc:  # a bug on odd input costs this file only
                result = failure(name, "file.unreadable", reason=short(exc))
            answers.append((index, result))
        conn.send(answers)


def _recv_exactly(sock: socket.socket, size: int) -> bytes:
    chunks = []
    while size:
        chunk = sock.recv(size)
        if not chunk:
            break
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def _mapped_bytes() -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0
