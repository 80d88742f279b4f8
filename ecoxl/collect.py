"""`ecoxl collect`: every returned file found, read, identified, validated, archived and recorded.

candidates (`sources`) → hash → already recorded? (duplicate) → archive the
original bytes (`archive`, in one thread) while, in sandboxed worker processes
(`worker`), each file is safety-checked, read (`readback`), identified and
validated (`validate.CheckTask`) → one ledger transaction per submission
(`ledger`). Whatever happens to a candidate, the ledger's intake
log says so; a bad file costs only itself. The run ends with a summary, and the
period's problems go to `problems/<period>_问题清单.xlsx` for the office to forward.

`collect_candidates` is the entry point for candidates fetched elsewhere (IMAP):
it reports each one through `on_handled` as soon as it is in the ledger, so a
message is marked seen only once its attachments are recorded.
"""

from __future__ import annotations

import os
import sqlite3
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Literal

from . import sources
from .archive import Archive, sha256_of
from .config import Settings
from .exceptions import ConfigError, LedgerError
from .findings import Finding
from .ledger import Ledger, Submission, SubmissionRecord, now
from .model import Registry
from .period import Period, chinese_time
from .problems import ProblemLine, standing, write_problems
from .registry import load_registry
from .sources import Candidate, Skipped
from .status import text_table
from .texts import say
from .validate import CheckTask, Identity, Validation, Validator
from .worker import Pool, ReadFailure
from .workspace import Workspace

Outcome = Literal["accepted", "rejected", "duplicate", "skipped", "waiting"]
OUTCOMES: tuple[Outcome, ...] = ("accepted", "rejected", "duplicate", "skipped", "waiting")
SKIP_OUTCOMES: dict[str, Outcome] = {
    "ignored": "skipped",
    "waiting": "waiting",
    "refused": "rejected",
}
NO_PERIOD = say("problems.no_period")  # the problem list's name when nothing tells the period
ARCHIVE_THREADS = 1  # measured: more threads cost more CPU for no fewer fsyncs
ARCHIVE_AHEAD = 64  # originals being archived before recording waits for the oldest
READERS = max(1, min(2, os.cpu_count() or 1))  # reader workers: where it pays, both cores


@dataclass(frozen=True)
class Handled:
    """What became of one candidate, in the ledger and in this run."""

    name: str
    source: str
    outcome: Outcome
    sha256: str | None = None
    submission_id: int | None = None  # the submission these bytes are (for a duplicate: the first)
    unit: str | None = None
    period: str | None = None
    reason: str = ""
    findings: tuple[Finding, ...] = ()  # what this run found in this candidate
    received_at: str = ""  # of the submission these bytes are

    @property
    def recorded(self) -> bool:
        """Safely in the ledger: a mail holding it may be marked seen. `waiting` is retried."""
        return self.outcome != "waiting"


OnHandled = Callable[[Handled], None]


@dataclass
class CollectResult:
    """A run: every candidate's fate, and the problem lists written."""

    period: str | None
    handled: list[Handled] = field(default_factory=list)
    problems: dict[str, list[ProblemLine]] = field(default_factory=dict)  # period → lines
    problem_files: list[Path] = field(default_factory=list)

    def count(self, outcome: Outcome) -> int:
        return sum(1 for h in self.handled if h.outcome == outcome)

    @property
    def rejected(self) -> bool:
        return self.count("rejected") > 0

    def run_problems(self) -> list[ProblemLine]:
        """What this run found, file by file (a duplicate shows only that it is one)."""
        lines = [ProblemLine(h.unit or "", f) for h in self.handled for f in h.findings]
        return sorted(lines, key=lambda line: line.sort_key)

    def summary(self) -> str:
        """What `ecoxl collect` prints: the counts, this run's problems, files skipped, files
        left for the next run, and where the period's problem list is."""
        title = (
            say("collect.summary_title", period=self.period)
            if self.period
            else say("collect.summary_no_period")
        )
        headers = [say("collect.received"), *(say(f"collect.outcome.{o}") for o in OUTCOMES)]
        counts = [str(len(self.handled)), *(str(self.count(o)) for o in OUTCOMES)]
        lines = [title, text_table(headers, [counts])]
        problems = self.run_problems()
        if problems:
            lines.append(say("collect.run_problems", count=len(problems)))
            for line in problems:
                severity = say(f"problems.severity.{line.finding.severity}")
                unit = f"{line.unit} " if line.unit else ""
                lines.append(f"  [{severity}] {unit}{line.finding} ({line.finding.code})")
        else:
            lines.append(say("collect.no_problems"))
        # every file that was not taken has its line: what it is, and what to do if anything
        for outcome in ("skipped", "waiting"):
            left = [h for h in self.handled if h.outcome == outcome]
            if left:
                lines.append(say(f"collect.{outcome}"))
                lines += [f"  {h.reason}" for h in left]
        for (period, found), path in zip(self.problems.items(), self.problem_files, strict=True):
            lines.append(say("collect.problem_file", period=period, count=len(found), path=path))
        return "\n".join(lines)


# -- entry points -----------------------------------------------------------------------------


def collect(
    ws: Workspace,
    paths: Iterable[Path],
    period: str | None = None,
    settings: Settings | None = None,
    on_handled: OnHandled | None = None,
    *,
    settle_seconds: float = sources.SETTLE_SECONDS,
) -> CollectResult:
    """`ecoxl collect PATH…`: files, folders (recursive) and mail files (.eml, mbox, Maildir)."""
    settings = settings or ws.settings
    # absolute, so the same file is the same source whichever folder the command ran in
    found = sources.find_candidates(
        [Path(p).absolute() for p in paths], settings.limits, settle_seconds
    )
    return collect_candidates(ws, found, period, settings, on_handled)


def collect_candidates(
    ws: Workspace,
    candidates: Iterable[Candidate | Skipped],
    period: str | None = None,
    settings: Settings | None = None,
    on_handled: OnHandled | None = None,
    *,
    registry: Registry | None = None,
) -> CollectResult:
    """Collect candidates fetched elsewhere (IMAP); `on_handled` hears of each once recorded."""
    settings = settings or ws.settings
    # the readers' zygote starts first: its start overlaps with loading the registry
    with Pool(CheckTask.__module__, settings.limits, READERS) as readers:
        expected = (
            Period.parse(period or settings.period).code if period or settings.period else None
        )
        registry = registry or load_registry(ws.registry_path)
        result = CollectResult(expected)
        try:
            with Ledger(ws.ledger_path) as ledger:
                run = _Run(ws, registry, expected, settings, ledger)
                result.handled = run.all(candidates, readers, on_handled)
                result.problems = period_problems(ledger, result, expected)
        except sqlite3.Error as exc:
            raise LedgerError(say("ledger.unusable", path=ws.ledger_path, reason=exc)) from exc
    for name, lines in result.problems.items():
        path = ws.problems_path(name)
        when = chinese_time(now())
        title = say("problems.title", period=_in_words(name), count=len(lines), when=when)
        result.problem_files.append(write_problems(path, lines, title))
    return result


def _in_words(period: str) -> str:
    """2015-Q3 → 2015年第3季度 for a title; anything else (未知期次, a form's odd text) as it is."""
    try:
        return Period.parse(period).label
    except ConfigError:
        return period


def local_time(text: str) -> str:
    """An ISO time in this computer's zone (what the office calls the date), so that times
    from mails (+08:00, +00:00 …) and from files order correctly as text in the ledger."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return text
    if moment.tzinfo is None:
        return text
    return moment.astimezone().isoformat(timespec="seconds")


def count_files(paths: Iterable[Path]) -> int:
    """How many files lie under `paths`: the progress bar's length (a mail counts once)."""
    total = 0
    for path in paths:
        if path.is_dir():
            total += sum(len(files) for _, _, files in os.walk(path))
        elif path.exists():
            total += 1
    return total


# -- one run ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Job:
    """A candidate on its way through the readers: its place in the run, its hash, and its
    original being archived meanwhile."""

    index: int
    candidate: Candidate
    sha256: str
    stored: Future[str]  # the archive path, once the original is safely on disk

    @property
    def name(self) -> str:
        return self.candidate.name

    @property
    def data(self) -> bytes:
        return self.candidate.data


class _Run:
    def __init__(
        self,
        ws: Workspace,
        registry: Registry,
        period: str | None,
        settings: Settings,
        ledger: Ledger,
    ):
        self.validator = Validator(registry, period)
        self.period = period
        self.settings = settings
        self.ledger = ledger
        self.archive = Archive(ws.archive_dir, ws.root)

    def all(
        self,
        candidates: Iterable[Candidate | Skipped],
        readers: Pool,
        on_handled: OnHandled | None,
    ) -> list[Handled]:
        """Every candidate handled; results in input order (skipped ones are logged at once)."""
        done: dict[int, Handled] = {}

        def note(index: int, handled: Handled) -> None:
            done[index] = handled
            if on_handled is not None:
                on_handled(handled)

        def to_read(archiving: ThreadPoolExecutor) -> Iterator[_Job]:
            for index, item in enumerate(candidates):
                if isinstance(item, Skipped):
                    note(index, self.skipped(item))
                    continue
                sha = sha256_of(item.data)
                known = self.ledger.submission_by_sha(sha)
                if known is not None:
                    note(index, self.duplicate(item, sha, known))
                    continue
                # archived while it is being read: the fsyncs overlap with the readers
                stored = archiving.submit(self.archive.store, sha, item.name, item.data)
                yield _Job(index, item, sha, stored)

        waiting: deque[tuple[_Job, Validation]] = deque()

        def record_ready(everything: bool) -> None:
            """Record, in order, the submissions whose originals are archived."""
            while waiting and (
                everything or waiting[0][0].stored.done() or len(waiting) > ARCHIVE_AHEAD
            ):
                ready, checked = waiting.popleft()
                note(ready.index, self.record(ready, checked, ready.stored.result()))

        task = CheckTask(self.validator, self.settings.limits)
        with ThreadPoolExecutor(ARCHIVE_THREADS) as archiving:
            for job, checked in readers.run(to_read(archiving), task):
                waiting.append((job, self.outcome(job, checked)))
                record_ready(everything=False)
            record_ready(everything=True)
        return [done[i] for i in sorted(done)]

    def skipped(self, item: Skipped) -> Handled:
        """Lock files, hidden files, non-spreadsheets; files still being written; refused ones
        (a refused one is put down to the unit its name says, for the problem list)."""
        outcome = SKIP_OUTCOMES[item.kind]
        if outcome != "rejected":
            self.ledger.log_intake(item.source, item.name, outcome, item.message)
            return Handled(item.name, item.source, outcome, reason=item.message)
        findings = (Finding(item.name, None, None, item.code, item.message, "error"),)
        unit, period = self.validator.from_file_name(item.name)
        self.ledger.log_intake(item.source, item.name, outcome, item.message, None, findings)
        return Handled(
            item.name,
            item.source,
            outcome,
            unit=unit,
            period=(self.period or period) if unit else None,
            reason=item.message,
            findings=findings,
        )

    def duplicate(self, item: Candidate, sha: str, first: SubmissionRecord) -> Handled:
        """Bytes already recorded. The same file again (same name, same sender) is quiet;
        under another name or from another sender, say whose they were first."""
        original = first.submission
        findings: tuple[Finding, ...] = ()
        reason = say("collect.already")
        if (original.file_name, original.sender) != (item.name, item.sender):
            reason = say(
                "check.file.duplicate",
                first=original.file_name,
                unit=original.unit or "?",
                received=original.received_at.replace("T", " ")[:16],
            )
            findings = (Finding(item.name, None, None, "file.duplicate", reason, "warning"),)
        self.ledger.log_intake(item.source, item.name, "duplicate", reason, sha, findings)
        return Handled(
            item.name,
            item.source,
            "duplicate",
            sha,
            first.id,
            original.unit,
            original.period,
            reason,
            findings,
            original.received_at,
        )

    def outcome(self, job: _Job, checked: Validation | ReadFailure) -> Validation:
        """A worker's validation; for a file it could not read, who sent it, by its name."""
        if isinstance(checked, Validation):
            return checked
        unit, period = self.validator.from_file_name(job.name)
        identity = Identity(unit, period or self.period, "filename" if unit else "none")
        return Validation(identity, findings=list(checked.findings))

    def record(self, job: _Job, checked: Validation, path: str) -> Handled:
        """One submission in one transaction, once its original is safely archived."""
        candidate = job.candidate
        identity = checked.identity
        state = "accepted" if checked.accepted else "rejected"
        submission = Submission(
            sha256=job.sha256,
            file_name=candidate.name,
            source=candidate.source,
            received_at=local_time(candidate.received_at) or now(),
            identified_by=identity.identified_by,
            state=state,
            unit=identity.unit,
            period=self.period or identity.period,
            plan_id=identity.plan_id,
            form_version=identity.form_version,
            sender=candidate.sender,
            **checked.signature,
        )
        sub_id = self.ledger.record_submission(
            submission, checked.rows, checked.findings, size=len(candidate.data), archive_path=path
        )
        if sub_id is None:  # the same bytes were recorded a moment ago (another run, or twice here)
            first = self.ledger.submission_by_sha(job.sha256)
            return self.duplicate(candidate, job.sha256, first)
        return Handled(
            candidate.name,
            candidate.source,
            state,
            job.sha256,
            sub_id,
            identity.unit,
            submission.period,
            findings=tuple(checked.findings),
            received_at=submission.received_at,
        )


# -- the problem lists ----------------------------------------------------------------------


def period_problems(
    ledger: Ledger, result: CollectResult, expected: str | None
) -> dict[str, list[ProblemLine]]:
    """Per period: what still stands (`problems.standing`), plus what this run found about
    files that never became a submission (refused files, the same bytes from another
    sender). A candidate of no period goes to every list."""
    periods = [expected] if expected else sorted({h.period for h in result.handled if h.period})
    lists: dict[str, list[ProblemLine]] = {}
    for period in periods or [NO_PERIOD]:
        lines = standing(ledger, period) if period != NO_PERIOD else []
        for handled in result.handled:
            intake = handled.submission_id is None or handled.outcome == "duplicate"
            if intake and handled.period in (period, None):
                lines += [ProblemLine(handled.unit or "", f) for f in handled.findings]
        if lines or period != NO_PERIOD:
            lists[period] = sorted(lines, key=lambda line: line.sort_key)
    return lists
