"""One measured job, run in a fresh Python process: its time, CPU and peak memory.

The parent (`measure`) starts `python bench/measure.py TASK ARGS` and, while it runs,
samples the resident memory of the child and of every process under it (the forms
pool, collect's reader workers) from /proc every 50 ms; the peak of that sum is
`peak_mb`. Shared pages count once per process, so the sum errs high, never low. The
child reports, for the timed part only (after its imports and set-up): wall seconds,
the CPU seconds of itself and of the workers it waited for (`getrusage`), the CPU
seconds the rest of the machine used meanwhile (/proc/stat: how noisy the run was),
and the largest single process's peak RSS (`ru_maxrss` of itself and of its
children), which `peak_mb` is never less than.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
SAMPLE_SECONDS = 0.05


@dataclass(frozen=True)
class Sample:
    """One run of one job."""

    task: str
    seconds: float  # wall time of the timed part
    cpu_seconds: float  # CPU time of the timed part, workers included
    others_cpu_seconds: float  # CPU time other processes on the machine used meanwhile
    peak_mb: float  # peak resident memory of the whole process tree
    result: dict

    @property
    def cores(self) -> float:
        """Cores this job kept busy on average."""
        return self.cpu_seconds / self.seconds if self.seconds else 0.0

    @property
    def others(self) -> float:
        """Cores the rest of the machine kept busy meanwhile: the noise in this run."""
        return self.others_cpu_seconds / self.seconds if self.seconds else 0.0


# -- the parent side ---------------------------------------------------------------------


def measure(task: str, **args: object) -> Sample:
    """Run `task` in a fresh interpreter and watch its memory; raises if it fails."""
    command = [sys.executable, str(HERE / "measure.py"), task, json.dumps(args, default=str)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    peak = [0]
    done = threading.Event()
    watcher = threading.Thread(target=_watch, args=(process.pid, peak, done), daemon=True)
    watcher.start()
    out, err = process.communicate()
    done.set()
    watcher.join()
    if process.returncode != 0:
        raise RuntimeError(f"{task} failed ({process.returncode}):\n{err.decode()[-3000:]}")
    report = json.loads(out.decode().strip().splitlines()[-1])
    largest = report["max_process_kb"] * 1024
    return Sample(
        task=task,
        seconds=report["seconds"],
        cpu_seconds=report["cpu_seconds"],
        others_cpu_seconds=report["others_cpu_seconds"],
        peak_mb=max(peak[0], largest) / 1048576,
        result=report["result"],
    )


def _watch(root: int, peak: list[int], done: threading.Event) -> None:
    while not done.is_set():
        peak[0] = max(peak[0], tree_rss(root))
        done.wait(SAMPLE_SECONDS)


def tree_rss(root: int) -> int:
    """Bytes resident in `root` and all its descendants, from /proc (Linux)."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as stat:
                fields = stat.read().rsplit(b")", 1)[1].split()
            parents[int(entry)] = int(fields[1])
        except (OSError, IndexError, ValueError):
            continue
    tree, frontier = {root}, [root]
    while frontier:
        pid = frontier.pop()
        for child, parent in parents.items():
            if parent == pid and child not in tree:
                tree.add(child)
                frontier.append(child)
    return sum(_rss(pid) for pid in tree)


def _rss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status", "rb") as status:
            for line in status:
                if line.startswith(b"VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


# -- the child side: the jobs ---------------------------------------------------------------


def _registry(plan_dir: str):
    from ecoxl.registry import load_registry

    return load_registry(Path(plan_dir) / "plan.json")


def forms_ecoxl(plan_dir: str, out_dir: str) -> Callable[[], dict]:
    from synth import DEADLINE, PERIOD

    from ecoxl.config import Office
    from ecoxl.forms import write_forms

    registry = _registry(plan_dir)

    def run() -> dict:
        paths = write_forms(registry, PERIOD, DEADLINE, Office(), Path(out_dir))
        return {"files": len(paths)}

    return run


def forms_openpyxl(plan_dir: str, out_dir: str) -> Callable[[], dict]:
    import openpyxl.comments
    import openpyxl.packaging.custom
    import openpyxl.worksheet.datavalidation  # noqa: F401  (imported before the clock starts)
    from baselines import openpyxl_forms
    from synth import DEADLINE, PERIOD

    from ecoxl.config import Office
    from ecoxl.forms import FormPlan, form_file_name

    registry = _registry(plan_dir)

    def run() -> dict:
        plan = FormPlan.of(registry, PERIOD, DEADLINE, Office())
        units = registry.reporting_units()
        names = [form_file_name(PERIOD, unit) for unit in units]
        return {"files": openpyxl_forms(plan, units, names, Path(out_dir))}

    return run


def collect_ecoxl(plan_dir: str, returns_dir: str, ws_dir: str) -> Callable[[], dict]:
    import ecoxl.registry  # noqa: F401  (imported before the clock starts, as the CLI has it)
    from ecoxl.collect import collect
    from ecoxl.workspace import Workspace

    ws = Path(ws_dir)
    ws.mkdir(parents=True)
    for name in ("plan.json", "ecoxl.toml"):
        shutil.copy(Path(plan_dir) / name, ws / name)
    workspace = Workspace(ws)

    def run() -> dict:
        result = collect(workspace, [Path(returns_dir)])
        counts: dict[str, int] = {}
        for handled in result.handled:
            counts[handled.outcome] = counts.get(handled.outcome, 0) + 1
        return {"files": len(result.handled), **counts}

    return run


def _returns(returns_dir: str) -> list[Path]:
    return sorted(Path(returns_dir).glob("*.xlsx"))


def collect_pandas(returns_dir: str) -> Callable[[], dict]:
    import pandas  # noqa: F401  (imported before the clock starts, as ecoxl's modules are)
    from baselines import pandas_loop

    def run() -> dict:
        files = _returns(returns_dir)
        return {"files": len(files), "cells": pandas_loop(files)}

    return run


def collect_calamine(returns_dir: str) -> Callable[[], dict]:
    import python_calamine  # noqa: F401  (imported before the clock starts)
    from baselines import calamine_floor

    def run() -> dict:
        files = _returns(returns_dir)
        return {"files": len(files), "cells": calamine_floor(files)}

    return run


def scorecard_ecoxl(ws_dir: str, out: str) -> Callable[[], dict]:
    from ecoxl.scorecard import make_scorecard
    from ecoxl.workspace import Workspace

    workspace = Workspace(Path(ws_dir))

    def run() -> dict:
        card = make_scorecard(workspace, out=Path(out)).card
        return {"details": len(card.details), "units": card.headline.units}

    return run


def scorecard_floor(ws_dir: str, out: str, constant_memory: bool) -> Callable[[], dict]:
    import xlsxwriter  # noqa: F401  (imported before the clock starts)
    from baselines import xlsxwriter_floor
    from synth import PERIOD

    def run() -> dict:
        registry = _registry(ws_dir)
        ledger = Path(ws_dir) / "ledger.sqlite"
        details = xlsxwriter_floor(registry, ledger, PERIOD.code, Path(out), constant_memory)
        return {"details": details, "constant_memory": constant_memory}

    return run


JOBS: dict[str, Callable[..., Callable[[], dict]]] = {
    "forms.ecoxl": forms_ecoxl,
    "forms.openpyxl": forms_openpyxl,
    "collect.ecoxl": collect_ecoxl,
    "collect.pandas": collect_pandas,
    "collect.calamine": collect_calamine,
    "scorecard.ecoxl": scorecard_ecoxl,
    "scorecard.floor": scorecard_floor,
}


def machine_busy() -> float:
    """CPU seconds every process on the machine has used since boot (/proc/stat)."""
    with open("/proc/stat", encoding="ascii") as stat:
        fields = [int(v) for v in stat.readline().split()[1:]]
    idle = fields[3] + fields[4]  # idle, iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def _cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    waited = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + waited.ru_utime + waited.ru_stime


def child_main(argv: list[str]) -> None:
    """Set the job up, then time it; print one JSON line."""
    task, args = argv[0], json.loads(argv[1])
    run = JOBS[task](**args)
    busy, cpu, start = machine_busy(), _cpu(), time.perf_counter()
    result = run()
    seconds = time.perf_counter() - start
    cpu = _cpu() - cpu
    others = max(0.0, machine_busy() - busy - cpu)
    largest = max(
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
    )
    report = {
        "seconds": seconds,
        "cpu_seconds": cpu,
        "others_cpu_seconds": others,
        "max_process_kb": largest,
        "result": result,
    }
    print(json.dumps(report))


if __name__ == "__main__":
    child_main(sys.argv[1:])
