"""Benchmark every ecoxl stage against the obvious alternative, side by side in one run.

    python bench/run.py [--units N] [--json] [--stages forms,collect,scorecard] [--growth]

For N synthetic units (`synth.py`) it writes the forms, fills them in as clerks would,
collects them and builds the scorecard, timing ecoxl and, in the same run, the baseline
and floor of each stage (`baselines.py`). Every measured job runs in a fresh process
(`measure.py`); ecoxl and its baselines take turns, `--repeat` times, and the best time
of each is kept, so a noisy moment on the machine hurts one repeat, not the comparison.
With `--growth` ecoxl alone is measured again at 10×N units. The goals of issue 7 are
checked and printed, met or not. bench/README.md explains the numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from measure import Sample, machine_busy, measure
from synth import DEADLINE, PERIOD, SEED, fill_returns, forms_by_unit, write_plan

from ecoxl.config import Office
from ecoxl.forms import form_file_name, write_forms

STAGES = ("forms", "collect", "scorecard")
BASELINES = {
    "forms": "openpyxl, one process",
    "collect": "pandas.read_excel(openpyxl) loop",
    "scorecard": "xlsxwriter plain values (floor)",
}
GROWTH = 10
MEMORY_UNITS = 5000
MEMORY_MB = 1024
QUIET_CORES = 0.25  # `--wait-quiet`: what other processes may use before a job starts
QUIET_SAMPLE = 0.5


@dataclass
class Goal:
    """One goal of issue 7, checked against a measurement; `met` None when not measured."""

    goal: str
    value: float | None
    met: bool | None

    def to_dict(self) -> dict:
        value = None if self.value is None else round(self.value, 2)
        return {"goal": self.goal, "value": value, "met": self.met}


@dataclass
class Result:
    """One stage at one size: ecoxl's best run, and its baseline's and floor's."""

    stage: str
    units: int
    ecoxl: Sample
    repeats: int
    baseline: Sample | None = None
    floor: Sample | None = None
    growth: float | None = None
    goals: list[Goal] = field(default_factory=list)

    @property
    def ratio(self) -> float | None:
        """How many times faster than the baseline (the floor, for the scorecard)."""
        other = self.baseline or self.floor
        return other.seconds / self.ecoxl.seconds if other else None

    @property
    def floor_ratio(self) -> float | None:
        """How many times the floor's time ecoxl takes."""
        return self.ecoxl.seconds / self.floor.seconds if self.floor else None

    def to_dict(self) -> dict:
        other = self.baseline or self.floor
        return {
            "stage": self.stage,
            "units": self.units,
            "seconds": _round(self.ecoxl.seconds),
            "baseline": BASELINES[self.stage] if other else None,
            "baseline_seconds": _round(other.seconds) if other else None,
            "floor_seconds": _round(self.floor.seconds) if self.floor else None,
            "peak_mb": round(self.ecoxl.peak_mb, 1),
            "ratio": _round(self.ratio),
            "floor_ratio": _round(self.floor_ratio),
            "per_unit_ms": round(self.ecoxl.seconds / self.units * 1000, 3),
            "cores": round(self.ecoxl.cores, 2),
            "cpu_seconds": _round(self.ecoxl.cpu_seconds),
            "others_cores": round(self.ecoxl.others, 2),
            "growth": _round(self.growth),
            "baseline_peak_mb": round(other.peak_mb, 1) if other else None,
            "floor_peak_mb": round(self.floor.peak_mb, 1) if self.floor else None,
            "repeats": self.repeats,
            "result": self.ecoxl.result,
            "floor_result": self.floor.result if self.floor else None,
            "goals": [g.to_dict() for g in self.goals],
        }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


# -- running the stages -----------------------------------------------------------------------


def best(samples: list[Sample]) -> Sample:
    """The fastest run, with the highest peak memory seen in any run."""
    fastest = min(samples, key=lambda s: s.seconds)
    return replace(fastest, peak_mb=max(s.peak_mb for s in samples))


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def wait_quiet(limit: float) -> None:
    """Wait (at most `limit` seconds) until other processes keep less than QUIET_CORES busy:
    on a shared machine a test suite running beside the benchmark skews the run."""
    if limit <= 0:
        return
    waited = 0.0
    while True:
        before = machine_busy()
        time.sleep(QUIET_SAMPLE)
        others = (machine_busy() - before) / QUIET_SAMPLE
        if others < QUIET_CORES or waited >= limit:
            if waited:
                say(f"  waited {waited:.0f} s for a quiet machine (others busy {others:.2f} cores)")
            return
        waited += QUIET_SAMPLE


class Bench:
    """The runs of one size in one working folder."""

    def __init__(
        self, root: Path, units: int, repeat: int, seed: int, baselines: bool, quiet: float
    ):
        self.root = root
        self.quiet = quiet
        self.units = units
        self.repeat = repeat
        self.baselines = baselines
        self.plan = root / "plan"
        self.registry = write_plan(self.plan, units, seed)
        self.seed = seed
        self.forms: Path | None = None
        self.returns: Path | None = None
        self.ledger_ws: Path | None = None

    def alternate(self, stage: str, jobs: dict[str, Callable[[int], Sample]]) -> dict[str, Sample]:
        """Each job `repeat` times, taking turns (the order rotates every repeat)."""
        runs: dict[str, list[Sample]] = {name: [] for name in jobs}
        names = list(jobs)
        for rep in range(self.repeat):
            for name in names[rep % len(names) :] + names[: rep % len(names)]:
                wait_quiet(self.quiet)
                sample = jobs[name](rep)
                runs[name].append(sample)
                say(
                    f"  {self.units} units {stage} {name}: {sample.seconds:.3f} s,"
                    f" {sample.cores:.2f} cores, {sample.peak_mb:.0f} MB, others busy"
                    f" {sample.others:.2f} cores (run {rep + 1}/{self.repeat})"
                )
        return {name: best(found) for name, found in runs.items()}

    def forms_stage(self) -> Result:
        def ecoxl(rep: int) -> Sample:
            out = self.root / f"forms-ecoxl-{rep}"
            sample = measure("forms.ecoxl", plan_dir=self.plan, out_dir=out)
            self._keep_forms(out)
            return sample

        def openpyxl(rep: int) -> Sample:
            out = self.root / f"forms-openpyxl-{rep}"
            sample = measure("forms.openpyxl", plan_dir=self.plan, out_dir=out)
            shutil.rmtree(out)
            return sample

        jobs = {"ecoxl": ecoxl, "openpyxl": openpyxl} if self.baselines else {"ecoxl": ecoxl}
        found = self.alternate("forms", jobs)
        return Result("forms", self.units, found["ecoxl"], self.repeat, found.get("openpyxl"))

    def _keep_forms(self, out: Path) -> None:
        if self.forms is None:
            self.forms = out
        else:
            shutil.rmtree(out)

    def make_returns(self) -> Path:
        """The filled returns (from forms written now if the forms stage did not run)."""
        if self.returns is None:
            if self.forms is None:
                self.forms = self.root / "forms"
                write_forms(self.registry, PERIOD, DEADLINE, Office(), self.forms)
            units = self.registry.reporting_units()
            forms = forms_by_unit(
                self.registry, [self.forms / form_file_name(PERIOD, u) for u in units]
            )
            self.returns = self.root / "returns"
            made = fill_returns(self.registry, forms, self.returns, self.seed)
            say(f"  {self.units} units: {len(made.files)} returns {made.kinds}")
        return self.returns

    def collect_stage(self) -> Result:
        returns = self.make_returns()

        def ecoxl(rep: int) -> Sample:
            ws = self.root / f"ws-{rep}"
            sample = measure("collect.ecoxl", plan_dir=self.plan, returns_dir=returns, ws_dir=ws)
            if self.ledger_ws is None:
                self.ledger_ws = ws
            else:
                shutil.rmtree(ws)
            return sample

        jobs: dict[str, Callable[[int], Sample]] = {"ecoxl": ecoxl}
        if self.baselines:
            jobs["pandas"] = lambda rep: measure("collect.pandas", returns_dir=returns)
            jobs["calamine"] = lambda rep: measure("collect.calamine", returns_dir=returns)
        found = self.alternate("collect", jobs)
        return Result(
            "collect",
            self.units,
            found["ecoxl"],
            self.repeat,
            found.get("pandas"),
            found.get("calamine"),
        )

    def scorecard_stage(self) -> Result:
        if self.ledger_ws is None:
            ws = self.root / "ws-ledger"
            measure("collect.ecoxl", plan_dir=self.plan, returns_dir=self.make_returns(), ws_dir=ws)
            self.ledger_ws = ws
        ws = self.ledger_ws

        def ecoxl(rep: int) -> Sample:
            return measure("scorecard.ecoxl", ws_dir=ws, out=self.root / f"scorecard-{rep}.xlsx")

        def floor(constant_memory: bool) -> Callable[[int], Sample]:
            def run(rep: int) -> Sample:
                out = self.root / f"floor-{rep}.xlsx"
                return measure(
                    "scorecard.floor", ws_dir=ws, out=out, constant_memory=constant_memory
                )

            return run

        jobs: dict[str, Callable[[int], Sample]] = {"ecoxl": ecoxl}
        if self.baselines:
            jobs["floor"] = floor(False)
            jobs["floor constant_memory"] = floor(True)
        found = self.alternate("scorecard", jobs)
        floors = [found[name] for name in ("floor", "floor constant_memory") if name in found]
        fastest = min(floors, key=lambda s: s.seconds) if floors else None
        return Result("scorecard", self.units, found["ecoxl"], self.repeat, None, fastest)


def run_size(
    root: Path,
    units: int,
    stages: list[str],
    repeat: int,
    seed: int,
    baselines: bool,
    quiet: float = 0.0,
):
    bench = Bench(root, units, repeat, seed, baselines, quiet)
    runners = {
        "forms": bench.forms_stage,
        "collect": bench.collect_stage,
        "scorecard": bench.scorecard_stage,
    }
    return [runners[stage]() for stage in STAGES if stage in stages]


# -- goals --------------------------------------------------------------------------------------


def check_goals(results: list[Result]) -> None:
    """Attach issue 7's goals to the results they are about."""
    by_key = {(r.stage, r.units): r for r in results}
    for r in results:
        if r.stage == "forms" and r.baseline:
            r.goals.append(_at_least("forms ≥4× faster than openpyxl", r.ratio, 4))
            if (os.cpu_count() or 1) >= 2:
                r.goals.append(
                    _at_least("forms use both cores (CPU s / wall s ≥ 1.5)", r.ecoxl.cores, 1.5)
                )
        if r.stage == "collect" and r.baseline:
            r.goals.append(_at_least("collect ≥10× faster than pandas/openpyxl", r.ratio, 10))
        if r.stage == "collect" and r.floor:
            r.goals.append(_at_most("collect within 2.5× of python-calamine", r.floor_ratio, 2.5))
        if r.stage == "scorecard" and r.floor:
            r.goals.append(
                _at_most("scorecard within 3× of its plain-values floor", r.floor_ratio, 3)
            )
        smaller = by_key.get((r.stage, r.units // GROWTH))
        if smaller is not None and r.units == smaller.units * GROWTH:
            r.growth = r.ecoxl.seconds / smaller.ecoxl.seconds
            if r.stage in ("collect", "scorecard"):
                r.goals.append(
                    _at_most(f"{r.stage} grows linearly (10× units ≤ 12× time)", r.growth, 12)
                )
        if r.units >= MEMORY_UNITS:
            r.goals.append(
                _at_most(
                    f"{r.stage} peak memory at ≥{MEMORY_UNITS} units < 1 GB (MB)",
                    r.ecoxl.peak_mb,
                    MEMORY_MB,
                )
            )


def _at_least(goal: str, value: float | None, target: float) -> Goal:
    return Goal(goal, value, None if value is None else value >= target)


def _at_most(goal: str, value: float | None, target: float) -> Goal:
    return Goal(goal, value, None if value is None else value <= target)


def missing_goals(results: list[Result]) -> list[str]:
    """Goals this run could not check, and how to check them."""
    notes = []
    growing = [r for r in results if r.stage in ("collect", "scorecard")]
    if growing and not any(r.growth for r in growing):
        notes.append("linear growth of collect and scorecard: not measured (add --growth)")
    if not any(r.units >= MEMORY_UNITS for r in results):
        notes.append(
            f"memory at {MEMORY_UNITS} units: not measured"
            f" (--units {MEMORY_UNITS}, or --units 500 --growth)"
        )
    return notes


# -- output -------------------------------------------------------------------------------------


def table(results: list[Result]) -> str:
    headers = (
        "stage",
        "units",
        "ecoxl s",
        "per unit",
        "peak MB",
        "cores",
        "baseline",
        "baseline s",
        "×faster",
        "floor s",
        "×floor",
        "growth",
        "noise",
    )
    lines = []
    for r in results:
        other = r.baseline or r.floor
        lines.append(
            (
                r.stage,
                str(r.units),
                f"{r.ecoxl.seconds:.3f}",
                f"{r.ecoxl.seconds / r.units * 1000:.2f} ms",
                f"{r.ecoxl.peak_mb:.0f}",
                f"{r.ecoxl.cores:.2f}",
                BASELINES[r.stage] if other else "-",
                f"{other.seconds:.3f}" if other else "-",
                f"{r.ratio:.1f}×" if r.baseline else "-",
                f"{r.floor.seconds:.3f}" if r.floor else "-",
                f"{r.floor_ratio:.2f}×" if r.floor_ratio else "-",
                f"{r.growth:.1f}×" if r.growth else "-",
                f"{max(s.others for s in (r.ecoxl, r.baseline, r.floor) if s):.2f}",
            )
        )
    widths = [max(len(h), *(len(line[i]) for line in lines)) for i, h in enumerate(headers)]
    rows = [headers, tuple("-" * w for w in widths), *lines]
    text = [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
    text.append("")
    for r in results:
        for g in r.goals:
            mark = "met   " if g.met else "MISSED" if g.met is False else "n/a   "
            text.append(f"[{mark}] {g.goal} @ {r.units} units: {g.value:.2f}")
    text += [f"[n/a   ] {note}" for note in missing_goals(results)]
    return "\n".join(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--units", type=int, default=500, help="synthetic reporting units (500)")
    parser.add_argument(
        "--json", action="store_true", help="print a JSON list, one object per stage"
    )
    parser.add_argument("--stages", default=",".join(STAGES), help="forms,collect,scorecard")
    parser.add_argument(
        "--growth", action="store_true", help=f"also measure ecoxl at {GROWTH}×N units"
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=None,
        help="runs of each job, best kept (3; 1 from 2000 units and at 10×N unless given)",
    )
    parser.add_argument(
        "--wait-quiet",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="before each job, wait up to this long for other processes to go quiet",
    )
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--workdir", type=Path, help="keep the generated files here")
    args = parser.parse_args(argv)
    stages = [s.strip() for s in args.stages.split(",") if s.strip()]
    unknown = set(stages) - set(STAGES)
    if unknown or not stages or args.units < 1:
        parser.error(f"stages are {','.join(STAGES)}; units ≥ 1")
    repeat = args.repeat or (3 if args.units < 2000 else 1)
    root = args.workdir or Path(tempfile.mkdtemp(prefix="ecoxl-bench-"))
    results: list[Result] = []
    try:
        sizes = [(args.units, True)] + ([(args.units * GROWTH, False)] if args.growth else [])
        for units, baselines in sizes:
            say(f"== {units} units")
            folder = root / f"units-{units}"
            if folder.exists():
                shutil.rmtree(folder)
            times = repeat if baselines else args.repeat or 1
            results += run_size(folder, units, stages, times, args.seed, baselines, args.wait_quiet)
    finally:
        if args.workdir is None:
            shutil.rmtree(root, ignore_errors=True)
    check_goals(results)
    if args.json:
        print(json.dumps([r.to_dict() for r in results], ensure_ascii=False, indent=2))
    else:
        print(table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
