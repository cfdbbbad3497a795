#!/usr/bin/env python3
"""Benchmark of the calibration's two methods: ABC-SMC (the project's posterior) against neural
posterior estimation (``--method npe``), their cost and what they infer, on the same seed.

Run from the project root:  python bench/npe_cost.py [--repeats 2] [--workers 2] [--quick]
[--coverage 200] [--stability M]

Cost: each repeat runs ``run.py calibrate --method abc`` and ``--method npe`` on the project's
calibration file (its full budget, or ``--quick``), each as a fresh process writing into a
temporary folder (``--calibrated`` there too, so nothing of the project's is replaced), in
alternating order (abc first in odd repeats, npe first in even ones). The CPU seconds are those
of the command and every process it waited for (``resource.getrusage`` of the finished
children: the pilots, the inference, the posterior predictive check and the report; start-up
included), with the wall time beside them. The ratio abc / npe is printed per repeat, with its
mean and range. Both commands are whole calibrations: the pilot at the prior medians and the
posterior predictive check (1,000 replications at the full budget) are the same work in both.

What they infer (the first repeat's folders; the same seed gives the same posterior values and
weights in every repeat, which the script checks by hash): per parameter, the posterior median and the
90% interval's width as a share of the prior's, each method's verdict (*moved* or not), and a
weighted two-sample Kolmogorov-Smirnov test between the two posteriors, with each posterior's
effective sample size in place of its count (ABC-SMC: Kish's, of its uneven weights; NPE: what
its decoys say its draws are worth, ``ess`` of its ``generations.csv``), and the count of
rejections at the 5% level (about 2 of 40 by chance if the two were the same distribution).

Calibration of NPE (``--coverage K``, default 200; 0: none): the flow of the npe run is trained
again in this process on the same prior simulations (the same seed gives the same flow), then
asked for the posterior of K records simulated at truths drawn from the priors under another
seed. At each parameter, the share of truths inside the 90% interval (of 200 draws) must be
about 0.9: the two-sided binomial band that a right posterior leaves 1% of the time is printed,
with the parameters outside it (about 0.4 of 40 by chance). ABC-SMC has no such check here: it
would need K calibrations.

Stability (``--stability M``): the flow trained on the budget's prior simulations against one
trained on M other prior simulations (another seed), by the same two-sample test per parameter at
the record (each at its effective size): if the budget's training set were too small for the flow, a larger one would move
the posterior. ``--repeats 0 --coverage 0 --stability 8000`` runs this part alone. Nothing asserts
on time.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from calibration_cost import weighted_ks  # noqa: E402

from sim.batch.execution import Execution  # noqa: E402
from sim.calibration.pilot import run_pilots  # noqa: E402
from sim.calibration.settings import load_calibration  # noqa: E402

METHODS = ("abc", "npe")
LEVEL = 0.05
MASS = 0.9
COVERAGE_DRAWS = 200
TEST_SEED_OFFSET = 1000  # the coverage check's records: root seed + this, apart from the training set
STABILITY_OFFSET = 2000  # the larger training set's seed: root seed + this


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def calibrate(method: str, folder: Path, workers: int, quick: bool) -> dict:
    """One whole calibration in a fresh process; its CPU and wall seconds."""
    command = [
        sys.executable,
        "run.py",
        "calibrate",
        "--method",
        method,
        "--out",
        str(folder),
        "--calibrated",
        str(folder / "calibrated.toml"),
        "--workers",
        str(workers),
        "--quiet",
        *(["--quick"] if quick else []),
    ]
    cpu, wall = children_cpu(), time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    cpu, wall = children_cpu() - cpu, time.perf_counter() - wall
    if done.returncode != 0:
        sys.exit(f"{' '.join(command)} failed: {done.stderr.strip()}")
    manifest = json.loads((folder / "manifest.json").read_text())
    return {
        "cpu": cpu,
        "wall": wall,
        "digest": posterior_digest(folder),
        "folder": folder,
        "simulations": manifest["simulations"],
        "generations": manifest["generations"],
    }


def posterior_digest(folder: Path) -> str:
    """A hash of the posterior's values and weights (the file's metadata names the code's commit,
    which a checkout changed between repeats would change)."""
    frame = pd.read_parquet(folder / "posterior.parquet")
    return hashlib.sha256(json.dumps(list(frame.columns)).encode() + frame.to_numpy(float).tobytes()).hexdigest()


def weighted_quantiles(values: np.ndarray, weights: np.ndarray, q: list[float]) -> np.ndarray:
    order = np.argsort(values, kind="stable")
    cumulative = np.cumsum(weights[order]) / np.sum(weights)
    return values[order][np.minimum(np.searchsorted(cumulative, q), len(values) - 1)]


def compare(calibration, abc: Path, npe: Path) -> None:
    """Per parameter, the two posteriors side by side and the two-sample test between them."""
    posteriors, sizes = {}, {}
    for name, folder in (("abc", abc), ("npe", npe)):
        frame = pd.read_parquet(folder / "posterior.parquet")
        weights = frame["weight"].to_numpy(float)
        moved = pd.read_csv(folder / "parameters.csv").set_index("parameter")["moved"]
        posteriors[name] = (frame, weights / weights.sum(), moved)
        # ABC: Kish's size of the weights; NPE: the decoys' effective size (generations.csv)
        sizes[name] = float(pd.read_csv(folder / "generations.csv")["ess"].iloc[-1])
    rows, rejections = [], 0
    for prior in calibration.priors:
        low, high = prior.interval(MASS)
        row = {"parameter": prior.path}
        for name, (frame, weights, moved) in posteriors.items():
            q = weighted_quantiles(frame[prior.path].to_numpy(float), weights, [0.05, 0.5, 0.95])
            row[f"{name} median"] = f"{q[1]:.3g}"
            row[f"{name} width"] = f"{(q[2] - q[0]) / (high - low):.2f}"
            row[f"{name} moved"] = "yes" if moved[prior.path] else ""
        (fa, wa, _), (fb, wb, _) = posteriors["abc"], posteriors["npe"]
        gap, p = weighted_ks(
            fa[prior.path].to_numpy(float), wa, fb[prior.path].to_numpy(float), wb, sizes["abc"], sizes["npe"]
        )
        rejections += p < LEVEL
        row["KS gap"], row["p"] = f"{gap:.3f}", f"{p:.3f}"
        rows.append(row)
    print(pd.DataFrame(rows).to_string(index=False))
    for name, (_, weights, moved) in posteriors.items():
        print(
            f"{name}: {len(weights)} particles or draws, effective sample size {sizes[name]:.0f}, moved "
            f"{int(moved.sum())} of {len(moved)}"
        )
    print(
        f"two-sample tests rejected at the {LEVEL:.0%} level: {rejections} of {len(calibration.priors)} parameters "
        f"(about {LEVEL * len(calibration.priors):.0f} by chance if the posteriors were the same distribution)"
    )


def coverage(calibration, quick: bool, records: int, workers: int) -> None:
    """The npe run's flow, retrained here, asked for the posterior of ``records`` simulated
    records at truths drawn from the priors: the share of truths in each 90% interval."""
    from sim.calibration import npe

    budget = calibration.budget(quick)
    seed = calibration.header.root_seed
    execution = Execution(workers=workers)
    training = run_pilots(calibration, 2, execution, prior_replications=budget.npe_simulations).prior_runs
    other = dataclasses.replace(
        calibration, header=dataclasses.replace(calibration.header, root_seed=seed + TEST_SEED_OFFSET)
    )
    tests = run_pilots(other, 2, execution, prior_replications=records).prior_runs
    theta, raw = npe.training_set(training, calibration.priors, calibration.fitted, seed)
    flow = npe.Flow(theta, npe.Features.fit(calibration.fitted, raw), raw, seed)
    truth, test_raw = npe.training_set(tests, calibration.priors, calibration.fitted, seed + TEST_SEED_OFFSET)
    inside = np.zeros_like(truth, dtype=bool)
    for k in range(records):
        low, high = np.quantile(flow.sample(test_raw[k], COVERAGE_DRAWS, stream=k), [0.05, 0.95], axis=0)
        inside[k] = (low <= truth[k]) & (truth[k] <= high)
    share = inside.mean(axis=0)
    band = stats.binom.ppf([0.005, 0.995], records, MASS) / records
    names = [p.path for p in calibration.priors] + [f"decoy {k + 1}" for k in range(npe.DECOYS)]
    outside = [f"{n} {s:.3f}" for n, s in zip(names, share, strict=True) if not band[0] <= s <= band[1]]
    real = share[: len(calibration.priors)]
    print(
        f"npe coverage of the 90% interval over {records} records drawn from the priors: parameters min "
        f"{real.min():.3f}, median {np.median(real):.3f}, max {real.max():.3f}; decoys "
        f"{share[len(calibration.priors) :].min():.3f}-{share[len(calibration.priors) :].max():.3f}; the band a right "
        f"posterior leaves 1% of the time: {band[0]:.3f}-{band[1]:.3f}; outside it: {', '.join(outside) or 'none'}"
    )


def stability(calibration, quick: bool, simulations: int, workers: int) -> None:
    """The posterior at the record from the budget's training set against one from
    ``simulations`` other prior replications (another seed): a training set too small for the
    flow shows as posteriors that differ."""
    from sim.calibration import npe

    budget = calibration.budget(quick)
    seed = calibration.header.root_seed
    execution = Execution(workers=workers)
    draws, sizes = {}, {}
    for label, count, root in (
        ("budget", budget.npe_simulations, seed),
        ("larger", simulations, seed + STABILITY_OFFSET),
    ):
        other = dataclasses.replace(calibration, header=dataclasses.replace(calibration.header, root_seed=root))
        runs = run_pilots(other, 2, execution, prior_replications=count).prior_runs
        result = npe.estimate(runs, calibration.priors, calibration.fitted, budget.npe_draws, root)
        draws[label], sizes[label] = result.values, result.effective_size
    equal = np.full(budget.npe_draws, 1.0 / budget.npe_draws)
    print(
        f"npe effective sizes: {sizes['budget']:.0f} on {budget.npe_simulations}, {sizes['larger']:.0f} on {simulations}"
    )
    rejected = []
    for prior in calibration.priors:
        a, b = draws["budget"][prior.path].to_numpy(float), draws["larger"][prior.path].to_numpy(float)
        gap, p = weighted_ks(a, equal, b, equal, sizes["budget"], sizes["larger"])
        if p < LEVEL:
            rejected.append(f"{prior.path} (gap {gap:.3f})")
    print(
        f"npe on {budget.npe_simulations} prior simulations against npe on {simulations} others: the two-sample "
        f"test rejects {len(rejected)} of {len(calibration.priors)} parameters at the {LEVEL:.0%} level (about "
        f"{LEVEL * len(calibration.priors):.0f} by chance): {', '.join(rejected) or 'none'}"
    )


def whole_calibrations(calibration, args: argparse.Namespace, tmp: Path) -> None:
    """The repeats of both commands, their cost, and their posteriors compared."""
    runs: dict[str, list[dict]] = {m: [] for m in METHODS}
    for repeat in range(args.repeats):
        order = METHODS if repeat % 2 == 0 else METHODS[::-1]
        for method in order:
            print(f"repeat {repeat + 1}/{args.repeats}: {method} ...", file=sys.stderr, flush=True)
            runs[method].append(calibrate(method, tmp / f"{method}-{repeat}", args.workers, args.quick))
    budget = calibration.budget(args.quick)
    print(
        f"budget: {'quick' if args.quick else 'full'} (abc: {budget.particles} particles, at most "
        f"{budget.max_simulations} simulations; npe: {budget.npe_simulations} prior simulations, "
        f"{budget.npe_draws} draws); pilot {budget.pilot_replications}, predictive check "
        f"{budget.predictive_replications}; workers {args.workers}; seed {calibration.header.root_seed}"
    )
    for repeat in range(args.repeats):
        a, n = runs["abc"][repeat], runs["npe"][repeat]
        print(
            f"repeat {repeat + 1}: abc {a['cpu']:.0f} CPU s ({a['wall']:.0f} s wall; {a['generations']} generations, "
            f"{a['simulations']} simulations), npe {n['cpu']:.0f} CPU s ({n['wall']:.0f} s wall; "
            f"{n['simulations']} simulations): abc / npe {a['cpu'] / n['cpu']:.2f}"
        )
    ratios = np.array([a["cpu"] / n["cpu"] for a, n in zip(runs["abc"], runs["npe"], strict=True)])
    print(f"CPU abc / npe: mean {ratios.mean():.2f}, min-max {ratios.min():.2f}-{ratios.max():.2f}")
    for method in METHODS:
        same = len({r["digest"] for r in runs[method]}) == 1
        print(f"{method}: the same posterior (values and weights) in every repeat: {'yes' if same else 'NO'}")
    compare(calibration, runs["abc"][0]["folder"], runs["npe"][0]["folder"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=2, help="whole calibrations of each method (default 2)")
    parser.add_argument("--workers", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument("--quick", action="store_true", help="the calibration file's quick budgets")
    parser.add_argument("--coverage", type=int, default=200, help="records for NPE's coverage (default 200; 0: none)")
    parser.add_argument(
        "--stability", type=int, default=0, metavar="M", help="compare NPE on M other prior simulations (default 0: no)"
    )
    args = parser.parse_args()
    calibration = load_calibration(ROOT / "configs" / "calibration.toml")
    if args.repeats:
        with tempfile.TemporaryDirectory() as tmp:
            whole_calibrations(calibration, args, Path(tmp))
    if args.coverage:
        coverage(calibration, args.quick, args.coverage, args.workers)
    if args.stability:
        stability(calibration, args.quick, args.stability, args.workers)


if __name__ == "__main__":
    main()
