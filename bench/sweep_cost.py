#!/usr/bin/env python3
"""Benchmark of a Saltelli study's cost: how long a study of 10 parameters at N = 256 base
points and 50 replications per point takes on this machine.

Run from the project root:  python bench/sweep_cost.py [--points 16] [--replications 50]
[--workers 2] [--repeats 2] [--target-points 256] [--before PATH]

It writes a sweep file (``design = "saltelli"``) over the first 10 priors of
``configs/calibration.toml`` that have ``low`` and ``high`` bounds (their ranges, with their
sources, are that file's), on ``configs/calibrated.toml``, and runs ``run.py sweep FILE --workers
W --quiet`` in a fresh process ``--repeats`` times, each into a new folder. SALib's Saltelli
design for first-order and total indices has N x (D + 2) points, so the study has N x 12 x R
replications. Each repeat runs the study at ``--points`` N and at N/4, one after the other;
for each run it prints the CPU seconds of the process and its workers
(``resource.getrusage(RUSAGE_CHILDREN)``) and the wall seconds. The marginal wall time of a
replication, (W(N) - W(N/4)) / (its replications at N - at N/4), leaves out what a study pays once
(start-up, the indices, the figures and the report); the study at ``--target-points`` is then
estimated as W(N) plus the marginal time of its further replications. The median and min-max of
the estimate over the repeats are printed. ``--points 256 --target-points 256`` runs the target
study itself (about a quarter of an hour on 2 cores).

``--before PATH`` measures another checkout too (a git worktree of an older commit: ``git
worktree add /tmp/wt-before REF``), its ``run.py`` with PYTHONPATH set to it, on the same sweep
files: the two trees alternate within each repeat (this one first in odd repeats, the other first
in even ones), so that a busy spell of a shared machine hits both, and each repeat's before /
after ratio of the estimate is printed with its median and min-max. Nothing asserts on time.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PARAMETERS = 10


def bounded_priors(count: int) -> list[tuple[str, float, float]]:
    """The first ``count`` priors of the project's calibration with low and high bounds."""
    priors = tomllib.loads((ROOT / "configs" / "calibration.toml").read_text(encoding="utf-8"))["priors"]
    bounded = [(path, float(p["low"]), float(p["high"])) for path, p in priors.items() if "low" in p and "high" in p]
    if len(bounded) < count:
        raise SystemExit(f"configs/calibration.toml has only {len(bounded)} priors with bounds")
    return bounded[:count]


def sweep_file(folder: Path, points: int, replications: int) -> Path:
    lines = [
        "[sweep]",
        'name = "saltelli_cost"',
        'description = "The cost of a Saltelli study of ten parameters (bench/sweep_cost.py)"',
        f"base = {json.dumps(str(ROOT / 'configs' / 'calibrated.toml'))}",
        'design = "saltelli"',
        f"points = {points}",
        f"replications = {replications}",
        "root_seed = 1",
        'outcomes = ["attacks_rocket", "us_wounded"]',
        "",
    ]
    for path, low, high in bounded_priors(PARAMETERS):
        lines += [f'[parameters."{path}"]', f"low = {low!r}", f"high = {high!r}", ""]
    file = folder / f"saltelli_cost_{points}.toml"
    file.write_text("\n".join(lines), encoding="utf-8")
    return file


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_once(code: Path, file: Path, out: Path, workers: int) -> tuple[float, float]:
    """CPU and wall seconds of one sweep run in a fresh process, with the code of ``code``."""
    cpu, wall = children_cpu(), time.perf_counter()
    command = [sys.executable, str(code / "run.py"), "sweep", str(file), "--out", str(out)]
    env = {**os.environ, "PYTHONPATH": str(code)}
    command += ["--workers", str(workers), "--quiet"]
    subprocess.run(command, check=True, cwd=code, env=env, stdout=subprocess.DEVNULL)
    return children_cpu() - cpu, time.perf_counter() - wall


def replications_of(points: int, per_point: int) -> int:
    return points * (PARAMETERS + 2) * per_point


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--points", type=int, default=16, help="Saltelli base points N of the runs (default 16)")
    parser.add_argument("--replications", type=int, default=50, help="replications per point (default 50)")
    parser.add_argument("--workers", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument("--repeats", type=int, default=2, help="runs (default 2)")
    parser.add_argument("--target-points", type=int, default=256, help="the study to estimate (default 256)")
    parser.add_argument("--before", type=Path, help="another checkout, measured alternately with this one")
    args = parser.parse_args()
    trees = {"now": ROOT} if args.before is None else {"now": ROOT, "before": args.before.resolve()}
    for code in trees.values():
        if not (code / "run.py").is_file():
            raise SystemExit(f"--before {code}: no run.py there (a checkout of the project is needed)")
    small_points = max(1, args.points // 4)
    runs, small = (replications_of(n, args.replications) for n in (args.points, small_points))
    target = replications_of(args.target_points, args.replications)
    print(
        f"Saltelli study of {PARAMETERS} parameters on configs/calibrated.toml, {args.replications} replications "
        f"per point, {args.workers} workers: N = {args.points} ({runs:,} replications) and N = {small_points} "
        f"({small:,}); estimated for N = {args.target_points} ({target:,} replications); "
        + ", ".join(f"{name} = {code}" for name, code in trees.items())
    )
    estimates: dict[str, list[float]] = {name: [] for name in trees}
    with tempfile.TemporaryDirectory() as tmp:
        files = {n: sweep_file(Path(tmp), n, args.replications) for n in (args.points, small_points)}
        for k in range(args.repeats):
            order = list(trees) if k % 2 == 0 else list(reversed(trees))
            for name in order:
                code, out = trees[name], Path(tmp) / f"{name}{k}"
                cpu, wall = run_once(code, files[args.points], out, args.workers)
                small_cpu, small_wall = run_once(code, files[small_points], Path(tmp) / f"{name}small{k}", args.workers)
                marginal = (wall - small_wall) / (runs - small) if runs > small else wall / runs
                estimates[name].append(wall + marginal * (target - runs))
                print(
                    f"repeat {k + 1} ({name}): N = {args.points}: {cpu:.1f} CPU s, {wall:.1f} wall s; N = "
                    f"{small_points}: {small_cpu:.1f} CPU s, {small_wall:.1f} wall s; marginal {marginal * 1000:.2f} "
                    f"wall ms ({(cpu - small_cpu) / (runs - small) * 1000:.2f} CPU ms) per replication; "
                    f"N = {args.target_points}: {estimates[name][-1] / 60:.1f} min of wall time"
                )
    for name, values in estimates.items():
        print(
            f"{name}: N = {args.target_points}: {statistics.median(values) / 60:.1f} min of wall time "
            f"(min-max {min(values) / 60:.1f}-{max(values) / 60:.1f} over {len(values)} repeats); "
            "the project's target is 10 min"
        )
    if "before" in estimates:
        ratios = [b / a for b, a in zip(estimates["before"], estimates["now"], strict=True)]
        print(
            f"before / now, per repeat: median {statistics.median(ratios):.2f}, "
            f"min-max {min(ratios):.2f}-{max(ratios):.2f}"
        )


if __name__ == "__main__":
    main()
