#!/usr/bin/env python3
"""Benchmark of a Saltelli study's cost: how long a study of 10 parameters at N = 256 base
points and 50 replications per point takes on this machine.

Run from the project root:  python bench/sweep_cost.py [--points 16] [--replications 50]
[--workers 2] [--repeats 2] [--target-points 256]

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
study itself (about half an hour on 2 cores). Nothing asserts on time.
"""

from __future__ import annotations

import argparse
import json
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


def run_once(file: Path, out: Path, workers: int) -> tuple[float, float]:
    """CPU and wall seconds of one sweep run in a fresh process."""
    cpu, wall = children_cpu(), time.perf_counter()
    command = [sys.executable, str(ROOT / "run.py"), "sweep", str(file), "--out", str(out)]
    subprocess.run([*command, "--workers", str(workers), "--quiet"], check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
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
    args = parser.parse_args()
    small_points = max(1, args.points // 4)
    runs, small = (replications_of(n, args.replications) for n in (args.points, small_points))
    target = replications_of(args.target_points, args.replications)
    print(
        f"Saltelli study of {PARAMETERS} parameters on configs/calibrated.toml, {args.replications} replications "
        f"per point, {args.workers} workers: N = {args.points} ({runs:,} replications) and N = {small_points} "
        f"({small:,}); estimated for N = {args.target_points} ({target:,} replications)"
    )
    estimates = []
    with tempfile.TemporaryDirectory() as tmp:
        files = {n: sweep_file(Path(tmp), n, args.replications) for n in (args.points, small_points)}
        for k in range(args.repeats):
            cpu, wall = run_once(files[args.points], Path(tmp) / f"out{k}", args.workers)
            small_cpu, small_wall = run_once(files[small_points], Path(tmp) / f"small{k}", args.workers)
            marginal = (wall - small_wall) / (runs - small) if runs > small else wall / runs
            estimates.append(wall + marginal * (target - runs))
            print(
                f"repeat {k + 1}: N = {args.points}: {cpu:.1f} CPU s, {wall:.1f} wall s; N = {small_points}: "
                f"{small_cpu:.1f} CPU s, {small_wall:.1f} wall s; marginal {marginal * 1000:.2f} wall ms "
                f"({(cpu - small_cpu) / (runs - small) * 1000:.2f} CPU ms) per replication; "
                f"N = {args.target_points}: {estimates[-1] / 60:.1f} min of wall time"
            )
    print(
        f"N = {args.target_points}: {statistics.median(estimates) / 60:.1f} min of wall time "
        f"(min-max {min(estimates) / 60:.1f}-{max(estimates) / 60:.1f} over {len(estimates)} repeats); "
        "the project's target is 10 min"
    )


if __name__ == "__main__":
    main()
