#!/usr/bin/env python3
"""Benchmark of the calibration's cost: the procedure without its budget rule and with scipy densities against the current one,
on the same seed and budget.

Run from the project root:  python bench/calibration_cost.py [--particles 100] [--simulations 2000]
[--repeats 2] [--workers 1]

The project's calibration (configs/calibration.toml) runs under a reduced copy of its quick
budget once per variant and repeat (:class:`sim.calibration.abc.Procedure`):

- ``unpredicted``: scalar scipy densities and quantiles, generations started until the budget
  runs out in one (which is then discarded);
- ``scipy``: scalar scipy densities and quantiles, the budget's prediction on (the code before
  the densities were vectorised);
- ``new``: the project's defaults (closed-form numpy densities and quantiles, the prediction on).

For each it prints the CPU seconds (``resource.getrusage`` of this process and its finished
children: the pilot runs, the inference and the posterior; with ``--workers 1`` all of it is in
this process), the simulations the inference ran (those of a discarded generation included:
the progress callback counts them) and how many of them were discarded, the generations kept, and the effective sample size of the posterior (Kish,
``1 / sum(w^2)``). Each variant's posterior is compared with the new one's, parameter by
parameter, by a weighted two-sample Kolmogorov-Smirnov test: the statistic is the largest gap
between the weighted empirical distribution functions, referred to the Kolmogorov distribution
with the effective sample sizes in place of the counts, at the 5% level per parameter (the
count of rejections among the parameters is printed; about 5% of them are expected by chance if
the posteriors are the same distribution). The same seed gives the same candidates, so equal
posteriors show as a gap of 0. The CPU ratio to ``new`` is given as the mean and the range over
the repeats.

Then (``--breakdown K``, default 200) it splits a candidate's simulation into its steps, over K
draws from the priors in this process: building the particle's scenario (``with_values``), the
model (``simulate``) and the statistics of the fitted rows and the event record
(``measure_all``), in CPU ms per candidate and as shares; and sets their sum beside the new
procedure's CPU per simulation, pilot included (the rest is pyabc, the distance, the pilot's
screen and the posterior). It says how much of a calibration's cost is not the model's, and so
how much any change outside the model can save. Nothing asserts on time.
"""

from __future__ import annotations

import argparse
import dataclasses
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from scipy import stats

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sim.calibration.abc import Procedure  # noqa: E402
from sim.calibration.inference import run_inference  # noqa: E402
from sim.calibration.settings import load_calibration  # noqa: E402
from sim.config.loader import with_values  # noqa: E402
from sim.replication.checks import measure_all  # noqa: E402
from sim.replication.simulate import simulate  # noqa: E402

VARIANTS = {
    "unpredicted": Procedure(vectorised=False, predict_budget=False),
    "scipy": Procedure(vectorised=False, predict_budget=True),
    "new": Procedure(),
}
LEVEL = 0.05


def cpu_seconds() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def weighted_ks(
    a: np.ndarray, wa: np.ndarray, b: np.ndarray, wb: np.ndarray, na: float | None = None, nb: float | None = None
) -> tuple[float, float]:
    """The largest gap between the weighted empirical distribution functions, and its p-value
    from the Kolmogorov distribution with the Kish effective sample sizes (or ``na``, ``nb``
    where a sample's worth is known otherwise)."""
    grid = np.union1d(a, b)
    fa = np.array([0.0, *np.cumsum(wa[np.argsort(a)])])[np.searchsorted(np.sort(a), grid, side="right")]
    fb = np.array([0.0, *np.cumsum(wb[np.argsort(b)])])[np.searchsorted(np.sort(b), grid, side="right")]
    gap = float(np.max(np.abs(fa - fb)))
    na = na if na is not None else 1 / np.sum(wa**2)
    nb = nb if nb is not None else 1 / np.sum(wb**2)
    return gap, float(stats.kstwobign.sf(gap * np.sqrt(na * nb / (na + nb))))


def run(calibration, procedure: Procedure, workers: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        simulated = [0]  # every candidate simulated, those of a discarded generation included
        before = cpu_seconds()
        inference = run_inference(
            calibration,
            Path(tmp) / "out",
            quick=True,
            workers=workers,
            procedure=procedure,
            progress=lambda k: simulated.__setitem__(0, simulated[0] + k),
        )
        cpu = cpu_seconds() - before
    counted = simulated[0]
    discarded = counted - int(inference.progress.simulations)
    weights = inference.weights
    return {
        "cpu": cpu,
        "simulations": counted,
        "discarded": discarded,
        "generations": inference.progress.generations,
        "ess": float(1 / np.sum(weights**2)),
        "values": inference.values,
        "weights": weights,
        "stopped_by": inference.progress.reason,
    }


def breakdown(calibration, candidates: int, seed: int = 7) -> dict[str, float]:
    """CPU ms per candidate of each step of a particle's simulation, over ``candidates`` draws
    from the priors: the particle's scenario (``with_values``), the model (``simulate``), and the
    statistics of the fitted rows and the event record (``measure_all``)."""
    rng = np.random.default_rng(seed)
    checks = [o.check for o in calibration.fitted]
    spent = dict.fromkeys(("scenario", "model", "statistics"), 0.0)
    for k in range(candidates):
        values = {p.path: float(p.distribution().ppf(rng.random())) for p in calibration.priors}
        t0 = time.process_time()
        scenario = with_values(calibration.scenario, values, "a candidate")
        t1 = time.process_time()
        world = simulate(scenario, k, calibration.header.root_seed)
        t2 = time.process_time()
        measure_all(checks, world.ledger.records, world.calendar)
        t3 = time.process_time()
        for name, seconds in zip(spent, (t1 - t0, t2 - t1, t3 - t2), strict=True):
            spent[name] += seconds
    return {name: 1000 * seconds / candidates for name, seconds in spent.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--particles", type=int, default=100, help="particles per generation (default 100)")
    parser.add_argument("--simulations", type=int, default=2000, help="the budget of simulations (default 2000)")
    parser.add_argument("--generations", type=int, default=5, help="most generations (default 5)")
    parser.add_argument("--pilot", type=int, default=100, help="pilot replications (default 100)")
    parser.add_argument("--repeats", type=int, default=1, help="runs of each variant (default 1)")
    parser.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    parser.add_argument("--variants", default=",".join(VARIANTS), help=f"which (default {','.join(VARIANTS)})")
    parser.add_argument(
        "--breakdown",
        type=int,
        default=200,
        help="candidates drawn from the priors for the breakdown (default 200; 0: none)",
    )
    args = parser.parse_args()
    calibration = load_calibration(ROOT / "configs" / "calibration.toml")
    budget = dataclasses.replace(
        calibration.header.quick,
        particles=args.particles,
        max_simulations=args.simulations,
        max_generations=args.generations,
        pilot_replications=args.pilot,
    )
    calibration = dataclasses.replace(calibration, header=dataclasses.replace(calibration.header, quick=budget))
    names = [n for n in args.variants.split(",") if n]
    results: dict[str, list[dict]] = {n: [] for n in names}
    for repeat in range(args.repeats):
        for name in names:
            print(f"repeat {repeat + 1}/{args.repeats}: {name} ...", file=sys.stderr, flush=True)
            results[name].append(run(calibration, VARIANTS[name], args.workers))
    print(f"budget: {budget}; workers {args.workers}; seed {calibration.header.root_seed}")
    reference = results.get("new", [None])[0]
    header = f"{'variant':>12} {'CPU s':>14} {'x new':>16} {'sims':>6} {'discarded':>9} {'gens':>4} {'ESS':>6}"
    print(header)
    for name in names:
        runs = results[name]
        cpu = np.array([r["cpu"] for r in runs])
        line = f"{name:>12} {cpu.mean():>8.1f} ({cpu.min():.0f}-{cpu.max():.0f})"
        if "new" in results:
            ratio = cpu / np.array([r["cpu"] for r in results["new"]])
            line += f" {ratio.mean():>6.2f} ({ratio.min():.2f}-{ratio.max():.2f})"
        first = runs[0]
        print(
            f"{line} {first['simulations']:>6} {first['discarded']:>9} {first['generations']:>4} {first['ess']:>6.1f}"
            f"   stopped by {first['stopped_by']}"
        )
    if args.breakdown:
        parts = breakdown(calibration, args.breakdown)
        total = sum(parts.values())
        shown = ", ".join(f"{name} {ms:.2f} ms ({ms / total:.0%})" for name, ms in parts.items())
        print(f"a candidate's simulation, CPU per candidate over {args.breakdown} prior draws: {shown}")
        if reference is not None:
            per_simulation = 1000 * reference["cpu"] / (reference["simulations"] + args.pilot)
            print(
                f"the new procedure's CPU per simulation (pilot included): {per_simulation:.2f} ms, of which "
                f"{total:.2f} ms is the candidate's simulation and the rest pyabc, the distance, the pilot's "
                "screen and the posterior"
            )
    if reference is None:
        return
    for name in names:
        if name == "new":
            continue
        other = results[name][0]
        tests = [
            weighted_ks(
                other["values"][c].to_numpy(), other["weights"], reference["values"][c].to_numpy(), reference["weights"]
            )
            for c in reference["values"].columns
        ]
        gaps = np.array([t[0] for t in tests])
        p = np.array([t[1] for t in tests])
        print(
            f"weighted KS {name} vs new over {len(tests)} parameters: largest gap {gaps.max():.3f}, "
            f"smallest p {p.min():.3g}, rejected at {LEVEL:.0%}: {int(np.sum(p < LEVEL))}"
        )


if __name__ == "__main__":
    main()
