#!/usr/bin/env python3
"""Benchmark of the Bayesian calibration: how its cost grows with the number of particles.

Run from the project root:  python bench/bench_calibration.py [--particles 50,100,200] [--generations 3]

The project's calibration (configs/calibration.toml: its priors, its record, its scenario) runs
with a fixed number of generations and each number of particles, in one run, on all cores. For
each it prints the simulations, the wall time, the time per simulation and the simulations per
particle, and the ratios to the smallest population. The cost of ABC-SMC is almost all
simulation: the simulations of a generation are the particles divided by its acceptance rate,
and the acceptance rate at a given generation hardly depends on the population, so the cost
should grow in proportion to the particles (ratio of time / ratio of particles close to 1). The
library's own work per generation (fitting the proposal, weighting, the database) is measured
as the time not spent simulating. Nothing asserts on time.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sim.batch.runner import default_workers  # noqa: E402
from sim.calibration.inference import run_inference  # noqa: E402
from sim.calibration.settings import Budget, load_calibration  # noqa: E402


def measure(calibration, particles: int, generations: int, workers: int) -> dict:
    budget = Budget(
        particles=particles,
        max_generations=generations,
        max_simulations=10**7,
        min_acceptance_rate=1e-6,
        epsilon_quantile=0.5,
        pilot_replications=50,
        predictive_replications=1,
    )
    header = dataclasses.replace(calibration.header, quick=budget)
    calibration = dataclasses.replace(calibration, header=header)
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        inference = run_inference(calibration, Path(tmp) / "out", quick=True, workers=workers)
        seconds = time.perf_counter() - start
    return {
        "particles": particles,
        "generations": inference.progress.generations,
        "simulations": inference.progress.simulations,
        "seconds": seconds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--particles", default="50,100,200", help="populations to compare (default 50,100,200)")
    parser.add_argument("--generations", type=int, default=3, help="generations of each run (default 3)")
    parser.add_argument("--workers", type=int, default=None, help="worker processes (default: all cores)")
    parser.add_argument("--json", type=Path, default=None, help="also write the numbers as JSON")
    args = parser.parse_args()
    workers = args.workers or default_workers()
    calibration = load_calibration(ROOT / "configs" / "calibration.toml")
    rows = []
    for particles in (int(p) for p in args.particles.split(",")):
        print(
            f"running {particles} particles x {args.generations} generations on {workers} workers ...", file=sys.stderr
        )
        rows.append(measure(calibration, particles, args.generations, workers))
    first = rows[0]
    print(
        f"{'particles':>9} {'sims':>7} {'seconds':>8} {'ms/sim':>7} {'sims/particle':>13} {'x particles':>11} {'x time':>7} {'time ratio / particle ratio':>27}"
    )
    for row in rows:
        per_sim = 1000 * row["seconds"] / row["simulations"]
        scale = row["particles"] / first["particles"]
        ratio = row["seconds"] / first["seconds"]
        print(
            f"{row['particles']:>9} {row['simulations']:>7} {row['seconds']:>8.1f} {per_sim:>7.1f} "
            f"{row['simulations'] / row['particles']:>13.1f} {scale:>11.2f} {ratio:>7.2f} {ratio / scale:>27.2f}"
        )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
